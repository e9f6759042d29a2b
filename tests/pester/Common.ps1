# Shared by every Pester file (dot-source it in BeforeAll and, for -Skip/-TestCases, in BeforeDiscovery):
# importing the built module, the checks only a real host can make (help rendering, default views,
# completion), and the CI rule for servers (under CI=true a missing server fails, it never skips).

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ModulePath = Join-Path $script:RepoRoot 'out/IncidentOps/IncidentOps.psd1'

function Import-IncidentOps {
    Import-Module $script:ModulePath -Force -ErrorAction Stop
}

# The path of a recorded fixture by file name, wherever its provider keeps it: tests/IncidentOps.Tests/Platforms/<Provider>/Fixtures
# or Notifications/<Provider>/Fixtures (folders that mirror the engine's provider folders), or a shared <Area>/Fixtures.
# Names are unique (the xunit ProviderContractTests check it); a missing or doubled name throws.
function Get-Fixture([string] $Name) {
    $tests = Join-Path $script:RepoRoot 'tests/IncidentOps.Tests'
    $found = @(Get-ChildItem -File -Path (Join-Path $tests "*/*/Fixtures/$Name"), (Join-Path $tests "*/Fixtures/$Name") -ErrorAction SilentlyContinue)
    if ($found.Count -ne 1) { throw "Fixture '$Name': found $($found.Count) under tests/IncidentOps.Tests/<Area>/<Provider>/Fixtures (expected one)." }
    $found[0].FullName
}

# The xunit suite's C# provider stand-ins that Pester files use too (ProviderStub, StatuspageFake, OpsgenieFake under
# tests/IncidentOps.Tests/Notifications), compiled once per session as one assembly: whichever file runs first
# compiles them all, so a later file never finds ProviderStub loaded without the fake it needs beside it.
function Import-StandInTypes {
    if ('IncidentOps.Tests.Notifications.ProviderStub' -as [type]) { return }
    $prelude = "#nullable enable`nusing System; using System.IO; using System.Linq; using System.Collections.Generic; using System.Threading; using System.Threading.Tasks;`n"
    $src = New-TestTempDir 'io-stub'
    $files = foreach ($f in 'ProviderStub.cs', 'Statuspage/StatuspageFake.cs', 'Opsgenie/OpsgenieFake.cs', 'PagerDuty/PagerDutyFake.cs') {
        $p = Join-Path $src (Split-Path -Leaf $f)
        $prelude + (Get-Content -Raw (Join-Path $script:RepoRoot "tests/IncidentOps.Tests/Notifications/$f")) | Set-Content -Path $p
        $p
    }
    Add-Type -Path $files
}

# A throw-away folder (New-TestTempDir) with its own incidents.yml and store; Remove-TestRoot or Remove-TestTemp removes it.
function New-TestRoot([string] $Yaml = '') {
    $dir = New-TestTempDir 'io-pester'
    $store = Join-Path $dir 'store'
    $cfg = Join-Path $dir 'incidentops.yml'
    Set-Content -Path $cfg -Value ("store:`n  path: $store`n" + $Yaml)
    [pscustomobject]@{ Dir = $dir; Config = $cfg; Store = $store }
}

function Remove-TestRoot($Root) {
    if ($Root -and $Root.Dir) { Remove-TestTempPath $Root.Dir }
}

# Temporary folders and files. Every one a test makes comes from New-TestTempDir or New-TestTempFile (New-TestRoot,
# New-FakeCli and New-ReplyFile use them), which list it; Remove-TestTemp removes everything listed. Each file that
# makes any calls Remove-TestTemp in its top-level AfterAll (Exit-IsolatedIncidentOps does it for the Incidents
# files), so nothing is left in the temp folder ($TMPDIR, else /tmp), also when a test failed. The list belongs to
# the pwsh process (Pester runs one file at a time), so what a file forgot goes with the next file's Remove-TestTemp,
# and tests/Invoke-PesterSuite.ps1 removes, and names, whatever is still listed when the suite ends.
if ($null -eq $global:IncidentOpsTestTemp) { $global:IncidentOpsTestTemp = [System.Collections.Generic.List[string]]::new() }

# A fresh empty folder PREFIX-<guid> in the temp folder; returns its path.
function New-TestTempDir([string] $Prefix = 'io-pester') {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ($Prefix + '-' + [guid]::NewGuid().ToString('N'))
    $global:IncidentOpsTestTemp.Add($dir)
    New-Item -ItemType Directory -Path $dir | Out-Null
    $dir
}

# The path of a fresh file PREFIX-<guid><EXTENSION> in the temp folder (not created: the caller writes it).
function New-TestTempFile([string] $Prefix = 'io-pester', [string] $Extension = '.txt') {
    $path = Join-Path ([IO.Path]::GetTempPath()) ($Prefix + '-' + [guid]::NewGuid().ToString('N') + $Extension)
    $global:IncidentOpsTestTemp.Add($path)
    $path
}

# Removes one listed folder or file now (and forgets it).
function Remove-TestTempPath([string] $Path) {
    if (-not $Path) { return }
    Remove-Item -LiteralPath $Path -Recurse -Force -ErrorAction SilentlyContinue
    $null = $global:IncidentOpsTestTemp.Remove($Path)
}

# Removes every listed temporary folder and file; returns nothing. What cannot be removed yet (a process still
# writing into it) stays listed for the next call.
function Remove-TestTemp {
    foreach ($path in @($global:IncidentOpsTestTemp)) {
        Remove-Item -LiteralPath $path -Recurse -Force -ErrorAction SilentlyContinue
        if (-not (Test-Path -LiteralPath $path)) { $null = $global:IncidentOpsTestTemp.Remove($path) }
    }
}

# True when the test may skip because a server is missing. Under CI=true nothing skips: the test runs
# and fails with the missing server's own error.
function Test-SkipWithout([string] $EnvName) {
    if ($env:CI -eq 'true') { return $false }
    return -not [Environment]::GetEnvironmentVariable($EnvName)
}

# Get-Help -Full and -Examples render for a cmdlet, every parameter is described, no type prints as a
# hashtable, and every example's code parses. Returns the rendered -Full text for further checks.
function Assert-CmdletHelp([string] $Name) {
    $full = Get-Help $Name -Full | Out-String -Width 120
    $full | Should -Match 'SYNOPSIS'
    $full | Should -Match 'DESCRIPTION'
    $full | Should -Not -Match '@\{name='
    $help = Get-Help $Name -Full
    $help.Synopsis | Should -Not -BeNullOrEmpty
    ($help.Synopsis -replace '\s', '') | Should -Not -Be ($Name -replace '\s', '')
    @($help.Examples.Example).Count | Should -BeGreaterThan 0
    foreach ($ex in @($help.Examples.Example)) {
        { [scriptblock]::Create($ex.Code) } | Should -Not -Throw -Because "the example '$($ex.Code)' must parse"
    }
    $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
    foreach ($p in (Get-Command $Name).Parameters.Values | Where-Object { $_.Name -notin $common }) {
        $ph = @($help.Parameters.Parameter) | Where-Object Name -EQ $p.Name
        $ph | Should -Not -BeNullOrEmpty -Because "parameter -$($p.Name) of $Name needs help"
        ($ph.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "parameter -$($p.Name) of $Name needs a description"
    }
    (Get-Help $Name -Examples | Out-String -Width 120) | Should -Match 'EXAMPLE 1|Example 1'
    $full
}

# Renders objects through their default view at a width and returns the text; fails on any error record
# the formatter writes into the output.
function Get-RenderedView([object[]] $InputObject, [int] $Width = 120) {
    $text = $InputObject | Out-String -Width $Width
    $text | Should -Not -Match 'out-lineoutput|format-default|FormatException'
    $text
}

# The completion texts TabExpansion2 offers at the end of $Line (or at $Cursor).
function Get-CompletionText([string] $Line, [int] $Cursor = -1) {
    if ($Cursor -lt 0) { $Cursor = $Line.Length }
    (TabExpansion2 -inputScript $Line -cursorColumn $Cursor).CompletionMatches | ForEach-Object CompletionText
}

# A started HttpListener on a free loopback port (HttpListener cannot take port 0, and a random port can collide
# with another server): returns @{ Listener; Base = 'http://127.0.0.1:PORT' }.
function New-TestHttpListener {
    for ($attempt = 1; ; $attempt++) {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $listener = [System.Net.HttpListener]::new()
        $listener.Prefixes.Add("http://127.0.0.1:$port/")
        try { $listener.Start(); return @{ Listener = $listener; Base = "http://127.0.0.1:$port" } }
        catch { $listener.Close(); if ($attempt -ge 10) { throw } }
    }
}

# A TCP port of loopback that was free a moment ago: only for a server that is tried again on a fresh port when it
# cannot bind it (Start-TestRedisServer), or for a port nothing may listen on.
function Get-FreeTcpPort {
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start(); try { $probe.LocalEndpoint.Port } finally { $probe.Stop() }
}

# A free UDP port on loopback (for a DNS server under test).
function Get-FreeUdpPort {
    $probe = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    try { $probe.Client.LocalEndPoint.Port } finally { $probe.Dispose() }
}

# A daemonized redis-server of a test's own on free loopback ports, its files in $Dir (redis.pid, redis.log): $PortOptions
# name the options that get a free port each ('--port', or '--port', '--cluster-port', or '--tls-port' with '--port', '0'
# in $Arguments), $Arguments the rest. A probed free port can be taken by another process before redis-server binds it:
# redis-server then logs that it could not listen and exits without writing its pid file (it writes it once it
# listens), and it is tried again on fresh ports. Returns @{ Port (the first option's); Ports } once it listens.
function Start-TestRedisServer([string] $Dir, [string[]] $Arguments = @(), [string[]] $PortOptions = @('--port'), [int] $Attempts = 10) {
    $pidFile = Join-Path $Dir 'redis.pid'; $logFile = Join-Path $Dir 'redis.log'
    for ($attempt = 1; ; $attempt++) {
        Remove-Item -LiteralPath $pidFile, $logFile -ErrorAction SilentlyContinue
        $ports = @(foreach ($o in $PortOptions) { Get-FreeTcpPort })
        $portArgs = @(for ($i = 0; $i -lt $PortOptions.Count; $i++) { $PortOptions[$i]; "$($ports[$i])" })
        & redis-server --bind 127.0.0.1 @portArgs --daemonize yes --save '' --appendonly no --dir $Dir --pidfile $pidFile --logfile $logFile @Arguments | Out-Null
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ($true) {
            if (Test-Path $pidFile) { return [pscustomobject]@{ Port = $ports[0]; Ports = $ports } }
            $log = Get-Content -Raw $logFile -ErrorAction SilentlyContinue
            if ($log -match 'Address already in use|Could not create server TCP listening socket|Failed listening on port') { break }
            if ([DateTime]::UtcNow -gt $deadline) { throw "redis-server did not listen on 127.0.0.1:$($ports -join ', ') within 20 s: $log" }
            Start-Sleep -Milliseconds 50
        }
        if ($attempt -ge $Attempts) { throw "redis-server could not listen on free loopback ports in $Attempts attempts (each was taken by another process first): $log" }
    }
}
