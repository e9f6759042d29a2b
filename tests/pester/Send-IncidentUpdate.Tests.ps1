#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $repo 'out/IncidentOps') -Force

    $store = Join-Path $TestDrive 'store'
    $id = 'INC-20260101-001'
    $dir = Join-Path $store "incidents/$id"
    New-Item -ItemType Directory -Path $dir -Force | Out-Null
    '{"id":"INC-20260101-001","title":"Checkout returns 502","severity":"P3","status":"Investigating"}' |
        Set-Content -Path (Join-Path $dir 'incident.json') -NoNewline
    # Port 9 on loopback refuses connections: every send fails and stays pending.
    Set-Content -Path (Join-Path $TestDrive 'hook.url') -Value 'http://127.0.0.1:9/hooks/CANARYpesterT0k3n'
    $config = Join-Path $TestDrive 'incidentops.yml'
    @"
store: { path: '$store' }
channels:
  audit: { type: webhook, url: file:hook.url }
routing:
  P3: [audit]
"@ | Set-Content -Path $config
}

Describe 'Send-IncidentUpdate' {
    It '-WhatIf shows the rendered payload and writes no outbox entry' {
        $out = Send-IncidentUpdate -ConfigPath $config -Incident $id -Message 'Investigating' -WhatIf
        $out | Should -BeNullOrEmpty
        @(Get-IncidentUpdate -ConfigPath $config -Incident $id).Count | Should -Be 0
    }

    It 'keeps an undelivered update pending, without the webhook token in the result' {
        $result = Send-IncidentUpdate -ConfigPath $config -Incident $id -Message 'Investigating' -WarningAction SilentlyContinue
        $result.Channel | Should -Be 'audit'
        $result.Delivered | Should -Be $false
        $result.Attempts | Should -Be 1
        "$($result.Error)" | Should -Not -Match 'CANARYpesterT0k3n'
        @(Get-IncidentUpdate -ConfigPath $config -Incident $id -Pending).Count | Should -Be 1
    }

    It 'writes <ErrorId> for <Case>' -TestCases @(
        @{ Case = 'an unknown channel'; Arguments = @{ Channel = 'nope' }; ErrorId = 'ChannelNotFound,IncidentOps.Commands.SendIncidentUpdateCommand' }
        @{ Case = 'an unknown incident'; Arguments = @{ Incident = 'INC-20260101-999' }; ErrorId = 'IncidentNotFound,IncidentOps.Commands.SendIncidentUpdateCommand' }
    ) {
        # Not $arguments: PowerShell names are case-insensitive, so that would be the -TestCases' $Arguments itself.
        $splat = @{ ConfigPath = $config; Incident = $id; Message = 'm' }
        foreach ($k in $Arguments.Keys) { $splat[$k] = $Arguments[$k] }
        { Send-IncidentUpdate @splat -ErrorAction Stop } | Should -Throw -ErrorId $ErrorId
    }
}

Describe 'Get-IncidentUpdateDue' {
    It 'returns nothing when no update is due' {
        @(Get-IncidentUpdateDue -ConfigPath $config).Count | Should -Be 0
    }
}

Describe 'Send-IncidentUpdate to a provider' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Common.ps1')
        . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
        $script:stub = Start-ProviderStub
        $script:root = Enter-IsolatedIncidentOps -Yaml @"
channels:
  audit: { type: webhook, url: '$($script:stub.Url)/hooks/audit' }
  pager: { type: pagerduty, routingKey: 0123456789abcdef0123456789abcdef, url: '$($script:stub.Url)' }
routing:
  P1: [audit]
"@
        $script:incident = New-Incident -Title 'Checkout returns 502' -Severity P1
    }

    AfterAll {
        Exit-IsolatedIncidentOps $script:root
        Stop-ProviderStub $script:stub
    }

    It '-WhatIf prints the request it would send and sends nothing' {
        $out = Invoke-InChildPwsh "Send-IncidentUpdate -Message 'Investigating 502s' -WhatIf"
        $out | Should -Match "What if: Send Initial alert to audit \(Webhook\) for $($incident.Id): POST"
        $out | Should -Match '"message":"Investigating 502s"'
        $stub.Requests.Count | Should -Be 0
        @(Get-IncidentUpdate -Incident $incident.Id).Count | Should -Be 0
    }

    It 'delivers the update to the routed channel' {
        $result = Send-IncidentUpdate -Message 'Investigating 502s'
        $result.Channel | Should -Be 'audit'
        $result.Delivered | Should -BeTrue
        $stub.Requests.Count | Should -Be 1
        $stub.Requests[0].Path | Should -Be '/hooks/audit'
        $stub.Requests[0].Body | Should -Match 'Investigating 502s'
    }

    It 'renders the results at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $result = Send-IncidentUpdate -Message "Still investigating at $Width" -Channel audit, pager
        $text = Get-RenderedView $result -Width $Width
        foreach ($column in 'IncidentId', 'Channel', 'Kind', 'State', 'Code', 'Tries', 'Error / Provider id') { $text | Should -Match $column }
        $text | Should -Match '(?m)^INC-\S+\s+audit\s+Update\s+Delivered\s+200\s+1'
        $text | Should -Match '(?m)^INC-\S+\s+pager\s+Update\s+Delivered\s+202\s+1\s+stub-dedup'
        $text | Should -Not -Match '0123456789abcdef0123456789abcdef'
    }

    It 'completes -Channel with the configured channels, and -Incident with open incidents' {
        $matches = Get-Completion 'Send-IncidentUpdate -Channel '
        $matches.CompletionText | Should -Be @('audit', 'pager')
        $matches[0].ToolTip | Should -Be 'audit (Webhook), routed for P1'
        Get-CompletionText 'Send-IncidentUpdate -Channel pa' | Should -Be 'pager'
        Get-CompletionText 'Send-IncidentUpdate -Incident ' | Should -Be $incident.Id
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Send-IncidentUpdate | Should -Match 'Send-IncidentUpdate'
    }
}
