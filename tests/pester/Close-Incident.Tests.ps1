#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Close-Incident: resolving an incident with its resolution.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:named = New-Incident -Title 'Queue stuck' -Severity P3
    $script:incident = New-Incident -Title 'Pool exhausted' -Severity P1
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Close-Incident' {
    It 'does nothing under -WhatIf, and says what it would do' {
        $out = Invoke-InChildPwsh "Close-Incident -Resolution 'Capped the pool' -WhatIf"
        $out | Should -Match "What if: Performing the operation ""Resolve: Capped the pool"" on target ""$($incident.Id)"""
        (Get-Incident -Active).Status | Should -Be 'Investigating'
        (Get-IncidentTimeline).Kind | Should -Not -Contain 'resolved'
    }

    It 'closes with a resolution and clears the active incident' {
        $closed = Get-Incident -Active | Close-Incident -Resolution 'Capped the pool' -Force
        $closed.Status.ToString() | Should -Be 'Resolved'
        $closed.Resolution | Should -Be 'Capped the pool'
        Get-Incident -Active | Should -BeNullOrEmpty
        (Get-IncidentTimeline -Incident $incident.Id).Kind | Should -Contain 'resolved'
    }

    It 'closes a named incident by -Incident (and the old -Id), shown at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        if ((Get-Incident -Incident $named.Id).Status -ne 'Resolved') {
            Close-Incident -Id $named.Id -Resolution 'Restarted workers' -Force | Out-Null
        }
        $text = Get-RenderedView (Get-Incident -Incident $named.Id) -Width $Width
        $text | Should -Match "$($named.Id)\s+P3\s+Resolved"
    }

    It 'writes NoActiveIncident when no incident is active and none is named' {
        { Close-Incident -Resolution x -Force -ErrorAction Stop } | Should -Throw -ErrorId 'NoActiveIncident,IncidentOps.Commands.CloseIncidentCommand'
    }

    It 'completes -Incident, titles as tooltips' {
        $matches = Get-Completion 'Close-Incident -Incident '
        $matches.CompletionText | Should -Contain $named.Id
        ($matches | Where-Object CompletionText -EQ $named.Id).ToolTip | Should -Match 'Queue stuck'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Close-Incident | Should -Match 'Close-Incident'
    }
}
