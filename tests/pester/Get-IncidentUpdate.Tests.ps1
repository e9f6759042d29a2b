#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentUpdate: the outbox of status updates and each channel's delivery state.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    # Port 9 on loopback refuses connections: what goes to 'down' stays pending.
    $script:root = Initialize-IncidentTestFile -RouteToAudit P2 -Channels "  down: { type: webhook, url: 'http://127.0.0.1:9/hooks/down' }"
    $script:incident = New-Incident -Title 'Search is slow' -Severity P2
    Send-IncidentUpdate -Message 'Investigating' | Out-Null
    Send-IncidentUpdate -Message 'Reindexing' -Channel audit, down -WarningAction SilentlyContinue | Out-Null
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Get-IncidentUpdate' {
    It 'lists every update of the incident, oldest first' {
        $updates = Get-IncidentUpdate -Incident $incident.Id
        $updates.Kind | Should -Be @('Initial', 'Update')
        $updates[0].Pending | Should -BeFalse
    }

    It 'lists only undelivered updates with -Pending, from the pipeline too' {
        $pending = Get-Incident -Incident $incident.Id | Get-IncidentUpdate -Pending
        @($pending).Count | Should -Be 1
        ($pending.Deliveries | Where-Object Channel -EQ 'down').State | Should -Not -Be 'Delivered'
    }

    It 'renders the outbox at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-IncidentUpdate -Incident $incident.Id) -Width $Width
        foreach ($column in 'IncidentId', 'At \(UTC\)', 'Kind', 'Status', 'Pending', 'Channels') { $text | Should -Match $column }
        $text | Should -Match "$($incident.Id)\s+\d\d-\d\d \d\d:\d\d\s+Initial\s+Investigating\s+False\s+audit:Delivered"
        ($text -replace '\s', '') | Should -Match 'audit:Delivered,down:'
    }

    It 'completes -Incident with open incidents' {
        Get-CompletionText 'Get-IncidentUpdate -Incident ' | Should -Be $incident.Id
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-IncidentUpdate | Should -Match 'Get-IncidentUpdate'
    }
}

Describe 'Get-IncidentUpdate of a resolved incident' {
    BeforeAll {
        $script:closed = New-Incident -Title 'Queue backlog' -Severity P2
        # Left pending ('down' refuses), then the incident is resolved: the update is withdrawn and never sent, although its
        # entry may still read Pending in the store (a withdrawal the store failed to record reads the same).
        Send-IncidentUpdate -Incident $closed.Id -Message 'Draining the queue' -Channel down -WarningAction SilentlyContinue | Out-Null
        Close-Incident -Incident $closed.Id -Resolution 'Queue drained' -Confirm:$false -WarningAction SilentlyContinue | Out-Null
    }

    It 'does not list the withdrawn update with -Pending' {
        @(Get-IncidentUpdate -Incident $closed.Id -Pending).Count | Should -Be 0
    }

    It 'shows the withdrawn update as not sent, and why' {
        $update = Get-IncidentUpdate -Incident $closed.Id | Where-Object Message -EQ 'Draining the queue'
        $update.Pending | Should -BeFalse
        $down = $update.Deliveries | Where-Object Channel -EQ 'down'
        $down.State | Should -Be 'Superseded'
        $down.Error | Should -Match "^Not sent: $($closed.Id) was resolved"
    }
}
