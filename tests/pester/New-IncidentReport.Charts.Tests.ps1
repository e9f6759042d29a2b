#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Issue 19, pictures: the HTML post-mortem of an incident with health samples (Watch-ServiceHealth -Record against a
# loopback HTTP server), a change (Restart-App through a fake systemctl) and status updates (to a loopback stub),
# rendered by headless Chromium to PNG and to its DOM; and a page of the review report's chart functions with known
# data. The PNGs are kept in artifacts/test-results/charts. Under CI=true a missing chromium fails these tests.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'ChromiumKit.ps1')
    $skipChromium = Test-SkipWithoutChromium
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
    . (Join-Path $PSScriptRoot 'ChromiumKit.ps1')
    $script:root = Initialize-IncidentTestFile -RouteToAudit P2
    $script:server = Start-TestHttpServer @{ '/503' = @{ Code = 503; Body = 'down' } }
    $script:incident = New-Incident -Title 'Checkout <slow> & failing' -Severity P2 -Impact 'Payments fail'
    Set-Incident -Commander alice
    $watched = @(Watch-ServiceHealth "$($server.Base)/ok", "$($server.Base)/503" -Interval 100ms -Duration 1s -Record)
    $script:samples = @($watched | Where-Object { $_.PSObject.TypeNames[0] -eq 'IncidentOps.Health.HealthResult' })
    $script:failedSamples = @($samples | Where-Object { -not $_.Healthy }).Count
    Send-IncidentUpdate -Message 'Investigating the checkout failures' | Out-Null
    $cli = New-FakeCli systemctl @{ 'restart fastapi' = (New-ReplyFile '') }
    Restart-App -Platform Systemd -Unit fastapi -SystemctlPath $cli.Path -Force | Out-Null
    Set-Incident -Status Monitoring
    Send-IncidentUpdate -Message 'Restarted; monitoring' | Out-Null
    $script:incident | Close-Incident -Resolution 'Restarted the API' -Force | Out-Null
    $script:htmlPath = Join-Path $root.Dir 'post-mortem.html'
    New-IncidentReport -Id $incident.Id -Format Html -Path $htmlPath | Out-Null
}

AfterAll {
    Stop-TestServer $script:server
    Exit-IsolatedIncidentOps $script:root
}

Describe 'Watch-ServiceHealth -Record keeps its samples for the post-mortem' {
    It 'took healthy and failed samples of both endpoints' {
        $samples.Count | Should -BeGreaterOrEqual 2
        $failedSamples | Should -BeGreaterThan 0
        $failedSamples | Should -BeLessThan $samples.Count
    }

    It 'keeps them as health evidence on the incident, next to the timeline entry of the watch' {
        $entries = @(Get-IncidentTimeline -Incident $incident.Id | Where-Object Action -EQ 'Capture evidence')
        $entries | Should -HaveCount 1
        $entries[0].Target | Should -Be "$($samples.Count) health sample(s)"
        $entries[0].Result | Should -Match '^evidence/\S+-health-watch\.json sha256:[0-9a-f]{64}'
    }

    It 'keeps nothing with -WhatIf' {
        $other = New-Incident -Title 'Second' -Severity P3
        try {
            Watch-ServiceHealth "$($server.Base)/ok" -Interval 100ms -Duration 300ms -Record -WhatIf | Out-Null
            @(Get-IncidentTimeline -Incident $other.Id | Where-Object Action -EQ 'Capture evidence') | Should -HaveCount 0
        }
        finally { $other | Close-Incident -Resolution 'test' -Force | Out-Null }
    }
}

Describe 'New-IncidentReport post-mortem charts' {
    It 'writes self-contained SVG charts with their tables into the HTML' {
        $html = Get-Content -Raw $htmlPath
        ([regex]::Matches($html, '<svg\b')).Count | Should -Be 2
        ([regex]::Matches($html, 'role="img"')).Count | Should -Be 2
        ([regex]::Matches($html, '<table class="chart-data">')).Count | Should -Be 2
        $html | Should -Not -Match '<script'
        $html | Should -Not -Match '(src|href)="https?:'
        $html | Should -Not -Match '@import|@font-face|url\(http'
        $html | Should -Match 'Checkout &lt;slow&gt; &amp; failing'
    }

    It 'gives a Markdown post-mortem the charts'' numbers as tables' {
        $md = (New-IncidentReport -Id $incident.Id).Content
        $md | Should -Match '#### Incident timeline: phases, changes and updates'
        $md | Should -Match '#### Health samples: latency and failures'
        $md | Should -Match '\| Change \| [0-9: -]+ \|  \| Restart systemd unit fastapi \|'
        @($md -split "`n" | Where-Object { $_ -match '^\| \d{4}-\d\d-\d\d [0-9:]+ \| http://127\.0\.0\.1:\d+/(ok|503) \|' }) | Should -HaveCount $samples.Count
        $md | Should -Not -Match '<svg'
    }
}

Describe 'The HTML post-mortem in headless Chromium' -Skip:$skipChromium {
    BeforeAll {
        $script:png = Join-Path $root.Dir 'post-mortem.png'
        $script:dom = Save-HtmlScreenshotAndDom -HtmlPath $htmlPath -PngPath $png -Width 1200 -Height 3200
        $script:artifact = Save-ChartArtifact $png
        Save-ChartArtifact $htmlPath | Out-Null
    }

    It 'renders a page that is not blank' {
        $picture = Get-PngInk $png
        $picture.Width | Should -Be 1200
        # Text, tables and two charts: far more than a blank or an error page would draw.
        $picture.Ink | Should -BeGreaterThan 20000
        Test-Path $artifact | Should -BeTrue
    }

    It 'builds both charts as SVG in the DOM, each an image with a title' {
        Get-DomClassCount $dom 'chart-svg' | Should -Be 2
        ([regex]::Matches($dom, '<svg[^>]*role="img"')).Count | Should -Be 2
        $dom | Should -Match '<title id="incident-timeline-title">Incident timeline: phases, changes and updates</title>'
    }

    It 'draws the four phases as bands' {
        Get-DomClassCount $dom 'band' | Should -Be 4
        foreach ($phase in 'detected', 'acknowledged', 'mitigated', 'resolved') { Get-DomClassCount $dom "band-$phase" | Should -Be 1 }
    }

    It 'marks the change and the two updates' {
        Get-DomClassCount $dom 'marker-change' | Should -Be 1
        Get-DomClassCount $dom 'marker-update' | Should -Be 2
    }

    It 'draws one point per health sample, a cross for each failure, and a line per endpoint' {
        Get-DomClassCount $dom 'point' | Should -Be $samples.Count
        Get-DomClassCount $dom 'point-failed' | Should -Be $failedSamples
        # A line joins the samples of one endpoint once it has two (a watch of 1 s at 100 ms has ~10 rounds).
        $lines = @($samples | Group-Object Uri | Where-Object Count -GE 2).Count
        $lines | Should -BeGreaterThan 0
        Get-DomClassCount $dom 'line' | Should -Be $lines
    }

    It 'has each chart''s numbers as a table' {
        Get-DomClassCount $dom 'chart-data' | Should -Be 2
    }
}

Describe 'The review report''s chart functions in headless Chromium' -Skip:$skipChromium {
    BeforeAll {
        # The chart functions live in the engine (its own load context, so scripts cannot name its types): reached by
        # reflection, with known data.
        $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'IncidentOps.Engine' } | Select-Object -First 1
        function New-Typed([string] $Name, [object[]] $Values) { [Activator]::CreateInstance($engine.GetType("IncidentOps.Engine.Reports.Charts.$Name", $true), $Values) }
        function New-TypedList([string] $Name, [object[]] $Items) {
            $list = [Activator]::CreateInstance([System.Collections.Generic.List`1].MakeGenericType($engine.GetType("IncidentOps.Engine.Reports.Charts.$Name", $true)))
            foreach ($item in $Items) { $list.Add($item) }
            , $list
        }
        $review = $engine.GetType('IncidentOps.Engine.Reports.Charts.ReviewCharts', $true)
        $w1 = [DateOnly]::new(2026, 11, 2)
        $weekly = New-TypedList WeeklySeverityCount @(
            (New-Typed WeeklySeverityCount @($w1, 'P1', 2)), (New-Typed WeeklySeverityCount @($w1, 'P2', 3)),
            (New-Typed WeeklySeverityCount @($w1.AddDays(7), 'P0', 1)),
            (New-Typed WeeklySeverityCount @($w1.AddDays(14), 'P1', 1)), (New-Typed WeeklySeverityCount @($w1.AddDays(14), 'P2', 1)), (New-Typed WeeklySeverityCount @($w1.AddDays(14), 'P3', 4)))
        $t0 = [DateTimeOffset]::new(2026, 11, 2, 9, 0, 0, [TimeSpan]::Zero)
        $resolve = New-TypedList ResolveTime @(
            (New-Typed ResolveTime @('INC-20261102-001', 'P1', $t0, [TimeSpan]::FromMinutes(30))),
            (New-Typed ResolveTime @('INC-20261105-001', 'P1', $t0.AddDays(3), [TimeSpan]::FromHours(4))),
            (New-Typed ResolveTime @('INC-20261111-001', 'P2', $t0.AddDays(9), [TimeSpan]::FromMinutes(90))))
        $compliance = New-TypedList SeverityCompliance @(
            (New-Typed SeverityCompliance @('P0', 1, 1)), (New-Typed SeverityCompliance @('P1', 1, 3)), (New-Typed SeverityCompliance @('P2', 3, 4)), (New-Typed SeverityCompliance @('P3', 0, 0)))
        $charts = @(
            $review.GetMethod('IncidentsPerWeek').Invoke($null, [object[]]@($weekly, 'incidents-per-week'))
            $review.GetMethod('TimeToResolve').Invoke($null, [object[]]@($resolve, 'time-to-resolve'))
            $review.GetMethod('TargetCompliance').Invoke($null, [object[]]@($compliance, 'target-compliance'))
        )
        $script:reviewHtml = Join-Path $root.Dir 'review-charts.html'
        Set-Content -LiteralPath $reviewHtml -Encoding utf8 -Value (@(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Review charts</title>'
            '<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#111;background:#fff}figure.chart svg{max-width:100%;height:auto;display:block}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>'
            '<h1>Review charts (test page)</h1>'
        ) + @($charts | ForEach-Object { $_.Html }) + '</body></html>')
        $script:reviewPng = Join-Path $root.Dir 'review-charts.png'
        $script:reviewDom = Save-HtmlScreenshotAndDom -HtmlPath $reviewHtml -PngPath $reviewPng -Width 1100 -Height 1600
        Save-ChartArtifact $reviewPng | Out-Null
        Save-ChartArtifact $reviewHtml | Out-Null
    }

    It 'renders a page that is not blank' {
        (Get-PngInk $reviewPng).Ink | Should -BeGreaterThan 10000
    }

    It 'draws three accessible charts, each with its table' {
        ([regex]::Matches($reviewDom, '<svg[^>]*role="img"')).Count | Should -Be 3
        Get-DomClassCount $reviewDom 'chart-data' | Should -Be 3
    }

    It 'stacks incidents per week: one segment per week and severity with incidents' {
        Get-DomClassCount $reviewDom 'bar-severity' | Should -Be 6
        Get-DomClassCount $reviewDom 'bar-p3' | Should -Be 1
    }

    It 'draws time to resolve as one point per incident on one line' {
        Get-DomClassCount $reviewDom 'point' | Should -Be 3
        Get-DomClassCount $reviewDom 'line' | Should -Be 1
    }

    It 'draws compliance as one bar per severity with incidents' {
        Get-DomClassCount $reviewDom 'bar-met' | Should -Be 3
        $reviewDom | Should -Match '1 of 3 \(33%\)'
    }
}

Describe 'The review report of a month with known answers in headless Chromium' -Skip:$skipChromium {
    BeforeAll {
        # examples/data/incidents-2026-10 (its README works out the answers): October 2026 has incidents in ISO weeks
        # 41 (P1), 42 (P1), 43 (P2) and 44 (P0, P1, P3); five of the six are resolved; response targets met P0 1/1,
        # P1 1/3, P2 1/1, P3 1/1.
        $script:reviewDir = Join-Path $root.Dir 'review-month'
        New-Item -ItemType Directory -Path $reviewDir | Out-Null
        $cfg = Join-Path $reviewDir 'incidentops.yml'
        Set-Content -Path $cfg -Value "store:`n  path: $(Join-Path $reviewDir 'store')`n"
        $zip = Join-Path $reviewDir 'incidents.zip'
        Compress-Archive -Path (Join-Path $PSScriptRoot '../../examples/data/incidents-2026-10/*') -DestinationPath $zip
        Import-Incident -Path $zip -ConfigPath $cfg -Confirm:$false | Out-Null
        $script:monthHtml = Join-Path $reviewDir 'review-2026-10.html'
        New-IncidentReport -Kind Review -Since 2026-10-01T00:00:00Z -Until 2026-11-01T00:00:00Z -Format Html -Path $monthHtml -ConfigPath $cfg | Out-Null
        $script:monthPng = Join-Path $reviewDir 'review-2026-10.png'
        $script:monthDom = Save-HtmlScreenshotAndDom -HtmlPath $monthHtml -PngPath $monthPng -Width 1200 -Height 2400
        Save-ChartArtifact $monthPng | Out-Null
        Save-ChartArtifact $monthHtml | Out-Null
    }

    It 'renders a page that is not blank' {
        (Get-PngInk $monthPng).Ink | Should -BeGreaterThan 10000
    }

    It 'draws its three charts as accessible images inside the charts section, each next to its table' {
        ([regex]::Matches($monthDom, '<svg[^>]*role="img"')).Count | Should -Be 3
        ([regex]::Matches($monthDom, '<figure class="chart" data-chart="[^"]+"[^>]*>[^§]*?<svg')).Count | Should -Be 3
        $monthDom | Should -Not -Match '<script'
    }

    It 'stacks one segment per week and severity that had incidents: 1 + 1 + 1 + 3' {
        Get-DomClassCount $monthDom 'bar-severity' | Should -Be 6
        Get-DomClassCount $monthDom 'bar-p0' | Should -Be 1
        Get-DomClassCount $monthDom 'bar-p1' | Should -Be 3
    }

    It 'draws time to resolve for the five resolved incidents, and compliance for the four severities' {
        Get-DomClassCount $monthDom 'point' | Should -Be 5
        Get-DomClassCount $monthDom 'bar-met' | Should -Be 4
        $monthDom | Should -Match '1 of 3 \(33%\)'
    }
}
