#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# New-AppDatabaseBackup against fake flyctl that logs its arguments; -WhatIf is checked in a child pwsh.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'New-AppDatabaseBackup' -Skip:($IsWindows) {
    It 'creates a named Fly backup and returns it from the list' {
        $cli = New-FakeCli flyctl @{
            'postgres backup create -a pg1 --name before-v12' = (New-ReplyFile "Performing backup...`nBackup completed successfully!`n")
            'postgres backup list -a pg1'                      = (Get-Fixture 'fly-pg-backups.txt')
        }
        $b = New-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -Name before-v12 -FlyctlPath $cli.Path -Force -ErrorAction Stop
        $b | Should -Not -BeNullOrEmpty
        (Get-Content $cli.Log)[0] | Should -Be 'flyctl postgres backup create -a pg1 --name before-v12'
    }

    It 'is not supported on DigitalOcean' {
        { New-AppDatabaseBackup -Platform DigitalOcean -DatabaseId db1 -Force -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformOperationNotSupported,IncidentOps.Commands.NewAppDatabaseBackupCommand'
    }
}

Describe 'New-AppDatabaseBackup in a real host' -Skip:($IsWindows) {
    It 'prints its What if: line with the exact command under -WhatIf and runs nothing' {
        $cli = New-FakeCli flyctl @{}
        $text = Get-WhatIfText 'New-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -Name before-v12 -FlyctlPath $args[0] -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*flyctl postgres backup create -a pg1 --name before-v12'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'shows the new backup at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $cli = New-FakeCli flyctl @{
            'postgres backup create' = (New-ReplyFile "Backup completed successfully!`n")
            'postgres backup list'   = (Get-Fixture 'fly-pg-backups.txt')
        }
        $text = Get-RenderedView (New-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -Name before-v12 -FlyctlPath $cli.Path -Force) -Width $Width
        $text | Should -Match '\bBackupId\b'
        $text | Should -Match 'Created \(UTC\)' -Because 'the time is UTC, and the header says so'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp New-AppDatabaseBackup | Out-Null
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "New-AppDatabaseBackup -ConfigPath '$($root.Config)' -Service production/a" | Should -Contain 'production/api'
        Get-CompletionText 'New-AppDatabaseBackup -Platform ' | Should -Be @('Fly', 'DigitalOcean', 'Aws')
    }
}
