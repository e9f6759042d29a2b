#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppDatabaseBackup against fake flyctl/doctl that replay recorded backup lists (see Platforms/FlyPostgres and DigitalOceanDatabases/Fixtures/SOURCES.md).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Get-AppDatabaseBackup' -Skip:($IsWindows) {
    It 'lists Fly backups newest first' {
        $cli = New-FakeCli flyctl @{ 'postgres backup list -a pg1' = (Get-Fixture 'fly-pg-backups.txt') }
        $backups = @(Get-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -FlyctlPath $cli.Path -ErrorAction Stop)
        $backups.Count | Should -Be 4
        $backups[0].BackupId | Should -Be '20261123T020012'
        $backups[2].Restorable | Should -Be $false
    }

    It 'lists DigitalOcean backups' {
        $cli = New-FakeCli doctl @{ 'databases backups db1 -o json' = (Get-Fixture 'do-database-backups.json') }
        @(Get-AppDatabaseBackup -Platform DigitalOcean -DatabaseId db1 -DoctlPath $cli.Path -ErrorAction Stop).Count | Should -BeGreaterThan 0
    }
}

Describe 'Get-AppDatabaseBackup in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $cli = New-FakeCli flyctl @{ 'postgres backup list -a pg1' = (Get-Fixture 'fly-pg-backups.txt') }
        $rows = @(Get-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -FlyctlPath $cli.Path)
    }

    It 'shows id, time, status and whether it can be restored at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'BackupId', 'Created', 'Status', 'Restore', 'SizeGB') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'Created \(UTC\)' -Because 'the times are UTC, and the header says so'
        $text | Should -Match '20261123T020012'
        $text | Should -Match '\bno\b'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppDatabaseBackup | Out-Null
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Get-AppDatabaseBackup -ConfigPath '$($root.Config)' -Service production/a" | Should -Contain 'production/api'
        Get-CompletionText 'Get-AppDatabaseBackup -Platform ' | Should -Not -Contain 'None'
    }
}
