#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-RedisInfo against a real Redis on loopback (database 15 only: the xunit tests, which run at the same time on the
# same server, use databases 1-7 and 10-14; the other Pester files 8 and 9).
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


Describe 'Get-RedisInfo' -Skip:$noRedis {
    It 'returns one keyspace object per database' {
        Invoke-RedisCli -n 15 FLUSHDB | Out-Null
        Invoke-RedisCli -n 15 MSET pester:a 1 pester:b 2 | Out-Null
        $db15 = Get-RedisInfo Keyspace -ConnectionString $endpoint | Where-Object Database -EQ 15
        $db15.Keys | Should -Be 2
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

Describe 'Get-RedisInfo in a real host' -Skip:$noRedis {
    It 'renders the <Section> view at 80 and 120 columns' -TestCases @(
        @{ Section = 'Server'; Expect = 'Version', 'Mode', 'UptimeHuman' }
        @{ Section = 'Clients'; Expect = 'ConnectedClients', 'MaxClients' }
        @{ Section = 'Memory'; Expect = 'UsedMemoryHuman', 'EvictionPolicy' }
        @{ Section = 'Persistence'; Expect = 'LastBgSaveStatus', 'AofEnabled' }
        @{ Section = 'Stats'; Expect = 'InstantaneousOpsPerSec', 'HitRatePercent' }
        @{ Section = 'Replication'; Expect = 'Role', 'ConnectedReplicas' }
        @{ Section = 'Keyspace'; Expect = 'Database', 'Keys', 'Expires' }
    ) {
        Invoke-RedisCli -n 15 SET pester:view 1 | Out-Null
        $info = Get-RedisInfo $Section -ConnectionString $endpoint
        foreach ($w in 80, 120) {
            $text = Get-RenderedView $info -Width $w
            foreach ($e in $Expect) { $text | Should -Match "\b$e\b" }
        }
    }

    It 'shows every section with its own view when no -Section is given (not all properties and the raw Fields)' {
        Invoke-RedisCli -n 15 SET pester:view 1 | Out-Null
        $text = Get-RenderedView (Get-RedisInfo -ConnectionString $endpoint) -Width 80
        $text | Should -Not -Match '(?m)^(Fields|Section|UsedMemory|ClientRecentMaxInputBuffer)\s*:'
        foreach ($e in 'UptimeHuman', 'ConnectedClients', 'UsedMemoryHuman', 'EvictionPolicy', 'LastBgSaveStatus', 'HitRatePercent', 'MasterLinkStatus') {
            $text | Should -Match "(?m)^$e\s*:"
        }
        $text | Should -Match '(?m)^Database\s*: 15$'
    }

    It 'says a maxmemory of 0 is no limit, not a limit of 0 bytes' {
        $memory = Get-RedisInfo Memory -ConnectionString $endpoint
        if ($memory.MaxMemory -ne 0) { Set-ItResult -Skipped -Because 'the test Redis has a maxmemory' }
        $text = Get-RenderedView $memory -Width 80
        $text | Should -Match '(?m)^MaxMemoryHuman\s+: 0B \(no limit\)\s*$'
        $text | Should -Match '(?m)^UsedPercentOfMax\s+: n/a \(no maxmemory\)\s*$'
    }

    It 'shows the keyspace average TTL as a duration (55s), not 00:00:55' {
        # Redis estimates avg_ttl lazily (it can read 0 right after a SET ... EX), so the row is built with a known TTL.
        $row = [IncidentOps.Redis.RedisKeyspaceInfo]@{ Endpoint = $endpoint; Database = 7; Keys = 1; Expires = 1; AvgTtlMs = 55000 }
        $text = Get-RenderedView $row -Width 80
        $text | Should -Match '\s7\s+1\s+1\s+55s'
        $text | Should -Not -Match '\d\d:\d\d:\d\d'
    }

    It 'says the keyspace is empty on a Redis with no keys, at 80 and 120 columns (table and list)' {
        $emptyDir = New-TestTempDir 'io-redis-empty'
        $emptyPort = (Start-TestRedisServer $emptyDir).Port   # a free port, tried again if another process took it first (Common.ps1)
        try {
            $until = [DateTime]::UtcNow.AddSeconds(10)
            while ((& redis-cli -p $emptyPort PING) -ne 'PONG' -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }
            $row = Get-RedisInfo Keyspace -ConnectionString "127.0.0.1:$emptyPort" -ErrorAction Stop
            $row.Empty | Should -BeTrue
            foreach ($w in 80, 120) {
                $text = Get-RenderedView $row -Width $w
                $text | Should -Match "(?m)^127\.0\.0\.1:$emptyPort\s+\(empty\)\s+0\s+0\s*$"
            }
            ($row | Format-List | Out-String -Width 80) | Should -Match '(?m)^Database\s+: \(empty: no keys in any database\)$'
        }
        finally { & redis-cli -p $emptyPort SHUTDOWN NOSAVE 2>$null | Out-Null }
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-RedisInfo | Out-Null
    }

    It 'completes -Service and the sections' {
        Get-CompletionText "Get-RedisInfo -ConfigPath '$($root.Config)' -Service production/c" | Should -Contain 'production/cache'
        Get-CompletionText 'Get-RedisInfo -Section Mem' | Should -Be 'Memory'
    }
}

# A Redis of its own with two users that share one password: default may do everything, the ACL user ops may not read
# INFO. So which user -Credential logged in as is observable.
Describe 'Get-RedisInfo -Credential' -Skip:$noRedis {
    BeforeAll {
        $aclPw = 'PesterAcl-Pw-5821'
        $aclDir = New-TestTempDir 'io-redis-acl'
        $aclPort = (Start-TestRedisServer $aclDir -Arguments '--requirepass', $aclPw).Port
        $env:REDISCLI_AUTH = $aclPw
        $until = [DateTime]::UtcNow.AddSeconds(10)
        while ((& redis-cli -p $aclPort PING) -ne 'PONG' -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }
        & redis-cli -p $aclPort ACL SETUSER ops on ">$aclPw" '~*' '&*' '+@all' '-info' | Out-Null
        $opsUrl = "redis://ops:$aclPw@127.0.0.1:$aclPort/0"
        $secure = [Net.NetworkCredential]::new('', $aclPw).SecurePassword
    }
    AfterAll {
        & redis-cli -p $aclPort SHUTDOWN NOSAVE 2>$null | Out-Null
        Remove-Item Env:REDISCLI_AUTH -ErrorAction SilentlyContinue
    }

    It 'is refused INFO as the URL''s user ops (the users can be told apart)' {
        Get-RedisInfo Server -ConnectionString $opsUrl -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'RedisCommandFailed,IncidentOps.Commands.GetRedisInfoCommand'
        "$($err[0])" | Should -Match 'NOPERM'
    }

    It 'logs in as Redis''s default user with the user name <User>, not as the URL''s user' -TestCases @(@{ User = 'default' }, @{ User = ' ' }) {
        $info = Get-RedisInfo Server -ConnectionString $opsUrl -Credential ([pscredential]::new($User, $secure)) -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -BeNullOrEmpty
        $info.Version | Should -Not -BeNullOrEmpty
    }

    It 'says whether the password is <Case> in Test-RedisConnection''s Reason and in the error, without the client library''s text' -TestCases @(
        @{ Case = 'missing'; Url = 'redis://127.0.0.1:{0}/0'; Reason = 'authentication failed: the server requires a password and none was given (NOAUTH)' }
        @{ Case = 'wrong'; Url = 'redis://:Wrong-Pw@127.0.0.1:{0}/0'; Reason = 'authentication failed: wrong user name or password' }
    ) {
        $url = $Url -f $aclPort
        $row = Test-RedisConnection -ConnectionString $url -TimeoutSec 3 -ErrorAction Stop
        $row.Reachable | Should -BeFalse
        $row.Reason | Should -Be $Reason
        $text = Get-RenderedView $row -Width 80
        $text | Should -Not -Match 'UnableToResolvePhysicalConnection|SimpleError|Attempted command'
        Get-RedisInfo Server -ConnectionString $url -TimeoutSec 3 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'RedisAuthenticationFailed,IncidentOps.Commands.GetRedisInfoCommand'
        "$($err[0])" | Should -BeLike "*$Reason. Check the password (-Credential*"
        "$($err[0])" | Should -Not -Match 'Wrong-Pw'
    }

    It 'replaces the URL''s user and password with its own' {
        Get-RedisInfo Server -ConnectionString "redis://default:Wrong-Pw@127.0.0.1:$aclPort/0" -Credential ([pscredential]::new('ops', $secure)) -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        "$($err[0])" | Should -Match 'NOPERM' -Because 'ops (from -Credential) logged in, with its password, and may not read INFO'
        "$($err[0])" | Should -Not -Match ([regex]::Escape($aclPw))
    }

    It 'says in its help what the user name default means' {
        $help = (Get-Help Get-RedisInfo -Parameter Credential | Out-String) -replace '\s+', ' '
        $help | Should -Match 'Replaces the user and password of the connection string entirely'
        $help | Should -Match 'user name "default"'
    }
}
