#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Pester 5: New-IncidentReport styles, formats and the customer draft.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile -RouteToAudit P2
    $script:dir = $script:root.Dir
    $script:cfg = $script:root.Config
    $script:incident = New-Incident -Title 'Queue stuck' -Severity P2 -Impact 'Emails delayed' -ConfigPath $script:cfg
    Add-IncidentNote 'Drained the queue' -ConfigPath $script:cfg | Out-Null
    Set-Incident -Status Identified
    Send-IncidentUpdate -Message 'Workers wedged' | Out-Null
    Send-IncidentUpdate -Message 'Restarting workers' | Out-Null
    # A -WhatIf preview lands on the timeline with its whole JSON payload.
    Invoke-InChildPwsh "Send-IncidentUpdate -Message 'PREVIEWPAYLOAD only' -WhatIf" | Out-Null
    $script:incident | Close-Incident -Resolution 'Restarted workers' -ConfigPath $script:cfg -Force | Out-Null
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

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

    It 'names each update by its kind in the timeline, not "Update update"' {
        $content = (New-IncidentReport -Incident $incident.Id).Content
        $content | Should -Match 'Initial alert \(Identified\)'
        $content | Should -Match 'Progress update \(Identified\)'
        $content | Should -Not -Match 'Update update|Initial update'
    }

    It 'summarises a -WhatIf preview in one line instead of its JSON payload' {
        (Get-IncidentTimeline -Incident $incident.Id | Where-Object Outcome -EQ 'WhatIf').Result | Should -Match 'PREVIEWPAYLOAD'
        $content = (New-IncidentReport -Incident $incident.Id).Content
        $row = $content -split "`n" | Where-Object { $_ -match '\| WhatIf \|' }
        $row | Should -HaveCount 1
        $row | Should -Match 'POST \S+ \(preview only, nothing sent; full text in Get-IncidentTimeline\)'
        $content | Should -Not -Match 'PREVIEWPAYLOAD|"updateId"'
    }

    It 'renders the report object at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (New-IncidentReport -Incident $incident.Id -Template google-sre) -Width $Width
        foreach ($label in 'IncidentId', 'Kind', 'Format', 'Template', 'Path', 'Length') { $text | Should -Match "(?m)^$label\s+:" }
        $text | Should -Match "IncidentId\s+: $($incident.Id)"
        $text | Should -Match 'Template\s+: google-sre'
    }

    It 'writes no file under -WhatIf, and says which it would write' {
        $file = Join-Path $script:dir 'whatif.md'
        $out = Invoke-InChildPwsh "New-IncidentReport -Incident $($incident.Id) -Path '$file' -WhatIf"
        $out | Should -Match ([regex]::Escape("What if: Performing the operation ""Write incident report"" on target ""$file"""))
        Test-Path $file | Should -BeFalse
    }

    It 'completes -Template with the built-in styles and template files' {
        Get-CompletionText 'New-IncidentReport -Template ' | Should -Be @('seed', 'google-sre', 'pagerduty')
        Get-CompletionText 'New-IncidentReport -Template goo' | Should -Be 'google-sre'
        Push-Location $script:dir
        try {
            Set-Content -Path (Join-Path $script:dir 'ours.scriban') -Value '# {{ title }}'
            Get-CompletionText 'New-IncidentReport -Template our' | Should -Be './ours.scriban'
        }
        finally { Pop-Location }
    }

    It 'completes -Incident with resolved incidents too' {
        $matches = Get-Completion 'New-IncidentReport -Incident '
        $matches.CompletionText | Should -Be $incident.Id
        $matches.ToolTip | Should -Match '\[P2 Resolved\] Queue stuck'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp New-IncidentReport | Should -Match 'New-IncidentReport'
    }
}
