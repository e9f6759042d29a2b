#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The AppDatabase cmdlets against fake flyctl/doctl that replay recorded output (see Fixtures/DATABASES.md).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/IncidentOps') -Force
    $Fixtures = Join-Path $PSScriptRoot '../IncidentOps.Tests/Platforms/Fixtures'
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
}

Describe 'Get-AppDatabase' -Skip:($IsWindows) {
    It 'reads the <Platform> database as <State>' -TestCases @(
        @{ Platform = 'Fly'; Tool = 'flyctl'; Prefix = 'status -a pg1 --json'; Fixture = 'fly-pg-status.json'; TargetArgs = @{ DatabaseApp = 'pg1' }; State = 'Degraded' }
        @{ Platform = 'DigitalOcean'; Tool = 'doctl'; Prefix = 'databases get db1 -o json'; Fixture = 'do-database.json'; TargetArgs = @{ DatabaseId = 'db1' }; State = 'Healthy' }
    ) {
        $cli = New-FakeCli $Tool @{ $Prefix = (Join-Path $Fixtures $Fixture) }
        $splat = $TargetArgs.Clone()
        $splat[@{ flyctl = 'FlyctlPath'; doctl = 'DoctlPath' }[$Tool]] = $cli.Path
        $db = Get-AppDatabase -Platform $Platform @splat -ErrorAction Stop
        $db.State | Should -Be $State
    }
}

Describe 'Get-AppDatabaseBackup' -Skip:($IsWindows) {
    It 'lists Fly backups newest first' {
        $cli = New-FakeCli flyctl @{ 'postgres backup list -a pg1' = (Join-Path $Fixtures 'fly-pg-backups.txt') }
        $backups = @(Get-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -FlyctlPath $cli.Path -ErrorAction Stop)
        $backups.Count | Should -Be 4
        $backups[0].BackupId | Should -Be '20261123T020012'
        $backups[2].Restorable | Should -Be $false
    }
}

Describe 'Restore-AppDatabaseBackup' -Skip:($IsWindows) {
    It '-WhatIf runs nothing on <Platform>' -TestCases @(
        @{ Platform = 'Fly'; Tool = 'flyctl'; TargetArgs = @{ DatabaseApp = 'pg1' }; BackupId = '20261123T020012' }
        @{ Platform = 'DigitalOcean'; Tool = 'doctl'; TargetArgs = @{ DatabaseId = 'db1' }; BackupId = '2026-11-23T02:00:41Z' }
    ) {
        $cli = New-FakeCli $Tool @{}
        $splat = $TargetArgs.Clone()
        $splat[@{ flyctl = 'FlyctlPath'; doctl = 'DoctlPath' }[$Tool]] = $cli.Path
        Restore-AppDatabaseBackup -Platform $Platform @splat -BackupId $BackupId -WhatIf
        Test-Path $cli.Log | Should -Be $false
    }

    It 'declares BackupId mandatory' {
        (Get-Command Restore-AppDatabaseBackup).Parameters['BackupId'].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).Mandatory | Should -Contain $true
    }

    It 'is ConfirmImpact High' {
        $type = (Get-Command Restore-AppDatabaseBackup).ImplementingType
        $type.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }
}

Describe 'What DigitalOcean cannot do' {
    It '<Command> is not supported' -TestCases @(
        @{ Command = 'Restart-AppDatabase'; ErrorId = 'PlatformOperationNotSupported,IncidentOps.Commands.RestartAppDatabaseCommand' }
        @{ Command = 'New-AppDatabaseBackup'; ErrorId = 'PlatformOperationNotSupported,IncidentOps.Commands.NewAppDatabaseBackupCommand' }
    ) {
        { & $Command -Platform DigitalOcean -DatabaseId db1 -Force -ErrorAction Stop } | Should -Throw -ErrorId $ErrorId
    }
}
