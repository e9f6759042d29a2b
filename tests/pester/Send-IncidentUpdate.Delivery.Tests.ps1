#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Delivery under faults, as a user meets it in a real pwsh: no duplicate public post, no lost update, no
# stale update sent late, no mention or disguised link smuggled into a channel (issue 18 items 3, 11, 12,
# 13, 15; issue 16 items 8, 9, 14). Providers are loopback stand-ins: the xunit suite's ProviderStub (a
# minimal HTTP/1.1 server that records every request) and StatuspageFake (the incidents API, stateful).

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps

    Import-StandInTypes

    # A store, an incidentops.yml whose channels point at stubs, and one P1 incident on production/api.
    function New-DeliveryScenario([string] $Components = 'api: cmpapi111') {
        $s = [pscustomobject]@{
            Slack = [IncidentOps.Tests.Notifications.ProviderStub]::new(200, 'ok')
            Discord = [IncidentOps.Tests.Notifications.ProviderStub]::new(200, '{"id":"1122"}')
            Teams = [IncidentOps.Tests.Notifications.ProviderStub]::new(202, '')
            Statuspage = [IncidentOps.Tests.Notifications.ProviderStub]::new(200, '{}')
            Api = [IncidentOps.Tests.Notifications.StatuspageFake]::new()
            Root = $null; Config = $null; Incident = $null
        }
        $null = $s.Api.Attach($s.Statuspage)
        $s.Root = New-TestRoot @"
environments:
  production:
    services:
      api: { platform: fly, app: api-app }
channels:
  incidents: { type: slack, url: '$($s.Slack.BaseUrl)/services/T1/B1/CANARYslackPester' }
  ops: { type: discord, url: '$($s.Discord.BaseUrl)/api/webhooks/1/CANARYdiscordPester' }
  teams: { type: teams, url: '$($s.Teams.BaseUrl)/workflows/x?sig=CANARYteamsPester' }
  status: { type: statuspage, pageId: pg7x9q2kzz, apiKey: CANARYspKeyPester, url: '$($s.Statuspage.BaseUrl)', components: { $Components } }
routing:
  P1: [incidents, status]
"@
        $s.Config = $s.Root.Config
        $s
    }

    function Remove-DeliveryScenario($s) {
        if ($s) { $s.Slack, $s.Discord, $s.Teams, $s.Statuspage | ForEach-Object { $_.Dispose() }; Remove-TestRoot $s.Root }
    }

    function New-ScenarioIncident($s, [string] $Title = 'Checkout returns 502', [string] $Impact = 'All checkouts fail') {
        New-Incident -ConfigPath $s.Config -Title $Title -Severity P1 -Service production/api -Impact $Impact -Confirm:$false
    }
}
AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)

Describe 'Send-IncidentUpdate: simultaneous first updates (issue 18 item 11)' {
    BeforeAll { $s = New-DeliveryScenario; $inc = New-ScenarioIncident $s }
    AfterAll { Remove-DeliveryScenario $s }

    It 'four processes sending the first update at once open exactly one Statuspage incident' {
        $start = [DateTime]::UtcNow.AddSeconds(6).ToString('o')
        # Remove-Job kills the job processes, which leaves their IPC pipes (CoreFxPipe_PSHost.*, dotnet-diagnostic-*) in
        # their temp folder: they inherit a listed one.
        $savedTmp = $env:TMPDIR
        $env:TMPDIR = New-TestTempDir 'io-jobs'
        try { $jobs = 1..4 | ForEach-Object {
            Start-Job -ScriptBlock {
                param($module, $config, $id, $n, $start)
                Import-Module $module
                $wait = [DateTime]::Parse($start).ToUniversalTime() - [DateTime]::UtcNow
                if ($wait -gt [TimeSpan]::Zero) { Start-Sleep -Milliseconds $wait.TotalMilliseconds }
                Send-IncidentUpdate -ConfigPath $config -Incident $id -Channel status -Message "first update from process $n" |
                    Select-Object Channel, Delivered, ProviderId, Kind
            } -ArgumentList $script:ModulePath, $s.Config, $inc.Id, $_, $start
        } }
        finally { $env:TMPDIR = $savedTmp }
        $results = $jobs | Wait-Job -Timeout 120 | Receive-Job
        $jobs | Remove-Job -Force
        @($results).Count | Should -Be 4
        $results | ForEach-Object { $_.Delivered | Should -BeTrue }
        $s.Api.Creates | Should -Be 1
        @($s.Statuspage.Requests | Where-Object Method -EQ 'POST').Count | Should -Be 1
        @($results.ProviderId | Select-Object -Unique) | Should -Be @('sp-1')
    }
}

Describe 'Send-IncidentUpdate: Ctrl+C in the middle of a send (issue 18 item 12)' {
    BeforeAll { $s = New-DeliveryScenario; $inc = New-ScenarioIncident $s }
    AfterAll { Remove-DeliveryScenario $s }

    It 'records the attempt as Unknown, and -Pending posts to neither Slack nor Statuspage a second time' {
        $null = $s.Slack.ThenHang()
        $null = $s.Statuspage.ScriptOnlyFor('POST').ThenHandleAndHang()   # Statuspage creates it; the answer never comes
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$script:ModulePath'; Send-IncidentUpdate -ConfigPath '$($s.Config)' -Incident $($inc.Id) -Message 'stuck'")
        $run = $ps.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (($s.Slack.Requests.Count -eq 0 -or $s.Api.Creates -eq 0) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $ps.Stop()   # what Ctrl+C does
        $run.AsyncWaitHandle.WaitOne(10000) | Should -BeTrue
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $ps.Dispose()

        $entry = Get-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Pending
        $entry.Deliveries | ForEach-Object { $_.State | Should -Be 'Unknown'; $_.Attempts | Should -Be 1 }

        $out = Send-IncidentUpdate -ConfigPath $s.Config -Pending -WarningVariable warnings -WarningAction SilentlyContinue
        ($out | Where-Object Channel -EQ 'incidents').State | Should -Be 'Unknown'
        ($out | Where-Object Channel -EQ 'status').Delivered | Should -BeTrue
        "$warnings" | Should -Match '-Pending -Force'
        $s.Slack.Requests.Count | Should -Be 1
        $s.Api.Creates | Should -Be 1
        @($s.Statuspage.Requests | Where-Object Method -In 'POST', 'PATCH').Count | Should -Be 1

        $forced = Send-IncidentUpdate -ConfigPath $s.Config -Pending -Force
        $forced.Channel | Should -Be 'incidents'
        $forced.Delivered | Should -BeTrue
        $s.Slack.Requests.Count | Should -Be 2
    }
}

Describe 'Send-IncidentUpdate -Pending after a 502 that came once Statuspage had posted the update' {
    BeforeAll { $s = New-DeliveryScenario; $inc = New-ScenarioIncident $s }
    AfterAll { Remove-DeliveryScenario $s }

    It 'checks the page first and does not post the update a second time' {
        (Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel status -Message 'Looking into it').Delivered | Should -BeTrue
        $null = $s.Statuspage.ScriptOnlyFor('PATCH').ThenHandleAndAnswer(502, '<html>502 Bad Gateway</html>')
        $failed = Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel status -Status Identified -Message 'Pool exhausted' -WarningAction SilentlyContinue
        $failed.Delivered | Should -BeFalse
        $failed.StatusCode | Should -Be 502

        $resent = Send-IncidentUpdate -ConfigPath $s.Config -Pending -Verbose 4>&1 | Where-Object { $_ -is [IncidentOps.Notifications.NotificationResult] -or $_ -is [System.Management.Automation.VerboseRecord] }
        $result = $resent | Where-Object { $_ -is [IncidentOps.Notifications.NotificationResult] }
        $result.Channel | Should -Be 'status'
        $result.Delivered | Should -BeTrue
        ($resent | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n" | Should -Match 'already carries'
        @($s.Statuspage.Requests | Where-Object Method -EQ 'PATCH').Count | Should -Be 1
        $bodies = @($s.Api.Incidents[0]['incident_updates'] | ForEach-Object { $_['body'].ToString() })
        @($bodies | Where-Object { $_ -match 'Pool exhausted' }).Count | Should -Be 1
        $s.Api.Creates | Should -Be 1
    }

    It '-Pending -WhatIf shows the update and the request it would re-send, and sends and changes nothing' {
        $null = $s.Statuspage.ScriptOnlyFor('PATCH').ThenAnswer(503, '{}')
        $failed = Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel status -Status Monitoring -Message 'Fix deployed' -WarningAction SilentlyContinue
        $failed.Delivered | Should -BeFalse
        $requests = $s.Statuspage.Requests.Count
        $before = Get-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Pending | ConvertTo-Json -Depth 5
        $transcript = Join-Path $s.Root.Dir 'pending-whatif.txt'
        $null = Start-Transcript -Path $transcript
        try { Send-IncidentUpdate -ConfigPath $s.Config -Pending -WhatIf } finally { $null = Stop-Transcript }
        $text = Get-Content -Raw $transcript
        $text | Should -Match 'What if: Re-send the pending updates of every incident\r?\n'
        $text | Should -Match ([regex]::Escape("status (Statuspage) for $($inc.Id) $($failed.UpdateId)"))
        $text | Should -Match ([regex]::Escape("PATCH $($s.Statuspage.BaseUrl)/v1/pages/pg7x9q2kzz/incidents/sp-1"))
        $text | Should -Not -Match 'CANARYspKeyPester'
        $s.Statuspage.Requests.Count | Should -Be $requests
        Get-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Pending | ConvertTo-Json -Depth 5 | Should -Be $before
    }
}

Describe 'Send-IncidentUpdate: a second sender after the first one''s claims ended never reverts a recorded delivery' {
    BeforeAll {
        $s = New-DeliveryScenario; $inc = New-ScenarioIncident $s
        # A teammate's shell: a runspace of its own, running one Send-IncidentUpdate with -Verbose.
        function Start-Sender([string] $Arguments) {
            $ps = [powershell]::Create()
            $null = $ps.AddScript("Import-Module '$((Get-Module IncidentOps).ModuleBase)'; Send-IncidentUpdate -ConfigPath '$($s.Config)' -Incident $($inc.Id) $Arguments -Verbose -WarningAction SilentlyContinue -Confirm:`$false")
            [pscustomobject]@{ PS = $ps; Handle = $ps.BeginInvoke() }
        }
        function Wait-Until([scriptblock] $Condition, [string] $What) {
            $until = [DateTime]::UtcNow.AddSeconds(30)
            while (-not (& $Condition)) {
                if ([DateTime]::UtcNow -gt $until) { throw "Never happened: $What" }
                Start-Sleep -Milliseconds 20
            }
        }
        function Get-StoredDelivery([string] $UpdateId, [string] $Channel) {
            $file = Join-Path $s.Root.Store "incidents/$($inc.Id)/outbox/$UpdateId.json"
            if (-not (Test-Path $file)) { return $null }
            try { (Get-Content -Raw $file | ConvertFrom-Json).deliveries | Where-Object channel -EQ $Channel } catch { $null }
        }
    }
    AfterAll { Remove-DeliveryScenario $s }

    It 'keeps the first sender''s Slack delivery, posts nothing twice even with -Pending -Force, and logs one timeline entry per delivery event' {
        $slackHeld = [System.Threading.Tasks.TaskCompletionSource]::new(); $slackRelease = [System.Threading.Tasks.TaskCompletionSource]::new()
        $statusHeld = [System.Threading.Tasks.TaskCompletionSource]::new(); $statusRelease = [System.Threading.Tasks.TaskCompletionSource]::new()
        $null = $s.Slack.ThenHoldThenHandle($slackHeld, $slackRelease.Task)
        $null = $s.Statuspage.ScriptOnlyFor('POST').ThenHoldThenAnswer($statusHeld, $statusRelease.Task, 500, '{}')
        # Sender A: both requests out and held; then its claims end (its lock files removed, as on a share that drops locks).
        $a = Start-Sender "-Message 'Checkout is failing'"
        Wait-Until { $slackHeld.Task.IsCompleted -and $statusHeld.Task.IsCompleted } 'both of A''s requests are out'
        $outbox = Join-Path $s.Root.Store "incidents/$($inc.Id)/outbox"
        $updateId = (Get-ChildItem $outbox -Filter 'UPD-*.json').BaseName
        Get-ChildItem $outbox -Filter '*.lock' | Where-Object Name -NotLike '*.write.lock' | Remove-Item
        # Sender B: -Pending, while both of A's requests are still out.
        $b = Start-Sender '-Pending'
        Wait-Until { (Get-StoredDelivery $updateId 'incidents').error -match 'may have reached' } 'B recorded that A''s Slack post may have arrived'
        Wait-Until { @($b.PS.Streams.Verbose | Where-Object Message -Match 'may still be in flight').Count -gt 0 } 'B waits for A''s status page request'
        $slackRelease.SetResult()
        Wait-Until { (Get-StoredDelivery $updateId 'incidents').state -eq 'Delivered' } 'A recorded Slack delivered'
        $statusRelease.SetResult()
        $null = $a.PS.EndInvoke($a.Handle)
        $resultB = $b.PS.EndInvoke($b.Handle)
        $a.PS.Dispose(); $b.PS.Dispose()

        ($resultB | Where-Object Channel -EQ 'status').Delivered | Should -BeTrue
        $update = Get-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id | Where-Object UpdateId -EQ $updateId
        ($update.Deliveries | Where-Object Channel -EQ 'incidents').State | Should -Be 'Delivered'
        ($update.Deliveries | Where-Object Channel -EQ 'status').State | Should -Be 'Delivered'
        @(Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Pending -Force -Confirm:$false).Count | Should -Be 0
        $s.Slack.Requests.Count | Should -Be 1
        $s.Api.Creates | Should -Be 1
        $entries = @(Get-IncidentTimeline -ConfigPath $s.Config -Incident $inc.Id | Where-Object { $_.Kind -eq 'update' -and $_.Parameters['UpdateId'] -eq $updateId })
        $entries.Count | Should -Be 2
        @($entries | Where-Object { $_.Result -like 'incidents: delivered (200*' }).Count | Should -Be 1
        $byB = @($entries | Where-Object Target -EQ 'status')
        $byB.Count | Should -Be 1
        $byB[0].Result | Should -Match '^status: delivered'
        $byB[0].Result | Should -Not -Match 'incidents'
    }
}

Describe 'Send-IncidentUpdate -Pending -WhatIf while another sender''s request is in flight' {
    BeforeAll { $s = New-DeliveryScenario; $inc = New-ScenarioIncident $s }
    AfterAll { Remove-DeliveryScenario $s }

    It 'says it would wait for that request to be recorded before it looks at the status page, and sends and changes nothing' {
        $null = $s.Statuspage.ScriptOnlyFor('POST').ThenAnswer(503, '{}')
        $failed = Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel status -Message 'Checkout is failing' -WarningAction SilentlyContinue
        $failed.Delivered | Should -BeFalse
        # What a teammate's sender leaves in the store while its request is out (and its claim of the channel ended).
        $file = Join-Path $s.Root.Store "incidents/$($inc.Id)/outbox/$($failed.UpdateId).json"
        $entry = Get-Content -Raw $file | ConvertFrom-Json
        $entry.deliveries[0].state = 'Unknown'
        $entry.deliveries[0] | Add-Member -NotePropertyName inFlightUntil -NotePropertyValue ([DateTimeOffset]::UtcNow.AddSeconds(12).ToString('o')) -Force
        Set-Content -Path $file -Value ($entry | ConvertTo-Json -Depth 5 -Compress)
        $stored = Get-Content -Raw $file
        $requests = $s.Statuspage.Requests.Count

        $transcript = Join-Path $s.Root.Dir 'inflight-whatif.txt'
        $null = Start-Transcript -Path $transcript
        try { Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Pending -WhatIf } finally { $null = Stop-Transcript }
        $text = (Get-Content -Raw $transcript) -replace '\r?\n', ' '

        $text | Should -Match ([regex]::Escape("status (Statuspage) for $($inc.Id) $($failed.UpdateId)"))
        $text | Should -Match "Wait up to [0-9]+ s \(until [0-9-]+ [0-9:]+Z\) for another sender's request to Statuspage in flight"
        $text | Should -Match ([regex]::Escape("look at Statuspage first, then re-send Initial alert (Investigating): POST $($s.Statuspage.BaseUrl)/v1/pages/pg7x9q2kzz/incidents"))
        $text | Should -Not -Match 'CANARYspKeyPester'
        $s.Statuspage.Requests.Count | Should -Be $requests
        Get-Content -Raw $file | Should -Be $stored
        @(Get-ChildItem (Split-Path $file) -Filter '*.json').Count | Should -Be 1
    }
}

Describe 'Send-IncidentUpdate -Pending after Close-Incident: a withdrawn update is never posted late' {
    BeforeAll { $s = New-DeliveryScenario; $inc = New-ScenarioIncident $s }
    AfterAll { Remove-DeliveryScenario $s }

    It 'posts an update still pending when the incident was closed neither to Slack nor to the public status page' {
        $null = $s.Slack.ThenAnswer(503, 'unavailable')
        $null = $s.Statuspage.ScriptOnlyFor('POST').ThenAnswer(503, '{}')
        $failed = Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Status Identified -Message 'Pool exhausted' -WarningAction SilentlyContinue
        $failed | ForEach-Object { $_.Delivered | Should -BeFalse }
        Close-Incident -ConfigPath $s.Config -Incident $inc.Id -Resolution 'Rolled back the bad release' -Confirm:$false | Out-Null
        $slack = $s.Slack.Requests.Count
        $posts = @($s.Statuspage.Requests | Where-Object Method -In 'POST', 'PATCH').Count
        $requests = $s.Statuspage.Requests.Count

        $transcript = Join-Path $s.Root.Dir 'withdrawn-whatif.txt'
        $null = Start-Transcript -Path $transcript
        try { Send-IncidentUpdate -ConfigPath $s.Config -Pending -WhatIf } finally { $null = Stop-Transcript }
        $text = Get-Content -Raw $transcript
        $text | Should -Match ([regex]::Escape("status (Statuspage) for $($inc.Id)"))
        $text | Should -Match 'Superseded: .* was resolved after it was prepared; not sent'
        $text | Should -Not -Match 'Re-send Initial alert'
        $s.Statuspage.Requests.Count | Should -Be $requests
        # Not pending to the reader even before a -Pending records it: its incident is resolved, so it is shown withdrawn.
        @(Get-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Pending).Count | Should -Be 0
        $withdrawn = @(Get-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id | Where-Object Status -eq 'Identified')
        $withdrawn.Count | Should -Be 1
        $withdrawn[0].Deliveries | ForEach-Object { $_.State | Should -Be 'Superseded'; $_.Error | Should -Match 'was resolved' }

        $out = Send-IncidentUpdate -ConfigPath $s.Config -Pending

        @($out).Count | Should -Be 2
        $out | ForEach-Object { $_.State | Should -Be 'Superseded'; $_.Delivered | Should -BeFalse; $_.Error | Should -Match 'was resolved' }
        $s.Slack.Requests.Count | Should -Be $slack
        @($s.Statuspage.Requests | Where-Object Method -In 'POST', 'PATCH').Count | Should -Be $posts
        $s.Api.Creates | Should -Be 0
        @(Get-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Pending).Count | Should -Be 0
        (Get-Incident -ConfigPath $s.Config -Incident $inc.Id).Status | Should -Be 'Resolved'
    }
}

Describe 'Get-IncidentUpdateDue after a failed send (issue 18 item 13)' {
    BeforeAll { $s = New-DeliveryScenario; $inc = New-ScenarioIncident $s }
    AfterAll { Remove-DeliveryScenario $s }

    It 'keeps the reminder: NextUpdateDue does not move forward until every channel has the update' {
        $null = $s.Slack.ThenAnswer(500, 'oops')
        $r = Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel incidents -Message 'first' -NextUpdateIn 15m -WarningAction SilentlyContinue
        $r.Delivered | Should -BeFalse
        $due = Get-IncidentUpdateDue -ConfigPath $s.Config
        $due.IncidentId | Should -Be $inc.Id
        $due.PendingUpdates | Should -Be 1
        $due.OverdueBy | Should -BeGreaterOrEqual ([TimeSpan]::Zero)

        (Send-IncidentUpdate -ConfigPath $s.Config -Pending).Delivered | Should -BeTrue
        @(Get-IncidentUpdateDue -ConfigPath $s.Config).Count | Should -Be 0
        (Get-Incident -ConfigPath $s.Config -Id $inc.Id).NextUpdateDue | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(10))
    }
}

Describe 'A corrupt outbox entry (issue 18 item 3)' {
    BeforeAll {
        $s = New-DeliveryScenario
        $s.Slack.DefaultStatus = 500
        $incidents = 1..4 | ForEach-Object {
            $i = New-ScenarioIncident $s -Title "incident $_"
            $null = Send-IncidentUpdate -ConfigPath $s.Config -Incident $i.Id -Channel incidents -Message 'm' -NextUpdateIn 15m -WarningAction SilentlyContinue
            $i
        }
        $victim = Get-ChildItem (Join-Path $s.Root.Store "incidents/$($incidents[1].Id)/outbox") -Filter 'UPD-*.json'
        $text = Get-Content -Raw $victim.FullName
        Set-Content -Path $victim.FullName -Value $text.Substring(0, [int]($text.Length / 2)) -NoNewline
    }
    AfterAll { Remove-DeliveryScenario $s }

    It 'is reported with its path, moved aside and skipped alone' {
        $pending = Get-IncidentUpdate -ConfigPath $s.Config -Pending -WarningVariable warnings -WarningAction SilentlyContinue
        @($pending).Count | Should -Be 3
        "$warnings" | Should -Match ([regex]::Escape($victim.FullName))
        Test-Path $victim.FullName | Should -BeFalse
        @(Get-ChildItem $victim.DirectoryName -Filter "$($victim.Name).corrupt-*").Count | Should -Be 1
    }

    It 'hides no due reminder' {
        @(Get-IncidentUpdateDue -ConfigPath $s.Config).Count | Should -Be 4
    }
}

Describe 'Send-IncidentUpdate -Pending and superseded updates (issue 16 item 8)' {
    BeforeAll { $s = New-DeliveryScenario; $inc = New-ScenarioIncident $s }
    AfterAll { Remove-DeliveryScenario $s }

    It 'never sends a Monitoring update after the Resolved one, and the result shows the incident id' {
        $null = $s.Slack.ThenAnswer(500, 'a').ThenAnswer(500, 'b')
        $null = Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel incidents -Status Monitoring -Message 'watching the fix' -WarningAction SilentlyContinue
        $null = Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel incidents -Status Resolved -Message 'all good' -WarningAction SilentlyContinue
        $states = (Get-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id).Deliveries.State
        $states | Should -Be @('Superseded', 'Pending')

        $out = Send-IncidentUpdate -ConfigPath $s.Config -Pending
        $out.State | Should -Be 'Delivered'
        $out.IncidentId | Should -Be $inc.Id
        $s.Slack.Requests.Count | Should -Be 3
        $s.Slack.Requests[2].Body | Should -Match 'all good'
        $s.Slack.Requests[2].Body | Should -Not -Match 'watching the fix'
        $view = Get-RenderedView $out -Width 80
        $view | Should -Match 'IncidentId'
        $view | Should -Match ([regex]::Escape($inc.Id))
        $view | Should -Match 'Delivered'
    }
}

Describe 'Statuspage components and -WhatIf (issue 16 items 9 and 14)' {
    It 'sends the component status with the README''s service-name key for an incident on production/api' {
        $s = New-DeliveryScenario -Components 'api: cmpapi111'
        try {
            $inc = New-ScenarioIncident $s
            (Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel status -Message 'm').Delivered | Should -BeTrue
            $create = ($s.Statuspage.Requests | Where-Object Method -EQ 'POST').Body | ConvertFrom-Json
            $create.incident.component_ids | Should -Be @('cmpapi111')
            $create.incident.components.cmpapi111 | Should -Be 'partial_outage'
        }
        finally { Remove-DeliveryScenario $s }
    }

    It 'refuses a component key that names no service, at Test-IncidentOpsConfig and at load' {
        $s = New-DeliveryScenario -Components 'apii: cmpapi111'
        try {
            $finding = Test-IncidentOpsConfig -Path $s.Config -SkipReferences | Where-Object Code -EQ 'ConfigUnknownComponent'
            $finding.Message | Should -Match "'apii'.*Did you mean 'api'"
            $finding.Line | Should -BeGreaterThan 0
            { Send-IncidentUpdate -ConfigPath $s.Config -Channel status -Message m -ErrorAction Stop } | Should -Throw -ExpectedMessage '*apii*'
            $s.Statuspage.Requests.Count | Should -Be 0
        }
        finally { Remove-DeliveryScenario $s }
    }

    It '-WhatIf shows the page id and the API base URL, masks the API key and sends nothing' {
        $s = New-DeliveryScenario
        try {
            $inc = New-ScenarioIncident $s
            # -WhatIf text goes to the host: read it back from a transcript.
            $transcript = Join-Path $s.Root.Dir 'whatif.txt'
            $null = Start-Transcript -Path $transcript
            try { Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel status -Message 'm' -WhatIf } finally { $null = Stop-Transcript }
            $text = Get-Content -Raw $transcript
            $text | Should -Match ([regex]::Escape("POST $($s.Statuspage.BaseUrl)/v1/pages/pg7x9q2kzz/incidents"))
            $text | Should -Not -Match 'CANARYspKeyPester'
            $s.Statuspage.Requests.Count | Should -Be 0
        }
        finally { Remove-DeliveryScenario $s }
    }
}

Describe 'Mentions and disguised links stay text (issue 18 item 15)' {
    BeforeAll {
        $s = New-DeliveryScenario
        $inc = New-ScenarioIncident $s -Title '<!channel> Checkout <http://evil.example|status.example.com>' -Impact '[Reset password](http://evil.example) <@U0123ABC>'
        $null = Send-IncidentUpdate -ConfigPath $s.Config -Incident $inc.Id -Channel incidents, ops, teams -Message '<!here> & [docs](http://evil.example) @everyone'
    }
    AfterAll { Remove-DeliveryScenario $s }

    It 'Slack receives its three control characters (ampersand, less-than, greater-than) escaped as Slack documents' {
        $body = $s.Slack.Requests[0].Body | ConvertFrom-Json
        $body.text.StartsWith('[P1] &lt;!channel&gt; Checkout &lt;http://evil.example|status.example.com&gt;: ') | Should -BeTrue -Because $body.text
        $body.text | Should -Match ([regex]::Escape('&lt;!here&gt; &amp; [docs](http://evil.example) @everyone'))
        $s.Slack.Requests[0].Body | Should -Not -Match '<!|<@|<http'
    }

    It 'Discord receives escaped markdown and allowed_mentions that notify no one' {
        $body = $s.Discord.Requests[0].Body | ConvertFrom-Json
        @($body.allowed_mentions.parse).Count | Should -Be 0
        $body.embeds[0].description | Should -Match ([regex]::Escape('\<!here\> & \[docs\](http://evil.example) @everyone'))
        ($body.embeds[0].fields | Where-Object name -EQ 'Impact').value | Should -Be '\[Reset password\](http://evil.example) \<@U0123ABC\>'
    }

    It 'Teams receives the text as TextRuns (never markdown) and no link in its facts' {
        $card = ($s.Teams.Requests[0].Body | ConvertFrom-Json).attachments[0].content
        $card.body.type | Should -Not -Contain 'TextBlock'
        $card.body[0].inlines[0].text | Should -Be '[P1] <!channel> Checkout <http://evil.example|status.example.com>'
        $impact = ($card.body | Where-Object type -EQ 'FactSet').facts | Where-Object title -EQ 'Impact'
        $impact.value.Contains('](') | Should -BeFalse
    }
}
