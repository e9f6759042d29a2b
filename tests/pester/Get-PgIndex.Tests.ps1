#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-PgIndex against a real PostgreSQL on loopback (table pester_idx, dropped afterwards).
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

Describe 'Get-PgIndex' -Skip:$noPg {
    BeforeAll {
        Invoke-TestPsql 'DROP TABLE IF EXISTS pester_idx; CREATE TABLE pester_idx (id int PRIMARY KEY, email text, note text); CREATE INDEX pester_idx_email ON pester_idx (email); CREATE INDEX pester_idx_email_dup ON pester_idx (email); SELECT pg_stat_reset()' | Out-Null
    }

    AfterAll { Invoke-TestPsql 'DROP TABLE IF EXISTS pester_idx' | Out-Null }

    It 'lists the indexes of a table with size and scans' {
        $idx = @(Get-PgIndex pester_idx -ConnectionString $cs -ErrorAction Stop)
        $idx.Name | Should -Contain 'pester_idx_email'
        $idx.Name | Should -Contain 'pester_idx_pkey'
        $idx | ForEach-Object { $_.SizeBytes | Should -BeGreaterThan 0 }
    }

    It 'flags the duplicate and the unused indexes' {
        @(Get-PgIndex pester_idx -ConnectionString $cs -Duplicate).Name | Should -Contain 'pester_idx_email_dup'
        @(Get-PgIndex pester_idx -ConnectionString $cs -Unused).Name | Should -Contain 'pester_idx_email'
    }
}

Describe 'Get-PgIndex in a real host' -Skip:$noPg {
    BeforeAll {
        Invoke-TestPsql 'DROP TABLE IF EXISTS pester_idx; CREATE TABLE pester_idx (id int PRIMARY KEY, email text); CREATE INDEX pester_idx_email ON pester_idx (email); CREATE INDEX pester_idx_email_dup ON pester_idx (email)' | Out-Null
    }

    AfterAll { Invoke-TestPsql 'DROP TABLE IF EXISTS pester_idx' | Out-Null }

    It 'puts the flags first and keeps them on screen at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView @(Get-PgIndex pester_idx -ConnectionString $cs) -Width $Width
        foreach ($col in 'Flags', 'SizeMB', 'Scans', 'Table', 'Name') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'duplicate'
        $text | Should -Match 'public\.pester_idx'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-PgIndex | Out-Null
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Get-PgIndex -ConfigPath '$($root.Config)' -Service production/d" | Should -Contain 'production/db'
    }
}
