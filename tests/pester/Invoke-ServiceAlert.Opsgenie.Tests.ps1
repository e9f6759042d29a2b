#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Opsgenie as the pager of unattended health alerting, in the real pwsh: Invoke-ServiceAlert creates one alert per
# incident (alias = incident id and declaration time) when it declares, never for a progress update, and closes it when the service
# recovers, so a relapse before the resolution creates a new alert (and a new PagerDuty incident) that notifies the
# on-call again; with PagerDuty routed too, both are paged once per outage. Opsgenie is the
# xunit suite's OpsgenieFake (alerts by alias, as the Alert API documents them; answers from
# tests/IncidentOps.Tests/Notifications/Opsgenie/Fixtures/opsgenie.json); the health endpoint, the webhook and
# PagerDuty are ProviderStubs, all on 127.0.0.1. The API key is a canary that must never show.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
    Import-StandInTypes

    $fixture = Get-Content -Raw (Get-Fixture 'opsgenie.json') | ConvertFrom-Json
    $script:Canary = 'CANARYgenieAlertPester51'

    # The pager keys a new incident gets (README, "Pager keys"): its id and when it was declared, UTC to the millisecond.
    function Get-ExpectedAlias($Incident) { '{0}-{1}' -f $Incident.Id, $Incident.DeclaredAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", [cultureinfo]::InvariantCulture) }

    # updateEvery 500ms: a round 0.6 s after the last is due a progress update, which must not reach a pager. The rules'
    # times are short so the rounds wait little (they only wait for them to pass; a slow round is due all the same).
    function New-GenieAlertScenario([string] $Route = 'hook, genie') {
        $s = [pscustomobject]@{
            Health = [IncidentOps.Tests.Notifications.ProviderStub]::new(200, '{"status":"ok"}')
            Hook = [IncidentOps.Tests.Notifications.ProviderStub]::new(200, '')
            PagerDuty = [IncidentOps.Tests.Notifications.ProviderStub]::new(202, '{"status":"success","message":"Event processed","dedup_key":"stub"}')
            Genie = [IncidentOps.Tests.Notifications.OpsgenieFake]::new($fixture.response.status, $fixture.response.body, $fixture.alertNotFound.status, $fixture.alertNotFound.body)
            Root = $null; Config = $null
        }
        $s.Root = New-TestRoot @"
severities:
  P1: { name: High, responseTarget: 15m, updateEvery: 500ms }
  P2: { name: Medium, responseTarget: 1h }
environments:
  production:
    services:
      api: { health: ['$($s.Health.BaseUrl)/health'] }
channels:
  hook: { type: webhook, url: '$($s.Hook.BaseUrl)/hooks/CANARYgenieHookPester' }
  pager: { type: pagerduty, routingKey: CANARYgeniePdPester, url: '$($s.PagerDuty.BaseUrl)' }
  genie: { type: opsgenie, apiKey: file:genie.key, apiUrl: '$($s.Genie.BaseUrl)' }
routing:
  P1: [$Route]
alerting:
  failureThreshold: 2
  successThreshold: 2
  severity: P1
  autoResolveAfter: 1s
"@
        Set-Content -Path (Join-Path $s.Root.Dir 'genie.key') -Value $script:Canary -NoNewline
        $s.Config = $s.Root.Config
        $s
    }
    function Remove-GenieAlertScenario($s) {
        if (-not $s) { return }
        $s.Health.Dispose(); $s.Hook.Dispose(); $s.PagerDuty.Dispose(); $s.Genie.Dispose()
        Remove-TestRoot $s.Root
    }
    # Rounds through an outage: down until declared plus two progress updates, healthy until resolved.
    function Invoke-Outage($s) {
        $s.Health.DefaultStatus = 503
        $decisions = [Collections.Generic.List[object]]::new()
        foreach ($i in 1..4) {
            $decisions.Add((Invoke-ServiceAlert -ConfigPath $s.Config -Confirm:$false))
            Start-Sleep -Milliseconds 600    # the next round is due an update (updateEvery 500ms)
        }
        $s.Health.DefaultStatus = 200
        foreach ($i in 1..6) {
            $d = Invoke-ServiceAlert -ConfigPath $s.Config -Confirm:$false
            $decisions.Add($d)
            if ($d.Action -eq 'Resolved') { break }
            Start-Sleep -Milliseconds 600    # autoResolveAfter 1s counts from the last failure
        }
        , $decisions
    }
}

Describe 'Invoke-ServiceAlert with Opsgenie as the pager' {
    BeforeAll { $s = New-GenieAlertScenario }
    AfterAll { Remove-GenieAlertScenario $s }

    It '-WhatIf at the threshold says it would page, and sends nothing' {
        $s.Health.DefaultStatus = 503
        $first = Invoke-ServiceAlert -ConfigPath $s.Config -Confirm:$false
        $first.Decision | Should -Be 'Failing 1/2, waiting'
        $preview = Invoke-ServiceAlert -ConfigPath $s.Config -WhatIf
        $preview.Decision | Should -Be 'Failing 2/2: declare a P1 incident and send the initial update, page'
        $s.Genie.Requests.Count | Should -Be 0
        @(Get-Incident -ConfigPath $s.Config).Count | Should -Be 0
    }

    It 'creates one alert when it declares, none for progress updates, and closes it on recovery; the resolution finds it closed' {
        $decisions = Invoke-Outage $s
        $declared = @($decisions | Where-Object Action -EQ 'Declared')
        $declared.Count | Should -Be 1
        $id = $declared[0].IncidentId
        $declared[0].Decision | Should -Match '^Declared INC-\d{8}-\d{3} P1, paged$'
        @($decisions | Where-Object Paged).Count | Should -Be 1
        @($decisions | Where-Object Action -EQ 'Updated').Count | Should -BeGreaterThan 0
        $decisions[-1].Action | Should -Be 'Resolved'

        $paths = @($s.Genie.Requests | ForEach-Object { "$($_.Method) $($_.Path)$($_.Query)" })
        $alias = Get-ExpectedAlias (Get-Incident -ConfigPath $s.Config -Incident $id)
        $paths | Should -Be @('POST /v2/alerts', "POST /v2/alerts/$alias/close?identifierType=alias", "POST /v2/alerts/$alias/close?identifierType=alias")
        $alerts = @($s.Genie.Alerts)
        $alerts.Count | Should -Be 1
        $alerts[0].Alias | Should -Be $alias
        $alerts[0].Count | Should -Be 1
        $alerts[0].Acknowledged | Should -BeFalse
        $alerts[0].Status | Should -Be 'closed'
        # The webhook had every update; PagerDuty is configured but not routed, so never paged.
        @($s.Hook.Requests).Count | Should -BeGreaterThan 3
        $s.PagerDuty.Requests.Count | Should -Be 0
        (Get-Incident -ConfigPath $s.Config -Incident $id).Status | Should -Be 'Resolved'
    }

    It 'never shows the API key: not in the decisions, the timeline, the report or the store' {
        $id = (Get-Incident -ConfigPath $s.Config).Id
        $s.Genie.Requests | ForEach-Object { $_.Headers['Authorization'] | Should -Be "GenieKey $script:Canary" }
        $timeline = Get-IncidentTimeline -ConfigPath $s.Config -Incident $id | Out-String -Width 400
        $timeline | Should -Match 'genie: delivered \(202'
        $timeline | Should -Not -Match $script:Canary
        (New-IncidentReport -ConfigPath $s.Config -Incident $id).Content | Should -Not -Match $script:Canary
        Get-ChildItem -Recurse -File $s.Root.Store | ForEach-Object { Get-Content -Raw $_.FullName } | Should -Not -Match $script:Canary
    }
}

Describe 'Invoke-ServiceAlert with PagerDuty and Opsgenie both routed' {
    BeforeAll { $s = New-GenieAlertScenario 'hook, pager, genie' }
    AfterAll { Remove-GenieAlertScenario $s }

    It 'pages both once and resolves both on recovery' {
        $decisions = Invoke-Outage $s
        $declared = @($decisions | Where-Object Action -EQ 'Declared')
        $declared.Count | Should -Be 1
        $declared[0].UpdatesSent | Should -Be 3
        @($decisions | Where-Object Paged).Count | Should -Be 1
        $id = $declared[0].IncidentId
        @($s.PagerDuty.Requests | ForEach-Object { ($_.Body | ConvertFrom-Json).event_action }) | Should -Be @('trigger', 'resolve', 'resolve')
        $alias = Get-ExpectedAlias (Get-Incident -ConfigPath $s.Config -Incident $id)
        @($s.Genie.Requests | ForEach-Object { $_.Path }) | Should -Be @('/v2/alerts', "/v2/alerts/$alias/close", "/v2/alerts/$alias/close")
        @($s.Genie.Alerts).Count | Should -Be 1
    }
}

Describe 'Invoke-ServiceAlert: a relapse while Monitoring pages again' {
    BeforeAll {
        $s = New-GenieAlertScenario 'hook, pager, genie'
        # PagerDuty's incidents by dedup_key (acknowledged ones notify nobody; a trigger after a resolve opens a new one).
        $pd = [IncidentOps.Tests.Notifications.PagerDutyFake]::new($s.PagerDuty)
    }
    AfterAll { Remove-GenieAlertScenario $s }

    It 'outage pages, recovery resolves and closes, the relapse opens a new PagerDuty incident and a new Opsgenie alert, the resolution leaves nothing open' {
        function Step([int] $Status, [string] $Until) {
            $s.Health.DefaultStatus = $Status
            foreach ($i in 1..8) {
                $d = Invoke-ServiceAlert -ConfigPath $s.Config -Confirm:$false
                if ($d.Action -eq $Until) { return $d }
                if ($Until -eq 'Resolved') { Start-Sleep -Milliseconds 600 }   # autoResolveAfter 1s counts from the last failure
            }
            throw "No round took $Until (last: $($d.Action), $($d.Decision))"
        }
        $declared = Step 503 'Declared'
        $declared.Paged | Should -BeTrue
        $id = $declared.IncidentId
        # The on-call acknowledges the page in both pagers, and goes back to sleep.
        $pd.Incidents[0].Status = 'acknowledged'
        $s.Genie.Alerts[0].Acknowledged = $true

        $null = Step 200 'Recovered'
        (Get-Incident -ConfigPath $s.Config -Incident $id).Status | Should -Be 'Monitoring'
        @($pd.Incidents | ForEach-Object Status) | Should -Be @('resolved')
        @($s.Genie.Alerts | ForEach-Object Status) | Should -Be @('closed')

        $relapse = Step 503 'Reopened'
        $relapse.IncidentId | Should -Be $id
        $relapse.Paged | Should -BeTrue
        # A new PagerDuty incident (it notifies) and a new Opsgenie alert (count 1, not acknowledged), same key and alias.
        $pd.Notifications | Should -Be 2
        $alias = Get-ExpectedAlias (Get-Incident -ConfigPath $s.Config -Incident $id)
        @($pd.Incidents | ForEach-Object { "$($_.DedupKey) $($_.Status) $($_.SilentTriggers)" }) | Should -Be @("incidentops-$alias resolved 0", "incidentops-$alias triggered 0")
        @($s.Genie.Alerts | ForEach-Object { "$($_.Alias) $($_.Status) $($_.Count) $($_.Acknowledged)" }) | Should -Be @("$alias closed 1 True", "$alias open 1 False")

        $null = Step 200 'Recovered'
        $null = Step 200 'Resolved'
        (Get-Incident -ConfigPath $s.Config -Incident $id).Status | Should -Be 'Resolved'
        @($pd.Incidents | Where-Object Status -NE 'resolved').Count | Should -Be 0
        @($s.Genie.Alerts | Where-Object Status -NE 'closed').Count | Should -Be 0
        $pd.Notifications | Should -Be 2
        @(Get-IncidentUpdate -ConfigPath $s.Config -Incident $id -Pending).Count | Should -Be 0
    }
}

Describe 'Watch-ServiceHealth -Alert with Opsgenie as the pager' {
    BeforeAll { $s = New-GenieAlertScenario }
    AfterAll { Remove-GenieAlertScenario $s }

    It 'creates the one alert while watching, however many rounds see the outage' {
        $s.Health.DefaultStatus = 503
        $out = Watch-ServiceHealth -ConfigPath $s.Config -Service production/api -IntervalSec 0.2 -DurationSec 2.5 -Alert
        $decisions = @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'IncidentOps.Alerting.AlertDecision' })
        $decisions.Count | Should -BeGreaterThan 4
        @($decisions | Where-Object Action -EQ 'Declared').Count | Should -Be 1
        @($decisions | Where-Object Paged).Count | Should -Be 1
        @($s.Genie.Requests).Count | Should -Be 1
        @($s.Genie.Alerts).Count | Should -Be 1
        $s.Genie.Alerts[0].Alias | Should -Be (Get-ExpectedAlias (Get-Incident -ConfigPath $s.Config))
    }
}

AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)
