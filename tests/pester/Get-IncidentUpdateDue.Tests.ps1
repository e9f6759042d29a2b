#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentUpdateDue: open incidents whose next status update is due or late.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile -RouteToAudit P1, P2
    $script:late = New-Incident -Title 'Payments failing' -Severity P1
    Send-IncidentUpdate -Message 'Investigating' -NextUpdateIn 1s | Out-Null
    $script:soon = New-Incident -Title 'Search is slow' -Severity P2
    Send-IncidentUpdate -Message 'Investigating' -NextUpdateIn 20m | Out-Null
    Start-Sleep -Milliseconds 1500   # lets the 1s cadence of the first incident pass
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Get-IncidentUpdateDue' {
    It 'returns only overdue incidents by default, with how late they are' {
        $due = Get-IncidentUpdateDue
        $due.IncidentId | Should -Be $late.Id
        $due.OverdueBy | Should -BeGreaterThan ([timespan]::Zero)
        $due.DueIn | Should -Be ([timespan]::Zero)
    }

    It 'gives an update not yet due a positive DueIn and an OverdueBy of zero, never negative' {
        $soon = Get-IncidentUpdateDue -Within 1h | Where-Object IncidentId -EQ $soon.Id
        $soon | Should -Not -BeNullOrEmpty
        $soon.OverdueBy | Should -Be ([timespan]::Zero)
        $soon.DueIn | Should -BeGreaterThan ([timespan]'00:10:00')
        $soon.DueIn | Should -BeLessOrEqual ([timespan]'00:20:00')
    }

    It 'renders what to act on at <Width> columns: LATE or in how long' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-IncidentUpdateDue -Within 1h) -Width $Width
        foreach ($column in 'IncidentId', 'Sev', 'Status', 'Update due', 'Pending', 'Title') { $text | Should -Match $column }
        $text | Should -Match "$($late.Id)\s+P1\s+Investigating\s+LATE \d\S*\s+0\s+Payments failing"
        $text | Should -Match "$($soon.Id)\s+P2\s+Investigating\s+in (1\dm(\d\ds)?|20m)\s+0\s+Search is slow"
        $text | Should -Not -Match '-00:'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-IncidentUpdateDue | Should -Match 'Get-IncidentUpdateDue'
    }
}
