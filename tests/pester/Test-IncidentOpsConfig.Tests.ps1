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

    It 'checks that a redis caCertificate reference resolves, and refuses a caCertificate without a url' {
        $file = Join-Path $root.Dir 'redis-ca.yml'
        "version: 1`nenvironments:`n  production:`n    services:`n      cache:`n        redis: { url: 'rediss://127.0.0.1:6380', caCertificate: env:IO_PESTER_UNSET_CA }`n" | Set-Content $file
        $finding = Test-IncidentOpsConfig -Path $file
        $finding.Code | Should -Be 'ConfigReferenceUnresolved'
        $finding.Message | Should -Match 'IO_PESTER_UNSET_CA'
        "version: 1`nenvironments:`n  production:`n    services:`n      cache:`n        redis: { caCertificate: ca.pem }`n" | Set-Content $file
        (Test-IncidentOpsConfig -Path $file -SkipReferences).Message | Should -Match 'has a caCertificate but no url'
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
