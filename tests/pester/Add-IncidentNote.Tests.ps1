#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Add-IncidentNote: notes on an incident's timeline.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:other = New-Incident -Title 'Vendor outage' -Severity P2
    $script:incident = New-Incident -Title 'API 502s' -Severity P1
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Add-IncidentNote' {
    It 'notes on the active incident and returns the entry' {
        $entry = Add-IncidentNote 'Restarted the API'
        $entry.Kind | Should -Be 'note'
        (Get-IncidentTimeline | Where-Object Kind -EQ 'note').Result | Should -Contain 'Restarted the API'
    }

    It 'notes on a named incident from the pipeline, by -Incident and by the old -Id' {
        Get-Incident -Incident $other.Id | Add-IncidentNote -Text 'Vendor confirmed' | Out-Null
        Add-IncidentNote 'Second note' -Id $other.Id | Out-Null
        Add-IncidentNote 'Third note' -Incident $other.Id | Out-Null
        @(Get-IncidentTimeline -Incident $other.Id -Kind note).Count | Should -Be 3
    }

    It 'redacts a secret in the text' {
        Add-IncidentNote 'Tried postgres://app:CANARYn0te5ecret@db:5432/app' | Out-Null
        (Get-IncidentTimeline | Out-String -Width 200) | Should -Not -Match 'CANARYn0te5ecret'
    }

    It 'renders the returned entry at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Add-IncidentNote "A long observation that must be readable in full at $Width columns, not cut") -Width $Width
        foreach ($column in 'Time \(UTC\)', 'Kind', 'Outcome', 'What') { $text | Should -Match $column }
        ($text -replace '\s', '') | Should -Match "mustbereadableinfullat$($Width)columns,notcut"
    }

    It 'does nothing under -WhatIf, and says what it would do' {
        $before = @(Get-IncidentTimeline).Count
        $out = Invoke-InChildPwsh "Add-IncidentNote 'only a preview' -WhatIf"
        $out | Should -Match "What if: Performing the operation ""Add note"" on target ""$($incident.Id)"""
        @(Get-IncidentTimeline).Count | Should -Be $before
    }

    It 'completes -Incident with open incidents, titles as tooltips' {
        $matches = Get-Completion 'Add-IncidentNote x -Incident '
        $matches.CompletionText | Should -Be @($incident.Id, $other.Id)
        $matches[1].ToolTip | Should -Match 'Vendor outage'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Add-IncidentNote | Should -Match 'Add-IncidentNote'
    }
}
