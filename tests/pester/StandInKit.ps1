# The loopback stand-ins that the two "run it as written" suites share: tests/examples/Examples.Tests.ps1 (every
# script in examples/) and tests/pester/DocExamples.Tests.ps1 (every help example and README block). Each suite
# chooses the replies (the examples replay the seeds' outages, the help examples the states after recovery); the
# machinery is here, once.

# A free TCP port on loopback.
function Get-FreePort {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); try { $l.LocalEndpoint.Port } finally { $l.Stop() }
}

# A free UDP port on loopback (for dnsmasq: a free TCP port says nothing about UDP).
function Get-FreeStandInUdpPort {
    $probe = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    try { $probe.Client.LocalEndPoint.Port } finally { $probe.Dispose() }
}

# Waits until a process listens on UDP 127.0.0.1:$Port (as /proc/net/udp shows it: 0100007F:<port in hex>); throws after
# $TimeoutSec or when $Process exits first. For servers such as dnsmasq that bind after they start: a fixed wait can end
# before they listen on a loaded machine.
function Wait-UdpListener([int] $Port, [System.Diagnostics.Process] $Process, [int] $TimeoutSec = 30) {
    $bound = '0100007F:{0:X4} ' -f $Port
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while (-not (Get-Content /proc/net/udp -Raw).Contains($bound)) {
        if ($Process -and $Process.HasExited) { throw "process $($Process.Id) exited ($($Process.ExitCode)) before it listened on UDP 127.0.0.1:$Port" }
        if ([DateTime]::UtcNow -gt $deadline) { throw "nothing listened on UDP 127.0.0.1:$Port within $TimeoutSec s" }
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

# The web stand-in ($Script: a python3 server taking the HTTP port, the HTTPS port, a certificate and key for
# localhost, then $ScriptArguments) on two free loopback ports, and dnsmasq on a third as the "public" resolver
# (authoritative for localhost, no upstream). Returns the ports, the certificate's path (SSL_CERT_FILE for a child
# process that should trust it) and both processes once both web ports listen; Stop-StandInWeb stops them.
function Start-StandInWeb([string] $Work, [string] $Script, [object[]] $ScriptArguments = @()) {
    $cert = Join-Path $Work 'cert.pem'; $key = Join-Path $Work 'key.pem'
    $web = [pscustomobject]@{ HttpPort = Get-FreePort; HttpsPort = Get-FreePort; DnsPort = Get-FreeStandInUdpPort; Certificate = $cert; Server = $null; Dns = $null }
    & openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=localhost' -addext 'subjectAltName=DNS:localhost' -keyout $key -out $cert 2>$null
    if ($LASTEXITCODE) { throw "openssl could not make the stand-in certificate ($LASTEXITCODE)" }
    $web.Server = Start-Process -FilePath python3 -PassThru -ArgumentList (@($Script, $web.HttpPort, $web.HttpsPort, $cert, $key) + $ScriptArguments)
    $dnsmasq = (Get-Command dnsmasq -ErrorAction SilentlyContinue).Source
    if (-not $dnsmasq) { $dnsmasq = '/usr/sbin/dnsmasq' }
    $web.Dns = Start-Process -FilePath $dnsmasq -PassThru -ArgumentList @(
        '--keep-in-foreground', '--conf-file=/dev/null', "--port=$($web.DnsPort)", '--listen-address=127.0.0.1', '--bind-interfaces',
        '--no-resolv', '--no-hosts', '--pid-file=', "--user=$([Environment]::UserName)",
        '--auth-zone=localhost,127.0.0.0/8', '--auth-server=localhost,127.0.0.1', '--host-record=localhost,127.0.0.1',
        '--mx-host=localhost,mail.localhost,10', '--txt-record=localhost,v=spf1')   # Start-Process joins arguments with spaces: none inside one
    Wait-UdpListener $web.DnsPort $web.Dns
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    foreach ($port in $web.HttpPort, $web.HttpsPort) {
        while ($true) {
            $c = [System.Net.Sockets.TcpClient]::new()
            try { $c.Connect('127.0.0.1', $port); break } catch { if ([DateTime]::UtcNow -gt $deadline) { throw "the stand-in server did not listen on $port" }; Start-Sleep -Milliseconds 100 } finally { $c.Dispose() }
        }
    }
    $web
}

function Stop-StandInWeb($Web) {
    if (-not $Web) { return }
    foreach ($p in $Web.Server, $Web.Dns) { if ($p -and -not $p.HasExited) { $p.Kill($true) } }
}
