#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-PgSlowQuery against a real PostgreSQL on loopback with pg_stat_statements.
# Needs a PostgreSQL server: $env:INCIDENTOPS_TEST_PG holds an Npgsql connection string for a superuser (bash .ci/run
# sets it). Without one the tests skip, except under CI=true, where they run and fail with the connection error.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $noPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

# pg_stat_statements is server-wide and the cmdlet ranks the connected database's statements: the marker runs in a
# database of its own, so slow statements of other tests (a CREATE DATABASE under load) cannot crowd it out.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PgTestFile
    if ($env:INCIDENTOPS_TEST_PG) {
        $slowDb = New-TestPgDatabase 'pester_slow'
        $cs = Get-PgTestConnectionString $slowDb
        Invoke-TestPsql 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' -Database $slowDb | Out-Null
        Invoke-TestPsql 'SELECT pg_sleep(1.0) AS pester_slow_marker' -Database $slowDb | Out-Null
    }
}

AfterAll {
    if ($slowDb) { Remove-TestPgDatabase $slowDb }
    Remove-TestTemp
}

Describe 'Get-PgSlowQuery' -Skip:$noPg {

    It 'returns the slowest statements by mean time, the marker query among them' {
        $top = @(Get-PgSlowQuery -ConnectionString $cs -Top 5 -ErrorAction Stop)
        $top.Count | Should -BeGreaterThan 0
        $top.Count | Should -BeLessOrEqual 5
        ($top.Query -join "`n") | Should -Match 'pester_slow_marker'
        $means = @($top.MeanMs)
        $means | Should -Be @($means | Sort-Object -Descending)
    }

    It 'sorts by <SortBy>' -TestCases @(@{ SortBy = 'TotalTime'; Property = 'TotalMs' }, @{ SortBy = 'Calls'; Property = 'Calls' }) {
        $values = @(Get-PgSlowQuery -ConnectionString $cs -Top 10 -SortBy $SortBy | ForEach-Object $Property)
        $values | Should -Be @($values | Sort-Object -Descending)
    }
}

Describe 'Get-PgSlowQuery in a real host' -Skip:$noPg {
    It 'shows mean, total, calls and the query at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView @(Get-PgSlowQuery -ConnectionString $cs -Top 5) -Width $Width
        foreach ($col in 'MeanMs', 'TotalMs', 'Calls', '%Total', 'User', 'Query') { $text | Should -Match "(^|\s)$([regex]::Escape($col))(\s|$)" }
        $text | Should -Match 'SELECT pg_sleep'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-PgSlowQuery | Should -Match 'Default value\s+10'
    }

    It 'completes -Service and -SortBy' {
        Get-CompletionText "Get-PgSlowQuery -ConfigPath '$($root.Config)' -Service production/d" | Should -Contain 'production/db'
        Get-CompletionText 'Get-PgSlowQuery -SortBy C' | Should -Be 'Calls'
    }
}
