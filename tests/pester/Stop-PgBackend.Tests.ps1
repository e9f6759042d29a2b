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
        $admin = Start-TestPgSession 'SELECT 1' 'unused'   # ensures the role exists; ends at once
        $own = Get-PgActivity -ConnectionString $cs | Where-Object IsOwnSession
        $own.IsSuperuser | Should -BeTrue
        $r = Stop-PgBackend -Pid $own.Pid -ConnectionString $cs -IncludeSuperuser -Force
        $r.Succeeded | Should -BeFalse -Because 'its own session is never stopped, even with -IncludeSuperuser'
        $admin.WaitForExit(5000) | Out-Null
    }

    It 'never stops its own session' {
        $own = Get-PgActivity -ConnectionString $cs | Where-Object IsOwnSession
        $r = Stop-PgBackend -Pid $own.Pid -ConnectionString $cs -Force
        $r.Succeeded | Should -BeFalse
        $r.Reason | Should -Not -BeNullOrEmpty
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
