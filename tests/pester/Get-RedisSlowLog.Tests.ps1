#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-RedisSlowLog against a real Redis on loopback: a redis-server of its own (the slow log threshold and SLOWLOG RESET
# are server-wide, and the xunit tests, which run at the same time, read the shared server's slow log too).
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


Describe 'Get-RedisSlowLog' -Skip:$noRedis {
    BeforeAll {
        $slowDir = New-TestTempDir 'io-redis-slowlog'
        $port = (Start-TestRedisServer $slowDir).Port   # on a free port, tried again on a fresh one if another process took it (Common.ps1)
        $endpoint = "127.0.0.1:$port"
        $until = [DateTime]::UtcNow.AddSeconds(10)
        while ((& redis-cli -p $port PING) -ne 'PONG' -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }
        $threshold = (& redis-cli -p $port CONFIG GET slowlog-log-slower-than)[1]
        & redis-cli -p $port CONFIG SET slowlog-log-slower-than 0 | Out-Null
        & redis-cli -p $port SLOWLOG RESET | Out-Null
        & redis-cli -p $port -n 7 SET pester:slow 1 | Out-Null
        & redis-cli -p $port CONFIG SET slowlog-log-slower-than $threshold | Out-Null
    }
    AfterAll { & redis-cli -p $port SHUTDOWN NOSAVE 2>$null | Out-Null }

    It 'returns slow log entries as objects, newest first' {
        $entries = @(Get-RedisSlowLog -ConnectionString $endpoint -Count 10)
        $entries.Count | Should -BeGreaterThan 0
        $entries | ForEach-Object { $_ | Should -BeOfType ([IncidentOps.Redis.RedisSlowLogEntry]) }
        ($entries.Command -join "`n") | Should -Match 'SET pester:slow'
    }

    It 'renders id, time, duration and the command at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView @(Get-RedisSlowLog -ConnectionString $endpoint -Count 10) -Width $Width
        foreach ($col in 'Id', 'Time', 'DurationMs', 'Command') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'SET pester:slow'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-RedisSlowLog | Out-Null
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Get-RedisSlowLog -ConfigPath '$($root.Config)' -Service production/c" | Should -Contain 'production/cache'
    }
}
