#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Issue 19, pictures: the alerting rounds' health samples over an incident's whole life. Several Invoke-ServiceAlert
# rounds against a loopback HTTP server that fails, then recovers; the incident is closed by hand and more rounds run;
# then New-IncidentReport -Format Html. The health table and chart carry one sample from every round that ran while
# the incident was open (and none from the rounds after), and headless Chromium draws them.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'ChromiumKit.ps1')
    $skipChromium = Test-SkipWithoutChromium
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    . (Join-Path $PSScriptRoot 'ChromiumKit.ps1')
    Import-IncidentOps

    # A loopback health endpoint that answers each GET with the next scripted status code (200 once the script is used up).
    function Start-FlakyHealth([int[]] $Codes) {
        # A started listener on a free port (New-TestHttpListener of Common.ps1 retries with a fresh port and listener
        # when another process took the probed port before Start).
        $http = New-TestHttpListener
        $listener = $http.Listener
        $port = ([uri]$http.Base).Port
        $queue = [System.Collections.Queue]::Synchronized([System.Collections.Queue]::new())
        foreach ($c in $Codes) { $queue.Enqueue($c) }
        $state = [hashtable]::Synchronized(@{ Served = 0 })
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
            param($listener, $queue, $state)
            while ($listener.IsListening) {
                try { $ctx = $listener.GetContext() } catch { break }
                $state.Served++
                $code = if ($queue.Count -gt 0) { [int]$queue.Dequeue() } else { 200 }
                $ctx.Response.StatusCode = $code
                $bytes = [Text.Encoding]::UTF8.GetBytes($(if ($code -lt 400) { '{"status":"ok"}' } else { '{"status":"down"}' }))
                try { $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length); $ctx.Response.Close() } catch { }
            }
        }).AddArgument($listener).AddArgument($queue).AddArgument($state)
        $handle = $ps.BeginInvoke()
        [pscustomobject]@{ Url = "http://127.0.0.1:$port"; Listener = $listener; PowerShell = $ps; Handle = $handle; State = $state }
    }

    # 2 healthy rounds, 5 failing (declared at the 3rd failure), 4 healthy (Monitoring after 2), then closed by hand
    # and 3 more rounds: 3 + 4 = 7 rounds run while the incident was open, 3 of them failing.
    $script:health = Start-FlakyHealth (@(200) * 2 + @(503) * 5 + @(200) * 7)
    $script:stub = Start-ProviderStub
    $script:root = New-TestRoot @"
environments:
  production:
    services:
      api: { health: ['$($health.Url)/health?token=CANARYsampleT0k3n'] }
channels:
  hook: { type: webhook, url: '$($stub.Url)/hooks/CANARYsampleHook' }
routing:
  P1: [hook]
alerting:
  failureThreshold: 3
  successThreshold: 2
  severity: P1
"@
    $script:decisions = @(foreach ($i in 1..11) { Invoke-ServiceAlert -ConfigPath $root.Config -ErrorAction Stop })
    $script:incidentId = ($decisions | Where-Object Action -EQ 'Declared').IncidentId
    # -WhatIf rounds while it is open keep nothing.
    $script:previews = @(foreach ($i in 1..2) { Invoke-ServiceAlert -ConfigPath $root.Config -WhatIf })
    Close-Incident -ConfigPath $root.Config -Id $incidentId -Resolution 'Recovered by itself' -Force | Out-Null
    $script:after = @(foreach ($i in 1..3) { Invoke-ServiceAlert -ConfigPath $root.Config -ErrorAction Stop })
    $script:htmlPath = Join-Path $root.Dir 'post-mortem.html'
    New-IncidentReport -ConfigPath $root.Config -Id $incidentId -Format Html -Path $htmlPath | Out-Null
    $script:html = Get-Content -Raw $htmlPath
    $m = [regex]::Match($html, '<table class="chart-data"><caption>Health samples: latency and failures \(data\)</caption>(.*?)</table>', 'Singleline')
    $script:healthRows = @([regex]::Matches($m.Groups[1].Value, '<tr><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td></tr>') | ForEach-Object { $_.Groups[1].Value })
    $script:roundFiles = @(Get-ChildItem (Join-Path $root.Store "incidents/$incidentId/evidence") -Filter 'health-rounds-*.json')
}

AfterAll {
    if ($script:health) { try { $health.Listener.Stop(); $health.Listener.Close() } catch { }; $health.PowerShell.Dispose() }
    if ($script:stub) { Stop-ProviderStub $stub }
    Remove-TestTemp
}

Describe 'Invoke-ServiceAlert keeps the health samples of every round while the incident is open' {
    It 'declared at the third failure, recovered, and the endpoint answered every round' {
        $incidentId | Should -Match '^INC-\d{8}-\d{3}$'
        $decisions[4].Action | Should -Be 'Declared'
        ($decisions | Where-Object Action -EQ 'Recovered').Count | Should -Be 1
        $previews | ForEach-Object { $_.WhatIf | Should -BeTrue }
        $health.State.Served | Should -Be 16   # 11 rounds + 2 previews + 3 after closing
    }

    It 'keeps one document per round that ran while it was open: none before, none from -WhatIf, none after it was closed' {
        $roundFiles.Count | Should -Be 7
    }

    It 'never stores the token of the probed URL or a response body' {
        foreach ($f in $roundFiles) {
            $text = Get-Content -Raw $f.FullName
            $text | Should -Not -Match 'CANARY'
            $text | Should -Not -Match '"body"'
        }
        $html | Should -Not -Match 'CANARY'
    }

    It 'the post-mortem health table has a row for every round while open, in order: 3 failures, then 4 healthy' {
        $healthRows.Count | Should -Be 7
        @($healthRows | ForEach-Object { if ($_ -like 'Failed*') { 'F' } else { $_ } }) | Should -Be @('F', 'F', 'F', 'Healthy', 'Healthy', 'Healthy', 'Healthy')
    }

    It 'the post-mortem health chart draws a point for every round and a cross for each failure' {
        ([regex]::Matches($html, 'class="point point-')).Count | Should -Be 7
        ([regex]::Matches($html, 'class="point point-failed"')).Count | Should -Be 3
    }
}

Describe 'The post-mortem of the alerted incident in headless Chromium' -Skip:$skipChromium {
    BeforeAll {
        $script:png = Join-Path $root.Dir 'alerted-post-mortem.png'
        $script:dom = Save-HtmlScreenshotAndDom -HtmlPath $htmlPath -PngPath $png -Width 1200 -Height 3200
        Save-ChartArtifact $png | Out-Null
    }

    It 'renders a page that is not blank' {
        (Get-PngInk $png).Ink | Should -BeGreaterThan 20000
    }

    It 'draws one point per round, a cross per failed round and one line for the endpoint' {
        Get-DomClassCount $dom 'point' | Should -Be 7
        Get-DomClassCount $dom 'point-failed' | Should -Be 3
        Get-DomClassCount $dom 'line' | Should -Be 1
    }
}
