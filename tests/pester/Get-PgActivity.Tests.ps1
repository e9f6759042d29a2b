#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-PgActivity against a real PostgreSQL on loopback, with psql sessions started by the test.
# Needs a PostgreSQL server: $env:INCIDENTOPS_TEST_PG holds an Npgsql connection string for a superuser (bash .ci/run
# sets it). Without one the tests skip, except under CI=true, where they run and fail with the connection error.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $noPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PgTestFile
}

AfterAll { Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)


Describe 'Get-PgActivity' -Skip:$noPg {
    It 'returns PgActivity objects including its own session' {
        $all = @(Get-PgActivity -ConnectionString $cs)
        $all.Count | Should -BeGreaterThan 0
        $own = @($all | Where-Object IsOwnSession)
        $own.Count | Should -Be 1
        $own[0].ApplicationName | Should -Be 'IncidentOps'
        $own[0].PSObject.TypeNames[0] | Should -Be 'IncidentOps.Postgres.PgActivity'
    }

    It 'filters by <Name>' -TestCases @(
        @{ Name = 'state'; Params = @{ State = 'active' } }
        @{ Name = 'application'; Params = @{ ApplicationName = 'Incident*' } }
        @{ Name = 'duration'; Params = @{ MinDuration = '0s'; State = 'active' } }
    ) {
        $found = @(Get-PgActivity -ConnectionString $cs @Params | Where-Object IsOwnSession)
        $found.Count | Should -Be 1
    }

    It 'finds nothing idle for a day in a fresh test' {
        @(Get-PgActivity -ConnectionString $cs -State idle -MinDuration 1d -ApplicationName 'pester-none-*').Count | Should -Be 0
    }

    It 'reads several services with -Service a,b, tags each row with its service, and groups the view by server at 80 columns' {
        $cfg = New-TestTempFile 'pester-pgsvc' '.yml'
        $other = $cs -replace '(?i)Database=[^;]*', 'Database=template1'
        Set-Content -LiteralPath $cfg -Value "version: 1`nenvironments:`n  production:`n    services:`n      api:`n        postgres: '$cs'`n      web:`n        postgres: '$other'`n"
        $own = @(Get-PgActivity -Service api, production/web -ConfigPath $cfg -State active | Where-Object IsOwnSession)
        $own.Service | Should -Be @('production/api', 'production/web')
        $own[1].Server | Should -Match '/template1$'
        $text = Get-RenderedView (Get-PgActivity -Service api, web -ConfigPath $cfg -State active) -Width 80
        $text | Should -Match 'Server: production/api \(.+\)'
        $text | Should -Match 'Server: production/web \(.+/template1\)'
    }

    It 'says a refused port is refused (nothing listens), not that the host did not answer' {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(); $closed = $l.LocalEndpoint.Port; $l.Stop()
        $e = $null
        Get-PgActivity -ConnectionString "Host=127.0.0.1;Port=$closed;Username=postgres;Database=postgres" -TimeoutSec 3 -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'PgHostUnreachable,IncidentOps.Commands.GetPgActivityCommand'
        $text = $e[0] | Out-String -Width 80
        ($text -replace '\s*\|\s*', ' ' -replace '\s+', ' ') | Should -Match 'connection refused, nothing listens on that port\. Check that PostgreSQL is running'
        $text | Should -Not -Match 'did not answer'
    }

    It 'keeps the Server heading with one server: it is the only place the table says which database it shows' {
        $text = Get-RenderedView (Get-PgActivity -ConnectionString $cs -State active) -Width 80
        $text | Should -Match '(?m)^\s+Server: \S+:\d+/\S+\s*$'
    }

    It 'takes -Count on Get-PgSlowQuery and -Top on Get-RedisSlowLog, so the slow-list size reads the same in both' {
        (Get-Command Get-PgSlowQuery).Parameters['Top'].Aliases | Should -Contain 'Count'
        (Get-Command Get-RedisSlowLog).Parameters['Count'].Aliases | Should -Contain 'Top'
    }

    It 'takes -Url for -ConnectionString, as the Redis cmdlets do' {
        @(Get-PgActivity -Url $cs | Where-Object IsOwnSession).Count | Should -Be 1
        (Get-Command Stop-PgBackend).Parameters['ConnectionString'].Aliases | Should -Contain 'Url'
        # The cmdlets that change state take one service: a pid or a table names something else on every server.
        (Get-Command Stop-PgBackend).Parameters['Service'].ParameterType | Should -Be ([string])
        (Get-Command Stop-IdleConnection).Parameters['Service'].ParameterType | Should -Be ([string])
    }

    It 'reports PgDatabaseNotFound naming the database' {
        { Get-PgActivity -ConnectionString "$cs;Database=no_such_db_pester" -ErrorAction Stop } |
            Should -Throw -ErrorId 'PgDatabaseNotFound,IncidentOps.Commands.GetPgActivityCommand'
    }
}

Describe 'Get-PgActivity order and view' -Skip:$noPg {
    BeforeAll {
        $old = Start-TestPgSession 'SELECT pg_sleep(60)' 'pst-old'
        Wait-TestPgSession 'pst-old' | Out-Null
        Start-Sleep -Seconds 2
        $new = Start-TestPgSession 'SELECT pg_sleep(60)' 'pst-new'
        Wait-TestPgSession 'pst-new' | Out-Null
        $rows = @(Get-PgActivity -ConnectionString $cs -IncludeBackground)
    }

    AfterAll { Stop-TestPgSession $old 'pst-old'; Stop-TestPgSession $new 'pst-new' }

    It 'lists the client sessions only by default, and says how many background processes it left out under -Verbose' {
        $default = @(Get-PgActivity -ConnectionString $cs -Verbose 4>&1)
        $sessions = @($default | Where-Object { $_ -is [IncidentOps.Postgres.PgActivity] })
        @($sessions | Where-Object BackendType -NE 'client backend').Count | Should -Be 0
        @($sessions.ApplicationName) | Should -Contain 'pst-old'
        @($sessions | Where-Object IsOwnSession).Count | Should -Be 1
        $background = @($rows | Where-Object BackendType -NE 'client backend').Count
        $background | Should -BeGreaterThan 0
        @($default | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Where-Object Message -Match "^$background background process\(es\) of the server not listed .*-IncludeBackground lists them").Count | Should -Be 1
        (Get-RenderedView $sessions -Width 80) | Should -Not -Match '(?m)^\s+\d+\s+(checkpointer|walwriter|bgwriter)\b'
    }

    It 'lists client backends first, the longest-running first, and background processes last' {
        $clients = @($rows | Where-Object BackendType -EQ 'client backend')
        $rows[0].BackendType | Should -Be 'client backend'
        @($rows[0..($clients.Count - 1)].BackendType | Select-Object -Unique) | Should -Be 'client backend'
        $durations = @($clients | ForEach-Object { if ($_.Duration) { $_.Duration.Ticks } else { 0 } })
        $durations | Should -Be @($durations | Sort-Object -Descending)
        $names = @($clients.ApplicationName)
        $names.IndexOf('pst-old') | Should -BeLessThan $names.IndexOf('pst-new')
    }

    It 'prints durations as 2.3s or 5m03s (never :00:21) at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Pid', 'Duration', 'State', 'User', 'Application', 'Query') { $text | Should -Match "\b$col\b" }
        $text | Should -Not -Match '(^|\s):\d\d:\d\d'
        $line = ($text -split "`n") | Where-Object { $_ -match 'pst-old' }
        $line | Should -Match '\s\d+(\.\d)?s\s+active\s'
        $text | Should -Match $(if ($Width -ge 120) { 'SELECT pg_sleep\(60\)' } else { 'SELECT pg_s' })
    }

    It 'names background processes whole in the State column at 80 columns (bgwriter, autovacuum, logical rep)' {
        $text = Get-RenderedView @($rows | Where-Object BackendType -NE 'client backend') -Width 80
        $text | Should -Match '(?m)^\s+\d+\s+(bgwriter|autovacuum|checkpointer|walwriter|logical rep)\b'
        # No background process's name is cut short ("background …", "logical rep…").
        @($text -split '\r?\n' | Where-Object { $_ -match '^\s+\d+\s' -and $_ -match '…' }).Count | Should -Be 0
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-PgActivity | Out-Null
    }

    It 'completes -State with the backend states, as Stop-IdleConnection -State does (quoted where they have spaces)' {
        Get-CompletionText 'Get-PgActivity -State ' | Should -Be @('active', 'idle', "'idle in transaction'", "'idle in transaction (aborted)'", "'fastpath function call'", 'disabled')
        Get-CompletionText 'Get-PgActivity -State idle' | Should -Be @('idle', "'idle in transaction'", "'idle in transaction (aborted)'")
        # What it offers is what -State filters on: the completed text runs.
        @(Get-PgActivity -State 'idle in transaction' -ConnectionString $cs -ErrorAction Stop | Where-Object State -NE 'idle in transaction').Count | Should -Be 0
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Get-PgActivity -ConfigPath '$($root.Config)' -Service production/d" | Should -Contain 'production/db'
    }
}
