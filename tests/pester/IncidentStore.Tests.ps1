#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Pester 5: the incident record under faults (issue 18 items 1, 2, 5, 6) and the incident state machine
# (issue 16 item 3), as a user sees them in pwsh. The fault tests mount a real 1 MiB tmpfs, so they need
# root (the CI machines run as root; under CI=true they never skip). Clear-RedisDatabase needs a Redis on
# loopback: $env:INCIDENTOPS_TEST_REDIS (host:port, as .ci/run exports).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:noMount = ($env:CI -ne 'true') -and ((& id -u) -ne '0')
    $script:noRedis = Test-SkipWithout 'INCIDENTOPS_TEST_REDIS'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps

    function New-Tmpfs {
        $dir = New-TestTempDir 'io-tmpfs'
        & mount -t tmpfs -o size=1m tmpfs $dir
        if ($LASTEXITCODE -ne 0) { throw "mount tmpfs on $dir failed: these tests need root" }
        $cfg = Join-Path $dir 'incidentops.yml'
        # The configuration lives on the tmpfs too; it is only read.
        Set-Content -Path $cfg -Value "store:`n  path: $(Join-Path $dir 'store')`n"
        [pscustomobject]@{ Dir = $dir; Config = $cfg; Store = (Join-Path $dir 'store') }
    }
    function Remove-Tmpfs($Fs) {
        if ($Fs) { & umount -l $Fs.Dir; Remove-Item -Recurse -Force $Fs.Dir -ErrorAction SilentlyContinue }
    }
    function Fill-Tmpfs($Fs) {
        $path = Join-Path $Fs.Dir 'filler'
        $stream = [IO.FileStream]::new($path, 'Create', 'Write', 'None', 1)
        $block = [byte[]]::new(512)
        try { while ($true) { $stream.Write($block, 0, $block.Length) } } catch { }
        try { $stream.Dispose() } catch { }
        $path
    }
}
AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)

Describe 'The incident record on a full disk' -Skip:$script:noMount {
    BeforeAll { $fs = New-Tmpfs }
    AfterAll { Remove-Tmpfs $fs }

    It 'fails the note with StoreDiskFull, keeps no torn line, and keeps the next note once space is freed' {
        $i = New-Incident -Title 'Disk full' -Severity P2 -ConfigPath $fs.Config
        Add-IncidentNote 'before the disk filled' -ConfigPath $fs.Config | Out-Null
        $filler = Fill-Tmpfs $fs
        $watch = [Diagnostics.Stopwatch]::StartNew()
        { Add-IncidentNote ('x' * 9000) -ConfigPath $fs.Config -ErrorAction Stop } |
            Should -Throw -ErrorId 'StoreDiskFull,IncidentOps.Commands.AddIncidentNoteCommand'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 15   # "at once": a generous bound, half the 30 s store lock wait
        Remove-Item $filler
        Add-IncidentNote 'after space was freed' -ConfigPath $fs.Config | Out-Null
        $timeline = Get-IncidentTimeline -Id $i.Id -ConfigPath $fs.Config -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        $timeline.Result | Should -Contain 'before the disk filled'
        $timeline[-1].Result | Should -Be 'after space was freed'
        @($timeline).Count | Should -Be 3
    }
}

Describe 'The incident record on a read-only store' -Skip:$script:noMount {
    BeforeAll { $fs = New-Tmpfs }
    AfterAll { & mount -o remount,rw $fs.Dir; Remove-Tmpfs $fs }

    It 'fails a note at once with StoreReadOnly, and does not blame a lock' {
        New-Incident -Title 'Read-only' -Severity P2 -ConfigPath $fs.Config | Out-Null
        & mount -o remount,ro $fs.Dir
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $err = $null
        try { Add-IncidentNote 'n' -ConfigPath $fs.Config -ErrorAction Stop } catch { $err = $_ }
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 15   # "at once": a generous bound, half the 30 s store lock wait
        $err.FullyQualifiedErrorId | Should -Be 'StoreReadOnly,IncidentOps.Commands.AddIncidentNoteCommand'
        "$err" | Should -Match 'read-only'
        "$err" | Should -Not -Match 'another process'
    }

    It 'flushes Redis, then says at once that the flush happened but could not be recorded' -Skip:$script:noRedis {
        $endpoint = $env:INCIDENTOPS_TEST_REDIS
        $hostName, $port = $endpoint -split ':'
        & redis-cli -h $hostName -p $port -n 9 SET io-store-key 1 | Out-Null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $result = Clear-RedisDatabase -ConnectionString $endpoint -Database 9 -Force -ConfigPath $fs.Config -WarningVariable warnings -WarningAction SilentlyContinue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 15   # "at once": a generous bound, half the 30 s store lock wait
        $result.KeysAfter | Should -Be 0
        (& redis-cli -h $hostName -p $port -n 9 DBSIZE) | Should -Be 0
        $text = "$warnings"
        $text | Should -Match 'Flush database .* was done, but its timeline entry could not be written \(StoreReadOnly\)'
        $text | Should -Not -Match 'another process'
    }
}

Describe 'The incident state machine' {
    BeforeAll {
        $root = New-TestRoot @"
channels:
  audit: { type: webhook, url: 'http://127.0.0.1:9/hook' }
routing:
  P2: [audit]
"@
    }
    AfterAll { Remove-TestRoot $root }

    It 'Send-IncidentUpdate -Status Resolved ends the active incident, and Close-Incident records the resolution' {
        $i = New-Incident -Title 'Checkout 502' -Severity P2 -ConfigPath $root.Config
        Send-IncidentUpdate -Status Resolved -Message 'Error rate back to normal' -ConfigPath $root.Config -WarningAction SilentlyContinue | Out-Null
        (Get-Incident -Id $i.Id -ConfigPath $root.Config).Status | Should -Be 'Resolved'
        Get-Incident -Active -ConfigPath $root.Config | Should -BeNullOrEmpty

        { Add-IncidentNote 'bare note' -ConfigPath $root.Config -ErrorAction Stop } |
            Should -Throw -ErrorId 'NoActiveIncident,IncidentOps.Commands.AddIncidentNoteCommand'

        $closed = Close-Incident -Id $i.Id -Resolution 'Rolled back release v142' -Force -ConfigPath $root.Config -ErrorAction Stop
        $closed.Resolution | Should -Be 'Rolled back release v142'
        $report = (New-IncidentReport -Id $i.Id -ConfigPath $root.Config).Content
        $report | Should -Match 'Rolled back release v142'
        ($report -split '## Resolution')[1] -split "`n#" | Select-Object -First 1 | Should -Not -Match 'Not recorded'
    }

    It 'adds to a resolved incident only when it is named, with a warning' {
        $id = (Get-Incident -Status Resolved -ConfigPath $root.Config)[0].Id
        $entry = Add-IncidentNote -Id $id 'customer confirmed the fix' -ConfigPath $root.Config -WarningVariable warnings -WarningAction SilentlyContinue
        $entry.Result | Should -Be 'customer confirmed the fix'
        "$warnings" | Should -Match "$id is resolved"
        (Get-IncidentTimeline -Id $id -ConfigPath $root.Config).Result | Should -Not -Contain 'bare note'
    }
}

Describe 'Timeline order under concurrent writers' {
    BeforeAll { $root = New-TestRoot }
    AfterAll { Remove-TestRoot $root }

    It 'reads 4 processes x 50 notes back complete, in time order, each with its own sequence' {
        $i = New-Incident -Title 'Order' -Severity P2 -ConfigPath $root.Config
        # This pwsh may run as 'dotnet pwsh.dll' (the .NET tool): start the children the same way.
        $pwsh = [Environment]::ProcessPath
        $prefix = if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { '"' + (Join-Path $PSHOME 'pwsh.dll') + '"' } else { '' }
        $module = (Get-Module IncidentOps).Path
        $jobs = 1..4 | ForEach-Object {
            $script = "Import-Module '$module'; 1..50 | ForEach-Object { Add-IncidentNote -Id $($i.Id) ('w$_ note ' + `$_) -ConfigPath '$($root.Config)' | Out-Null }"
            # -EncodedCommand: Start-Process joins -ArgumentList with spaces, which would split a -Command string.
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
            Start-Process -FilePath $pwsh -PassThru -NoNewWindow -ArgumentList "$prefix -NoLogo -NoProfile -NonInteractive -EncodedCommand $encoded"
        }
        $jobs | Wait-Process -Timeout 300
        $timeline = @(Get-IncidentTimeline -Id $i.Id -ConfigPath $root.Config)
        $timeline.Count | Should -Be 201
        for ($k = 1; $k -lt $timeline.Count; $k++) {
            $timeline[$k].Timestamp | Should -BeGreaterOrEqual $timeline[$k - 1].Timestamp
        }
        @($timeline.Sequence | Sort-Object -Unique).Count | Should -Be 201
        foreach ($n in 1..4) { @($timeline | Where-Object Result -Like "w$n note *").Count | Should -Be 50 }
    }
}
