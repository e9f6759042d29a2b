#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Test-ServiceHealth against a loopback HTTP server (HttpListener on 127.0.0.1); no network beyond loopback.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    Import-IncidentOps
    $server = Start-TestHttpServer @{
        '/json'         = @{ Type = 'application/json'; Body = '{"status":"ok","services":{"db":{"status":"up"},"redis":{"status":"down"}}}' }
        '/503'          = @{ Code = 503; Body = 'down' }
        '/health/services' = @{ Code = 503; Type = 'application/json'; Body = '{"status":"degraded","services":{"database":{"status":"ok"},"redis":{"status":"down","error":"connect ECONNREFUSED 10.0.0.7:6379 (redis://app:s3cretCanary@10.0.0.7:6379)"}}}' }
        '/health/ready' = @{ Code = 503; Body = 'not ready' }
    }
    $base = $server.Base
    $root = New-OpsTestRoot "      web:`n        health:`n          - $base/health`n          - $base/health/ready`n          - $base/health/live`n"
}

AfterAll { Stop-TestServer $server; Remove-TestTemp }

Describe 'Test-ServiceHealth' {
    It 'reports <Path> as Healthy=<Healthy> with FailureKind <Kind>' -TestCases @(
        @{ Path = '/ok'; Healthy = $true; Kind = 'None' }
        @{ Path = '/503'; Healthy = $false; Kind = 'UnexpectedStatus' }
    ) {
        $r = Test-ServiceHealth "$base$Path"
        $r.Healthy | Should -Be $Healthy
        $r.FailureKind.ToString() | Should -Be $Kind
    }

    It 'parses JSON bodies and component statuses' {
        $r = Test-ServiceHealth "$base/json" -Condition '[BODY].status == ok'
        $r.Healthy | Should -Be $true
        $r.Body.status | Should -Be 'ok'
        ($r.Components | Where-Object Name -EQ 'redis').Healthy | Should -Be $false
    }

    It 'shows a down component''s own error at <Width> columns, with its credentials masked' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        # Seed 000: curl .../health/services, which component is down and why.
        $r = Test-ServiceHealth "$base/health/services"
        $redis = $r.Components | Where-Object Name -EQ 'redis'
        $redis.Detail | Should -BeLike 'connect ECONNREFUSED 10.0.0.7:6379*'
        $text = Get-RenderedView $r.Components -Width $Width
        foreach ($col in 'Healthy', 'Name', 'Status', 'Detail') { $text | Should -Match "\b$col\b" }
        $text | Should -Match '(?m)^False\s+redis\s+down\s+connect ECONNREFUSED'
        ($text -replace '\s+', '') | Should -Match ([regex]::Escape('connectECONNREFUSED10.0.0.7:6379'))
        $text | Should -Not -Match 's3cretCanary'
    }

    It 'returns one boolean with -Quiet' {
        Test-ServiceHealth "$base/ok", "$base/503" -Quiet | Should -Be $false
    }

    It 'probes every health endpoint of a configured service' {
        $r = @(Test-ServiceHealth -Service production/web -ConfigPath $root.Config)
        $r.Count | Should -Be 3
        ($r | Where-Object { -not $_.Healthy }).Uri | Should -Be "$base/health/ready"
        $r | ForEach-Object { $_.Service | Should -Be 'production/web' }
    }

    It 'reports a refused port as a result, not an error' {
        $r = Test-ServiceHealth 'http://127.0.0.1:9/' -TimeoutSec 2 -ErrorAction Stop
        $r.Healthy | Should -Be $false
    }

    It 'rejects an invalid URI with HealthUriInvalid' {
        { Test-ServiceHealth 'not-a-uri' -ErrorAction Stop } | Should -Throw -ErrorId 'HealthUriInvalid,IncidentOps.Commands.TestServiceHealthCommand'
    }

    It 'aggregates -Count probes (<Name>)' -TestCases @(
        @{ Name = '-IntervalMs 10'; Probe = { Test-ServiceHealth "$base/ok" -Count 3 -IntervalMs 10 } }
        @{ Name = '-Interval 10ms'; Probe = { Test-ServiceHealth "$base/ok" -Count 3 -Interval 10ms } }
    ) {
        param($Probe)
        $r = & $Probe
        $r.Samples | Should -Be 3
        $r.SuccessRatio | Should -Be 1
    }

    It 'refuses -Interval with -IntervalMs (HealthIntervalConflict)' {
        { Test-ServiceHealth "$base/ok" -Count 2 -Interval 1s -IntervalMs 10 -ErrorAction Stop } | Should -Throw -ErrorId 'HealthIntervalConflict,IncidentOps.Commands.TestServiceHealthCommand'
    }

    It 'has -TimeoutSec as a [double], as every cmdlet does' {
        (Get-Command Test-ServiceHealth).Parameters.TimeoutSec.ParameterType | Should -Be ([double])
        @(Get-Command -Module IncidentOps -CommandType Cmdlet | Where-Object { $_.Parameters.ContainsKey('TimeoutSec') -and $_.Parameters.TimeoutSec.ParameterType -ne [double] }).Name | Should -BeNullOrEmpty
    }
}

Describe 'Test-ServiceHealth in a real host' {
    BeforeAll {
        $rows = @(Test-ServiceHealth -Service production/web -ConfigPath $root.Config) + @(Test-ServiceHealth 'http://127.0.0.1:9/health/live' -TimeoutSec 2)
    }

    It 'tells /health, /health/ready and /health/live apart at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Healthy', 'Code', 'Ms', 'Target', 'Reason') { $text | Should -Match "\b$col\b" }
        $targets = Get-ViewColumn $text 'Target'
        $authority = ([uri]$base).Authority
        # Each keeps its host and its last path segment (host/…/ready when the whole path does not fit the column).
        $targets | Should -Match ([regex]::Escape("$authority/health"))
        foreach ($last in 'ready', 'live') { $targets | Should -Match ([regex]::Escape("$authority/") + '(health|…)/' + $last) }
    }

    It 'shortens a long URL in the middle, never wrapping it mid-path, and keeps the full Uri on the object, at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $url = 'https://api.internal.example.com/v2/services/payments/health/ready'
        $long = [IncidentOps.Health.HealthResult]@{ Uri = $url; Service = 'production/payments'; Healthy = $true; StatusCode = 200; TotalMs = 12 }
        $short = [IncidentOps.Health.HealthResult]@{ Uri = 'https://api.example.net/health'; Healthy = $true; StatusCode = 200; TotalMs = 9 }
        $text = Get-RenderedView @($long, $short) -Width $Width
        # The service, then the host, then the path's last segments after an ellipsis: each whole on a line of its own.
        $text | Should -Match '(?m)^True\s+200\s+12\s+production/payments\s*\r?\n\s+api\.internal\.example\.com\s*\r?\n\s+/…/payments/health/ready\s*$'
        $text | Should -Match '(?m)^True\s+200\s+9\s+api\.example\.net/health\s*$'
        $long.Uri | Should -Be $url
    }

    It 'keeps the whole Reason on screen at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        Get-ViewColumn $text 'Reason' | Should -Be (($rows.Reason -join '') -replace '\s+', '')
        $text | Should -Match 'False\s+503'
    }

    It 'gives the Reason at least 28 columns at 80 and says a refused port once, in plain words' {
        $text = Get-RenderedView $rows -Width 80
        $dashes = ($text -split '\r?\n' | Where-Object { $_ -match '^-+\s' } | Select-Object -First 1)
        $reasonAt = ([regex]::Matches($dashes, '-+') | Select-Object -Last 1).Index
        (80 - $reasonAt) | Should -BeGreaterOrEqual 28
        # The Target column names 127.0.0.1:9 already: the reason does not repeat it, and fits its column on one line.
        ($rows | Where-Object FailureKind -EQ 'ConnectionRefused').Reason | Should -Be 'connection refused'
        $text | Should -Match '(?m)127\.0\.0\.1:9/\S*\s+connection refused\s*$'
    }

    It 'says "no TLS (try http://)" for https to a plain HTTP server, on one line at 80 columns, with the exception text in Error and -Verbose' {
        $https = "$base/ok" -replace '^http://', 'https://'
        $out = Test-ServiceHealth $https -TimeoutSec 5 -Verbose 4>&1
        $r = @($out | Where-Object { $_ -is [IncidentOps.Health.HealthResult] })[0]
        $r.Reason | Should -Be 'no TLS (try http://)'
        $r.Error | Should -Not -BeNullOrEmpty
        @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and "$_" -eq "$($r.Uri): $($r.Reason); $($r.Error)" }).Count | Should -Be 1
        $text = Get-RenderedView $r -Width 80
        $text | Should -Match "(?m)^False\s.*\s+no TLS \(try http://\)\s*$"
    }

    It 'offers the phase timings as the Timings view' {
        $text = $rows | Format-Table -View Timings | Out-String -Width 120
        foreach ($col in 'DnsMs', 'ConnMs', 'TlsMs', 'TtfbMs', 'TotalMs') { $text | Should -Match "\b$col\b" }
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Test-ServiceHealth | Should -Match 'OUTPUTS'
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Test-ServiceHealth -ConfigPath '$($root.Config)' -Service production/w" | Should -Contain 'production/web'
    }
}
