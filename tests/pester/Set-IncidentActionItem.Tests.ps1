#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Set-IncidentActionItem: updating a follow-up.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:incident = New-Incident -Title 'Pool exhausted' -Severity P1
    $script:item = Add-IncidentActionItem -Action 'Alert on pool saturation' -Owner alice -Priority P1
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Set-IncidentActionItem' {
    It 'updates an item piped from Get-IncidentActionItem' {
        $updated = Get-IncidentActionItem | Set-IncidentActionItem -Status InProgress
        $updated.Status | Should -Be 'InProgress'
        (Get-IncidentActionItem).Status | Should -Be 'InProgress'
    }

    It 'names the incident with -Incident or the old -IncidentId' {
        (Set-IncidentActionItem $item.Id -Incident $incident.Id -Owner bob).Owner | Should -Be 'bob'
        (Set-IncidentActionItem $item.Id -IncidentId $incident.Id -Owner carol).Owner | Should -Be 'carol'
    }

    It 'renders the updated item at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Set-IncidentActionItem $item.Id -Priority P2) -Width $Width
        $text | Should -Match "$($item.Id)\s+P2\s+InProgress\s+carol"
    }

    It 'does nothing under -WhatIf, and says what it would do' {
        $out = Invoke-InChildPwsh "Set-IncidentActionItem '$($item.Id)' -Status Done -WhatIf"
        $out | Should -Match "What if: Performing the operation ""Update action item"" on target ""$($item.Id)"""
        (Get-IncidentActionItem).Status | Should -Be 'InProgress'
    }

    It 'completes -Incident and -Priority' {
        Get-CompletionText "Set-IncidentActionItem $($item.Id) -Incident " | Should -Be $incident.Id
        Get-CompletionText "Set-IncidentActionItem $($item.Id) -Priority P3" | Should -Be 'P3'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Set-IncidentActionItem | Should -Match 'Set-IncidentActionItem'
    }
}
