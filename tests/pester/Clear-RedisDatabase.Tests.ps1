#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Clear-RedisDatabase against a real Redis on loopback (database 8 only); -WhatIf is checked in a child pwsh.
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


Describe 'Clear-RedisDatabase' -Skip:$noRedis {
    BeforeEach {
        Invoke-RedisCli -n 8 FLUSHDB | Out-Null
        Invoke-RedisCli -n 8 MSET pester:1 1 pester:2 2 pester:3 3 | Out-Null
    }

    It 'flushes only the chosen database and reports the counts' {
        $result = Clear-RedisDatabase -ConnectionString $endpoint -Database 8 -Force
        $result.KeysBefore | Should -Be 3
        $result.KeysAfter | Should -Be 0
        Invoke-RedisCli -n 8 DBSIZE | Should -Be 0
    }

    It 'refuses -Database with -AllDatabases' {
        { Clear-RedisDatabase -ConnectionString $endpoint -Database 8 -AllDatabases -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'RedisFlushScopeConflict,IncidentOps.Commands.ClearRedisDatabaseCommand'
        Invoke-RedisCli -n 8 DBSIZE | Should -Be 3
    }

    It 'refuses a URL naming two databases (path and ?db=), naming both, and flushes nothing' {
        $err = $null
        Clear-RedisDatabase -ConnectionString "redis://:PesterCanaryPw-31@$endpoint/8?db=9" -Force -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'RedisConnectionStringInvalid,IncidentOps.Commands.ClearRedisDatabaseCommand'
        "$($err[0])" | Should -Match 'database 8 in the path \(/8\) and database 9 in the query \(\?db=9\)'
        "$($err[0])" | Should -Match 'Keep one'
        "$($err[0])" | Should -Not -Match 'PesterCanaryPw-31'
        Invoke-RedisCli -n 8 DBSIZE | Should -Be 3
    }

    It 'prints its What if: line (database and key count) under -WhatIf and changes nothing' {
        $text = Get-WhatIfText 'Clear-RedisDatabase -ConnectionString $args[0] -Database 8 -WhatIf' $endpoint
        $text | Should -Match 'What if: .*db 8'
        $text | Should -Match 'FLUSHDB'
        Invoke-RedisCli -n 8 DBSIZE | Should -Be 3
    }

    It 'shows the flush result at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Clear-RedisDatabase -ConnectionString $endpoint -Database 8 -Force) -Width $Width
        foreach ($col in 'Endpoint', 'Database', 'Command', 'KeysBefore', 'KeysAfter') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'FLUSHDB\s+3\s+0'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Clear-RedisDatabase | Should -Match 'ConfirmImpact is High'
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Clear-RedisDatabase -ConfigPath '$($root.Config)' -Service production/c" | Should -Contain 'production/cache'
    }
}

# A two-master Redis Cluster of its own (slots 0-8191 and 8192-16383): FLUSHDB on one master empties only its slots.
Describe 'Clear-RedisDatabase on a Redis Cluster' -Skip:$noRedis {
    BeforeAll {
        $clusterDir = New-TestTempDir 'io-cluster'
        $nodes = foreach ($i in 0, 1) {
            $dir = Join-Path $clusterDir "node$i"; $null = New-Item -ItemType Directory $dir
            # The client and cluster bus ports are free ones, tried again if another process took one first (Common.ps1).
            $server = Start-TestRedisServer $dir -PortOptions '--port', '--cluster-port' -Arguments '--cluster-enabled', 'yes', '--cluster-config-file', (Join-Path $dir nodes.conf)
            [pscustomobject]@{ Port = $server.Ports[0]; Bus = $server.Ports[1] }
        }
        $until = [DateTime]::UtcNow.AddSeconds(20)
        while (@($nodes | Where-Object { (& redis-cli -p $_.Port PING) -eq 'PONG' }).Count -lt 2 -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }
        & redis-cli -p $nodes[0].Port CLUSTER ADDSLOTSRANGE 0 8191 | Out-Null
        & redis-cli -p $nodes[1].Port CLUSTER ADDSLOTSRANGE 8192 16383 | Out-Null
        & redis-cli -p $nodes[0].Port CLUSTER MEET 127.0.0.1 $nodes[1].Port $nodes[1].Bus | Out-Null
        while (@($nodes | Where-Object { (& redis-cli -p $_.Port CLUSTER INFO) -match 'cluster_state:ok' }).Count -lt 2 -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }
        foreach ($k in 1..30) { & redis-cli -c -p $nodes[0].Port SET "pester:$k" v | Out-Null }
    }
    AfterAll { foreach ($n in $nodes) { & redis-cli -p $n.Port SHUTDOWN NOSAVE 2>$null | Out-Null } }

    It 'refuses to flush one master of several, and every key stays' {
        $before = $nodes | ForEach-Object { [long](& redis-cli -p $_.Port DBSIZE) }
        $before | ForEach-Object { $_ | Should -BeGreaterThan 0 }
        $r = Clear-RedisDatabase -ConnectionString "127.0.0.1:$($nodes[0].Port)" -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'RedisClusterFlushPartial,IncidentOps.Commands.ClearRedisDatabaseCommand'
        "$($err[0])" | Should -Match "127\.0\.0\.1:$($nodes[1].Port)"
        ($nodes | ForEach-Object { [long](& redis-cli -p $_.Port DBSIZE) }) | Should -Be $before
    }
}

# A Redis of its own whose writes are paused (CLIENT PAUSE ... WRITE): connecting and DBSIZE are answered, FLUSHDB is not
# within -TimeoutSec. The flush was sent, so it is reported as unconfirmed (it may still complete), not as a failure.
Describe 'Clear-RedisDatabase past its deadline' -Skip:$noRedis {
    BeforeAll {
        $pausedDir = New-TestTempDir 'io-redis-paused'
        $paused = (Start-TestRedisServer $pausedDir).Port
        $until = [DateTime]::UtcNow.AddSeconds(10)
        while ((& redis-cli -p $paused PING) -ne 'PONG' -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }
    }
    AfterAll { & redis-cli -p $paused SHUTDOWN NOSAVE 2>$null | Out-Null }

    It 'says the flush was sent and may still complete, with RedisFlushUnconfirmed (ResourceBusy), and how to check' {
        & redis-cli -p $paused MSET a 1 b 2 | Out-Null
        # Paused for 20 s: waiting for FLUSHDB's answer would take that long, far past the "does not hang" bound below.
        & redis-cli -p $paused CLIENT PAUSE 20000 WRITE | Out-Null
        $err = $null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        try {
            Clear-RedisDatabase -ConnectionString "127.0.0.1:$paused" -TimeoutSec 1.5 -Force -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $watch.Stop()
        }
        finally { & redis-cli -p $paused CLIENT UNPAUSE | Out-Null }
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        $err[0].FullyQualifiedErrorId | Should -Be 'RedisFlushUnconfirmed,IncidentOps.Commands.ClearRedisDatabaseCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
        "$($err[0])" | Should -Match 'FLUSHDB was sent to 127\.0\.0\.1:\d+ \(db 0, 2 keys before\)'
        "$($err[0])" | Should -Match 'may still complete on the server'
        "$($err[0])" | Should -Match 'Get-RedisInfo Keyspace'
    }
}

# A Redis of its own whose writes are paused (CLIENT PAUSE ... WRITE): FLUSHDB is sent and held by the server (CLIENT LIST
# shows it as cmd=flushdb, flag b). Cutting that connection (CLIENT KILL), or Ctrl+C (PowerShell.Stop()) while the command
# waits, leaves the flush's outcome unknown: it is recorded as Unconfirmed, never as Failed.
Describe 'Clear-RedisDatabase interrupted once the flush was sent' -Skip:$noRedis {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
        $iso = Enter-IsolatedIncidentOps
        $heldDir = New-TestTempDir 'io-redis-held'
        $held = (Start-TestRedisServer $heldDir).Port
        $until = [DateTime]::UtcNow.AddSeconds(10)
        while ((& redis-cli -p $held PING) -ne 'PONG' -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }

        # Clear-RedisDatabase in a runspace of its own, so this one can cut its connection or stop it while it waits.
        function Start-HeldFlush([string] $IncidentId) {
            $ps = [powershell]::Create()
            $null = $ps.AddScript({
                param($module, $endpoint, $config, $incident)
                Import-Module $module
                Clear-RedisDatabase -ConnectionString $endpoint -Database 0 -TimeoutSec 30 -ConfigPath $config -Incident $incident -Force
            }).AddArgument($script:ModulePath).AddArgument("127.0.0.1:$held").AddArgument($iso.Config).AddArgument($IncidentId)
            [pscustomobject]@{ PS = $ps; Handle = $ps.BeginInvoke() }
        }
        # The id of the client whose FLUSHDB the paused server holds; $null if none shows up in time.
        function Wait-HeldFlush {
            $until = [DateTime]::UtcNow.AddSeconds(20)
            while ([DateTime]::UtcNow -lt $until) {
                $line = & redis-cli -p $held CLIENT LIST | Where-Object { $_ -match '\bflags=\w*b\w*\b' -and $_ -match '\bcmd=flushdb\b' } | Select-Object -First 1
                if ($line -match '^id=(\d+)') { return $Matches[1] }
                Start-Sleep -Milliseconds 50
            }
        }
    }
    AfterAll {
        & redis-cli -p $held CLIENT UNPAUSE 2>$null | Out-Null
        & redis-cli -p $held SHUTDOWN NOSAVE 2>$null | Out-Null
        Exit-IsolatedIncidentOps $iso
    }
    BeforeEach {
        & redis-cli -p $held MSET a 1 b 2 | Out-Null
        $incident = New-Incident -Title 'Stale cache' -Severity P3 -ConfigPath $iso.Config
        & redis-cli -p $held CLIENT PAUSE 15000 WRITE | Out-Null
    }
    AfterEach { & redis-cli -p $held CLIENT UNPAUSE | Out-Null }

    It 'reports a connection lost mid-flush as RedisFlushUnconfirmed and records Unconfirmed, saying how to check' {
        $run = Start-HeldFlush $incident.Id
        $id = Wait-HeldFlush
        $id | Should -Not -BeNullOrEmpty -Because 'FLUSHDB must have reached the server'
        & redis-cli -p $held CLIENT KILL ID $id | Out-Null
        $null = $run.Handle.AsyncWaitHandle.WaitOne(20000)
        $null = $run.PS.EndInvoke($run.Handle)
        $err = @($run.PS.Streams.Error)
        $run.PS.Dispose()
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'RedisFlushUnconfirmed,IncidentOps.Commands.ClearRedisDatabaseCommand'
        "$($err[0])" | Should -Match 'FLUSHDB was sent to 127\.0\.0\.1:\d+ \(db 0, 2 keys before\) but the connection was lost'
        "$($err[0])" | Should -Match 'redis-cli -n 0 DBSIZE'
        $entry = Get-IncidentTimeline -Incident $incident.Id -ConfigPath $iso.Config | Where-Object Cmdlet -eq 'Clear-RedisDatabase'
        $entry.Outcome | Should -Be 'Unconfirmed'
        $entry.Result | Should -Match 'may still complete on the server'
    }

    It 'records Ctrl+C after the flush was sent as Unconfirmed, not Failed' {
        $run = Start-HeldFlush $incident.Id
        Wait-HeldFlush | Should -Not -BeNullOrEmpty -Because 'FLUSHDB must have reached the server'
        $run.PS.Stop()
        $run.PS.Dispose()
        $entry = Get-IncidentTimeline -Incident $incident.Id -ConfigPath $iso.Config | Where-Object Cmdlet -eq 'Clear-RedisDatabase'
        $entry.Outcome | Should -Be 'Unconfirmed'
        $entry.Result | Should -Match 'FLUSHDB was sent to .* but Ctrl\+C ended the wait before its answer came'
        $entry.Result | Should -Match 'Get-RedisInfo Keyspace'
    }

    It 'shows a flush that never answered as Unconfirmed in the review and the post-mortem, not as succeeded' {
        Clear-RedisDatabase -ConnectionString "127.0.0.1:$held" -TimeoutSec 1.5 -ConfigPath $iso.Config -Incident $incident.Id -Force -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $review = (New-IncidentReport -Kind Review -Since 1d -ConfigPath $iso.Config).Content
        $review | Should -Match '(?m)^\| Clear-RedisDatabase \| (\d+) \| 0 \| 0 \| \1 \| 0 \|' -Because 'each interrupted flush is unconfirmed: none succeeded, none failed'
        $review | Should -Match 'Needs attention: Clear-RedisDatabase \(\d+ unconfirmed'
        $postMortem = (New-IncidentReport -Id $incident.Id -ConfigPath $iso.Config).Content
        $postMortem | Should -Match '\| Unconfirmed \| FLUSHDB was sent to'
    }
}

Describe 'An unconfirmed flush in the timeline view' {
    It 'shows the outcome Unconfirmed whole at 80 columns' {
        $entry = [IncidentOps.Incidents.TimelineEntry]@{ Kind = 'action'; Action = 'Flush database'; Target = 'Redis 127.0.0.1:6379 db 0'; Outcome = 'Unconfirmed'; Result = 'FLUSHDB was sent but the connection was lost' }
        $text = Get-RenderedView $entry -Width 80
        $text | Should -Match '\bUnconfirmed\b'
        $text | Should -Match 'Flush database'
    }
}
