#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Restart-AppDatabase against fake flyctl that logs its arguments; -WhatIf is checked in a child pwsh.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Restart-AppDatabase' -Skip:($IsWindows) {
    It 'restarts a Fly Postgres cluster with flyctl postgres restart' {
        $cli = New-FakeCli flyctl @{ 'postgres restart -a pg1' = (New-ReplyFile "Postgres cluster has been successfully restarted!`n") }
        $r = Restart-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath $cli.Path -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        $r.Action | Should -Be 'Restart database'
        Get-Content $cli.Log | Should -Be 'flyctl postgres restart -a pg1'
    }

    It 'AWS RDS: refuses (PipelineTargetMismatch) an instance read with another aws profile, and reboots nothing' {
        $saved = @{}
        foreach ($name in 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE') { $saved[$name] = [Environment]::GetEnvironmentVariable($name); Remove-Item "Env:$name" -ErrorAction SilentlyContinue }
        try {
            $awsConfig = New-TestTempFile 'io-aws-config' '.ini'
            Set-Content -Path $awsConfig -Value "[profile prod]`nregion = us-east-1`n[profile staging]`nregion = us-east-1`n"
            $env:AWS_CONFIG_FILE = $awsConfig
            $env:AWS_PROFILE = 'prod'
            $cli = New-FakeCli aws @{
                'rds describe-db-instances --db-instance-identifier orders-db' = (Get-Fixture 'aws-rds-describe-db-instances.json')
                'rds describe-pending-maintenance-actions' = (Get-Fixture 'aws-rds-pending-maintenance.json')
                'rds reboot-db-instance' = (Get-Fixture 'aws-rds-reboot-db-instance.json') }
            $db = Get-AppDatabase -Platform Aws -DatabaseId orders-db -AwsPath $cli.Path -ErrorAction Stop
            $db.Account | Should -Be "aws profile 'prod', region 'us-east-1'"
            $env:AWS_PROFILE = 'staging'
            $r = $db | Restart-AppDatabase -AwsPath $cli.Path -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'PipelineTargetMismatch,IncidentOps.Commands.RestartAppDatabaseCommand'
            Get-Content $cli.Log | Should -Not -Match 'reboot-db-instance'
            Get-Content $cli.Log | ForEach-Object { $_ | Should -BeLike '* --profile prod --region us-east-1' }
        }
        finally {
            foreach ($name in $saved.Keys) { if ($null -eq $saved[$name]) { Remove-Item "Env:$name" -ErrorAction SilentlyContinue } else { [Environment]::SetEnvironmentVariable($name, $saved[$name]) } }
        }
    }

    It 'is not supported on DigitalOcean' {
        { Restart-AppDatabase -Platform DigitalOcean -DatabaseId db1 -Force -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformOperationNotSupported,IncidentOps.Commands.RestartAppDatabaseCommand'
    }
}

Describe 'Restart-AppDatabase in a real host' -Skip:($IsWindows) {
    It 'prints its What if: line with the exact command under -WhatIf and runs nothing' {
        $cli = New-FakeCli flyctl @{}
        $text = Get-WhatIfText 'Restart-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath $args[0] -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*flyctl postgres restart -a pg1'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'shows the result at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $cli = New-FakeCli flyctl @{ 'postgres restart -a pg1' = (New-ReplyFile "ok`n") }
        $text = Get-RenderedView (Restart-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath $cli.Path -Force) -Width $Width
        foreach ($col in 'Name', 'Action', 'Succeeded', 'Commands') { $text | Should -Match "\b$col\b" }
        Get-ViewColumn $text 'Commands' | Should -Be 'flyctlpostgresrestart-apg1'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Restart-AppDatabase | Should -Match 'ConfirmImpact is High'
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Restart-AppDatabase -ConfigPath '$($root.Config)' -Service production/a" | Should -Contain 'production/api'
        Get-CompletionText 'Restart-AppDatabase -Platform ' | Should -Be @('Fly', 'DigitalOcean', 'Aws')
    }
}
