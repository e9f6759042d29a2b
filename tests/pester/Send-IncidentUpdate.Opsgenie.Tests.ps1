#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The Opsgenie channel (Alert API v2) as a user drives it from pwsh: one alert per incident, aliased by the incident
# id and its declaration time (another store's incident numbered alike gets its own alert), created, acknowledged on Identified and closed on Monitoring or the resolution; its API key (a canary) never reaches any stream, the timeline or the report.
# Opsgenie is a loopback stand-in: the xunit suite's ProviderStub (records every request), answering with the 202
# of tests/IncidentOps.Tests/Notifications/Opsgenie/Fixtures/opsgenie.json.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps

    Import-StandInTypes
    $fixture = Get-Content -Raw (Get-Fixture 'opsgenie.json') | ConvertFrom-Json
    $script:Canary = 'CANARYgenieKeyPester42'

    # The pager keys a new incident gets (README, "Pager keys"): its id and when it was declared, UTC to the millisecond.
    function Get-ExpectedAlias($Incident) { '{0}-{1}' -f $Incident.Id, $Incident.DeclaredAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", [cultureinfo]::InvariantCulture) }

    function New-GenieScenario {
        $stub = [IncidentOps.Tests.Notifications.ProviderStub]::new($fixture.response.status, $fixture.response.body)
        # Opsgenie processes each 202 later: Get Request Status answers that it was processed (the fixture's requestStatus).
        $null = $stub.AnswerLookups('GET', '/v2/alerts/requests/', $fixture.requestStatus.status, $fixture.requestStatus.body)
        $root = New-TestRoot @"
environments:
  production:
    services:
      api: { platform: fly, app: api-app }
channels:
  genie: { type: opsgenie, apiKey: file:genie.key, apiUrl: '$($stub.BaseUrl)' }
routing:
  P1: [genie]
"@
        Set-Content -Path (Join-Path $root.Dir 'genie.key') -Value $script:Canary -NoNewline
        $incident = New-Incident -ConfigPath $root.Config -Title 'Checkout returns 502' -Severity P1 -Service production/api -Confirm:$false
        [pscustomobject]@{ Stub = $stub; Root = $root; Config = $root.Config; Incident = $incident }
    }
    function Remove-GenieScenario($s) { if ($s) { $s.Stub.Dispose(); Remove-TestRoot $s.Root } }
}
AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)

Describe 'Send-IncidentUpdate to Opsgenie' {
    BeforeAll { $s = New-GenieScenario }
    AfterAll { Remove-GenieScenario $s }

    It '-WhatIf shows the create request with the incident id and declaration time as alias, sends nothing and never shows the key' {
        # -WhatIf text goes to the host: read it back from a transcript, with every other stream.
        $transcript = Join-Path $s.Root.Dir 'whatif.txt'
        $null = Start-Transcript -Path $transcript
        try { $streams = Send-IncidentUpdate -ConfigPath $s.Config -Incident $s.Incident.Id -Message 'Investigating' -WhatIf -Verbose *>&1 | Out-String }
        finally { $null = Stop-Transcript }
        $out = (Get-Content -Raw $transcript) + $streams
        $out | Should -Match ([regex]::Escape("POST $($s.Stub.BaseUrl)/v2/alerts"))
        $out | Should -Match ([regex]::Escape("`"alias`":`"$(Get-ExpectedAlias $s.Incident)`""))
        $out | Should -Not -Match $script:Canary
        $s.Stub.Requests.Count | Should -Be 0
        @(Get-IncidentUpdate -ConfigPath $s.Config -Incident $s.Incident.Id).Count | Should -Be 0
    }

    It 'creates the alert (routed by severity), acknowledges it on Identified and closes it on the resolution, all by alias' {
        $created = Send-IncidentUpdate -ConfigPath $s.Config -Incident $s.Incident.Id -Message 'Checkout down' -Confirm:$false
        $acked = Send-IncidentUpdate -ConfigPath $s.Config -Incident $s.Incident.Id -Status Identified -Message 'Pool exhausted' -Confirm:$false
        $closed = Send-IncidentUpdate -ConfigPath $s.Config -Incident $s.Incident.Id -Status Resolved -Message 'Pool raised' -Confirm:$false
        $created.Delivered, $acked.Delivered, $closed.Delivered | Should -Be $true, $true, $true
        $created.ChannelType | Should -Be 'Opsgenie'
        $created.ProviderId | Should -Be '43a29c5c-3dbf-4fa4-9c26-f4f71023e120'
        $r = $s.Stub.Requests
        $r.Count | Should -Be 3
        $r[0].Path | Should -Be '/v2/alerts'
        ($r[0].Body | ConvertFrom-Json).alias | Should -Be (Get-ExpectedAlias $s.Incident)
        ($r[0].Body | ConvertFrom-Json).priority | Should -Be 'P2'
        "$($r[1].Path)$($r[1].Query)" | Should -Be "/v2/alerts/$(Get-ExpectedAlias $s.Incident)/acknowledge?identifierType=alias"
        "$($r[2].Path)$($r[2].Query)" | Should -Be "/v2/alerts/$(Get-ExpectedAlias $s.Incident)/close?identifierType=alias"
        ($r[2].Body | ConvertFrom-Json).note | Should -Match 'Pool raised'
        $r | ForEach-Object { $_.Headers['Authorization'] | Should -Be "GenieKey $script:Canary" }
    }

    It 'keeps the key out of the timeline, the report and every file of the store' {
        $timeline = Get-IncidentTimeline -ConfigPath $s.Config -Incident $s.Incident.Id | Out-String -Width 400
        $timeline | Should -Match 'genie: delivered \(202'
        $timeline | Should -Not -Match $script:Canary
        (New-IncidentReport -ConfigPath $s.Config -Incident $s.Incident.Id).Content | Should -Not -Match $script:Canary
        Get-ChildItem -Recurse -File $s.Root.Store | ForEach-Object { Get-Content -Raw $_.FullName } | Should -Not -Match $script:Canary
    }
}

Describe 'Send-IncidentUpdate -Status Monitoring to Opsgenie' {
    BeforeAll {
        $s = New-GenieScenario
        # Alerts by alias instead of bare answers: a create after the close opens a new alert.
        $genie = [IncidentOps.Tests.Notifications.OpsgenieFake]::new($fixture.response.status, $fixture.response.body, $fixture.alertNotFound.status, $fixture.alertNotFound.body)
        $s.Stub.Dispose()
        (Get-Content -Raw $s.Config).Replace($s.Stub.BaseUrl, $genie.BaseUrl) | Set-Content -Path $s.Config
    }
    AfterAll { $genie.Dispose(); Remove-TestRoot $s.Root }

    It 'closes the alert, so an update back in Investigating creates a new alert that notifies' {
        $id = $s.Incident.Id
        $null = Send-IncidentUpdate -ConfigPath $s.Config -Incident $id -Message 'Checkout down' -Confirm:$false
        $genie.Alerts[0].Acknowledged = $true          # the on-call acknowledged it in Opsgenie
        $monitoring = Send-IncidentUpdate -ConfigPath $s.Config -Incident $id -Status Monitoring -Message 'Fix deployed' -Confirm:$false
        $monitoring.Delivered | Should -BeTrue
        "$($genie.Requests[-1].Path)$($genie.Requests[-1].Query)" | Should -Be "/v2/alerts/$(Get-ExpectedAlias $s.Incident)/close?identifierType=alias"
        $null = Send-IncidentUpdate -ConfigPath $s.Config -Incident $id -Status Investigating -Message 'Failing again' -Confirm:$false
        @($genie.Alerts | ForEach-Object { "$($_.Status) $($_.Count) $($_.Acknowledged)" }) | Should -Be @('closed 1 True', 'open 1 False')
        $null = Send-IncidentUpdate -ConfigPath $s.Config -Incident $id -Status Resolved -Message 'Fixed' -Confirm:$false
        @($genie.Alerts | Where-Object Status -NE 'closed').Count | Should -Be 0
    }
}

Describe 'Send-IncidentUpdate -Pending after an Opsgenie create lost its answer' {
    It 'looks the alert up by its alias and does not create it a second time' {
        $fake = [IncidentOps.Tests.Notifications.OpsgenieFake]::new($fixture.response.status, $fixture.response.body, $fixture.alertNotFound.status, $fixture.alertNotFound.body)
        $root = New-TestRoot @"
channels:
  genie: { type: opsgenie, apiKey: file:genie.key, apiUrl: '$($fake.BaseUrl)' }
"@
        try {
            Set-Content -Path (Join-Path $root.Dir 'genie.key') -Value $script:Canary -NoNewline
            $incident = New-Incident -ConfigPath $root.Config -Title 'Checkout returns 502' -Severity P1 -Confirm:$false
            $null = $fake.Stub.ThenHandleAndHang()     # Opsgenie makes the alert; its answer never comes back
            $first = Send-IncidentUpdate -ConfigPath $root.Config -Incident $incident.Id -Channel genie -Message 'Checkout down' -TimeoutSec 5 -Confirm:$false -WarningAction SilentlyContinue
            $first.State | Should -Be 'Unknown'
            $first.Error | Should -Match 'no answer within'   # only the deadline ended it: the create had reached Opsgenie
            @($fake.Requests).Count | Should -Be 1
            $resent = Send-IncidentUpdate -ConfigPath $root.Config -Pending -Confirm:$false
            $resent.Delivered | Should -BeTrue
            @($fake.Requests | ForEach-Object { "$($_.Method) $($_.Path)$($_.Query)" }) | Should -Be @('POST /v2/alerts', "GET /v2/alerts/$(Get-ExpectedAlias $incident)?identifierType=alias")
            @($fake.Alerts).Count | Should -Be 1
            $fake.Alerts[0].Count | Should -Be 1
            @(Get-IncidentUpdate -ConfigPath $root.Config -Incident $incident.Id -Pending).Count | Should -Be 0
        }
        finally { $fake.Dispose(); Remove-TestRoot $root }
    }
}

Describe 'An Opsgenie channel in incidentops.yml' {
    It 'needs an apiKey, names the missing key, and shows a configured key only masked' {
        $root = New-TestRoot "channels:`n  genie: { type: opsgenie }`n"
        try {
            $f = Test-IncidentOpsConfig -Path $root.Config | Where-Object Severity -EQ Error
            $f.Code | Should -Be 'ConfigMissingField'
            $f.Message | Should -Match 'needs apiKey'
        } finally { Remove-TestRoot $root }
        $root = New-TestRoot "channels:`n  genie: { type: opsgenie, apiKey: LiteralKeyPester99, apiUrl: 'https://api.eu.opsgenie.com' }`n"
        try {
            $view = (Get-IncidentOpsConfig -Path $root.Config).Channels | Format-Table | Out-String -Width 200
            $view | Should -Match 'genie'
            $view | Should -Match 'api.eu.opsgenie.com'
            $view | Should -Not -Match 'LiteralKeyPester99'
        } finally { Remove-TestRoot $root }
    }
}

Describe 'Send-IncidentUpdate to Opsgenie from two stores whose incidents are numbered alike' {
    It 'pages two alerts for two engineers'' INC-...-001, and closing one leaves the other open' {
        $fake = [IncidentOps.Tests.Notifications.OpsgenieFake]::new($fixture.response.status, $fixture.response.body, $fixture.alertNotFound.status, $fixture.alertNotFound.body)
        $yaml = @"
channels:
  genie: { type: opsgenie, apiKey: file:genie.key, apiUrl: '$($fake.BaseUrl)' }
"@
        $mine = New-TestRoot $yaml
        $theirs = New-TestRoot $yaml
        try {
            foreach ($root in $mine, $theirs) { Set-Content -Path (Join-Path $root.Dir 'genie.key') -Value $script:Canary -NoNewline }
            # Each engineer's own store numbers the day's first incident INC-<today>-001.
            $a = New-Incident -ConfigPath $mine.Config -Title 'Checkout returns 502' -Severity P1 -Confirm:$false
            Start-Sleep -Milliseconds 20
            $b = New-Incident -ConfigPath $theirs.Config -Title 'Search is slow' -Severity P1 -Confirm:$false
            $b.Id | Should -Be $a.Id
            $null = Send-IncidentUpdate -ConfigPath $mine.Config -Incident $a.Id -Channel genie -Message 'Checkout down' -Confirm:$false
            $null = Send-IncidentUpdate -ConfigPath $mine.Config -Incident $a.Id -Channel genie -Status Identified -Message 'Pool exhausted' -Confirm:$false
            $page = Send-IncidentUpdate -ConfigPath $theirs.Config -Incident $b.Id -Channel genie -Message 'Search down' -Confirm:$false
            $page.Delivered | Should -BeTrue
            # The second outage is a new alert (count 1, not acknowledged), so Opsgenie notifies for it.
            @($fake.Alerts | ForEach-Object { "$($_.Alias) $($_.Status) $($_.Count) $($_.Acknowledged)" }) |
                Should -Be @("$(Get-ExpectedAlias $a) open 1 True", "$(Get-ExpectedAlias $b) open 1 False")
            $null = Send-IncidentUpdate -ConfigPath $theirs.Config -Incident $b.Id -Channel genie -Status Resolved -Message 'Fixed' -Confirm:$false
            @($fake.Alerts | ForEach-Object Status) | Should -Be @('open', 'closed')
            @($fake.Unmatched).Count | Should -Be 0
        }
        finally { $fake.Dispose(); Remove-TestRoot $mine; Remove-TestRoot $theirs }
    }
}

# Opsgenie answers 202 "Request will be processed" and processes it later: the result follows Get Request Status.
Describe 'Send-IncidentUpdate when Opsgenie fails a request it accepted' {
    BeforeAll {
        $s = New-GenieScenario
        $genie = [IncidentOps.Tests.Notifications.OpsgenieFake]::new($fixture.response.status, $fixture.response.body, $fixture.alertNotFound.status, $fixture.alertNotFound.body)
        $s.Stub.Dispose()
        (Get-Content -Raw $s.Config).Replace($s.Stub.BaseUrl, $genie.BaseUrl) | Set-Content -Path $s.Config
    }
    AfterAll { $genie.Dispose(); Remove-TestRoot $s.Root }

    It 'reports it not delivered (Failed) with Opsgenie''s reason, keeps it pending, and never shows the key' {
        $null = $genie.ThenRequestStatus($fixture.requestFailed.status, $fixture.requestFailed.body)
        $out = Send-IncidentUpdate -ConfigPath $s.Config -Incident $s.Incident.Id -Message 'Checkout down' -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue
        $out.Delivered | Should -BeFalse
        $out.State | Should -Be 'Failed'
        $out.Error | Should -Match 'Responder \[team: payments-oncall\] does not exist'
        "$warned" | Should -Match 'does not exist'
        @(Get-IncidentUpdate -ConfigPath $s.Config -Incident $s.Incident.Id -Pending).Count | Should -Be 1
        $genie.StatusChecks.Count | Should -Be 1
        ($out | Out-String) + "$warned" | Should -Not -Match $script:Canary
    }
}
