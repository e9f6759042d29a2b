#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-RedisClient against a real Redis on loopback.
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


Describe 'Get-RedisClient' -Skip:$noRedis {
    It 'lists the connected clients as objects with their address and database' {
        $clients = @(Get-RedisClient -ConnectionString "$endpoint")
        $clients.Count | Should -BeGreaterThan 0
        $clients | ForEach-Object {
            $_.PSObject.TypeNames[0] | Should -Be 'IncidentOps.Redis.RedisClient'
            $_.Address | Should -Match '^127\.0\.0\.1:\d+$'
        }
    }

    It 'fails with RedisConnectionFailed for a closed port' {
        { Get-RedisClient -ConnectionString "127.0.0.1:$closedPort" -TimeoutSec 2 -ErrorAction Stop } |
            Should -Throw -ErrorId 'RedisConnectionFailed,IncidentOps.Commands.GetRedisClientCommand'
    }
}

Describe 'Get-RedisClient in a real host' -Skip:$noRedis {
    It 'shows address, database, idle time and last command at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView @(Get-RedisClient -ConnectionString $endpoint) -Width $Width
        foreach ($col in 'Id', 'Address', 'Db', 'Age', 'Idle', 'LastCommand') { $text | Should -Match "\b$col\b" }
        $text | Should -Match '127\.0\.0\.1:\d+'
        $text | Should -Not -Match '\d\d:\d\d:\d\d'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-RedisClient | Out-Null
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Get-RedisClient -ConfigPath '$($root.Config)' -Service production/c" | Should -Contain 'production/cache'
    }
}
