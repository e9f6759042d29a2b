#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppStatus against fake flyctl/doctl/systemctl/kubectl that replay recorded output (Platforms/Fixtures).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Remove-TestRoot $root }

Describe 'Get-AppStatus' -Skip:($IsWindows) {
    It 'reads <Platform> output as <State>' -TestCases @(
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

    It 'reads a configured service by name' {
        $cli = New-FakeCli flyctl @{ 'status -a ai-affiliate-empire --json' = (Join-Path $Fixtures 'fly-status.json') }
        $status = Get-AppStatus -Service production/api -ConfigPath $root.Config -FlyctlPath $cli.Path -ErrorAction Stop
        $status.Service | Should -Be 'production/api'
        $status.State | Should -Be 'Degraded'
    }

    It 'refuses a -Platform that is not a platform with PlatformInvalid' {
        { Get-AppStatus -Platform Heroku -App x -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformInvalid,IncidentOps.Commands.GetAppStatusCommand'
    }
}

Describe 'Get-AppStatus in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $fly = New-FakeCli flyctl @{ 'status -a app1 --json' = (Join-Path $Fixtures 'fly-status.json') }
        $sd = New-FakeCli systemctl @{ 'show fastapi' = (Join-Path $Fixtures 'systemctl-show.txt') }
        $rows = @(
            Get-AppStatus -Platform Fly -App app1 -FlyctlPath $fly.Path
            Get-AppStatus -Platform Systemd -Unit fastapi -SystemctlPath $sd.Path
        )
    }

    It 'keeps State, Ready and the whole Reason in view at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Name', 'State', 'Ready', 'Version', 'Reason') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'Degraded\s+1/2'
        # Reason wraps instead of being cut: every word of it is on screen.
        Get-ViewColumn $text 'Reason' | Should -Be (($rows.Reason -join '') -replace '\s+', '')
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppStatus | Should -Match 'OUTPUTS'
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Get-AppStatus -ConfigPath '$($root.Config)' -Service prod" | Should -Contain 'production/api'
    }

    It 'completes -Platform with real platforms only (never None)' {
        $offered = Get-CompletionText 'Get-AppStatus -Platform '
        $offered | Should -Be @('Fly', 'DigitalOcean', 'Kubernetes', 'Systemd')
        Get-CompletionText 'Get-AppStatus -Platform N' | Should -BeNullOrEmpty
    }
}
