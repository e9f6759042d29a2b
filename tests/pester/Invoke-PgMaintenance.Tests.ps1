#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Invoke-PgMaintenance against a real PostgreSQL on loopback (table pester_maint); -WhatIf is checked in a child pwsh.
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

Describe 'Invoke-PgMaintenance' -Skip:$noPg {
    BeforeEach {
        Invoke-TestPsql 'DROP TABLE IF EXISTS pester_maint; CREATE TABLE pester_maint AS SELECT g AS id FROM generate_series(1, 1000) g' | Out-Null
    }

    AfterAll { Invoke-TestPsql 'DROP TABLE IF EXISTS pester_maint' | Out-Null }

    It 'runs VACUUM ANALYZE on the table and reports the statement' {
        $r = Invoke-PgMaintenance pester_maint -ConnectionString $cs -Force -ErrorAction Stop
        $r.Sql | Should -Match 'VACUUM \(ANALYZE\)|VACUUM ANALYZE'
        Invoke-TestPsql "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'pester_maint'" | Should -Be 't'
    }

    It 'runs only ANALYZE with -Operation Analyze' {
        Invoke-PgMaintenance pester_maint -Operation Analyze -ConnectionString $cs -Force | Out-Null
        Invoke-TestPsql "SELECT last_vacuum IS NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'pester_maint'" | Should -Be 't'
    }

    It 'processes a table piped from Get-PgIndex in its own schema, once, on the service it was read from' {
        # pester_mx.pester_maint and public.pester_maint: the bare name would be the public one.
        Invoke-TestPsql 'DROP SCHEMA IF EXISTS pester_mx CASCADE; CREATE SCHEMA pester_mx; CREATE TABLE pester_mx.pester_maint (id int PRIMARY KEY, v int); CREATE INDEX ON pester_mx.pester_maint (v)' | Out-Null
        try {
            $r = @(Get-PgIndex -Service production/db -ConfigPath $root.Config | Where-Object Schema -eq pester_mx |
                Invoke-PgMaintenance -Operation Analyze -ConfigPath $root.Config -Force -ErrorAction Stop)
            $r.Count | Should -Be 1 -Because 'two indexes of one table are one ANALYZE'
            $r[0].Sql | Should -Be 'ANALYZE "pester_mx"."pester_maint"'
            Invoke-TestPsql "SELECT last_analyze IS NULL FROM pg_stat_user_tables WHERE relid = 'public.pester_maint'::regclass" | Should -Be 't'
        }
        finally { Invoke-TestPsql 'DROP SCHEMA IF EXISTS pester_mx CASCADE' | Out-Null }
    }

    It 'prints its What if: line with the exact SQL under -WhatIf and changes nothing' {
        $text = Get-WhatIfText 'Invoke-PgMaintenance pester_maint -ConnectionString $args[0] -WhatIf' $cs
        $text | Should -Match 'What if: .*VACUUM'
        $text | Should -Match 'pester_maint'
        Invoke-TestPsql "SELECT last_vacuum IS NULL AND last_analyze IS NULL FROM pg_stat_user_tables WHERE relname = 'pester_maint'" | Should -Be 't'
    }

    It 'shows table, operation, duration and SQL at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Invoke-PgMaintenance pester_maint -ConnectionString $cs -Force) -Width $Width
        foreach ($col in 'Table', 'Operation', 'Duration', 'Sql') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'pester_maint\s+VacuumAnalyze\s+\d+(\.\d)?s'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Invoke-PgMaintenance | Should -Match 'Default value\s+VacuumAnalyze'
    }

    It 'completes -Service and -Operation' {
        Get-CompletionText "Invoke-PgMaintenance -ConfigPath '$($root.Config)' -Service production/d" | Should -Contain 'production/db'
        Get-CompletionText 'Invoke-PgMaintenance -Operation Vac' | Should -Contain 'VacuumAnalyze'
    }
}
