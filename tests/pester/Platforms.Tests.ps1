#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The App cmdlets against fake CLIs that replay recorded JSON.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/IncidentOps') -Force
    $Fixtures = Join-Path $PSScriptRoot '../IncidentOps.Tests/Platforms/Fixtures'
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
}

Describe 'Get-AppStatus' -Skip:($IsWindows) {
    It 'reads <Platform> output' -TestCases @(
        @{ Platform = 'Fly'; Tool = 'flyctl'; Prefix = 'status -a app1 --json'; Fixture = 'fly-status.json'; TargetArgs = @{ App = 'app1' }; State = 'Degraded' }
        @{ Platform = 'DigitalOcean'; Tool = 'doctl'; Prefix = 'apps get id1 -o json'; Fixture = 'do-app.json'; TargetArgs = @{ AppId = 'id1' }; State = 'Degraded' }
        @{ Platform = 'Systemd'; Tool = 'systemctl'; Prefix = 'show fastapi'; Fixture = 'systemctl-show.txt'; TargetArgs = @{ Unit = 'fastapi' }; State = 'Down' }
    ) {
        $cli = New-FakeCli $Tool @{ $Prefix = (Join-Path $Fixtures $Fixture) }
        $pathParam = @{ flyctl = 'FlyctlPath'; doctl = 'DoctlPath'; systemctl = 'SystemctlPath' }[$Tool]
        $splat = $TargetArgs.Clone()
        $splat[$pathParam] = $cli.Path
        $status = Get-AppStatus -Platform $Platform @splat -ErrorAction Stop
        $status.State | Should -Be $State
    }
}

Describe 'Restart-App' -Skip:($IsWindows) {
    It '-WhatIf runs nothing' {
        $cli = New-FakeCli flyctl @{}
        Restart-App -Platform Fly -App app1 -FlyctlPath $cli.Path -WhatIf
        Test-Path $cli.Log | Should -Be $false
    }
}

Describe 'Set-AppScale' {
    It 'is not supported on systemd' {
        { Set-AppScale -Platform Systemd -Unit fastapi -Count 2 -Force -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformOperationNotSupported,IncidentOps.Commands.SetAppScaleCommand'
    }
}

Describe 'Get-AppLog' -Skip:($IsWindows) {
    It 'filters with -Pattern' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --no-tail --json' = (Join-Path $Fixtures 'fly-logs.json') }
        @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Pattern 'memory').Count | Should -Be 2
    }
}
