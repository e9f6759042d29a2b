#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-PgConnectionSummary against a real PostgreSQL on loopback.
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

Describe 'Get-PgConnectionSummary' -Skip:$noPg {
    It 'counts connections against max_connections with the headroom left' {
        $s = Get-PgConnectionSummary -ConnectionString $cs -ErrorAction Stop
        $max = [int](Invoke-TestPsql 'SHOW max_connections')
        $s.MaxConnections | Should -Be $max
        $s.Total | Should -BeGreaterThan 0
        $s.Headroom | Should -BeLessThan $max
        ($s.ByApplication | Where-Object Name -EQ 'IncidentOps').Count | Should -BeGreaterOrEqual 1
    }

    It 'reads a configured service' {
        (Get-PgConnectionSummary -Service production/db -ConfigPath $root.Config -ErrorAction Stop).Total | Should -BeGreaterThan 0
    }

    It 'fails with PgHostUnreachable for a closed port' {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(); $closed = $l.LocalEndpoint.Port; $l.Stop()
        { Get-PgConnectionSummary -ConnectionString "Host=127.0.0.1;Port=$closed;Username=postgres" -TimeoutSec 3 -ErrorAction Stop } |
            Should -Throw -ErrorId 'PgHostUnreachable,IncidentOps.Commands.GetPgConnectionSummaryCommand'
    }
}

Describe 'Get-PgConnectionSummary in a real host' -Skip:$noPg {
    It 'shows connections, headroom and the breakdowns as a list at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-PgConnectionSummary -ConnectionString $cs) -Width $Width
        foreach ($row in 'Server', 'Connections', 'Headroom', 'ByState', 'ByDatabase', 'ByUser', 'ByApplication') { $text | Should -Match "(?m)^$row\s+:" }
        $text | Should -Match 'Connections\s+:\s+\d+ of \d+'
        # Headroom says what it counts, not a bare number.
        $text | Should -Match '(?m)^Headroom\s+: \d+ connections left for ordinary roles$'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-PgConnectionSummary | Out-Null
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Get-PgConnectionSummary -ConfigPath '$($root.Config)' -Service production/d" | Should -Contain 'production/db'
    }
}
