#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Safety audit: a timeline entry goes to the incident the responder works on, or nowhere (said out loud); never to
# another incident that happens to be active somewhere else.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $noPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    $script:root = Initialize-IncidentTestFile
    # The default store of this machine (under XDG_DATA_HOME) holds an old incident, still open and active there.
    $script:local = Join-Path $root.Dir 'local.yml'
    Set-Content -Path $local -Value "store: { path: '$(Join-Path $env:XDG_DATA_HOME 'IncidentOps')' }"
    $script:old = (New-Incident -ConfigPath $local -Title 'Old laptop incident' -Severity P3).Id
}
AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'A change made while the named configuration cannot be loaded' -Skip:$noPg {
    BeforeAll {
        # The team's configuration, broken by an edit: it names a team store that cannot be known now.
        $script:team = Join-Path $root.Dir 'team.yml'
        Set-Content -Path $team -Value "store: { kind: postgres, connectionString: 'Host=db.team.example;Database=incidents' }`nalertng: {}"
        $script:session = Start-TestPgSession 'SELECT pg_sleep(60)' 'pst-cfgbad'
        $script:victim = Wait-TestPgSession 'pst-cfgbad'
        $script:result = Stop-PgBackend -ConnectionString $env:INCIDENTOPS_TEST_PG -Pid $victim.Pid -ConfigPath $team -Force -WarningVariable warned -WarningAction SilentlyContinue
        $script:warned = $warned
    }
    AfterAll { Stop-TestPgSession $session 'pst-cfgbad' }

    It 'is done, and its timeline entry does not land on the incident active in the default store' {
        $result.Succeeded | Should -BeTrue
        @(Get-IncidentTimeline -ConfigPath $local -Incident $old | Where-Object Cmdlet -EQ 'Stop-PgBackend') | Should -HaveCount 0
    }

    It 'says the entry was not recorded, why, and how to record it once the configuration is fixed' {
        $text = @($warned | ForEach-Object { "$_" }) -join "`n"
        $text | Should -Match 'timeline entry was not recorded'
        $text | Should -Match 'ConfigInvalid'
        $text | Should -Match 'Add-IncidentNote'
        $text | Should -Not -Match ([regex]::Escape($old))
    }
}
