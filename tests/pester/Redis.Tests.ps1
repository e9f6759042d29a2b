#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Needs a Redis on loopback: $env:INCIDENTOPS_TEST_REDIS (host:port, as .ci/run exports) or 127.0.0.1:6379.
# Uses databases 7 and 8 only.
BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $repo 'out/IncidentOps') -Force
    $endpoint = if ($env:INCIDENTOPS_TEST_REDIS) { $env:INCIDENTOPS_TEST_REDIS } else { '127.0.0.1:6379' }
    $hostName, $port = $endpoint -split ':'
    function Invoke-RedisCli { param([Parameter(ValueFromRemainingArguments)] [string[]] $Arguments) & redis-cli -h $hostName -p $port @Arguments }
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $closedPort = $listener.LocalEndpoint.Port
    $listener.Stop()
}

Describe 'Test-RedisConnection' {
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

    It 'returns an unreachable result, not an error, for a closed port' {
        $result = Test-RedisConnection -ConnectionString "127.0.0.1:$closedPort" -TimeoutSec 2 -ErrorAction Stop
        $result.Reachable | Should -BeFalse
        $result.Reason | Should -Not -BeNullOrEmpty
    }
}

Describe 'Get-RedisInfo' {
    It 'returns one keyspace object per database' {
        Invoke-RedisCli -n 7 FLUSHDB | Out-Null
        Invoke-RedisCli -n 7 MSET pester:a 1 pester:b 2 | Out-Null
        $db7 = Get-RedisInfo Keyspace -ConnectionString $endpoint | Where-Object Database -eq 7
        $db7.Keys | Should -Be 2
    }

    It 'returns memory figures as numbers' {
        $memory = Get-RedisInfo Memory -ConnectionString $endpoint
        $memory | Should -BeOfType ([IncidentOps.Redis.RedisMemoryInfo])
        $memory.UsedMemory | Should -BeGreaterThan 0
        $memory.EvictionPolicy | Should -Not -BeNullOrEmpty
    }

    It 'fails with RedisConnectionFailed for a closed port' {
        { Get-RedisInfo -ConnectionString "127.0.0.1:$closedPort" -TimeoutSec 2 -ErrorAction Stop } |
            Should -Throw -ErrorId 'RedisConnectionFailed,IncidentOps.Commands.GetRedisInfoCommand'
    }
}

Describe 'Get-RedisClient and Get-RedisSlowLog' {
    It 'lists clients as objects' {
        @(Get-RedisClient -ConnectionString $endpoint).Count | Should -BeGreaterThan 0
    }

    It 'returns slow log entries as objects' {
        @(Get-RedisSlowLog -ConnectionString $endpoint -Count 5) | ForEach-Object { $_ | Should -BeOfType ([IncidentOps.Redis.RedisSlowLogEntry]) }
    }
}

Describe 'Clear-RedisDatabase' {
    BeforeEach {
        Invoke-RedisCli -n 8 FLUSHDB | Out-Null
        Invoke-RedisCli -n 8 MSET pester:1 1 pester:2 2 pester:3 3 | Out-Null
    }

    It 'changes nothing with -WhatIf' {
        Clear-RedisDatabase -ConnectionString $endpoint -Database 8 -WhatIf
        Invoke-RedisCli -n 8 DBSIZE | Should -Be 3
    }

    It 'flushes only the chosen database and reports the counts' {
        $result = Clear-RedisDatabase -ConnectionString $endpoint -Database 8 -Force
        $result.KeysBefore | Should -Be 3
        $result.KeysAfter | Should -Be 0
        Invoke-RedisCli -n 8 DBSIZE | Should -Be 0
    }
}
