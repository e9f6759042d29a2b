#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The store fails after a provider answered (its folder taken away while Slack had the request): the person still sees
# what each channel got, then one error that says what was not recorded, not to use -Force for the channels that got
# it, and what to run once the store is back; -Pending then posts nothing twice.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
    Import-StandInTypes
}
AfterAll { Remove-TestTemp }

Describe 'Send-IncidentUpdate when the store fails after a provider answered' {
    BeforeAll {
        $slack = [IncidentOps.Tests.Notifications.ProviderStub]::new(200, 'ok')
        $discord = [IncidentOps.Tests.Notifications.ProviderStub]::new(200, '{"id":"1122"}')
        $root = New-TestRoot @"
environments:
  production:
    services:
      api: { platform: fly, app: api-app }
channels:
  incidents: { type: slack, url: '$($slack.BaseUrl)/services/T1/B1/CANARYslackPester' }
  ops: { type: discord, url: '$($discord.BaseUrl)/api/webhooks/1/CANARYdiscordPester' }
routing:
  P1: [incidents, ops]
"@
        $inc = New-Incident -ConfigPath $root.Config -Title 'Checkout returns 502' -Severity P1 -Service production/api -Impact 'All checkouts fail' -Confirm:$false
        $outbox = Join-Path $root.Store "incidents/$($inc.Id)/outbox"
        # The outbox folder exists once the update is written (before any provider sees it); it is taken away while Slack has the request.
        $null = New-Item -ItemType Directory -Force -Path $outbox
        $null = $slack.ThenActAndAnswer([IncidentOps.Tests.Notifications.ProviderStub]::TakeFolderAway($outbox), 200, 'ok')
        $results = @(Send-IncidentUpdate -ConfigPath $root.Config -Incident $inc.Id -Channel incidents -Message 'Checkout is failing' -Confirm:$false -ErrorVariable sendErrors -ErrorAction SilentlyContinue 3>$null)
    }
    AfterAll {
        $slack.Dispose(); $discord.Dispose()
        Remove-TestRoot $root
    }

    It 'still writes what Slack answered' {
        $results.Count | Should -Be 1
        $results[0].Channel | Should -Be 'incidents'
        $results[0].Delivered | Should -BeTrue
        $results[0].StatusCode | Should -Be 200
        $results[0].Error | Should -Match 'not recorded'
        @($slack.Requests).Count | Should -Be 1
    }

    It 'writes one error that says what was delivered, not to use -Force, and what to run once the store is back' {
        @($sendErrors).Count | Should -Be 1
        $e = $sendErrors[0]
        $e.FullyQualifiedErrorId | Should -Be 'UpdateDeliveryNotRecorded,IncidentOps.Commands.SendIncidentUpdateCommand'
        $e.CategoryInfo.Category | Should -Be 'WriteError'
        $e.Exception.Message | Should -Match ([regex]::Escape('incidents: delivered (200), not recorded'))
        $e.Exception.Message | Should -Match ([regex]::Escape('Do not re-send with Send-IncidentUpdate -Pending -Force to incidents:'))
        $e.Exception.Message | Should -Match ([regex]::Escape("Once the store is back, run Send-IncidentUpdate -Pending -Incident $($inc.Id)"))
        $e.Exception.Message | Should -Not -Match 'CANARY'
    }

    It 'once the store is back, -Pending does not post to Slack again' {
        [IncidentOps.Tests.Notifications.ProviderStub]::BringFolderBack($outbox)
        $null = Send-IncidentUpdate -ConfigPath $root.Config -Pending -Incident $inc.Id -Confirm:$false -WarningAction SilentlyContinue
        @($slack.Requests).Count | Should -Be 1
        $pending = @(Get-IncidentUpdate -ConfigPath $root.Config -Incident $inc.Id -Pending)
        $pending.Count | Should -Be 1
        ($pending[0].Deliveries | Where-Object Channel -EQ 'incidents').State | Should -Be 'Unknown'
    }
}
