#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $repo 'out/IncidentOps') -Force
    $example = Join-Path $repo 'examples/incidentops.yml'
}

Describe 'Get-IncidentOpsService' {
    It 'returns the four seed services of production' {
        $services = Get-IncidentOpsService -Path $example -Environment production
        $services.FullName | Should -Be @('production/api', 'production/portfolio', 'production/marketing', 'production/fastapi')
    }

    It 'maps <Service> to <Platform>' -TestCases @(
        @{ Service = 'api'; Platform = 'Fly' }
        @{ Service = 'portfolio'; Platform = 'DigitalOcean' }
        @{ Service = 'marketing'; Platform = 'Kubernetes' }
        @{ Service = 'fastapi'; Platform = 'Systemd' }
    ) {
        (Get-IncidentOpsService -Path $example -Name "production/$Service").Platform | Should -Be $Platform
    }

    It 'writes ServiceNotFound for an unknown name' {
        { Get-IncidentOpsService -Path $example -Name nope -ErrorAction Stop } |
            Should -Throw -ErrorId 'ServiceNotFound,IncidentOps.Commands.GetIncidentOpsServiceCommand'
    }
}

Describe 'Test-IncidentOpsConfig' {
    It 'reports an unknown key with file, line and column' {
        $bad = Join-Path $TestDrive 'bad.yml'
        "version: 1`nseverites: {}`n" | Set-Content $bad
        $finding = Test-IncidentOpsConfig -Path $bad
        $finding.Code | Should -Be 'ConfigUnknownKey'
        $finding.Line | Should -Be 2
        $finding.Column | Should -Be 1
        $finding.Message | Should -Match "Did you mean 'severities'"
    }

    It 'returns $true with -Quiet for the example file' {
        Test-IncidentOpsConfig -Path $example -SkipReferences -Quiet | Should -BeTrue
    }
}

Describe 'Get-IncidentOpsConfig' {
    It 'never prints a literal webhook secret' {
        $file = Join-Path $TestDrive 'secret.yml'
        "channels:`n  audit: { type: webhook, url: 'https://hooks.example.com/x/CANARY123456' }`n" | Set-Content $file
        (Get-IncidentOpsConfig -Path $file | Out-String) | Should -Not -Match 'CANARY123456'
        "$((Get-IncidentOpsConfig -Path $file).Channels[0].Url)" | Should -Not -Match 'CANARY123456'
    }
}
