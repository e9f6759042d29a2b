#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Needs a PostgreSQL server: $env:INCIDENTOPS_TEST_PG holds an Npgsql connection string for a superuser (bash .ci/run sets it).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $noPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'   # under CI=true a missing server fails, it never skips
}

BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $repo 'out/IncidentOps') -Force
    $cs = $env:INCIDENTOPS_TEST_PG
}

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

    It 'reports PgDatabaseNotFound naming the database' {
        { Get-PgActivity -ConnectionString "$cs;Database=no_such_db_pester" -ErrorAction Stop } |
            Should -Throw -ErrorId 'PgDatabaseNotFound,IncidentOps.Commands.GetPgActivityCommand'
    }
}
