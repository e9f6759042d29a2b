# Pester 5: New-IncidentReport styles, formats and the customer draft.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1') -Force
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) ("io-pester-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $script:dir | Out-Null
    $script:cfg = Join-Path $script:dir 'incidentops.yml'
    Set-Content -Path $script:cfg -Value "store:`n  path: $(Join-Path $script:dir 'store')`n"
    $script:incident = New-Incident -Title 'Queue stuck' -Severity P2 -Impact 'Emails delayed' -ConfigPath $script:cfg
    Add-IncidentNote 'Drained the queue' -ConfigPath $script:cfg | Out-Null
    $script:incident | Close-Incident -Resolution 'Restarted workers' -ConfigPath $script:cfg | Out-Null
}

AfterAll {
    Remove-Item -Recurse -Force $script:dir -ErrorAction SilentlyContinue
}

Describe 'New-IncidentReport' {
    It 'the <Template> style has every section' -TestCases @(
        @{ Template = 'seed' }
        @{ Template = 'google-sre' }
        @{ Template = 'pagerduty' }
    ) {
        param($Template)
        $content = (New-IncidentReport -Id $script:incident.Id -Template $Template -ConfigPath $script:cfg).Content
        foreach ($section in 'Summary', 'Impact', 'Timeline', 'Root Cause', 'Resolution', 'What Went Well', 'What Went Wrong', 'Action Items', 'Lessons Learned', 'Prevention') {
            $content | Should -Match ([regex]::Escape($section))
        }
        $content | Should -Match 'Drained the queue'
    }

    It 'writes HTML to -Path' {
        $file = Join-Path $script:dir 'pm.html'
        $report = New-IncidentReport -Id $script:incident.Id -Format Html -Path $file -ConfigPath $script:cfg
        $report.Path | Should -Be $file
        Get-Content $file -Raw | Should -Match '<h2>Timeline</h2>'
    }

    It 'drafts the customer communication' {
        $mail = (New-IncidentReport -Id $script:incident.Id -Kind CustomerCommunication -ConfigPath $script:cfg).Content
        $mail | Should -Match 'Service Interruption'
        $mail | Should -Match 'Restarted workers'
    }
}
