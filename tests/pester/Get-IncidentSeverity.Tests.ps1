#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentSeverity: the configured severity matrix, its view and completion.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    # Seed 002's P1-P4 scheme, to prove views and completion read the configuration, not the defaults.
    $script:root = Initialize-IncidentTestFile -Yaml @'
severities:
  P1: { name: Critical, definition: Site down, responseTarget: 5m, updateEvery: 15m, escalation: [on-call, cto], pagerDutySeverity: critical }
  P2: { name: High, definition: Feature broken, responseTarget: 1h, updateEvery: 1h30m, pagerDutySeverity: error }
  P3: { name: Medium, definition: Degraded, responseTarget: 4h, pagerDutySeverity: warning }
  P4: { name: Low, definition: Cosmetic, responseTarget: 2d, pagerDutySeverity: info }
'@
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Get-IncidentSeverity' {
    It 'lists the configured matrix' {
        (Get-IncidentSeverity).Id | Should -Be @('P1', 'P2', 'P3', 'P4')
        (Get-IncidentSeverity P2).ResponseTarget | Should -Be ([timespan]'01:00:00')
    }

    It 'writes SeverityUnknown for a severity that is not configured' {
        { Get-IncidentSeverity P0 -ErrorAction Stop } | Should -Throw -ErrorId 'SeverityUnknown,IncidentOps.Commands.GetIncidentSeverityCommand'
    }

    It 'prints every duration in one form at <Width> columns (1h, not 1h00m)' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-IncidentSeverity) -Width $Width
        foreach ($column in 'Id', 'Name', 'Respond', 'Update', 'Escalation', 'Definition') { $text | Should -Match $column }
        $text | Should -Match '(?m)^P1\s+Critical\s+5m\s+15m\s+on-call,cto\s+Site down'
        $text | Should -Match '(?m)^P2\s+High\s+1h\s+1h30m\s'
        $text | Should -Match '(?m)^P4\s+Low\s+2d\s+-\s'
        $text | Should -Not -Match '\dh00m|0\dh\b'
    }

    It 'keeps the example''s escalation roles and definitions whole at 80 columns' {
        $text = Get-RenderedView (Get-IncidentSeverity -ConfigPath (Join-Path $script:RepoRoot 'examples/incidentops.yml')) -Width 80
        # "engineering-manager" was cut in two ("engineering-man" / "ager") by a 24-character column.
        $text | Should -Match '(?m)^P0\s+Critical\s+5m\s+15m\s+on-call,engineering-manager\s+Complete system outage\s*$'
        $text | Should -Match '(?m)^P1\s+High\s+15m\s+30m\s+Critical feature broken\s*$'
    }

    It 'completes severity ids from the configuration, with the definition as tooltip' {
        $matches = Get-Completion 'Get-IncidentSeverity '
        $matches.CompletionText | Should -Be @('P1', 'P2', 'P3', 'P4')
        $matches[0].ToolTip | Should -Match 'Critical: Site down \(respond within 5m, update every 15m\)'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-IncidentSeverity | Should -Match 'Get-IncidentSeverity'
    }
}
