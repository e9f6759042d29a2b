#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppLog -Follow in a real pwsh (issue 17, "Live logs"): fake CLIs that print their recorded lines a little apart and
# then keep running until killed. Select-Object -First, Ctrl+C (PowerShell.Stop) and -TimeoutSec each end the follow
# and leave no CLI process behind; Watch-ServiceHealth runs beside it in a thread job and in ForEach-Object -Parallel.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
    $server = Start-TestHttpServer
    $flyLogs = Get-Fixture 'fly-logs.json'
    $journal = Get-Fixture 'journal.jsonl'
}

AfterAll { Exit-DoctlHome; Stop-TestServer $server; Remove-TestTemp }

Describe 'Get-AppLog -Follow' -Skip:($IsWindows) {
    It 'streams entries until Select-Object -First has enough, then the CLI is gone' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --json' = $flyLogs } -Stream -LineDelay 0.005
        $entries = @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Follow | Select-Object -First 2)
        $entries.Count | Should -Be 2
        $entries[0].Message | Should -Be 'GET /health 200 3ms'
        $entries[1].Message | Should -Match 'heap out of memory'
        $entries | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'IncidentOps.Platforms.AppLogEntry' }
        Get-Content $cli.Log | Should -Be @('flyctl logs -a app1 --json')
        Test-FakeCliGone $cli.PidFile | Should -BeTrue -Because 'flyctl is killed when the pipeline stops early'
        Test-FakeCliGone $cli.ChildFile -Optional | Should -BeTrue
    }

    It 'stops on Ctrl+C (PowerShell.Stop) at once and kills the CLI with its child' {
        $cli = New-FakeCli journalctl @{ '-u fastapi -o json --no-pager -n 10 -f' = $journal } -Stream
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$script:ModulePath'; Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath '$($cli.Path)' -Follow")
            $handle = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not (Test-Path $cli.ChildFile) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            Test-Path $cli.ChildFile | Should -BeTrue -Because 'journalctl printed its lines and is waiting for more'
            $handle.IsCompleted | Should -BeFalse -Because '-Follow runs until it is stopped'
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 15 -Because 'Ctrl+C returns at once (a generous bound: -Follow never ends by itself)'
            Test-FakeCliGone $cli.PidFile | Should -BeTrue
            Test-FakeCliGone $cli.ChildFile | Should -BeTrue
        }
        finally { $ps.Dispose() }
    }

    It 'ends cleanly at -TimeoutSec: entries, no error, and the verbose stream says why it stopped' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --json' = $flyLogs } -Stream -LineDelay 0
        $entries = @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Follow -TimeoutSec 4 -Pattern memory -Verbose -ErrorVariable errs 4>&1 |
            Tee-Object -Variable all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $?  | Should -BeTrue
        $errs | Should -BeNullOrEmpty
        $entries.Count | Should -Be 2
        (@($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n") | Should -Match 'Stopped following .*-TimeoutSec.*as asked'
        Test-FakeCliGone $cli.PidFile | Should -BeTrue
    }

    It 'holds a noisy CLI back behind a slow consumer: a bounded backlog, every entry in order' {
        # doctl prints 1 KB lines as fast as it can and notes how many it wrote; the consumer takes 20 ms per entry.
        $dir = Join-Path $root.Dir "noisy-$([guid]::NewGuid().ToString('n'))"
        $null = New-Item -ItemType Directory $dir
        $doctl = Join-Path $dir 'doctl'
        $written = Join-Path $dir 'written'
        Set-Content $doctl @"
#!/bin/bash
echo `$`$ > '$dir/pid'
pad=`$(head -c 900 /dev/zero | tr '\0' x)
for ((i=1;;i++)); do printf 'web 2026-11-23T09:00:00Z seq=%d %s\n' "`$i" "`$pad" || exit 0; echo "`$i" > '$written'; done
"@
        chmod +x $doctl
        $script:ahead = 0
        $seqs = @(Get-AppLog -Platform DigitalOcean -AppId f1e2d3c4-0000-4000-8000-00000000a001 -DoctlPath $doctl -Follow | ForEach-Object {
                Start-Sleep -Milliseconds 20
                $seq = [int]($_.Message -replace '^seq=(\d+) .*$', '$1')
                $w = 0
                if ((Test-Path $written) -and [int]::TryParse("$(Get-Content -Raw $written -ErrorAction SilentlyContinue)".Trim(), [ref]$w)) { $script:ahead = [Math]::Max($script:ahead, $w - $seq) }
                $seq
            } | Select-Object -First 200)
        $seqs | Should -Be (1..200)
        # Unbounded, doctl ran thousands of lines ahead; now at most the 64 waiting entries plus what the OS pipe holds.
        $script:ahead | Should -BeLessOrEqual 264
        Test-FakeCliGone (Join-Path $dir 'pid') | Should -BeTrue
    }

    It 'filters the stream with -Level and -Instance' {
        $cli = New-FakeCli journalctl @{ '-u fastapi -o json --no-pager -n 10 -f' = $journal } -Stream
        $e = @(Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath $cli.Path -Follow -Level error -Instance 'api-*' | Select-Object -First 1)
        $e.Count | Should -Be 1
        $e[0].Level | Should -Be 'error'
        $e[0].Message | Should -Match 'OperationalError'
        Test-FakeCliGone $cli.PidFile | Should -BeTrue
    }

    It 'renders the followed entries in the default view' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --json' = $flyLogs } -Stream -LineDelay 0.005
        $rows = @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Follow | Select-Object -First 3)
        $text = Get-RenderedView $rows -Width 100
        foreach ($col in 'Time', 'Instance', 'Level', 'Message') { $text | Should -Match "\b$col\b" }
        Get-ViewColumn $text 'Message' | Should -Be (($rows.Message -join '') -replace '\s+', '')
    }

    It 'describes -Follow, -Level and -Instance in help, and completes -Level' {
        (Get-Help Get-AppLog -Parameter Follow | Out-String) | Should -Match 'Ctrl\+C'
        (Get-Help Get-AppLog -Parameter Follow | Out-String) | Should -Match 'TimeoutSec'
        (Get-Help Get-AppLog -Parameter Level | Out-String) | Should -Match 'more severe'
        (Get-Help Get-AppLog -Parameter Instance | Out-String) | Should -Match 'Wildcards'
        @(Get-Help Get-AppLog -Examples | ForEach-Object { $_.Examples.Example.Code }) -match '-Follow' | Should -Not -BeNullOrEmpty
        Get-CompletionText 'Get-AppLog -Level w' | Should -Be 'warning'
    }
}

Describe 'Get-AppLog -Follow beside Watch-ServiceHealth' -Skip:($IsWindows) {
    It 'runs in a thread job while Watch-ServiceHealth watches in the foreground' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --json' = $flyLogs } -Stream -LineDelay 0
        $flyctl = $cli.Path
        $job = Start-ThreadJob -ScriptBlock {
            Import-Module $using:ModulePath
            Get-AppLog -Platform Fly -App app1 -FlyctlPath $using:flyctl -Follow -TimeoutSec 4
        }
        try {
            $summary = @(Watch-ServiceHealth "$($server.Base)/ok" -Interval 200ms -Duration 2s)[-1]
            $logs = @($job | Wait-Job -Timeout 60 | Receive-Job)
            $job.State | Should -Be 'Completed'
            $summary.StopReason | Should -Be 'Duration'
            $summary.Healthy | Should -BeTrue
            $logs.Count | Should -Be 3
            $logs[2].Message | Should -Match 'Out of memory'
            Test-FakeCliGone $cli.PidFile | Should -BeTrue
        }
        finally { $job | Remove-Job -Force }
    }

    It 'runs with ForEach-Object -Parallel, each bounded by -TimeoutSec or -Duration' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --json' = $flyLogs } -Stream -LineDelay 0
        $base = $server.Base
        $out = @('logs', 'health' | ForEach-Object -ThrottleLimit 2 -Parallel {
            Import-Module $using:ModulePath
            if ($_ -eq 'logs') { Get-AppLog -Platform Fly -App app1 -FlyctlPath ($using:cli).Path -Follow -TimeoutSec 5 }
            else { Watch-ServiceHealth "$($using:base)/ok" -Interval 200ms -Duration 2s | Select-Object -Last 1 }
        })
        @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'IncidentOps.Platforms.AppLogEntry' }).Count | Should -Be 3
        @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'IncidentOps.Health.HealthWatchSummary' }).Count | Should -Be 1
        Test-FakeCliGone $cli.PidFile | Should -BeTrue
    }
}
