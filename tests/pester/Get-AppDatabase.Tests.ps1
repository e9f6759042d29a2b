#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppDatabase against fake flyctl/doctl that replay recorded output (see Platforms/FlyPostgres and DigitalOceanDatabases/Fixtures/SOURCES.md).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Get-AppDatabase' -Skip:($IsWindows) {
    It 'reads the <Platform> database as <State>' -TestCases @(
        @{ Platform = 'Fly'; Tool = 'flyctl'; Prefix = 'status -a pg1 --json'; Fixture = 'fly-pg-status.json'; TargetArgs = @{ DatabaseApp = 'pg1' }; State = 'Degraded' }
        @{ Platform = 'DigitalOcean'; Tool = 'doctl'; Prefix = 'databases get db1 -o json'; Fixture = 'do-database.json'; TargetArgs = @{ DatabaseId = 'db1' }; State = 'Healthy' }
    ) {
        $cli = New-FakeCli $Tool @{ $Prefix = (Get-Fixture $Fixture) }
        $splat = $TargetArgs.Clone()
        $splat[@{ flyctl = 'FlyctlPath'; doctl = 'DoctlPath' }[$Tool]] = $cli.Path
        $db = Get-AppDatabase -Platform $Platform @splat -ErrorAction Stop
        $db.State | Should -Be $State
    }

    It 'infers the platform from -DatabaseApp and reads a configured service' {
        $cli = New-FakeCli flyctl @{ 'status -a ai-affiliate-empire-db --json' = (Get-Fixture 'fly-pg-status.json') }
        (Get-AppDatabase -DatabaseApp ai-affiliate-empire-db -FlyctlPath $cli.Path -ErrorAction Stop).Platform | Should -Be 'Fly'
        (Get-AppDatabase -Service production/api -ConfigPath $root.Config -FlyctlPath $cli.Path -ErrorAction Stop).Name | Should -Be 'ai-affiliate-empire-db'
    }
}

Describe 'Get-AppDatabase in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $cli = New-FakeCli flyctl @{ 'status -a pg1 --json' = (Get-Fixture 'fly-pg-status.json') }
        $db = Get-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath $cli.Path
    }

    It 'shows state, nodes and the whole reason at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $db -Width $Width
        foreach ($col in 'Name', 'State', 'Nodes', 'Engine', 'Reason') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'Degraded'
        Get-ViewColumn $text 'Reason' | Should -Be ($db.Reason -replace '\s+', '')
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppDatabase | Out-Null
    }

    It 'completes -Service, and -Platform with the two database platforms only' {
        Get-CompletionText "Get-AppDatabase -ConfigPath '$($root.Config)' -Service production/a" | Should -Contain 'production/api'
        Get-CompletionText 'Get-AppDatabase -Platform ' | Should -Be @('Fly', 'DigitalOcean', 'Aws')
    }
}
