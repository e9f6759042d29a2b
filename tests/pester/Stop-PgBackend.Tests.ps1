#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Stop-PgBackend against a real PostgreSQL on loopback; -WhatIf is checked in a child pwsh.
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


Describe 'Stop-PgBackend' -Skip:$noPg {
    BeforeEach {
        $session = Start-TestPgSession 'SELECT pg_sleep(60)' 'pester-stop'
        $target = (Wait-TestPgSession 'pester-stop')[0]
    }

    AfterEach { Stop-TestPgSession $session 'pester-stop' }

    It 'terminates a session piped from Get-PgActivity and reports it' {
        $r = Get-PgActivity -ConnectionString $cs -ApplicationName pester-stop | Stop-PgBackend -ConnectionString $cs -Force
        $r.Pid | Should -Be $target.Pid
        $r.Succeeded | Should -BeTrue
        @(Get-PgActivity -ConnectionString $cs -ApplicationName pester-stop).Count | Should -Be 0
    }

    It 'never stops the newer session that got the pid of a listed backend' {
        # As listed before the session ended and its pid went to a new one: it started earlier than the pid's holder now.
        $listed = Get-PgActivity -ConnectionString $cs -ApplicationName pester-stop
        $stale = [pscustomobject]@{ Pid = $listed.Pid; Server = $listed.Server; BackendStart = $listed.BackendStart.AddSeconds(-5) }
        $r = $stale | Stop-PgBackend -ConnectionString $cs -Force
        $r.Succeeded | Should -BeFalse
        $r.Action | Should -Be 'None'
        $r.Reason | Should -Match 'now belongs to another session'
        @(Get-PgActivity -ConnectionString $cs -ApplicationName pester-stop -State active).Count | Should -Be 1
    }

    It 'with -Mode Cancel never cancels a query the session started after the listing' {
        # As listed while the session ran an earlier query, which has finished since.
        $listed = Get-PgActivity -ConnectionString $cs -ApplicationName pester-stop
        $earlier = [pscustomobject]@{ Pid = $listed.Pid; Server = $listed.Server; BackendStart = $listed.BackendStart; QueryStart = $listed.QueryStart.AddSeconds(-30) }
        $r = $earlier | Stop-PgBackend -Mode Cancel -ConnectionString $cs -Force
        $r.Succeeded | Should -BeFalse
        $r.Reason | Should -Match 'has finished'
        @(Get-PgActivity -ConnectionString $cs -ApplicationName pester-stop -State active).Count | Should -Be 1
    }

    It 'cancels the query and keeps the session with -Mode Cancel' {
        $r = Stop-PgBackend -Pid $target.Pid -Mode Cancel -ConnectionString $cs -Force
        $r.Succeeded | Should -BeTrue
        $session.WaitForExit(10000) | Should -BeTrue   # psql ends once its only query is cancelled
    }

    It 'spares a superuser session unless -IncludeSuperuser' {
        # A psql session of the test server's own (superuser) role, next to pester_app's.
        $psi = [Diagnostics.ProcessStartInfo]::new('psql')
        foreach ($a in @(Get-PgTestArgs) + @('-c', 'SELECT pg_sleep(60)')) { $psi.ArgumentList.Add($a) }
        $psi.Environment['PGAPPNAME'] = 'pester-su'
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        $admin = [Diagnostics.Process]::Start($psi)
        try {
            $su = (Wait-TestPgSession 'pester-su')[0]
            $su.IsSuperuser | Should -BeTrue
            $r = Stop-PgBackend -Pid $su.Pid -ConnectionString $cs -Force
            $r.Succeeded | Should -BeFalse
            $r.Reason | Should -Match 'superuser'
            @(Get-PgActivity -ConnectionString $cs -ApplicationName pester-su).Count | Should -Be 1
            $r = Stop-PgBackend -Pid $su.Pid -ConnectionString $cs -IncludeSuperuser -Force
            $r.Succeeded | Should -BeTrue
        }
        finally { Stop-TestPgSession $admin 'pester-su' }
    }

    It 'refuses a typed pid that no backend has with PgBackendNotFound, before any prompt' {
        # Get-PgActivity's own session has ended by the time it returns: its pid names no backend now.
        $gone = (Get-PgActivity -ConnectionString $cs | Where-Object IsOwnSession).Pid
        $err = $null
        # -Confirm would prompt (and fail in a non-interactive run) if the command got that far.
        $r = Stop-PgBackend -Pid $gone -ConnectionString $cs -Confirm -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'PgBackendNotFound,IncidentOps.Commands.StopPgBackendCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        "$($err[0])" | Should -Match "No backend has pid $gone"
    }

    It 'names the session of a typed pid in its What if: line and pins it, and stops nothing' {
        $text = Get-WhatIfText 'Stop-PgBackend -Pid $args[0] -ConnectionString $args[1] -WhatIf' $target.Pid, $cs
        $start = $target.BackendStart.ToUniversalTime().ToString('yyyy-MM-dd HH:mm:ss.ffffff')
        $text | Should -Match ([regex]::Escape("backend $($target.Pid) (user pester_app, database $($target.Database), application 'pester-stop'"))
        $text | Should -Match ([regex]::Escape("started $start UTC, active"))
        $text | Should -Match ([regex]::Escape("(a.pid, a.backend_start) IN (($($target.Pid), '$start+00'::timestamptz))"))
        @(Get-PgActivity -ConnectionString $cs -ApplicationName pester-stop -State active).Count | Should -Be 1
    }

    It 'prints its What if: line with the exact SQL under -WhatIf and stops nothing' {
        $text = Get-WhatIfText 'Stop-PgBackend -Pid $args[0] -ConnectionString $args[1] -WhatIf' $target.Pid, $cs
        $text | Should -Match "What if: .*$($target.Pid)"
        $text | Should -Match 'pg_terminate_backend'
        @(Get-PgActivity -ConnectionString $cs -ApplicationName pester-stop).Count | Should -Be 1
    }

    It 'shows the result with the whole Reason at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $r = Stop-PgBackend -Pid $target.Pid -ConnectionString $cs -Force
        $text = Get-RenderedView $r -Width $Width
        foreach ($col in 'Pid', 'Action', 'Succeeded', 'Reason', 'Query') { $text | Should -Match "\b$col\b" }
        $text | Should -Match "$($target.Pid)\s+\w+\s+True"
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Stop-PgBackend | Should -Match 'ConfirmImpact is High'
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Stop-PgBackend -ConfigPath '$($root.Config)' -Service production/d" | Should -Contain 'production/db'
    }
}
