#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Set-Incident: changing an incident's record; every change lands on its timeline.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:incident = New-Incident -Title 'API 502s' -Severity P1 -Service production/api
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Set-Incident' {
    It 'records status and severity changes on the timeline' {
        Set-Incident -Status Identified -Severity P2
        $kinds = (Get-IncidentTimeline).Kind
        $kinds | Should -Contain 'severity'
        $kinds | Should -Contain 'status'
        (Get-Incident -Active).Severity | Should -Be 'P2'
    }

    It 'takes the incident from the pipeline and from the old -Id name' {
        Get-Incident -Active | Set-Incident -Commander bob
        Set-Incident -Id $incident.Id -Scribe carol
        $i = Get-Incident -Incident $incident.Id
        $i.Commander | Should -Be 'bob'
        $i.Scribe | Should -Be 'carol'
    }

    It 'writes IncidentNothingToChange when nothing is given' {
        { Set-Incident -ErrorAction Stop } | Should -Throw -ErrorId 'IncidentNothingToChange,IncidentOps.Commands.SetIncidentCommand'
    }

    It 'returns the changed incident with -PassThru, rendered at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $i = Set-Incident -Impact 'Checkout down for EU users' -PassThru
        $i.Impact | Should -Be 'Checkout down for EU users'
        $text = Get-RenderedView $i -Width $Width
        $text | Should -Match "$($incident.Id)\s+P2\s+Identified"
    }

    It 'does nothing under -WhatIf, and says what it would do' {
        $before = Get-Incident -Active
        $entries = @(Get-IncidentTimeline).Count
        $out = Invoke-InChildPwsh "Set-Incident -Status Monitoring -WhatIf"
        $out | Should -Match "What if: Performing the operation ""Set Status=Monitoring"" on target ""$($incident.Id)"""
        (Get-Incident -Active).Status | Should -Be $before.Status
        @(Get-IncidentTimeline).Count | Should -Be $entries
    }

    It 'completes -Severity and -Incident' {
        Get-CompletionText 'Set-Incident -Severity P' | Should -Be @('P0', 'P1', 'P2', 'P3')
        Get-CompletionText 'Set-Incident -Incident ' | Should -Be $incident.Id
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Set-Incident | Should -Match 'Set-Incident'
    }
}
