#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Add-IncidentActionItem: follow-ups recorded with the incident.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:incident = New-Incident -Title 'Pool exhausted' -Severity P1
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Add-IncidentActionItem' {
    It 'adds an item to the active incident and records it on the timeline' {
        $item = Add-IncidentActionItem -Action 'Alert on pool saturation' -Owner alice -Priority P1 -Due '2030-01-15'
        $item.Id | Should -Be "$($incident.Id)-A01"
        $item.Status | Should -Be 'Open'
        (Get-IncidentTimeline).Action | Should -Contain 'Add action item'
    }

    It 'renders the item at <Width> columns with its whole text' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $item = Get-IncidentActionItem | Select-Object -First 1
        $text = Get-RenderedView $item -Width $Width
        foreach ($column in 'Id', 'Pri', 'Status', 'Owner', 'Due', 'Action') { $text | Should -Match $column }
        $text | Should -Match "$($incident.Id)-A01\s+P1\s+Open\s+alice\s+2030-01-15\s+Alert on pool"
        ($text -replace '\s', '') | Should -Match 'Alertonpoolsaturation'
    }

    It 'does nothing under -WhatIf, and says what it would do' {
        $out = Invoke-InChildPwsh "Add-IncidentActionItem -Action 'Only a drill' -WhatIf"
        $out | Should -Match "What if: Performing the operation ""Add action item 'Only a drill'"" on target ""$($incident.Id)"""
        @(Get-IncidentActionItem).Count | Should -Be 1
    }

    It 'completes -Priority with the severities and -Incident with open incidents' {
        Get-CompletionText 'Add-IncidentActionItem x -Priority ' | Should -Be @('P0', 'P1', 'P2', 'P3')
        Get-CompletionText 'Add-IncidentActionItem x -Incident ' | Should -Be $incident.Id
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Add-IncidentActionItem | Should -Match 'Add-IncidentActionItem'
    }
}
