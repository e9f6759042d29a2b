#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentActionItem: listing follow-ups, by status and owner.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:incident = New-Incident -Title 'Pool exhausted' -Severity P1
    Add-IncidentActionItem -Action 'Alert on pool saturation' -Owner alice -Priority P1 | Out-Null
    Add-IncidentActionItem -Action 'Document the failover' -Owner bob | Out-Null
    Set-IncidentActionItem -ActionItemId "$($script:incident.Id)-A02" -Status Done | Out-Null
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Get-IncidentActionItem' {
    It 'lists the items of the active incident' {
        (Get-IncidentActionItem).Id | Should -Be @("$($incident.Id)-A01", "$($incident.Id)-A02")
    }

    It 'filters by status and owner' {
        (Get-IncidentActionItem -Status Open).Owner | Should -Be 'alice'
        (Get-IncidentActionItem -Owner bob).Status | Should -Be 'Done'
    }

    It 'reads a named incident through the pipeline' {
        @(Get-Incident -Incident $incident.Id | Get-IncidentActionItem).Count | Should -Be 2
    }

    It 'renders the items at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-IncidentActionItem) -Width $Width
        foreach ($column in 'Id', 'Pri', 'Status', 'Owner', 'Due', 'Action') { $text | Should -Match $column }
        $text | Should -Match "-A02\s+P2\s+Done\s+bob\s+Document the"
    }

    It 'completes -Incident with open incidents' {
        Get-CompletionText 'Get-IncidentActionItem -Incident ' | Should -Be $incident.Id
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-IncidentActionItem | Should -Match 'Get-IncidentActionItem'
    }
}
