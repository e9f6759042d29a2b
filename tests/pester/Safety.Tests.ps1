#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Issue 16 items 2, 4, 6 and 10 / issue 18 item 14, as a user meets them in a real pwsh: piped pids stay on their
# server, one unreachable database does not stop the next, a second rollback does not return to the bad release,
# and names that are not names never reach a CLI.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $noPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
    Import-IncidentOps
    function New-Reply([string] $Text) {
        $f = New-TestTempFile 'io-reply'
        Set-Content -Path $f -Value $Text -NoNewline
        $f
    }
}
AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)

Describe 'Piping Get-PgActivity into Stop-PgBackend' -Skip:$noPg {
    BeforeAll {
        $cs = $env:INCIDENTOPS_TEST_PG
        $parts = @{}
        foreach ($pair in $cs.Split(';', [StringSplitOptions]::RemoveEmptyEntries)) { $k, $v = $pair.Split('=', 2); $parts[$k.Trim().ToLowerInvariant()] = $v.Trim() }
        $root = New-TestRoot @"
environments:
  production:
    services:
      marketing:
        postgres: '$cs'
"@
        $saved = $env:PGHOST, $env:PGPORT
        # The libpq environment points somewhere else (nothing listens on port 1), as PGHOST/PGPORT did in the report.
        $env:PGHOST = '127.0.0.1'; $env:PGPORT = '1'
        $app = 'pester-ident-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $env:PGAPPNAME = $app
        try { $proc = Start-Process -FilePath psql -ArgumentList "-X -h $($parts['host']) -p $($parts['port']) -U $($parts['username']) -d $($parts['database']) -c `"SELECT 1`" -c `"\! sleep 30`"" -PassThru -RedirectStandardOutput (New-TestTempFile 'io-psql-out') }
        finally { Remove-Item Env:PGAPPNAME }
        $deadline = (Get-Date).AddSeconds(20)
        while (@(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app).Count -lt 1 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }
    }
    AfterAll {
        $env:PGHOST, $env:PGPORT = $saved
        $proc | Stop-Process -ErrorAction SilentlyContinue
        Remove-TestRoot $root
    }

    It 'refuses a pid read through -ConnectionString when the stop would go to the libpq environment' {
        $err = $null
        Get-PgActivity -ConnectionString $cs -ApplicationName $app | Stop-PgBackend -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand'
        @(Get-PgActivity -ConnectionString $cs -ApplicationName $app).Count | Should -Be 1
    }

    It 'refuses -Service with -ConnectionString instead of silently using the connection string' {
        { Stop-IdleConnections -Service production/marketing -ConnectionString $cs -ConfigPath $root.Config -ApplicationName $app -IdleFor 0s -IncludeSuperuser -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'PgTargetConflict,IncidentOps.Commands.StopIdleConnectionCommand'
        @(Get-PgActivity -ConnectionString $cs -ApplicationName $app).Count | Should -Be 1
    }

    It 'stops a pid piped from -Service on that service, not on PGHOST' {
        $piped = @(Get-PgActivity -Service production/marketing -ConfigPath $root.Config -ApplicationName $app)
        $piped[0].Service | Should -Be 'production/marketing'
        # psql connects as the superuser of the test server, which the policy spares unless asked.
        $result = $piped | Stop-PgBackend -ConfigPath $root.Config -IncludeSuperuser -Force
        $result.Succeeded | Should -BeTrue
        $deadline = (Get-Date).AddSeconds(10)
        while (@(Get-PgActivity -ConnectionString $cs -ApplicationName $app).Count -gt 0 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }
        @(Get-PgActivity -ConnectionString $cs -ApplicationName $app).Count | Should -Be 0
    }
}

Describe 'One unreachable database among several' -Skip:$noPg {
    It 'is a non-terminating error; the next service is still read' {
        $root = New-TestRoot @"
environments:
  production:
    services:
      down:
        postgres: 'Host=127.0.0.1;Port=1;Database=x;Username=postgres'
      up:
        postgres: '$($env:INCIDENTOPS_TEST_PG)'
"@
        try {
            $summaries = @(Get-IncidentOpsService -Path $root.Config | Get-PgConnectionSummary -ConfigPath $root.Config -TimeoutSec 3 -ErrorAction SilentlyContinue -ErrorVariable failures)
            $summaries.Count | Should -Be 1
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'PgHostUnreachable,*'
        }
        finally { Remove-TestRoot $root }
    }
}

Describe 'Invoke-Rollback after a rollback' {
    It 'does not go back to the release rolled back from; -ToVersion can' {
        $releases = @(
            @{ Version = 9; Status = 'complete'; ImageRef = 'registry.fly.io/api:1.7.0' }
            @{ Version = 8; Status = 'complete'; ImageRef = 'registry.fly.io/api:1.9.0' }
            @{ Version = 7; Status = 'complete'; ImageRef = 'registry.fly.io/api:1.7.0' }
            @{ Version = 6; Status = 'complete'; ImageRef = 'registry.fly.io/api:1.6.0' }
        ) | ConvertTo-Json
        $cli = New-FakeCli flyctl @{ 'releases -a api --json --image' = (New-Reply $releases); 'deploy -a api' = (New-Reply 'deployed') }
        $result = Invoke-Rollback -Platform Fly -App api -FlyctlPath $cli.Path -Force -WarningVariable warned -WarningAction SilentlyContinue
        "$($result.From) -> $($result.To)" | Should -Be 'v9 -> v6'
        ($warned -join "`n") | Should -Match 'v8.*rolled back from'
        (Get-Content $cli.Log) | Should -Contain 'flyctl deploy -a api --image registry.fly.io/api:1.6.0 --yes'
        (Get-AppDeployment -Platform Fly -App api -FlyctlPath $cli.Path | Where-Object Version -eq 'v8').RolledBack | Should -BeTrue
        (Invoke-Rollback -Platform Fly -App api -FlyctlPath $cli.Path -ToVersion 8 -Force -WarningAction SilentlyContinue).To | Should -Be 'v8'
    }
}

Describe 'Names that reach a CLI' {
    It 'refuses <Value> as <Parameter> before running anything' -TestCases @(
        @{ Parameter = 'Deployment'; Value = 'statefulset/postgres' }
        @{ Parameter = 'Deployment'; Value = '--server=http://127.0.0.1:9' }
        @{ Parameter = 'Namespace'; Value = '--all-namespaces' }
        @{ Parameter = 'Namespace'; Value = "prod`n" }
        @{ Parameter = 'Context'; Value = "production`n" }
    ) {
        $cli = New-FakeCli kubectl @{}
        $params = @{ Platform = 'Kubernetes'; Deployment = 'web'; KubectlPath = $cli.Path; Force = $true }
        $params[$Parameter] = $Value
        $err = $null
        Restart-App @params -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'AppTargetInvalidName,IncidentOps.Commands.RestartAppCommand'
        "$($err[0])" | Should -Match "-$Parameter"
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'refuses <Name> as a Set-AppSetting name, and kubectl never runs' -TestCases @(
        @{ Name = '--context' }, @{ Name = '--namespace' }, @{ Name = 'A=B' }
    ) {
        $cli = New-FakeCli kubectl @{}
        $err = $null
        Set-AppSetting -Platform Kubernetes -Deployment web -Context production -Setting @{ $Name = 'prod-eu' } -KubectlPath $cli.Path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'AppSettingInvalid,IncidentOps.Commands.SetAppSettingCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        "$($err[0])" | Should -Match 'not an environment variable name'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'refuses a Fly secret value with a line break, which would set a second secret' {
        $cli = New-FakeCli flyctl @{}
        $err = $null
        Set-AppSetting -Platform Fly -App web -Setting @{ FOO = "x`nDATABASE_URL=postgres://elsewhere" } -FlyctlPath $cli.Path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'AppSettingInvalid,IncidentOps.Commands.SetAppSettingCommand'
        "$($err[0])" | Should -Match "'FOO' holds a line break"
        "$($err[0])" | Should -Not -Match 'elsewhere'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'refuses an ssh option smuggled in as -ComputerName' {
        $ssh = New-FakeCli ssh @{}
        $err = $null
        Restart-App -Platform Systemd -Unit fastapi -ComputerName '-oProxyCommand=touch /tmp/io-pwned' -SshPath $ssh.Path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AppTargetInvalidName,*'
        Test-Path $ssh.Log | Should -BeFalse
        Test-Path /tmp/io-pwned | Should -BeFalse
    }
}
