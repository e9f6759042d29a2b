#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Restore-AppDatabaseBackup against fake flyctl/doctl that log their arguments; -WhatIf is checked in a child pwsh.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Restore-AppDatabaseBackup' -Skip:($IsWindows) {
    It 'restores a Fly backup into a new cluster, never over the source' {
        $restore = 'postgres backup restore pg1-restore-20261123t020012 -a pg1 --restore-target-name 20261123T020012 --detach'
        $cli = New-FakeCli flyctl @{ 'postgres backup list -a pg1' = (Get-Fixture 'fly-pg-backups.txt'); $restore = (New-ReplyFile "Launching...`n") }
        $r = Restore-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -BackupId 20261123T020012 -FlyctlPath $cli.Path -Force -ErrorAction Stop
        $r.NewName | Should -Be 'pg1-restore-20261123t020012'
        Get-Content $cli.Log | Should -Contain "flyctl $restore"
    }

    It 'declares BackupId mandatory and ConfirmImpact High' {
        (Get-Command Restore-AppDatabaseBackup).Parameters['BackupId'].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).Mandatory | Should -Contain $true
        $type = (Get-Command Restore-AppDatabaseBackup).ImplementingType
        $type.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }
}

Describe 'Restore-AppDatabaseBackup in a real host' -Skip:($IsWindows) {
    It '-WhatIf on <Platform> prints its What if: line and runs nothing' -TestCases @(
        @{ Platform = 'Fly'; Tool = 'flyctl'; Target = '-DatabaseApp pg1'; BackupId = '20261123T020012'; Expect = 'Restore' }
        @{ Platform = 'DigitalOcean'; Tool = 'doctl'; Target = '-DatabaseId db1'; BackupId = '2026-11-23T02:00:41Z'; Expect = 'Restore' }
    ) {
        $cli = New-FakeCli $Tool @{}
        $pathParam = @{ flyctl = 'FlyctlPath'; doctl = 'DoctlPath' }[$Tool]
        $text = Get-WhatIfText "Restore-AppDatabaseBackup -Platform $Platform $Target -BackupId '$BackupId' -$pathParam `$args[0] -WhatIf" $cli.Path
        $text | Should -Match "What if: .*$Expect"
        $text | Should -Match ([regex]::Escape($BackupId))
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'shows the restore result as a list' {
        $cli = New-FakeCli flyctl @{ 'postgres backup list -a pg1' = (Get-Fixture 'fly-pg-backups.txt'); 'postgres backup restore' = (New-ReplyFile "Launching...`n") }
        $r = Restore-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -BackupId 20261123T020012 -FlyctlPath $cli.Path -Force
        foreach ($w in 80, 120) {
            $text = Get-RenderedView $r -Width $w
            $text | Should -Match 'NewName\s+:\s+pg1-restore-20261123t020012'
            $text | Should -Match 'BackupId\s+:\s+20261123T020012'
        }
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Restore-AppDatabaseBackup | Should -Match 'ConfirmImpact is High'
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Restore-AppDatabaseBackup -ConfigPath '$($root.Config)' -Service production/a" | Should -Contain 'production/api'
        Get-CompletionText 'Restore-AppDatabaseBackup -Platform ' | Should -Be @('Fly', 'DigitalOcean', 'Aws')
    }
}
