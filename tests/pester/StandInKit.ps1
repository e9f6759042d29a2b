# The loopback stand-ins that the two "run it as written" suites share: tests/examples/Examples.Tests.ps1 (every
# script in examples/) and tests/pester/DocExamples.Tests.ps1 (every help example and README block). Each suite
# chooses the replies (the examples replay the seeds' outages, the help examples the states after recovery); the
# machinery is here, once.

# A free UDP port on loopback (for dnsmasq: a free TCP port says nothing about UDP).
function Get-FreeStandInUdpPort {
    $probe = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    try { $probe.Client.LocalEndPoint.Port } finally { $probe.Dispose() }
}

# Waits until a process listens on UDP 127.0.0.1:$Port (as /proc/net/udp shows it: 0100007F:<port in hex>); throws after
# $TimeoutSec or when $Process exits first. For servers such as dnsmasq that bind after they start: a fixed wait can end
# before they listen on a loaded machine. With -Owned it only counts a socket of $Process itself (its inode among
# /proc/<pid>/fd), and returns $false instead of throwing when $Process exited first or another process holds the port,
# so the caller can try again on a fresh port.
function Wait-UdpListener([int] $Port, [System.Diagnostics.Process] $Process, [int] $TimeoutSec = 30, [switch] $Owned) {
    $bound = '0100007F:{0:X4} ' -f $Port
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        $lines = @((Get-Content /proc/net/udp) | Where-Object { $_.Contains($bound) -and $_.Trim().Split(' ', [StringSplitOptions]::RemoveEmptyEntries)[1] -eq $bound.Trim() })
        if ($lines -and -not $Owned) { return }
        if ($lines -and $Owned) {
            $inodes = @($lines | ForEach-Object { $_.Trim().Split(' ', [StringSplitOptions]::RemoveEmptyEntries)[9] })
            $sockets = @(Get-ChildItem "/proc/$($Process.Id)/fd" -ErrorAction SilentlyContinue | ForEach-Object { $_.LinkTarget })
            if (@($inodes | Where-Object { $sockets -contains "socket:[$_]" }).Count) { return $true }
            if ($Process.HasExited) { return $false }
        }
        if ($Process -and $Process.HasExited) {
            if ($Owned) { return $false }
            throw "process $($Process.Id) exited ($($Process.ExitCode)) before it listened on UDP 127.0.0.1:$Port"
        }
        if ([DateTime]::UtcNow -gt $deadline) {
            if ($Owned -and $lines) { return $false }   # bound, but by another process all along
            throw "nothing listened on UDP 127.0.0.1:$Port within $TimeoutSec s"
        }
        Start-Sleep -Milliseconds 50
    }
}

# A fake CLI in $Bin: for the first glob pattern that matches its argument string, print the fixture file (or text)
# and exit 0; for a @{ Fail = 'message' } reply, print the message on stderr and exit 1; for a @{ Stream = file }
# reply, print the file's lines a little apart and then wait until killed (a CLI following a log). Anything else
# is an error that names the arguments, so a call without a recorded reply fails loudly. Every call appends one
# line to a log: with -Log, the CLI's name and its arguments to that file (one log shared by all the stand-ins);
# with -LogFolder, its arguments to <folder>/<name>.log.
function New-StandInCli {
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Name,
        [Parameter(Mandatory, Position = 1)] [System.Collections.Specialized.OrderedDictionary] $Replies,
        [Parameter(Mandatory)] [string] $Bin,
        [string] $Log,
        [string] $LogFolder
    )
    $line = if ($Log) { "printf '%s\n' `"$Name `$*`" >> '$Log'" } else { "printf '%s\n' `"`$*`" >> '$(Join-Path $LogFolder "$Name.log")'" }
    $lines = @('#!/bin/bash', $line, 'case "$*" in')
    $n = 0
    foreach ($pattern in $Replies.Keys) {
        $reply = $Replies[$pattern]
        if ($reply -is [hashtable] -and $reply.Fail) {
            $file = Join-Path $Bin ".$Name-error$((++$n)).txt"; Set-Content -Path $file -Value $reply.Fail
            $lines += "  $pattern) cat '$file' >&2; exit 1;;"
            continue
        }
        if ($reply -is [hashtable] -and $reply.Stream) {
            $lines += "  $pattern) while IFS= read -r l || [ -n `"`$l`" ]; do printf '%s\n' `"`$l`"; sleep 0.05; done < '$($reply.Stream.FullName)'; exec sleep 600;;"
            continue
        }
        if ($reply -is [System.IO.FileInfo]) { $file = $reply.FullName }
        else { $file = Join-Path $Bin ".$Name-reply$((++$n)).txt"; Set-Content -Path $file -Value $reply -NoNewline }
        $lines += "  $pattern) cat '$file'; exit 0;;"
    }
    $lines += "  *) echo `"stand-in $Name`: no recorded reply for: `$*`" >&2; exit 97;;", 'esac'
    $path = Join-Path $Bin $Name
    Set-Content -Path $path -Value ($lines -join "`n") -NoNewline
    chmod +x $path
}

# ssh to a host whose login shell is sh: runs the last argument locally, with the stand-ins first on PATH. Logged
# like New-StandInCli -Log when $Log is given.
function New-StandInSsh([string] $Bin, [string] $Log) {
    $lines = @('#!/bin/bash')
    if ($Log) { $lines += "printf '%s\n' `"ssh `$*`" >> '$Log'" }
    $lines += "export PATH='$Bin':`"`$PATH`"", 'exec sh -c "${@: -1}"'
    Set-Content -Path (Join-Path $Bin 'ssh') -NoNewline -Value ($lines -join "`n")
    chmod +x (Join-Path $Bin 'ssh')
}

# The fastapi host's release folders and its 'current' symlink (seed 004), under $Work; returns the folder.
function New-StandInReleases([string] $Work) {
    $releases = Join-Path $Work 'releases'
    foreach ($r in '20261120-0900', '20261122-1400', '20261123-0830') { New-Item -ItemType Directory -Path (Join-Path $releases $r) -Force | Out-Null }
    New-Item -ItemType SymbolicLink -Path (Join-Path $releases 'current') -Target (Join-Path $releases '20261123-0830') | Out-Null
    $releases
}

# dnsmasq on a free UDP port of 127.0.0.1 with $Arguments (everything but --port): returns @{ Port; Process } once that
# dnsmasq itself listens there. A probed free port can be taken by another process before dnsmasq binds it: dnsmasq
# then exits ("Address already in use"), or the port shows up bound by the other process; either way it is tried
# again with a fresh port and a fresh dnsmasq.
function Start-StandInDnsmasq([string[]] $Arguments, [int] $Attempts = 10) {
    $dnsmasq = (Get-Command dnsmasq -ErrorAction SilentlyContinue).Source
    if (-not $dnsmasq) { $dnsmasq = '/usr/sbin/dnsmasq' }
    for ($attempt = 1; ; $attempt++) {
        $port = Get-FreeStandInUdpPort
        $process = Start-Process -FilePath $dnsmasq -PassThru -ArgumentList (@("--port=$port") + $Arguments)   # Start-Process joins arguments with spaces: none inside one
        if (Wait-UdpListener $port $process -Owned) { return [pscustomobject]@{ Port = $port; Process = $process } }
        if (-not $process.HasExited) { $process.Kill() }
        if ($attempt -ge $Attempts) { throw "dnsmasq could not listen on a free UDP port of 127.0.0.1 in $Attempts attempts (each port was taken by another process first)" }
    }
}

# The web stand-in ($Script: a python3 server taking the HTTP port, the HTTPS port, a certificate and key for
# localhost, then $ScriptArguments) and dnsmasq (Start-StandInDnsmasq) as the "public" resolver (authoritative for
# localhost, no upstream). The server binds port 0 for both and writes the ports it got to STANDIN_PORT_FILE
# (tests/standins/web_standin.py), so no other process can take them between a probe and its bind. Returns the ports,
# the certificate's path (SSL_CERT_FILE for a child process that should trust it) and both processes once both web
# ports listen; Stop-StandInWeb stops them.
function Start-StandInWeb([string] $Work, [string] $Script, [object[]] $ScriptArguments = @()) {
    $cert = Join-Path $Work 'cert.pem'; $key = Join-Path $Work 'key.pem'
    $web = [pscustomobject]@{ HttpPort = 0; HttpsPort = 0; DnsPort = 0; Certificate = $cert; Server = $null; Dns = $null }
    & openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=localhost' -addext 'subjectAltName=DNS:localhost' -keyout $key -out $cert 2>$null
    if ($LASTEXITCODE) { throw "openssl could not make the stand-in certificate ($LASTEXITCODE)" }
    $portFile = Join-Path $Work 'web-ports.txt'
    $env:STANDIN_PORT_FILE = $portFile
    try { $web.Server = Start-Process -FilePath python3 -PassThru -ArgumentList (@($Script, 0, 0, $cert, $key) + $ScriptArguments) }
    finally { Remove-Item Env:STANDIN_PORT_FILE -ErrorAction SilentlyContinue }
    $dns = Start-StandInDnsmasq @(
        '--keep-in-foreground', '--conf-file=/dev/null', '--listen-address=127.0.0.1', '--bind-interfaces',
        '--no-resolv', '--no-hosts', '--pid-file=', "--user=$([Environment]::UserName)",
        '--auth-zone=localhost,127.0.0.0/8', '--auth-server=localhost,127.0.0.1', '--host-record=localhost,127.0.0.1',
        '--mx-host=localhost,mail.localhost,10', '--txt-record=localhost,v=spf1')
    $web.Dns = $dns.Process; $web.DnsPort = $dns.Port
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while (-not (Test-Path $portFile)) {
        if ($web.Server.HasExited) { throw "the stand-in server $Script exited ($($web.Server.ExitCode)) before it listened" }
        if ([DateTime]::UtcNow -gt $deadline) { throw "the stand-in server $Script did not listen within 20 s" }
        Start-Sleep -Milliseconds 50
    }
    $web.HttpPort, $web.HttpsPort = @((Get-Content -Raw $portFile).Trim() -split ' ' | ForEach-Object { [int] $_ })
    $web
}

function Stop-StandInWeb($Web) {
    if (-not $Web) { return }
    foreach ($p in $Web.Server, $Web.Dns) { if ($p -and -not $p.HasExited) { $p.Kill($true) } }
}
