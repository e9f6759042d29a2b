#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppSetting against fake flyctl/systemctl that replay recorded settings (Platforms/<Provider>/Fixtures).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Get-AppSetting' -Skip:($IsWindows) {
    It 'lists Fly secret names without their values' {
        $cli = New-FakeCli flyctl @{ 'secrets list -a app1 --json' = (Get-Fixture 'fly-secrets.json') }
        $s = @(Get-AppSetting -Platform Fly -App app1 -FlyctlPath $cli.Path -ErrorAction Stop)
        $s.Key | Should -Be @('DATABASE_URL', 'ENABLE_MOCK_MODE')
        $s | ForEach-Object { $_.IsSecret | Should -BeTrue; $_.Value | Should -BeNullOrEmpty }
    }

    It 'filters with -Key' {
        $cli = New-FakeCli flyctl @{ 'secrets list -a app1 --json' = (Get-Fixture 'fly-secrets.json') }
        @(Get-AppSetting -Platform Fly -App app1 -FlyctlPath $cli.Path -Key 'ENABLE*').Key | Should -Be 'ENABLE_MOCK_MODE'
    }
}

Describe 'Get-AppSetting in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $cli = New-FakeCli flyctl @{ 'secrets list -a app1 --json' = (Get-Fixture 'fly-secrets.json') }
        $rows = @(Get-AppSetting -Platform Fly -App app1 -FlyctlPath $cli.Path)
    }

    It 'shows names and masks secret values at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Name', 'Key', 'Value') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'DATABASE_URL\s+\*{8}'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppSetting | Out-Null
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Get-AppSetting -ConfigPath '$($root.Config)' -Service production/api" | Should -Contain 'production/apiworker'
        Get-CompletionText 'Get-AppSetting -Platform D' | Should -Be 'DigitalOcean'
    }
}
