#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Test-RedisConnection against a real Redis on loopback.
# Needs a Redis on loopback in $env:INCIDENTOPS_TEST_REDIS (host:port, as .ci/run exports). Without one the tests
# skip, except under CI=true, where they run against 127.0.0.1:6379 and fail with the connection error.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $noRedis = Test-SkipWithout 'INCIDENTOPS_TEST_REDIS'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-RedisTestFile
}

AfterAll { Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)


Describe 'Test-RedisConnection' -Skip:$noRedis {
    It 'reports a reachable master with ordered latencies' {
        $result = Test-RedisConnection -ConnectionString $endpoint -Count 5
        $result.Reachable | Should -BeTrue
        $result.Role | Should -Be 'master'
        $result.LatencyMinMs | Should -BeLessOrEqual $result.LatencyP50Ms
        $result.LatencyP50Ms | Should -BeLessOrEqual $result.LatencyMaxMs
    }

    It 'accepts a <Form> connection' -TestCases @(
        @{ Form = 'host:port'; Text = '{0}' }
        @{ Form = 'redis:// URL'; Text = 'redis://{0}/7' }
    ) {
        Test-RedisConnection -ConnectionString ($Text -f $endpoint) -Quiet | Should -BeTrue
    }

    It 'reads a configured service' {
        (Test-RedisConnection -Service production/cache -ConfigPath $root.Config).Reachable | Should -BeTrue
    }

    It 'returns an unreachable result, not an error, for a closed port' {
        $result = Test-RedisConnection -ConnectionString "127.0.0.1:$closedPort" -TimeoutSec 2 -ErrorAction Stop
        $result.Reachable | Should -BeFalse
        $result.Reason | Should -Not -BeNullOrEmpty
    }
}

Describe 'Test-RedisConnection in a real host' -Skip:$noRedis {
    It 'shows reachability first and the whole Reason at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $rows = @(Test-RedisConnection -ConnectionString $endpoint; Test-RedisConnection -ConnectionString "127.0.0.1:$closedPort" -TimeoutSec 2)
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Reachable', 'Endpoint', 'P50Ms', 'Role', 'Reason') { $text | Should -Match "\b$col\b" }
        $text | Should -Match '(?m)^True\s+127\.0\.0\.1'
        Get-ViewColumn $text 'Reason' | Should -Be (($rows.Reason -join '') -replace '\s+', '')
    }

    It 'names the configured service on each row, so two services on one Redis are told apart at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $config = Join-Path (New-TestTempDir 'io-redis-two') 'incidentops.yml'
        Set-Content $config "version: 1`nenvironments:`n  production:`n    services:`n      cache:`n        redis: redis://$endpoint/1`n      sessions:`n        redis: redis://$endpoint/2`n"
        $rows = Test-RedisConnection -Service cache, sessions -Environment production -ConfigPath $config
        $text = Get-RenderedView $rows -Width $Width
        $text | Should -Match '(?m)^True\s+production/cache\s'
        $text | Should -Match '(?m)^True\s+production/sessions\s'
        $text | Should -Match "(?m)^\s+$([regex]::Escape($endpoint))\s*$"
    }

    It 'gives the Reason room at 80 columns: a refused port reads "connection refused" on the row''s first line' {
        $rows = @(Test-RedisConnection -ConnectionString $endpoint; Test-RedisConnection -ConnectionString "127.0.0.1:$closedPort" -TimeoutSec 2)
        $rows[1].Reason | Should -Be 'connection refused: nothing listens on that port'
        $text = Get-RenderedView $rows -Width 80
        $text | Should -Match "(?m)^False\s+127\.0\.0\.1:$closedPort\s+connection refused: nothing"
        # Two lines at most, so a list of endpoints stays readable at 3 a.m.
        @($text -split '\r?\n' | Where-Object { $_ -match '\S' }).Count | Should -BeLessOrEqual 6
        # What the table leaves out stays on the object.
        ($rows[0] | Format-List * | Out-String -Width 80) | Should -Match '(?m)^LatencyMaxMs\s*:\s*\d'
    }

    It 'says "not a Redis server" for an HTTP server on loopback, on one line at 80 columns, with the library''s text in Detail and -Verbose' {
        $http = New-TestHttpListener
        try {
            $port = ([uri]$http.Base).Port
            $answer = $http.Listener.GetContextAsync()
            $r = Test-RedisConnection -ConnectionString "127.0.0.1:$port" -TimeoutSec 3 -Verbose 4>&1
            $result = @($r | Where-Object { $_ -is [IncidentOps.Redis.RedisConnectionTest] })[0]
            $result.Reason | Should -Be 'not a Redis server'
            $result.Detail | Should -Not -BeNullOrEmpty
            @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and "$_" -match 'not a Redis server; the client library said: ' }).Count | Should -Be 1
            $text = Get-RenderedView $result -Width 80
            $text | Should -Match "(?m)^False\s+127\.0\.0\.1:$port\s+not a Redis server\s*$"
        }
        finally { $http.Listener.Close() }
    }

    It 'says a password given to a Redis that needs none was refused, in the Reason at 80 columns and as a warning' {
        $r = Test-RedisConnection -ConnectionString "redis://:Pester-Unneeded-Pw@$endpoint" -TimeoutSec 5 -WarningVariable warned -WarningAction SilentlyContinue
        $r.Reachable | Should -BeTrue
        $r.Reason | Should -Be 'password refused: none needed'
        "$warned" | Should -Match 'refused the password given .* but needs none'
        "$warned$($r.Detail)" | Should -Not -Match 'Pester-Unneeded-Pw'
        $text = Get-RenderedView $r -Width 80
        $text | Should -Match '(?m)^True\s+\S+\s+[\d.]+\s+\w+\s+password refused: none needed\s*$'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Test-RedisConnection | Out-Null
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Test-RedisConnection -ConfigPath '$($root.Config)' -Service production/c" | Should -Contain 'production/cache'
    }
}

# A TLS-only redis-server with a self-signed certificate for 127.0.0.1 (openssl makes it), as a private CA's Redis would be.
Describe 'Test-RedisConnection against a TLS Redis with a self-signed certificate' -Skip:($noRedis -or -not (Get-Command redis-server, openssl -ErrorAction SilentlyContinue)) {
    BeforeAll {
        $tlsDir = New-TestTempDir 'io-redis-tls'
        $crt = Join-Path $tlsDir 'ca.pem'
        & openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=127.0.0.1' -addext 'subjectAltName=IP:127.0.0.1' `
            -keyout (Join-Path $tlsDir 'key.pem') -out $crt 2>$null
        # TLS only (--port 0), on a free TLS port, tried again if another process took it first (Common.ps1).
        $tlsPort = (Start-TestRedisServer $tlsDir -PortOptions '--tls-port' -Arguments '--port', '0', '--tls-cert-file', $crt, '--tls-key-file', (Join-Path $tlsDir 'key.pem'), '--tls-auth-clients', 'no').Port
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ([DateTime]::UtcNow -lt $deadline) {
            try { $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $tlsPort); $c.Dispose(); break } catch { Start-Sleep -Milliseconds 50 }
        }
        $url = "rediss://127.0.0.1:$tlsPort"
    }
    AfterAll {
        $pidFile = Join-Path $tlsDir 'redis.pid'
        if (Test-Path $pidFile) { Stop-Process -Id ([int](Get-Content $pidFile -Raw)) -ErrorAction SilentlyContinue }
    }

    It 'says the certificate is not trusted and how to trust it, at 80 columns' {
        $r = Test-RedisConnection -ConnectionString $url -TimeoutSec 3
        $r.Reachable | Should -BeFalse
        $r.Reason | Should -BeLike 'TLS certificate not trusted (*); pass its CA with -CaCertificate'
        $text = Get-RenderedView $r -Width 80
        ($text -replace '\s+', '') | Should -Match 'passitsCAwith-CaCertificate'
        $e = $null
        Get-RedisInfo Server -ConnectionString $url -TimeoutSec 3 -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'RedisConnectionFailed,IncidentOps.Commands.GetRedisInfoCommand'
        "$($e[0])" | Should -Match 'pass -CaCertificate <ca.pem>, or set caCertificate:'
    }

    It 'connects with -CaCertificate, with caCertificate in the configuration, and with -SkipCertificateCheck' {
        (Test-RedisConnection -ConnectionString $url -CaCertificate $crt -TimeoutSec 5).Reachable | Should -BeTrue
        (Test-RedisConnection -ConnectionString $url -SkipCertificateCheck -TimeoutSec 5).Reachable | Should -BeTrue
        $config = Join-Path $tlsDir 'incidentops.yml'
        Set-Content $config "version: 1`nenvironments:`n  production:`n    services:`n      cache:`n        redis: { url: '$url', caCertificate: ca.pem }`nstore:`n  path: $tlsDir`n"
        $r = Test-RedisConnection -Service production/cache -ConfigPath $config -TimeoutSec 5
        $r.Reachable | Should -BeTrue
        $r.Tls | Should -BeTrue
        (Get-RedisInfo Server -Service cache -ConfigPath $config -TimeoutSec 5).Version | Should -Not -BeNullOrEmpty
    }

    It 'refuses a -CaCertificate that is no certificate with RedisCaCertificateInvalid' {
        $bad = Join-Path $tlsDir 'notes.txt'
        Set-Content $bad 'not a certificate'
        { Test-RedisConnection -ConnectionString $url -CaCertificate $bad -ErrorAction Stop } |
            Should -Throw -ErrorId 'RedisCaCertificateInvalid,IncidentOps.Commands.TestRedisConnectionCommand'
    }
}
