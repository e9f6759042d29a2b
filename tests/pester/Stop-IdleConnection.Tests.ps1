#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Needs a PostgreSQL server and psql: $env:INCIDENTOPS_TEST_PG holds an Npgsql connection string (bash .ci/run sets it).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    # Under CI=true nothing skips: a missing server or psql fails the tests with its own error.
    $noPg = (Test-SkipWithout 'INCIDENTOPS_TEST_PG') -or ($env:CI -ne 'true' -and -not (Get-Command psql -ErrorAction SilentlyContinue))
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $repo = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $repo 'out/IncidentOps') -Force
    $cs = $env:INCIDENTOPS_TEST_PG
    $parts = @{}
    foreach ($pair in $cs.Split(';', [StringSplitOptions]::RemoveEmptyEntries)) {
        $k, $v = $pair.Split('=', 2)
        $parts[$k.Trim().ToLowerInvariant()] = $v.Trim()
    }
    # The idle sessions belong to an ordinary login role: superuser sessions are spared unless -IncludeSuperuser.
    $role = 'pester_idle'
    & psql -X -q -h $parts['host'] -p $parts['port'] -U $parts['username'] -d $parts['database'] -c "DO `$`$ BEGIN CREATE ROLE $role LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END `$`$"
    function Start-IdleSession([string] $App, [string] $Database = $parts['database']) {
        # psql holds the session open (idle) while it sleeps in the shell, not in the server. ProcessStartInfo's
        # ArgumentList passes 'SELECT 1' as one argument; Start-Process -ArgumentList would join the array with
        # spaces, and psql would get SELECT and 1.
        $psi = [System.Diagnostics.ProcessStartInfo]::new('psql')
        foreach ($a in @('-X', '-q', '-h', $parts['host'], '-p', $parts['port'], '-U', $role, '-d', $Database, '-c', 'SELECT 1', '-c', '\! sleep 30')) {
            $psi.ArgumentList.Add($a)
        }
        $psi.Environment['PGAPPNAME'] = $App
        $psi.RedirectStandardOutput = $true   # keeps psql's result rows out of the test output
        [System.Diagnostics.Process]::Start($psi)
    }
    function Wait-Idle([string] $App, [int] $Count) {
        $deadline = (Get-Date).AddSeconds(20)
        while (@(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $App).Count -lt $Count -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }
    }
}

# Stop-IdleConnection is the cmdlet; Stop-IdleConnections (the user's name) is its exported alias, used below as users type it.
Describe 'Stop-IdleConnection' -Skip:$noPg {
    BeforeEach {
        $app = 'pester-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $procs = @(Start-IdleSession $app; Start-IdleSession $app)
        Wait-Idle $app 2
    }
    AfterEach {
        foreach ($p in $procs) { try { $p.Kill($true) } catch [InvalidOperationException] { } finally { $p.Dispose() } }   # already gone: terminated by the test
    }

    It 'changes nothing under -WhatIf' {
        Stop-IdleConnections -ConnectionString $cs -ApplicationName $app -IdleFor 0s -WhatIf
        @(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app).Count | Should -Be 2
    }

    It 'terminates the matching sessions in one statement and reports them' {
        $report = Stop-IdleConnections -ConnectionString $cs -ApplicationName $app -IdleFor 0s -Force
        $report.Matched | Should -Be 2
        $report.Terminated | Should -Be 2
        @(Get-PgActivity -ConnectionString $cs -ApplicationName $app).Count | Should -Be 0
    }

    It 'is exported as Stop-IdleConnection, with Stop-IdleConnections as its alias' {
        (Get-Command Stop-IdleConnection -Module IncidentOps).CommandType | Should -Be 'Cmdlet'
        (Get-Alias Stop-IdleConnections).ResolvedCommandName | Should -Be 'Stop-IdleConnection'
    }

    It 'says under -WhatIf what it searched and that nothing matched, and writes no report of zeros' {
        . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
        $text = Get-WhatIfText 'Stop-IdleConnections -ConnectionString $args[0] -ApplicationName $args[1] -Database nosuch_db -WhatIf; "objects: $(@(Stop-IdleConnections -ConnectionString $args[0] -ApplicationName $args[1] -Database nosuch_db -WhatIf).Count)"' $cs, $app
        $server = "$($parts['host']):$($parts['port'])/$($parts['database'])"
        $text | Should -Match ([regex]::Escape("What if: No session on $server matched (state idle for 10m or more, database nosuch_db, application $app; superusers spared); nothing would be terminated."))
        $text | Should -Match 'objects: 0'
        $text | Should -Not -Match 'Matched\s+:|pg_terminate_backend'
        @(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app).Count | Should -Be 2
    }

    It 'shows the server, what it searched and "nothing matched" at 80 columns when nothing matched' {
        $report = Stop-IdleConnections -ConnectionString $cs -ApplicationName $app -Database nosuch_db -Force
        $report.Matched | Should -Be 0
        $text = Get-RenderedView $report -Width 80
        $text | Should -Match "Server\s+: $([regex]::Escape("$($parts['host']):$($parts['port'])/$($parts['database'])"))"
        $text | Should -Match 'Searched : state idle for 10m or more, database nosuch_db'
        $text | Should -Match 'Result\s+: nothing matched; no session was terminated'
        $text | Should -Not -Match 'Sql|TerminatedPids'
        @(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app).Count | Should -Be 2
    }

    It 'spares sessions idle for less than -IdleFor' {
        $report = Stop-IdleConnection -ConnectionString $cs -ApplicationName $app -Force
        $report.Matched | Should -Be 0
    }

    It 'refuses backends piped from Get-PgActivity -Service and terminates none of the idle sessions of that server' {
        # The piped backend's Service would bind, and every idle session of the server would go, once per piped backend.
        $cfg = New-TestTempFile 'pester-idle' '.yml'
        Set-Content -LiteralPath $cfg -Value "version: 1`nenvironments:`n  production:`n    services:`n      db:`n        postgres: '$cs'`n"
        try {
            $shown = @(Get-PgActivity -Service production/db -ConfigPath $cfg -State idle -ApplicationName $app)[0]
            $report = $shown | Stop-IdleConnections -ConfigPath $cfg -IdleFor 0s -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $report | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Be 'PgPipedBackendNotAccepted,IncidentOps.Commands.StopIdleConnectionCommand'
            "$($err[0])" | Should -Match 'Stop-PgBackend'
            @(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app).Count | Should -Be 2
        }
        finally { Remove-TestTempPath $cfg }
    }

    It 'works through the pipeline: Get-PgActivity -State idle | Stop-PgBackend -Force' {
        $results = @(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app | Stop-PgBackend -ConnectionString $cs -Force)
        $results.Count | Should -Be 2
        $results.Succeeded | Should -Be @($true, $true)
    }
}

# PostgreSQL names are case-sensitive: "PesterCase_x" and pestercase_x are two databases, and -Database pestercase_x
# must never terminate the sessions of the other one.
Describe 'Stop-IdleConnection with names that differ only in case' -Skip:$noPg {
    BeforeAll {
        $id = [guid]::NewGuid().ToString('N').Substring(0, 6)
        $upperDb = "PesterCase_$id"; $lowerDb = $upperDb.ToLowerInvariant()
        foreach ($d in $upperDb, $lowerDb) {
            & psql -X -q -h $parts['host'] -p $parts['port'] -U $parts['username'] -d $parts['database'] -c "CREATE DATABASE `"$d`"" | Out-Null
        }
    }
    AfterAll {
        foreach ($d in $upperDb, $lowerDb) {
            & psql -X -q -h $parts['host'] -p $parts['port'] -U $parts['username'] -d $parts['database'] -c "DROP DATABASE IF EXISTS `"$d`" WITH (FORCE)" | Out-Null
        }
    }
    BeforeEach {
        $app = 'pester-case-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $procs = @(Start-IdleSession $app $upperDb; Start-IdleSession $app $lowerDb)
        Wait-Idle $app 2
    }
    AfterEach {
        foreach ($p in $procs) { try { $p.Kill($true) } catch [InvalidOperationException] { } finally { $p.Dispose() } }
    }

    It 'names under -WhatIf each session it would terminate, with its database in its own case, and changes nothing' {
        . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
        $text = Get-WhatIfText 'Stop-IdleConnections -ConnectionString $args[0] -Database $args[1] -ApplicationName $args[2] -IdleFor 0s -WhatIf' $cs, $lowerDb, $app
        $text | Should -MatchExactly ([regex]::Escape("(user $role, database $lowerDb, application '$app'"))
        $text | Should -Not -MatchExactly $upperDb   # case-sensitive: the lower-case name is in the text
        @(Get-PgActivity -ConnectionString $cs -ApplicationName $app).Count | Should -Be 2
    }

    It 'lists and terminates only the sessions of the database named in its own case' {
        @(Get-PgActivity -ConnectionString $cs -Database $lowerDb -ApplicationName $app).Count | Should -Be 1
        $report = Stop-IdleConnections -ConnectionString $cs -Database $lowerDb -ApplicationName $app -IdleFor 0s -Force
        $report.Matched | Should -Be 1
        $report.Terminated | Should -Be 1
        $left = @(Get-PgActivity -ConnectionString $cs -ApplicationName $app)
        $left.Count | Should -Be 1
        $left[0].Database | Should -BeExactly $upperDb
    }

    It 'matches -User and wildcards in the name''s own case' {
        $report = Stop-IdleConnections -ConnectionString $cs -User $role.ToUpperInvariant() -ApplicationName $app -IdleFor 0s -Force
        $report.Matched | Should -Be 0
        $report = Stop-IdleConnections -ConnectionString $cs -Database 'PesterCase_*' -ApplicationName $app -IdleFor 0s -Force
        $report.Terminated | Should -Be 1
        (@(Get-PgActivity -ConnectionString $cs -ApplicationName $app))[0].Database | Should -BeExactly $lowerDb
    }
}
