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

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Test-RedisConnection | Out-Null
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Test-RedisConnection -ConfigPath '$($root.Config)' -Service production/c" | Should -Contain 'production/cache'
    }
}
