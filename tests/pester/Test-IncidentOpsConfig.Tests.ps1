#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Test-IncidentOpsConfig: problems of a configuration file as objects with file, line and column.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:example = Join-Path $script:RepoRoot 'examples/incidentops.yml'
    $script:bad = Join-Path $script:root.Dir 'bad.yml'
    "version: 1`nseverites: {}`n" | Set-Content $script:bad
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Test-IncidentOpsConfig' {
    It 'reports an unknown key with file, line and column' {
        $finding = Test-IncidentOpsConfig -Path $bad
        $finding.Code | Should -Be 'ConfigUnknownKey'
        $finding.Line | Should -Be 2
        $finding.Column | Should -Be 1
        $finding.Message | Should -Match "Did you mean 'severities'"
    }

    It 'returns $true with -Quiet for the example file' {
        Test-IncidentOpsConfig -Path $example -SkipReferences -Quiet | Should -BeTrue
    }

    It 'returns $false with -Quiet for a file with errors' {
        Test-IncidentOpsConfig -Path $bad -Quiet | Should -BeFalse
    }

    It 'shows the whole message of a finding at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Test-IncidentOpsConfig -Path $bad) -Width $Width
        foreach ($column in 'Severity', 'Location', 'Code', 'Message') { $text | Should -Match $column }
        $text | Should -Match 'bad\.yml:2:1'
        $text | Should -Match 'ConfigUnknownKey'
        # The message wraps instead of being cut: every word of it is on screen.
        ($text -replace '\s', '') | Should -Match ([regex]::Escape("Didyoumean'severities'"))
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Test-IncidentOpsConfig | Should -Match 'Test-IncidentOpsConfig'
    }
}
