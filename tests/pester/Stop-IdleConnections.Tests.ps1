#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Needs a PostgreSQL server and psql: $env:INCIDENTOPS_TEST_PG holds an Npgsql connection string (bash .ci/run sets it).
BeforeDiscovery {
    $noPg = -not $env:INCIDENTOPS_TEST_PG -or -not (Get-Command psql -ErrorAction SilentlyContinue)
}

BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $repo 'out/IncidentOps') -Force
    $cs = $env:INCIDENTOPS_TEST_PG
    $parts = @{}
    foreach ($pair in $cs.Split(';', [StringSplitOptions]::RemoveEmptyEntries)) {
        $k, $v = $pair.Split('=', 2)
        $parts[$k.Trim().ToLowerInvariant()] = $v.Trim()
    }
    function Start-IdleSession([string] $App) {
        # psql holds the session open (idle) while it sleeps in the shell, not in the server.
        $env:PGAPPNAME = $App
        try {
            # Start-Process joins -ArgumentList with spaces, so each multi-word argument is quoted in one string.
            Start-Process -FilePath psql -ArgumentList "-X -h $($parts['host']) -p $($parts['port']) -U $($parts['username']) -d $($parts['database']) -c `"SELECT 1`" -c `"\! sleep 30`"" -PassThru -RedirectStandardOutput ([IO.Path]::GetTempFileName())
        }
        finally { Remove-Item Env:PGAPPNAME }
    }
    function Wait-Idle([string] $App, [int] $Count) {
        $deadline = (Get-Date).AddSeconds(20)
        while (@(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $App).Count -lt $Count -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }
    }
}

Describe 'Stop-IdleConnections' -Skip:$noPg {
    BeforeEach {
        $app = 'pester-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $procs = @(Start-IdleSession $app; Start-IdleSession $app)
        Wait-Idle $app 2
    }
    AfterEach {
        $procs | Stop-Process -ErrorAction SilentlyContinue
    }

    It 'changes nothing under -WhatIf' {
        Stop-IdleConnections -ConnectionString $cs -ApplicationName $app -IdleFor 0s -WhatIf
        @(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app).Count | Should -Be 2
    }

    It 'terminates the matching sessions in one statement and reports them' {
        # psql connects as the test server's superuser; the policy spares superuser sessions unless asked.
        $report = Stop-IdleConnections -ConnectionString $cs -ApplicationName $app -IdleFor 0s -IncludeSuperuser -Force
        $report.Matched | Should -Be 2
        $report.Terminated | Should -Be 2
        @(Get-PgActivity -ConnectionString $cs -ApplicationName $app).Count | Should -Be 0
    }

    It 'spares sessions idle for less than -IdleFor' {
        $report = Stop-IdleConnections -ConnectionString $cs -ApplicationName $app -Force
        $report.Matched | Should -Be 0
    }

    It 'works through the pipeline: Get-PgActivity -State idle | Stop-PgBackend -Force' {
        $results = @(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app | Stop-PgBackend -ConnectionString $cs -IncludeSuperuser -Force)
        $results.Count | Should -Be 2
        $results.Succeeded | Should -Be @($true, $true)
    }
}
