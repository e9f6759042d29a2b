#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentMetric (issue 19): metrics across incidents from the fixture with known answers (examples/data/incidents-2026-10,
# whose README works them out), imported as a team moves incidents; on the file store and on the PostgreSQL team store.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:skipPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    $script:root = Initialize-IncidentTestFile -Yaml @'
environments:
  production:
    services:
      api: { platform: fly, app: ai-affiliate-empire }
      portfolio: { platform: digitalocean, appId: 00000000-0000-4000-8000-000000000001 }
'@
    $script:cfg = $script:root.Config
    $script:archive = Join-Path $script:root.Dir 'incidents-2026-10.zip'
    Compress-Archive -Path (Join-Path $PSScriptRoot '../../examples/data/incidents-2026-10/*') -DestinationPath $script:archive
    Import-Incident -Path $script:archive -ConfigPath $script:cfg -Confirm:$false | Out-Null
    $script:october = @{ Since = '2026-10-01T00:00:00Z'; Until = '2026-11-01T00:00:00Z'; ConfigPath = $script:cfg }
}

AfterAll {
    if ($script:db) { Remove-TestPgDatabase $script:db }
    Remove-Item Env:IO_METRIC_STORE -ErrorAction SilentlyContinue
    Exit-IsolatedIncidentOps $script:root
}

Describe 'Get-IncidentMetric' {
    It 'summarises the period: counts, p50/p90, response target and cadence compliance, action items, top services' {
        $m = Get-IncidentMetric @october
        $m.Incidents | Should -Be 6
        $m.IncidentIds | Should -Not -Contain 'INC-20260928-001' -Because 'it started before the period'
        [IncidentOps.Duration]::Format($m.TimeToAcknowledgeP50) | Should -Be '20m'
        [IncidentOps.Duration]::Format($m.TimeToResolveP90) | Should -Be '2h30m'
        "$($m.ResponseTargetMet)/$($m.ResponseTargetDecided)" | Should -Be '4/6'
        $m.MissedResponseIds | Should -Be @('INC-20261012-001', 'INC-20261031-001')
        "$($m.UpdatesOnTime)/$($m.UpdatesDue)" | Should -Be '11/15'
        ($m.BySeverity | Where-Object Severity -EQ P1).ResponseTargetRate | Should -BeLessThan 0.34
        ($m.ActionItemsByOwner | ForEach-Object { "$($_.Owner):$($_.Open)/$($_.Overdue)" }) -join ' ' | Should -Be 'alice:2/2 bob:2/1 unassigned:1/0'
        $m.TopServices[0].Service | Should -Be 'production/api'
    }

    It 'traces every figure to its incidents through the pipeline' {
        Get-IncidentMetric @october | Select-Object -ExpandProperty MissedCadenceIds | Should -Be @('INC-20261012-001', 'INC-20261020-001', 'INC-20261031-001')
        $missed = (Get-IncidentMetric @october).BySeverity | Where-Object Severity -EQ P1 | Select-Object -ExpandProperty MissedResponseIds
        (Get-Incident -Incident $missed -ConfigPath $cfg).Title | Should -Be @('Database connections exhausted', 'API latency high')
    }

    It '-Detailed says why a P1 missed its response target, and that another kept its cadence' {
        $d = Get-IncidentMetric @october -Detailed
        $d | Should -HaveCount 6
        $late = $d | Where-Object IncidentId -EQ 'INC-20261012-001'
        $late.ResponseTargetMet | Should -BeFalse
        $late.ResponseReason | Should -Be 'acknowledged 27m after declaration, 12m after the 15m target (due 2026-10-12 14:20 UTC)'
        $kept = $d | Where-Object IncidentId -EQ 'INC-20261005-001'
        $kept.CadenceMet | Should -BeTrue
        $kept.CadenceReason | Should -Be '4 updates, each within 30m'
    }

    It 'filters by severity, service and environment, and groups by <GroupBy>' -TestCases @(
        @{ GroupBy = 'Week'; Groups = '2026-W40:0 2026-W41:1 2026-W42:1 2026-W43:1 2026-W44:3' }
        @{ GroupBy = 'Severity'; Groups = 'P0:1 P1:3 P2:1 P3:1' }
        @{ GroupBy = 'Service'; Groups = 'production/api:3 production/portfolio:2 production/marketing:1' }
        @{ GroupBy = 'Environment'; Groups = 'production:6' }
    ) {
        ((Get-IncidentMetric @october -GroupBy $GroupBy) | ForEach-Object { "$($_.Group):$($_.Incidents)" }) -join ' ' | Should -Be $Groups
        (Get-IncidentMetric @october -Severity P0, P1).Incidents | Should -Be 4
        (Get-IncidentMetric @october -Service api).IncidentIds | Should -Be @('INC-20261005-001', 'INC-20261012-001', 'INC-20261031-001')
        (Get-IncidentMetric -Since '2026-09-01' -Until '2026-11-01' -Environment staging -ConfigPath $cfg).IncidentIds | Should -Be 'INC-20260928-001'
    }

    It 'takes -Since as how long ago (30d, typed unquoted) or as a date' {
        $fresh = New-Incident -Title 'Queue stuck' -Severity P2 -ConfigPath $cfg
        try {
            $m = Get-IncidentMetric -Since 30d -ConfigPath $cfg
            $m.IncidentIds | Should -Contain $fresh.Id
            $m.IncidentIds | Should -Not -Contain 'INC-20261005-001'
            $m.Since | Should -BeGreaterThan ([DateTimeOffset]::Now.AddDays(-30).AddMinutes(-1))
            $m.Since | Should -BeLessThan ([DateTimeOffset]::Now.AddDays(-30).AddMinutes(1))
            (Get-IncidentMetric -Since 12h -ConfigPath $cfg -Detailed).IncidentId | Should -Be $fresh.Id
            (Get-IncidentMetric -Since (Get-Date).AddDays(-1) -ConfigPath $cfg).Incidents | Should -Be 1
        }
        finally { Close-Incident -Incident $fresh.Id -Resolution 'Restarted' -ConfigPath $cfg | Out-Null }
    }

    It 'refuses a bound that is neither a date nor a duration, and an empty period, with stable ids' {
        { Get-IncidentMetric -Since banana -ConfigPath $cfg -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,IncidentOps.Commands.GetIncidentMetricCommand'
        $err = $null
        try { Get-IncidentMetric -Since banana -ConfigPath $cfg -ErrorAction Stop } catch { $err = $_ }
        $err.Exception.Message | Should -Match 'IncidentMetricPeriodBoundInvalid: .banana. is neither a date nor a duration'
        $inner = $err.Exception; while ($inner -and $inner.GetType().Name -ne 'IncidentOpsException') { $inner = $inner.InnerException }
        $inner.ErrorId | Should -Be 'IncidentMetricPeriodBoundInvalid'
        { Get-IncidentMetric -Since 2026-11-01 -Until 2026-10-01 -ConfigPath $cfg -ErrorAction Stop } | Should -Throw -ErrorId 'IncidentMetricPeriodInvalid,IncidentOps.Commands.GetIncidentMetricCommand'
        { Get-IncidentMetric @october -Severity P9 -ErrorAction Stop } | Should -Throw -ErrorId 'SeverityUnknown,IncidentOps.Commands.GetIncidentMetricCommand'
    }

    It 'renders the summary, the per-group table, the details and the severities at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-IncidentMetric @october) -Width $Width
        $text | Should -Match 'Incidents\s+: 6 \(1 open, 5 resolved\)'
        $text | Should -Match 'Resolve p50/p90\s+: 2h / 2h30m'
        $text | Should -Match 'Response target met\s+: 4 of 6 \(66\.7%\); missed: INC-20261012-001'
        $text | Should -Match 'P1: response 1/3 \(33\.3%\), cadence 6/9 \(66\.7%\)'
        $text | Should -Match 'alice 2 open/2 overdue'
        $table = Get-RenderedView (Get-IncidentMetric @october -GroupBy Week | Format-Table) -Width $Width
        $table | Should -Match '(?m)^2026-W44\s+3\s+4m\s+50m\s+2h\s+66\.7%\s+80%\s+1 INC-2026'
        $details = Get-RenderedView (Get-IncidentMetric @october -Detailed) -Width $Width
        $details | Should -Match '(?m)^INC-20261012-001 P1\s+32m\s+2h10m MISSED\s+MISSED\s+response: acknowledged 27m'
        $details | Should -Match '(?m)^INC-20261031-001 P1\s+-\s+open MISSED'
        $details | Should -Match '(?m)^INC-20261005-001 P1\s+10m\s+1h40m met\s+kept\s+Checkout returns 502'
        $severities = Get-RenderedView (Get-IncidentMetric @october).BySeverity -Width $Width
        $severities | Should -Match '(?m)^P1\s+15m\s+3\s+1/3\s+33\.3%\s+30m\s+66\.7%\s+INC-20261012-001, INC-2026103'
        $severities | Should -Match '(?m)^P3\s+4h\s+1\s+1/1\s+100%\s+-\s+n/a'
    }

    It 'completes -Severity, -Environment and -GroupBy' {
        Get-CompletionText 'Get-IncidentMetric -Severity ' | Should -Be @('P0', 'P1', 'P2', 'P3')
        Get-CompletionText 'Get-IncidentMetric -Environment ' | Should -Be 'production'
        Get-CompletionText 'Get-IncidentMetric -GroupBy ' | Should -Be @('Environment', 'Month', 'None', 'Service', 'Severity', 'Week')
    }

    It 'gives the same figures from the PostgreSQL team store' -Skip:$script:skipPg {
        $script:db = New-TestPgDatabase 'metrics'
        $env:IO_METRIC_STORE = Get-PgTestConnectionString $script:db
        $team = Join-Path $script:root.Dir 'team.yml'
        Set-Content -Path $team -Value "store:`n  kind: postgres`n  path: $(Join-Path $script:root.Dir 'team')`n  connectionString: env:IO_METRIC_STORE`n  schema: metrics`n"
        Initialize-IncidentStore -ConfigPath $team -Confirm:$false | Out-Null
        Import-Incident -Path $archive -ConfigPath $team -Confirm:$false | Out-Null
        $file = Get-IncidentMetric @october
        $pg = Get-IncidentMetric -Since $october.Since -Until $october.Until -ConfigPath $team
        ($pg | Out-String -Width 120) | Should -Be ($file | Out-String -Width 120)
        (Get-IncidentMetric -Since $october.Since -Until $october.Until -ConfigPath $team -Detailed | Where-Object ResponseTargetMet -EQ $false).IncidentId | Should -Be @('INC-20261012-001', 'INC-20261031-001')
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        $help = Assert-CmdletHelp Get-IncidentMetric
        $help | Should -Match 'nearest-rank'
    }
}
