#Requires -Modules Pester
# Pester 5. Runs against out/IncidentOps with a local HttpListener; no network beyond loopback.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/IncidentOps') -Force
    $port = Get-Random -Minimum 20000 -Maximum 40000
    $script:base = "http://127.0.0.1:$port"
    $script:listener = [System.Net.HttpListener]::new()
    $script:listener.Prefixes.Add("$base/")
    $script:listener.Start()
    $script:serverPs = [powershell]::Create()
    $null = $script:serverPs.AddScript({
        param($listener)
        while ($listener.IsListening) {
            try { $ctx = $listener.GetContext() } catch { break }
            $path = $ctx.Request.Url.AbsolutePath
            $code = 200; $body = 'ok'; $type = 'text/plain'
            switch ($path) {
                '/json' { $type = 'application/json'; $body = '{"status":"ok","services":{"db":{"status":"up"},"redis":{"status":"down"}}}' }
                '/503' { $code = 503; $body = 'down' }
            }
            $ctx.Response.StatusCode = $code
            $ctx.Response.ContentType = $type
            $bytes = [Text.Encoding]::UTF8.GetBytes($body)
            $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length)
            $ctx.Response.Close()
        }
    }).AddArgument($script:listener)
    $script:handle = $script:serverPs.BeginInvoke()
}

AfterAll {
    $script:listener.Stop()
    $script:listener.Close()
    $script:serverPs.Dispose()
}

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
        ($r.Components | Where-Object Name -eq 'redis').Healthy | Should -Be $false
    }

    It 'returns one boolean with -Quiet' {
        Test-ServiceHealth "$base/ok", "$base/503" -Quiet | Should -Be $false
    }

    It 'reports a refused port as a result, not an error' {
        $r = Test-ServiceHealth 'http://127.0.0.1:9/' -TimeoutSec 2 -ErrorAction Stop
        $r.Healthy | Should -Be $false
    }

    It 'rejects an invalid URI with HealthUriInvalid' {
        { Test-ServiceHealth 'not-a-uri' -ErrorAction Stop } | Should -Throw -ErrorId 'HealthUriInvalid,IncidentOps.Commands.TestServiceHealthCommand'
    }

    It 'aggregates -Count probes' {
        $r = Test-ServiceHealth "$base/ok" -Count 3 -IntervalMs 10
        $r.Samples | Should -Be 3
        $r.SuccessRatio | Should -Be 1
    }
}

Describe 'Watch-ServiceHealth' {
    It 'ends with a summary once healthy' {
        $out = @(Watch-ServiceHealth "$base/ok" -IntervalSec 0.1 -UntilHealthy -Consecutive 2)
        $summary = $out[-1]
        $summary.StopReason | Should -Be 'UntilHealthy'
        $summary.Samples | Should -Be 2
    }
}
