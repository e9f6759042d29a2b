#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Save-IncidentEvidence: captures stored with the incident, each with its SHA-256.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:incident = New-Incident -Title 'API 502s' -Severity P1 -Service production/api
    function script:Get-EvidenceFiles { @(Get-ChildItem -Path $root.Dir -Recurse -File | Where-Object FullName -Match 'evidence') }
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Save-IncidentEvidence' {
    It 'does nothing under -WhatIf, and says what it would do' {
        $out = Invoke-InChildPwsh 'Save-IncidentEvidence -Source timeline,config -WhatIf'
        $out | Should -Match "What if: Performing the operation ""Save evidence \(timeline, config\)"" on target ""$($incident.Id)"""
        (Get-EvidenceFiles).Count | Should -Be 0
    }

    It 'saves evidence with a SHA-256' {
        $captures = Save-IncidentEvidence -Source timeline
        $captures.Sha256 | Should -Match '^[0-9a-f]{64}$'
        Test-Path $captures.Path | Should -Be $true
        (Get-FileHash $captures.Path -Algorithm SHA256).Hash.ToLowerInvariant() | Should -Be $captures.Sha256
    }

    It 'offers evidence source <Source>' -TestCases @(
        @{ Source = 'app-status' }
        @{ Source = 'app-deployments' }
        @{ Source = 'app-logs' }
        @{ Source = 'app-events' }
        @{ Source = 'pg-activity' }
        @{ Source = 'redis-info' }
    ) {
        # The incident's services are not in this config, so the source has nothing to capture (and no error).
        { Save-IncidentEvidence -Source $Source -ErrorAction Stop -WarningAction SilentlyContinue } | Should -Not -Throw
    }

    It 'renders the captures at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $capture = Save-IncidentEvidence -Incident $incident.Id -Source timeline
        $text = Get-RenderedView $capture -Width $Width
        foreach ($column in 'Source', 'Service', 'OK', 'Sha256', 'File / Error') { $text | Should -Match $column }
        $text | Should -Match "(?m)^timeline\s+True\s+$($capture.Sha256.Substring(0, 12))"
        ($text -replace '\s', '') | Should -Match ([regex]::Escape([IO.Path]::GetFileName($capture.Path)))
    }

    It 'completes -Source with the registered evidence sources' {
        $sources = Get-CompletionText 'Save-IncidentEvidence -Source '
        foreach ($s in 'config', 'timeline', 'app-status', 'app-logs', 'app-events', 'pg-activity', 'redis-info') { $sources | Should -Contain $s }
        Get-CompletionText 'Save-IncidentEvidence -Source pg' | Should -Be 'pg-activity'
    }

    It 'completes -Incident with open incidents' {
        Get-CompletionText 'Save-IncidentEvidence -Incident ' | Should -Be $incident.Id
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Save-IncidentEvidence | Should -Match 'Save-IncidentEvidence'
    }
}
