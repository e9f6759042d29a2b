#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The AWS RDS database provider as a user meets it: the AppDatabase cmdlets with -Platform Aws against a stand-in aws
# that replays the documented output shapes (tests/IncidentOps.Tests/Platforms/AwsRds/Fixtures/SOURCES.md) and logs its argv.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
    $script:tail = ' --output json --no-cli-pager'
    function New-Aws([hashtable] $Extra = @{}) {
        $replies = @{
            "rds describe-db-instances --db-instance-identifier fastapi-db$tail" = (Get-Fixture 'aws-rds-describe-db-instances.json')
            "rds describe-pending-maintenance-actions --filters Name=db-instance-id,Values=fastapi-db$tail" = (Get-Fixture 'aws-rds-pending-maintenance.json')
            "rds describe-db-snapshots --db-instance-identifier fastapi-db$tail" = (Get-Fixture 'aws-rds-describe-db-snapshots.json')
        }
        foreach ($k in $Extra.Keys) { $replies[$k] = $Extra[$k] }
        New-FakeCli aws $replies
    }
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'AppDatabase cmdlets on AWS RDS' -Skip:($IsWindows) {
    It 'Get-AppDatabase shows the instance state, engine version, Multi-AZ and pending maintenance' {
        $aws = New-Aws
        $db = Get-AppDatabase -Platform Aws -DatabaseId fastapi-db -AwsPath $aws.Path -ErrorAction Stop
        $db.State | Should -Be 'Healthy'
        $db.Version | Should -Be '16.4'
        $db.MultiAz | Should -BeTrue
        $db.PendingMaintenance | Should -Match 'system-update'
        ($db.Nodes | ForEach-Object Role) | Should -Be @('primary', 'standby')
    }

    It 'Get-AppDatabaseBackup lists snapshots newest first and pipes into a -WhatIf restore that runs nothing' {
        $aws = New-Aws
        $snapshots = Get-AppDatabaseBackup -Platform Aws -DatabaseId fastapi-db -AwsPath $aws.Path -ErrorAction Stop
        $snapshots[0].BackupId | Should -Be 'before-v12'
        ($snapshots | Where-Object Restorable | Select-Object -First 1).BackupId | Should -Be 'rds:fastapi-db-2026-11-23-02-10'
        $text = Get-WhatIfText 'Restore-AppDatabaseBackup -Platform Aws -DatabaseId fastapi-db -AwsPath $args[0] -BackupId rds:fastapi-db-2026-11-23-02-10 -WhatIf' $aws.Path
        $text | Should -Match 'What if: .*aws rds restore-db-instance-from-db-snapshot --db-instance-identifier fastapi-db-restore-2026-11-23-02-10 --db-snapshot-identifier rds:fastapi-db-2026-11-23-02-10'
        @(Get-Content $aws.Log) | Should -Be @("aws rds describe-db-snapshots --db-instance-identifier fastapi-db$tail") -Because 'the -WhatIf restore ran no aws command'
    }

    It 'Restart-AppDatabase -Failover -WhatIf prints the reboot with --force-failover and runs nothing' {
        $aws = New-Aws
        $text = Get-WhatIfText 'Restart-AppDatabase -Platform Aws -DatabaseId fastapi-db -AwsPath $args[0] -Failover -WhatIf' $aws.Path
        $text | Should -Match 'What if: .*aws rds reboot-db-instance --db-instance-identifier fastapi-db --force-failover'
        Test-Path $aws.Log | Should -BeFalse
    }

    It 'Restore-AppDatabaseBackup -RestoreTime restores to a point in time into a new instance' {
        $pitr = "rds restore-db-instance-to-point-in-time --source-db-instance-identifier fastapi-db --target-db-instance-identifier fastapi-db-before-migration --restore-time 2026-11-23T01:55:00Z$tail"
        $aws = New-Aws @{ $pitr = (Get-Fixture 'aws-rds-restore-to-point-in-time.json') }
        $r = Restore-AppDatabaseBackup -Platform Aws -DatabaseId fastapi-db -AwsPath $aws.Path -RestoreTime '2026-11-23T01:55:00Z' -NewName fastapi-db-before-migration -Force -WarningAction SilentlyContinue -ErrorAction Stop
        $r.NewName | Should -Be 'fastapi-db-before-migration'
        $r.Status | Should -Be 'creating'
        Get-Content $aws.Log | Should -Be "aws $pitr"
    }

    It 'New-AppDatabaseBackup -Name takes a manual snapshot' {
        $create = "rds create-db-snapshot --db-instance-identifier fastapi-db --db-snapshot-identifier before-v13$tail"
        $aws = New-Aws @{ $create = (Get-Fixture 'aws-rds-create-db-snapshot.json') }
        $b = New-AppDatabaseBackup -Platform Aws -DatabaseId fastapi-db -AwsPath $aws.Path -Name before-v13 -Force -ErrorAction Stop
        $b.BackupId | Should -Be 'before-v13'
        Get-Content $aws.Log | Should -Be "aws $create"
    }

    It 'Restart-AppDatabase -Failover is refused on Fly Postgres' {
        $fly = New-FakeCli flyctl @{}
        { Restart-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath $fly.Path -Failover -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlatformOperationNotSupported,IncidentOps.Commands.RestartAppDatabaseCommand'
        Test-Path $fly.Log | Should -BeFalse
    }
}
