#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# New-Incident: declaring an incident, against an isolated store and per-user state.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile -Yaml @'
severities:
  SEV1: { name: Critical, definition: Site down, responseTarget: 5m, updateEvery: 15m }
  SEV2: { name: Major, definition: Feature broken, responseTarget: 30m, updateEvery: 1h }
'@
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'New-Incident' {
    It 'declares an incident that becomes active' {
        $i = New-Incident -Title 'API 502s' -Severity SEV1 -Service production/api -Commander alice
        $script:first = $i
        $i.Id | Should -Match '^INC-\d{8}-\d{3}$'
        $i.SeverityName | Should -Be 'Critical'
        (Get-Incident -Active).Id | Should -Be $i.Id
    }

    It 'rejects severity <Severity>' -TestCases @(
        @{ Severity = 'P9' }
        @{ Severity = 'P1' }
    ) {
        { New-Incident -Title x -Severity $Severity -ErrorAction Stop } | Should -Throw -ErrorId 'SeverityUnknown,IncidentOps.Commands.NewIncidentCommand'
    }

    It 'takes services from the pipeline' {
        $i = [pscustomobject]@{ Environment = 'production'; Service = 'api' } | New-Incident -Title 'Piped' -Severity SEV2
        $i.Services | Should -Be @('production/api')
    }

    It 'renders the incident table at <Width> columns with the next update first to act on' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $i = Get-Incident -Incident $first.Id
        $text = Get-RenderedView $i -Width $Width
        foreach ($column in 'Id', 'Sev', 'Status', 'Open for', 'Next update', 'Title') { $text | Should -Match $column }
        $text | Should -Match "$($i.Id)\s+SEV1\s+Investigating\s+\d+[smh]\S*\s+in \d+m"
        ($text -replace '\s', '') | Should -Match 'API502s'
    }

    It 'completes -Severity with the configured ids and their definitions' {
        $matches = Get-Completion 'New-Incident -Title x -Severity '
        $matches.CompletionText | Should -Be @('SEV1', 'SEV2')
        $matches[1].ToolTip | Should -Match 'Major: Feature broken'
        (Get-Completion 'New-Incident -Title x -Severity sev2').CompletionText | Should -Be 'SEV2'
    }

    It '-WhatIf prints its What if: line and declares nothing' {
        $before = @(Get-Incident).Count
        $active = (Get-Incident -Active).Id
        $out = Invoke-InChildPwsh "New-Incident -Title 'Only a drill' -Severity SEV2 -Service production/api -WhatIf"
        $out | Should -Match 'What if: Performing the operation "Declare incident" on target "SEV2 ''Only a drill'' on production/api"'
        @(Get-Incident).Count | Should -Be $before
        (Get-Incident -Active).Id | Should -Be $active
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp New-Incident | Should -Match 'New-Incident'
    }
}
