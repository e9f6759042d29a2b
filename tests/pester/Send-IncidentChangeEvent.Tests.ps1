#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Send-IncidentChangeEvent: PagerDuty Change events, against a loopback stand-in for PagerDuty.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    Import-IncidentOps
    $script:stub = Start-ProviderStub
    $script:root = Enter-IsolatedIncidentOps -Yaml @"
channels:
  pager: { type: pagerduty, routingKey: CANARYr0utingKey0123456789abcdef, url: '$($script:stub.Url)' }
  ops: { type: webhook, url: '$($script:stub.Url)/hooks/ops' }
"@
    $script:incident = New-Incident -Title 'Bad deploy' -Severity P1
}

AfterAll {
    Exit-IsolatedIncidentOps $script:root
    Stop-ProviderStub $script:stub
}

Describe 'Send-IncidentChangeEvent' {
    It '-WhatIf prints the request it would send and sends nothing' {
        $out = Invoke-InChildPwsh "Send-IncidentChangeEvent 'Rolled back api from v42 to v41' -WhatIf"
        $out | Should -Match 'What if: Send change event PagerDuty channels: POST /v2/change/enqueue: Rolled back api from v42 to v41'
        $stub.Requests.Count | Should -Be 0
    }

    It 'posts a Change event to the PagerDuty channels and records it on the active incident' {
        $result = Send-IncidentChangeEvent 'Rolled back api from v42 to v41' -Source api -Detail @{ from = 'v42'; to = 'v41' }
        $result.Channel | Should -Be 'pager'
        $result.Delivered | Should -BeTrue
        $stub.Requests.Count | Should -Be 1
        $stub.Requests[0].Path | Should -Be '/v2/change/enqueue'
        $body = $stub.Requests[0].Body | ConvertFrom-Json
        $body.payload.summary | Should -Be 'Rolled back api from v42 to v41'
        $body.payload.custom_details.to | Should -Be 'v41'
        (Get-IncidentTimeline -Incident $incident.Id).Action | Should -Contain 'Send change event'
        (Get-IncidentTimeline -Incident $incident.Id | Out-String -Width 300) | Should -Not -Match 'CANARYr0utingKey'
    }

    It 'renders the result at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Send-IncidentChangeEvent "Scaled api to 4 at $Width" -Channel pager) -Width $Width
        foreach ($column in 'Channel', 'Kind', 'State', 'Code') { $text | Should -Match $column }
        $text | Should -Match '(?m)^(INC-\S+)?\s*pager\s+Update\s+Delivered\s+202'
        $text | Should -Not -Match 'CANARYr0utingKey'
    }

    It 'completes -Channel with the PagerDuty channels only, and -Incident with open incidents' {
        Get-CompletionText 'Send-IncidentChangeEvent x -Channel ' | Should -Be 'pager'
        Get-CompletionText 'Send-IncidentChangeEvent x -Incident ' | Should -Be $incident.Id
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Send-IncidentChangeEvent | Should -Match 'Send-IncidentChangeEvent'
    }
}
