#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The timeline of deliveries, as a user meets it in a real pwsh: a sender that recorded an update delivered and died before it
# added its timeline entry (its line is taken off the file store's timeline here, which is what such a sender leaves) gets the
# entry from the next Send-IncidentUpdate -Pending, once; -Pending -WhatIf says so and adds nothing. Slack is a loopback stand-in.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
    Import-StandInTypes
}
AfterAll { Remove-TestTemp }

Describe 'Send-IncidentUpdate -Pending: a delivery whose sender added no timeline entry' {
    BeforeAll {
        $slack = [IncidentOps.Tests.Notifications.ProviderStub]::new(200, 'ok')
        $root = New-TestRoot @"
environments:
  production:
    services:
      api: { platform: fly, app: api-app }
channels:
  incidents: { type: slack, url: '$($slack.BaseUrl)/services/T1/B1/CANARYslackPester' }
routing:
  P1: [incidents]
"@
        $inc = New-Incident -ConfigPath $root.Config -Title 'Checkout returns 502' -Severity P1 -Service production/api -Impact 'All checkouts fail' -Confirm:$false
        $sent = Send-IncidentUpdate -ConfigPath $root.Config -Incident $inc.Id -Message 'Rolling back the deploy' -Confirm:$false
        # What a sender that died between its outbox record and its timeline entry leaves: the delivery, and no entry.
        $file = Join-Path $root.Store "incidents/$($inc.Id)/timeline.jsonl"
        $lines = Get-Content -LiteralPath $file | Where-Object { $_ -notmatch '"kind":"update"' }
        Set-Content -LiteralPath $file -Value $lines
    }
    AfterAll { $slack.Dispose(); Remove-TestRoot $root }

    It 'the outbox says delivered and the timeline has no entry for it' {
        $sent.Delivered | Should -BeTrue
        @(Get-IncidentTimeline -ConfigPath $root.Config -Incident $inc.Id | Where-Object Kind -EQ 'update').Count | Should -Be 0
    }

    It '-WhatIf says it would add the missing entry, and adds nothing' {
        # What if: lines go to the host: a child pwsh shows them as a user sees them.
        $exe = [Environment]::ProcessPath
        $prefix = @(); if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $prefix = @(Join-Path $PSHOME 'pwsh.dll') }
        $out = & $exe @prefix -NoLogo -NoProfile -NonInteractive -Command "Import-Module '$script:ModulePath'; Send-IncidentUpdate -ConfigPath '$($root.Config)' -Pending -Incident $($inc.Id) -WhatIf" 2>&1 |
            Out-String -Width 400
        $out | Should -Match ([regex]::Escape("Add the missing entry of Initial alert (Investigating) $($sent.UpdateId) to incidents"))
        @(Get-IncidentTimeline -ConfigPath $root.Config -Incident $inc.Id | Where-Object Kind -EQ 'update').Count | Should -Be 0
    }

    It '-Pending adds it once, saying who sent it, and sends nothing again' {
        Send-IncidentUpdate -ConfigPath $root.Config -Pending -Incident $inc.Id -Confirm:$false | Should -BeNullOrEmpty
        Send-IncidentUpdate -ConfigPath $root.Config -Pending -Incident $inc.Id -Confirm:$false | Should -BeNullOrEmpty
        $entries = @(Get-IncidentTimeline -ConfigPath $root.Config -Incident $inc.Id | Where-Object Kind -EQ 'update')
        $entries.Count | Should -Be 1
        $entries[0].Target | Should -Be 'incidents'
        $entries[0].Result | Should -BeLike 'incidents: delivered (200, 1 attempt(s); sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added))'
        $entries[0].DeliveryKeys | Should -Be @("delivery:$($sent.UpdateId):incidents")
        $slack.Requests.Count | Should -Be 1
    }
}
