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

    # The incident has no action items: the section used to be a Markdown table of headers with no rows (an empty
    # <table> in HTML), where every other empty list says "_None recorded._".
    It 'says None recorded under Action Items when there are none, in the <Template> style' -TestCases @(
        @{ Template = 'seed' }
        @{ Template = 'google-sre' }
        @{ Template = 'pagerduty' }
    ) {
        param($Template)
        $content = (New-IncidentReport -Id $script:incident.Id -Template $Template -ConfigPath $script:cfg).Content
        $content | Should -Match '(?m)^## Action Items\r?\n\r?\n_None recorded\._'
        $content | Should -Not -Match ([regex]::Escape('| Id | Action | Owner |'))
        $html = (New-IncidentReport -Id $script:incident.Id -Template $Template -Format Html -ConfigPath $script:cfg).Content
        $html | Should -Match ([regex]::Escape('<h2>Action Items</h2><p><em>None recorded.</em></p>'))
    }

    It 'right after Close-Incident, names the incident just closed in its NoActiveIncident error, with the command to run' {
        # The usual 3 a.m. order: Close-Incident, then New-IncidentReport; the closed incident is no longer active.
        $err = $null
        try { New-IncidentReport -ConfigPath $script:cfg -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'NoActiveIncident,IncidentOps.Commands.NewIncidentReportCommand'
        $err.ToString() | Should -Match ([regex]::Escape("The last incident resolved was $($script:incident.Id) (Queue stuck)"))
        $err.ToString() | Should -Match ([regex]::Escape("New-IncidentReport -Incident $($script:incident.Id)"))
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

Describe 'New-IncidentReport -Kind Review' {
    BeforeAll {
        # The fixture with known answers (examples/data/incidents-2026-10), in a store of its own.
        $script:review = Join-Path $script:dir 'review'
        New-Item -ItemType Directory -Path $script:review | Out-Null
        $script:reviewCfg = Join-Path $script:review 'incidentops.yml'
        Set-Content -Path $script:reviewCfg -Value "store:`n  path: $(Join-Path $script:review 'store')`n"
        $zip = Join-Path $script:review 'incidents.zip'
        Compress-Archive -Path (Join-Path $PSScriptRoot '../../examples/data/incidents-2026-10/*') -DestinationPath $zip
        Import-Incident -Path $zip -ConfigPath $script:reviewCfg -Confirm:$false | Out-Null
        $script:period = @{ Kind = 'Review'; Since = '2026-10-01T00:00:00Z'; Until = '2026-11-01T00:00:00Z'; ConfigPath = $script:reviewCfg }
    }

    It 'reviews the period in Markdown: metrics, every incident, why targets were missed, overdue items, runbooks due for review' {
        $report = New-IncidentReport @period
        $report.Kind | Should -Be 'Review'
        $report.IncidentIds | Should -HaveCount 6
        $md = $report.Content
        $md | Should -Match '(?m)^# Incident Review: 2026-10-01 to 2026-11-01'
        $md | Should -Match '\| Response target met \| 4 of 6 \(66\.7%\) \| missed: INC-20261012-001, INC-20261031-001 \|'
        $md | Should -Match '(?m)^\| INC-20261027-001 \| 2026-10-27 08:00 \| P0 \| Resolved \| Complete outage: marketing site down \|'
        $md | Should -Match '\*\*INC-20261012-001\*\* \(P1, Database connections exhausted\): response target missed, acknowledged 27m after declaration'
        $md | Should -Match '(?m)^\| INC-20261012-001-A01 \| INC-20261012-001 \| Alert on max_connections headroom \| bob \| 2026-10-19 \|'
        $md | Should -Match '(?m)^## Runbooks due for review'
        $md | Should -Match '(?m)^\| Step \(cmdlet\) \| Uses \| Succeeded \| Failed \| Unconfirmed \| Previewed \(-WhatIf\) \|'
        $md | Should -Match '(?m)^\| Restart-App \| 2 \| 1 \| 1 \| 0 \| 0 \| INC-20261020-001, INC-20261027-001 \|'
        $md | Should -Not -Match 'New-Incident \||Close-Incident \|' -Because 'the record''s own bookkeeping is not a runbook step'
    }

    It 'gives each chart''s numbers as a table, and HTML a charts section for the drawings' {
        $md = (New-IncidentReport @period).Content
        $md | Should -Match '(?m)^### Incidents per week, by severity'
        $md | Should -Match '(?m)^\| Week \| Week of \| P0 \| P1 \| P2 \| P3 \| Total \|'
        $md | Should -Match '(?m)^\| 2026-W44 \| 2026-10-26 \| 1 \| 1 \| 0 \| 1 \| 3 \|'
        $md | Should -Match '(?m)^\| P1 \| 15m \| 1 \| 2 \| 0 \| 33\.3% \|'
        $file = Join-Path $script:review 'review.html'
        $html = New-IncidentReport @period -Format Html -Path $file
        $html.Path | Should -Be $file
        $page = Get-Content $file -Raw
        $page | Should -Match '<section class="charts">'
        ([regex]::Matches($page, '<figure class="chart" data-chart="(incidents-per-week|time-to-resolve|response-compliance)"')).Count | Should -Be 3
        $page | Should -Match '<tr><td>2026-10-12 14:00</td><td>INC-20261012-001</td><td>P1</td><td>2h10m</td><td>130</td></tr>'
        $page | Should -Not -Match '<script'
        ([regex]::Matches($page, '<svg xmlns="http://www.w3.org/2000/svg"')).Count | Should -Be 3
        $page.Replace('xmlns="http://www.w3.org/2000/svg"', '') | Should -Not -Match 'https?://' -Because 'the page is self-contained; the SVG namespace name is never fetched'
    }

    It 'escapes what people typed, per format' {
        $hostile = New-Incident -Title "Cache <img src=x onerror=alert(1)>`n# Forged | cell" -Severity P2 -ConfigPath $script:reviewCfg
        Close-Incident -Incident $hostile.Id -Resolution 'flushed' -ConfigPath $script:reviewCfg | Out-Null
        $md = (New-IncidentReport -Kind Review -Since 1d -ConfigPath $script:reviewCfg).Content
        $md | Should -Match ([regex]::Escape('Cache \<img src=x onerror=alert(1)\> \# Forged \| cell'))
        ($md -split "`n" | Where-Object { $_ -match '^#\s*Forged' }) | Should -BeNullOrEmpty
        $html = (New-IncidentReport -Kind Review -Since 1d -Format Html -ConfigPath $script:reviewCfg).Content
        $html | Should -Not -Match '<img'
        $html | Should -Match ([regex]::Escape('Cache &lt;img src=x onerror=alert(1)&gt;'))
    }

    It 'names the file after the period when -Path is a folder, and writes nothing under -WhatIf' {
        (New-IncidentReport @period -Path $script:review).Path | Should -Be (Join-Path $script:review 'review-20261001-20261101.md')
        $file = Join-Path $script:review 'whatif-review.md'
        $out = Invoke-InChildPwsh "New-IncidentReport -Kind Review -Since 2026-10-01 -Until 2026-11-01 -ConfigPath '$($script:reviewCfg)' -Path '$file' -WhatIf"
        $out | Should -Match ([regex]::Escape("What if: Performing the operation ""Write incident report"" on target ""$file"""))
        Test-Path $file | Should -BeFalse
    }

    It 'refuses -Since without -Kind Review, and -Incident with it (ReviewReportParameterConflict)' {
        { New-IncidentReport -Incident $incident.Id -Since 30d -ErrorAction Stop } | Should -Throw -ErrorId 'ReviewReportParameterConflict,IncidentOps.Commands.NewIncidentReportCommand'
        { New-IncidentReport -Kind Review -Incident $incident.Id -ErrorAction Stop } | Should -Throw -ErrorId 'ReviewReportParameterConflict,IncidentOps.Commands.NewIncidentReportCommand'
    }

    It 'renders the review report object with its period at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (New-IncidentReport @period) -Width $Width
        $text | Should -Match 'Kind\s+: Review'
        $text | Should -Match 'Period\s+: 2026-10-01 00:00 to 2026-11-01 00:00 UTC \(6 incidents\)'
    }
}

