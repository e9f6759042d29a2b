#Requires -Modules Pester
# Pester 5. "Nothing hangs": -TimeoutSec is one deadline, Ctrl+C stops at once, and no work goes on after a cmdlet
# returns. Loopback only: a counting HttpListener, a UDP socket that never answers, a fake flyctl.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')   # Test-FakeCliGone
    Import-IncidentOps
    $script:hits = [hashtable]::Synchronized(@{ Count = 0 })
    $http = New-TestHttpListener
    $script:listener = $http.Listener
    $script:base = $http.Base
    $script:serverPs = [powershell]::Create()
    $null = $script:serverPs.AddScript({
        param($listener, $hits)
        while ($listener.IsListening) {
            try { $ctx = $listener.GetContext() } catch { break }
            $hits.Count++
            $ctx.Response.StatusCode = 200
            $bytes = [Text.Encoding]::UTF8.GetBytes('ok')
            $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length)
            $ctx.Response.Close()
        }
    }).AddArgument($script:listener).AddArgument($script:hits)
    $script:handle = $script:serverPs.BeginInvoke()
}

AfterAll {
    $script:listener.Stop()
    $script:listener.Close()
    $script:serverPs.Dispose()
    Remove-TestTemp
}

Describe 'Watch-ServiceHealth' {
    It 'stops probing when Select-Object -First has what it needs' {
        $results = Watch-ServiceHealth "$base/ok" -IntervalSec 0.1 | Select-Object -First 2
        $results | Should -HaveCount 2
        $atReturn = $script:hits.Count
        Start-Sleep -Seconds 1.5
        $script:hits.Count | Should -Be $atReturn
    }

    It 'stops at once on Ctrl+C in the middle of an interval wait' {
        $ps = [powershell]::Create()
        $first = [hashtable]::Synchronized(@{ Result = $null })
        $null = $ps.AddScript({
            param($module, $url, $first)
            Import-Module $module
            Watch-ServiceHealth $url -IntervalSec 60 | ForEach-Object { $first.Result = $_ }
        }).AddArgument($script:ModulePath).AddArgument("$base/ok").AddArgument($first)
        $before = $script:hits.Count
        $async = $ps.BeginInvoke()
        # Ctrl+C once the first round's result is out (the import can be slow on a loaded machine): the watch is then in
        # its 60 s interval wait.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ($null -eq $first.Result -and -not $async.IsCompleted -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $first.Result.StatusCode | Should -Be 200
        $script:hits.Count | Should -Be ($before + 1)
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $sw.Stop()
        $async.IsCompleted | Should -BeTrue
        # A generous "does not hang" bound for a loaded machine, far below the 60 s the interval would otherwise wait.
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 15
        $ps.Dispose()
    }
}

Describe 'Resolve-ServiceDns -TimeoutSec' {
    It 'is one deadline for all record types against a server that never answers (one error, not one per type)' {
        $udp = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        try {
            $dnsPort = $udp.Client.LocalEndPoint.Port
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $null = Resolve-ServiceDns api.example.test -Type A, AAAA -Server "127.0.0.1:$dnsPort" -TimeoutSec 4 -ErrorVariable err -ErrorAction SilentlyContinue
            $sw.Stop()
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -Be 'DnsQueryFailed,IncidentOps.Commands.ResolveServiceDnsCommand'
            "$($err[0])" | Should -BeLike "The A lookup of 'api.example.test' via 127.0.0.1:$dnsPort failed*"
            # The evidence of one deadline, whatever the load: the queries the socket holds (nobody read them) are all
            # A (QTYPE 1, after the 12-byte header and the name); a deadline per type would have asked AAAA (28) too.
            $types = [Collections.Generic.List[int]]::new()
            $from = [System.Net.IPEndPoint]::new([System.Net.IPAddress]::Any, 0)
            while ($udp.Available -gt 0) {
                $packet = $udp.Receive([ref] $from)
                $i = 12
                while ($i -lt $packet.Length -and $packet[$i] -ne 0) { $i += $packet[$i] + 1 }
                $types.Add($packet[$i + 1] * 256 + $packet[$i + 2])
            }
            $types.Count | Should -BeGreaterThan 0
            $types | Should -Not -Contain 28
            $types | ForEach-Object { $_ | Should -Be 1 }
            # A generous "does not hang" bound for a loaded machine (a deadline per type would take twice -TimeoutSec).
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 7.5
        }
        finally { $udp.Dispose() }
    }
}

Describe 'A CLI that leaves a child holding its output' {
    It 'returns the output at once and the child is killed' {
        $dir = New-TestTempDir 'io-childcli'
        try {
            $fixture = Get-Fixture 'fly-status.json'
            $fly = Join-Path $dir 'flyctl'
            # Like flyctl starting its background agent: the child inherits stdout and outlives the CLI.
            Set-Content -Path $fly -Value "#!/bin/bash`ncat '$fixture'`nsleep 300 &`necho `$! > '$dir/child.pid'`nexit 0"
            chmod +x $fly
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $status = Get-AppStatus -Platform Fly -App ai-affiliate-empire -FlyctlPath $fly -TimeoutSec 60
            $sw.Stop()
            $status.Version | Should -Be 'v13'
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 20   # "does not hang": the child holds the output for 300 s
            # Killed, not merely signalled: gone (or a zombie) within a generous 5 s.
            Test-FakeCliGone "$dir/child.pid" | Should -BeTrue
        }
        finally { Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue }
    }
}
