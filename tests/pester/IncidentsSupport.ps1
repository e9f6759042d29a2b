# Shared by the Config, Incidents and Notifications Pester files (dot-source it after Common.ps1):
# an isolated configuration, store and per-user data folder per test file, a loopback HTTP stub for the
# notification providers, and -WhatIf capture through a child pwsh.

# Where the module keeps per-user state (the active incident, the default store, the user config) is
# redirected into the test root, so test files never see each other's incidents, nor the user's, even when
# one Invoke-Pester runs them all in one process.
$script:IsolatedVariables = 'INCIDENTOPS_CONFIG', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME'

function Enter-IsolatedIncidentOps([string] $Yaml = '') {
    $root = New-TestRoot -Yaml $Yaml
    $saved = @{}
    foreach ($name in $script:IsolatedVariables) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    $root | Add-Member -NotePropertyName SavedEnvironment -NotePropertyValue $saved
    foreach ($sub in 'data', 'config', 'state') { New-Item -ItemType Directory -Path (Join-Path $root.Dir $sub) | Out-Null }
    $env:INCIDENTOPS_CONFIG = $root.Config
    $env:XDG_DATA_HOME = Join-Path $root.Dir 'data'
    $env:XDG_CONFIG_HOME = Join-Path $root.Dir 'config'
    $env:XDG_STATE_HOME = Join-Path $root.Dir 'state'
    $root
}

function Exit-IsolatedIncidentOps($Root) {
    if (-not $Root) { return }
    foreach ($name in $script:IsolatedVariables) { [Environment]::SetEnvironmentVariable($name, $Root.SavedEnvironment[$name]) }
    if ($Root.PSObject.Properties['Stub']) { Stop-ProviderStub $Root.Stub }
    Remove-TestRoot $Root
    Remove-TestTemp   # the file's AfterAll: whatever else its tests made in the temp folder
}

# Enter-IsolatedIncidentOps with one channel, 'audit': a webhook to a provider stub (Start-ProviderStub, kept in the
# root's Stub and stopped by Exit-IsolatedIncidentOps), where the severities $RouteToAudit route their updates.
# $Channels adds more channel lines (each indented two spaces) to the 'channels' section.
function Enter-IsolatedIncidentOpsWithAudit([string[]] $RouteToAudit, [string] $Channels = '') {
    $stub = Start-ProviderStub
    $channelLines = @("  audit: { type: webhook, url: '$($stub.Url)/hooks/audit' }") + @($Channels -split "\r?\n" | Where-Object { $_ })
    $routingLines = foreach ($severity in $RouteToAudit) { "  ${severity}: [audit]" }
    $yaml = (@('channels:') + $channelLines + @('routing:') + $routingLines) -join "`n"
    $root = Enter-IsolatedIncidentOps -Yaml $yaml
    $root | Add-Member -NotePropertyName Stub -NotePropertyValue $stub
    $root
}

# The per-file setup of the Config, Incidents and Notifications files, in BeforeAll after dot-sourcing Common.ps1 and
# this file: imports the module and enters an isolated setup with $Yaml (Enter-IsolatedIncidentOps) or, given
# -RouteToAudit, with the stubbed 'audit' channel (Enter-IsolatedIncidentOpsWithAudit). Returns the root, for
# AfterAll { Exit-IsolatedIncidentOps $script:root }.
function Initialize-IncidentTestFile([string] $Yaml = '', [string[]] $RouteToAudit = @(), [string] $Channels = '') {
    Import-IncidentOps
    if ($RouteToAudit.Count -gt 0) { return Enter-IsolatedIncidentOpsWithAudit -RouteToAudit $RouteToAudit -Channels $Channels }
    Enter-IsolatedIncidentOps -Yaml $Yaml
}

# A loopback HTTP server standing in for the notification providers: answers 200 (202 with a PagerDuty
# body under /v2/) and records every request (method, path, body) in $stub.Requests.
function Start-ProviderStub {
    # A started listener on a free port (New-TestHttpListener of Common.ps1 retries with a fresh port and listener
    # when another process took the probed port before Start).
    $http = New-TestHttpListener
    $listener = $http.Listener
    $port = ([uri]$http.Base).Port
    $requests = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new())
    $ps = [powershell]::Create()
    $null = $ps.AddScript({
        param($listener, $requests)
        while ($listener.IsListening) {
            try { $ctx = $listener.GetContext() } catch { break }
            $reader = [IO.StreamReader]::new($ctx.Request.InputStream)
            $body = $reader.ReadToEnd()
            $path = $ctx.Request.Url.AbsolutePath
            $null = $requests.Add([pscustomobject]@{ Method = $ctx.Request.HttpMethod; Path = $path; Body = $body })
            $code = 200; $answer = '{"ok":true}'
            if ($path -like '/v2/*') { $code = 202; $answer = '{"status":"success","message":"Event processed","dedup_key":"stub-dedup"}' }
            $ctx.Response.StatusCode = $code
            $ctx.Response.ContentType = 'application/json'
            $bytes = [Text.Encoding]::UTF8.GetBytes($answer)
            $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length)
            $ctx.Response.Close()
        }
    }).AddArgument($listener).AddArgument($requests)
    $handle = $ps.BeginInvoke()
    [pscustomobject]@{ Url = "http://127.0.0.1:$port"; Listener = $listener; PowerShell = $ps; Handle = $handle; Requests = $requests }
}

function Stop-ProviderStub($Stub) {
    if (-not $Stub) { return }
    try { $Stub.Listener.Stop(); $Stub.Listener.Close() } catch { }
    $Stub.PowerShell.Dispose()
}

# Runs a command line in a child pwsh (this pwsh's executable, with the module imported and this process's
# environment, so the same isolated config and store) and returns everything it printed, host output
# included. That is where -WhatIf's "What if:" lines go: they are written to the host, not to a stream.
function Invoke-InChildPwsh([string] $Command) {
    # pwsh may run as the .NET global tool (the process is dotnet, running pwsh.dll): start the same way.
    $exe = [Environment]::ProcessPath
    $prefix = @()
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $prefix = @(Join-Path $PSHOME 'pwsh.dll') }
    $module = Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1'
    $script = "`$ErrorActionPreference = 'Stop'; Import-Module '$module'; $Command"
    $out = & $exe @prefix -NoLogo -NoProfile -NonInteractive -Command $script 2>&1
    ($out | Out-String -Width 400)
}

# The completion results (text and tooltip) TabExpansion2 offers at the end of $Line.
function Get-Completion([string] $Line) {
    (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
}
