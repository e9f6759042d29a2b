# Shared by the Health, Postgres, Redis and Platforms Pester files (dot-source after Common.ps1): what only a real
# host shows for state changes (the -WhatIf line, captured from a child pwsh), loopback HTTP/HTTPS servers, and
# small reply files for the fake CLIs of FakeCli.ps1.

# Runs $Code in a child pwsh (the same executable) with the built module imported and returns everything it printed.
# -WhatIf writes "What if: ..." straight to the host, which no stream of the current runspace captures; the child's
# stdout does. $Code is script text; pass values in through $Arguments (each becomes $args[i]).
function Invoke-InChildPwsh([string] $Code, [object[]] $Arguments = @()) {
    # The pinned pwsh runs as a .NET tool (dotnet pwsh.dll): start the child the same way.
    $pwsh = [Environment]::ProcessPath
    $hostArgs = @()
    if ((Split-Path $pwsh -Leaf) -match '^dotnet(\.exe)?$') { $hostArgs = @([Environment]::GetCommandLineArgs()[0]) }
    $prelude = "`$ErrorActionPreference = 'Stop'; Import-Module '$($script:ModulePath -replace "'", "''")'; "
    $encodedArgs = foreach ($a in $Arguments) { "'" + ("$a" -replace "'", "''") + "'" }
    $script = $prelude + "& { $Code } " + ($encodedArgs -join ' ')
    $out = & $pwsh @hostArgs -NoLogo -NoProfile -NonInteractive -Command $script 2>&1 | Out-String -Width 400
    [pscustomobject]@{ Text = $out; ExitCode = $LASTEXITCODE }
}

# The "What if:" lines a command prints, from a child pwsh; fails the test when the child failed.
function Get-WhatIfText([string] $Code, [object[]] $Arguments = @()) {
    $r = Invoke-InChildPwsh $Code $Arguments
    $r.ExitCode | Should -Be 0 -Because "the child pwsh ran: $($r.Text)"
    $r.Text
}

# A reply file for New-FakeCli with the given text (a New-TestTempFile: Remove-TestTemp removes it).
function New-ReplyFile([string] $Text) {
    $path = New-TestTempFile 'io-reply' '.txt'
    Set-Content -Path $path -Value $Text -NoNewline
    $path
}

# A loopback HTTP server answering each path from $Routes (path -> @{ Code; Body; Type }, default 200 'ok').
function Start-TestHttpServer([hashtable] $Routes = @{}) {
    $http = New-TestHttpListener
    $listener = $http.Listener
    $port = ([uri]$http.Base).Port
    $ps = [powershell]::Create()
    $null = $ps.AddScript({
        param($listener, $routes)
        while ($listener.IsListening) {
            try { $ctx = $listener.GetContext() } catch { break }
            $route = $routes[$ctx.Request.Url.AbsolutePath]
            $code = if ($route -and $route.Code) { $route.Code } else { 200 }
            $body = if ($route -and $null -ne $route.Body) { $route.Body } else { 'ok' }
            $ctx.Response.StatusCode = $code
            $ctx.Response.ContentType = if ($route -and $route.Type) { $route.Type } else { 'text/plain' }
            $bytes = [Text.Encoding]::UTF8.GetBytes($body)
            try { $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length); $ctx.Response.Close() } catch { }
        }
    }).AddArgument($listener).AddArgument($Routes)
    $handle = $ps.BeginInvoke()
    [pscustomobject]@{ Base = "http://127.0.0.1:$port"; Listener = $listener; PowerShell = $ps; Handle = $handle }
}

# A loopback TLS server with a fresh self-signed certificate for $DnsName (valid $Days days) that answers HTTP 200.
function Start-TestTlsServer([string] $DnsName = 'localhost', [int] $Days = 30) {
    $rsa = [System.Security.Cryptography.RSA]::Create(2048)
    $req = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$DnsName", $rsa,
        [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
    $san = [System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new()
    $san.AddDnsName($DnsName)
    $req.CertificateExtensions.Add($san.Build())
    $now = [DateTimeOffset]::UtcNow
    $created = $req.CreateSelfSigned($now.AddDays(-1), $now.AddDays($Days))
    $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($created.Export('Pfx'), [string] $null, 'Exportable')
    $tcp = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $tcp.Start()
    $ps = [powershell]::Create()
    $null = $ps.AddScript({
        param($tcp, $cert)
        while ($true) {
            try { $client = $tcp.AcceptTcpClient() } catch { break }
            try {
                $ssl = [System.Net.Security.SslStream]::new($client.GetStream(), $false)
                $ssl.AuthenticateAsServer($cert, $false, $false)
                $buf = [byte[]]::new(4096)
                $null = $ssl.Read($buf, 0, $buf.Length)
                $resp = [Text.Encoding]::ASCII.GetBytes("HTTP/1.1 200 OK`r`nContent-Length: 2`r`nConnection: close`r`n`r`nok")
                $ssl.Write($resp, 0, $resp.Length)
                $ssl.Flush()
                $ssl.Dispose()
            } catch { } finally { $client.Dispose() }
        }
    }).AddArgument($tcp).AddArgument($cert)
    $handle = $ps.BeginInvoke()
    [pscustomobject]@{ Port = $tcp.LocalEndpoint.Port; Listener = $tcp; PowerShell = $ps; Handle = $handle; Certificate = $cert }
}

function Stop-TestServer($Server) {
    if (-not $Server) { return }
    try { $Server.Listener.Stop() } catch { }
    try { $Server.PowerShell.Stop() } catch { }
    try { $Server.PowerShell.Dispose() } catch { }
}

# A throw-away incidentops.yml (New-TestRoot) with services on every platform, for -Service and its completion.
function New-OpsTestRoot([string] $Extra = '') {
    New-TestRoot (@"
environments:
  production:
    services:
      api:
        platform: fly
        app: ai-affiliate-empire
        postgres:
          fly: ai-affiliate-empire-db
      apiworker:
        platform: systemd
        unit: fastapi
"@ + "`n" + $Extra)
}

# The text of one column of a rendered table, its wrapped lines joined and all whitespace removed: proof that a value
# is on screen whole (wrapped, not cut), whatever the other columns do. Column bounds come from the dashes line.
function Get-ViewColumn([string] $Text, [string] $Column) {
    $lines = $Text -split "\r?\n"
    $h = 0
    while ($h -lt $lines.Count -and $lines[$h] -notmatch "(^|\s)$([regex]::Escape($Column))(\s|$)") { $h++ }
    if ($h -ge $lines.Count - 1) { throw "No column '$Column' in:`n$Text" }
    $dashes = $lines[$h + 1]
    $starts = [regex]::Matches($dashes, '-+') | ForEach-Object Index
    $at = [regex]::Match($lines[$h], "(^|\s)$([regex]::Escape($Column))(\s|$)")
    $colStart = $at.Index + ($at.Value.Length - $at.Value.TrimStart().Length)
    $i = [array]::IndexOf(@($starts), $colStart)
    if ($i -lt 0) { $i = @($starts | Where-Object { $_ -le $colStart }).Count - 1 }
    $start = @($starts)[$i]
    $end = if ($i + 1 -lt @($starts).Count) { @($starts)[$i + 1] } else { [int]::MaxValue }
    $parts = for ($j = $h + 2; $j -lt $lines.Count; $j++) {
        $l = $lines[$j]
        if ($l.Length -le $start) { continue }
        $l.Substring($start, [Math]::Min($l.Length, $end) - $start)
    }
    ($parts -join '') -replace '\s+', ''
}

# psql against the test server ($env:INCIDENTOPS_TEST_PG, an Npgsql connection string): one argument per element,
# so 'SELECT 1' reaches psql as one argument (Start-Process -ArgumentList would split it).
function Get-PgTestArgs([string] $User, [string] $Database) {
    $kv = @{}
    foreach ($pair in "$env:INCIDENTOPS_TEST_PG" -split ';') { $k, $v = $pair -split '=', 2; if ($k) { $kv[$k.Trim().ToLowerInvariant()] = "$v".Trim() } }
    $pgHost = if ($kv['host']) { $kv['host'] } else { '127.0.0.1' }
    $pgPort = if ($kv['port']) { $kv['port'] } else { '5432' }
    $pgUser = if ($User) { $User } elseif ($kv['username']) { $kv['username'] } elseif ($kv['user id']) { $kv['user id'] } else { 'postgres' }
    $pgDb = if ($Database) { $Database } elseif ($kv['database']) { $kv['database'] } else { 'postgres' }
    @('-X', '-q', '-A', '-t', '-h', $pgHost, '-p', $pgPort, '-U', $pgUser, '-d', $pgDb)
}

function Invoke-TestPsql([string] $Sql, [string] $Database) { & psql @(Get-PgTestArgs -Database $Database) -c $Sql }

# A fresh database of its own on the test server (for statistics no other test can disturb, such as
# pg_stat_statements, which is server-wide): returns its name; Remove-TestPgDatabase drops it.
function New-TestPgDatabase([string] $Prefix = 'pester') {
    $name = "${Prefix}_$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    Invoke-TestPsql "CREATE DATABASE $name" | Out-Null
    if ($LASTEXITCODE) { throw "psql could not create database $name (exit $LASTEXITCODE)." }
    $name
}

function Remove-TestPgDatabase([string] $Name) {
    if ($Name) { Invoke-TestPsql "DROP DATABASE IF EXISTS $Name WITH (FORCE)" | Out-Null }
}

# $env:INCIDENTOPS_TEST_PG with its database replaced by $Database.
function Get-PgTestConnectionString([string] $Database) {
    $parts = @("$env:INCIDENTOPS_TEST_PG" -split ';' | Where-Object { $_ -and $_ -notmatch '^\s*database\s*=' })
    (@($parts) + "Database=$Database") -join ';'
}

# A psql session running $Sql in the background as the ordinary role pester_app (created here; the policy spares
# superusers), named $ApplicationName; returns the Process (Stop-TestPgSession ends it and its backend).
function Start-TestPgSession([string] $Sql, [string] $ApplicationName) {
    Invoke-TestPsql "DO `$`$ BEGIN CREATE ROLE pester_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END `$`$" | Out-Null
    $psi = [Diagnostics.ProcessStartInfo]::new('psql')
    foreach ($a in @(Get-PgTestArgs -User pester_app) + @('-c', $Sql)) { $psi.ArgumentList.Add($a) }
    $psi.Environment['PGAPPNAME'] = $ApplicationName
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    [Diagnostics.Process]::Start($psi)
}

function Stop-TestPgSession($Process, [string] $ApplicationName) {
    if ($Process -and -not $Process.HasExited) { try { $Process.Kill($true) } catch { } }
    # The server notices a killed client only when it next writes to it; end the backend now.
    if ($ApplicationName) { Invoke-TestPsql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$ApplicationName'" | Out-Null }
}

# Waits (up to 10 s) until $Count sessions named $ApplicationName are active; returns them.
function Wait-TestPgSession([string] $ApplicationName, [int] $Count = 1) {
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    do {
        $found = @(Get-PgActivity -ConnectionString $env:INCIDENTOPS_TEST_PG -ApplicationName $ApplicationName -State active)
        if ($found.Count -ge $Count) { return $found }
        Start-Sleep -Milliseconds 100
    } while ([DateTime]::UtcNow -lt $deadline)
    throw "Fewer than $Count active session(s) named $ApplicationName after 10 s."
}

# The per-file setup of the Pester files of one area. Dot-source the one that fits in the file's BeforeAll, after
# Common.ps1 and this file (`. Initialize-RedisTestFile`): it imports the module and sets the variables and functions
# named below in the caller's scope, where the tests read them; AfterAll { Remove-TestTemp } undoes it (with $root).

# Redis ($env:INCIDENTOPS_TEST_REDIS, or 127.0.0.1:6379 so that CI=true fails with the connection error): $endpoint,
# $hostName and $port, Invoke-RedisCli (redis-cli against that server), $root with the service production/cache, and
# $closedPort, a loopback port nothing listens on.
function Initialize-RedisTestFile {
    Import-IncidentOps
    $endpoint = if ($env:INCIDENTOPS_TEST_REDIS) { $env:INCIDENTOPS_TEST_REDIS } else { '127.0.0.1:6379' }
    $hostName, $port = $endpoint -split ':'
    function Invoke-RedisCli { & redis-cli -h $hostName -p $port @args }
    $root = New-OpsTestRoot "      cache:`n        redis: '$endpoint'`n"
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start(); $closedPort = $listener.LocalEndpoint.Port; $listener.Stop()
}

# PostgreSQL ($env:INCIDENTOPS_TEST_PG): $cs, its connection string, and $root with the service production/db.
function Initialize-PgTestFile {
    Import-IncidentOps
    $cs = $env:INCIDENTOPS_TEST_PG
    $root = New-OpsTestRoot "      db:`n        postgres:`n          connectionString: '$cs'`n"
}

# Platforms, against the fake CLIs of FakeCli.ps1 (loaded here), replaying the recorded CLI output of the xunit Platforms
# tests (Get-Fixture NAME, from Platforms/<Provider>/Fixtures), and $root with the services of New-OpsTestRoot.
function Initialize-PlatformTestFile {
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
    Import-IncidentOps
    $root = New-OpsTestRoot
    Enter-DoctlHome   # FakeCli.ps1: no machine doctl setup applies; the file's AfterAll runs Exit-DoctlHome
}
