# Shared by the Platforms Pester files (Initialize-PlatformTestFile of OpsTestKit.ps1 loads it; Safety and Secrets
# dot-source it): a fake CLI that replays a recorded output file for each argument prefix and logs every command line
# it was called with. With -Stream it behaves like a CLI following a log: it writes the file line by line, -LineDelay
# seconds apart (0: all at once), then keeps running until it is killed; its pid is in .PidFile and its sleeping child's in .ChildFile.
function New-FakeCli([string] $Name, [hashtable] $Replies, [switch] $Stream, [double] $LineDelay = 0.02) {
    $dir = New-TestTempDir 'io-fakecli'   # Common.ps1: Remove-TestTemp in the file's AfterAll removes it
    $log = Join-Path $dir 'argv.log'
    $pidFile = Join-Path $dir "$Name.pid"
    $childFile = Join-Path $dir "$Name.child"
    $delay = $LineDelay.ToString([cultureinfo]::InvariantCulture)
    $lines = @('#!/bin/bash', "printf '%s\n' `"$Name `$*`" >> '$log'", 'case "$*" in')
    foreach ($prefix in $Replies.Keys) {
        if ($Stream) {
            $emit = if ($LineDelay -gt 0) { "while IFS= read -r l || [ -n `"`$l`" ]; do printf '%s\n' `"`$l`"; sleep $delay; done < '$($Replies[$prefix])'" } else { "cat '$($Replies[$prefix])'" }
            $lines += "  '$prefix'*) echo `$`$ > '$pidFile'; $emit; sleep 600 & echo `$! > '$childFile'; wait; exit 0;;"
        }
        else { $lines += "  '$prefix'*) cat '$($Replies[$prefix])'; exit 0;;" }
    }
    $lines += '  *) echo "unexpected: $*" >&2; exit 97;;', 'esac'
    $path = Join-Path $dir $Name
    Set-Content -Path $path -Value ($lines -join "`n") -NoNewline
    chmod +x $path
    [pscustomobject]@{ Path = $path; Log = $log; PidFile = $pidFile; ChildFile = $childFile }
}

# True once the process whose pid is in $File has ended (a zombie counts as ended); waits up to 15 s for it (a kill is at
# once, but a loaded machine may be slow to reap). A missing
# file is $true only with -Optional (a child the CLI never got to start).
function Test-FakeCliGone([string] $File, [switch] $Optional) {
    if (-not (Test-Path $File)) { return [bool]$Optional }
    $id = [int](Get-Content $File -Raw).Trim()
    for ($i = 0; $i -lt 150; $i++) {
        $stat = "/proc/$id/stat"
        if (-not (Test-Path $stat)) { return $true }
        try { if (((Get-Content $stat -Raw) -split '\) ', 2)[1] -like 'Z*') { return $true } } catch { return $true }
        Start-Sleep -Milliseconds 100
    }
    $false
}

# doctl's setup of this test file, so no DigitalOcean test depends on the machine's: DIGITALOCEAN_CONFIG points at a
# config.yaml in a fresh temp folder (absent unless a test writes it; doctl and the module read it before anything under
# HOME or XDG_CONFIG_HOME), and DIGITALOCEAN_CONTEXT and DIGITALOCEAN_ACCESS_TOKEN are unset. Initialize-PlatformTestFile
# enters it; the file's AfterAll leaves it (Exit-DoctlHome restores what was set before). HOME and XDG_CONFIG_HOME stay:
# the Kubernetes cases of the same files read kubectl's default ~/.kube/config through them. PlatformAuth.Tests.ps1
# points HOME and XDG_CONFIG_HOME at a temp folder per test itself.
function Enter-DoctlHome {
    $global:IncidentOpsDoctlSaved = @{}
    foreach ($name in 'DIGITALOCEAN_CONFIG', 'DIGITALOCEAN_CONTEXT', 'DIGITALOCEAN_ACCESS_TOKEN') {
        $global:IncidentOpsDoctlSaved[$name] = [Environment]::GetEnvironmentVariable($name)
        Remove-Item "Env:$name" -ErrorAction SilentlyContinue
    }
    $env:DIGITALOCEAN_CONFIG = Join-Path (New-TestTempDir 'io-doctl-home') 'config.yaml'
}

function Exit-DoctlHome {
    if ($null -eq $global:IncidentOpsDoctlSaved) { return }
    foreach ($name in $global:IncidentOpsDoctlSaved.Keys) {
        $value = $global:IncidentOpsDoctlSaved[$name]
        if ($null -eq $value) { Remove-Item "Env:$name" -ErrorAction SilentlyContinue } else { [Environment]::SetEnvironmentVariable($name, $value) }
    }
    $global:IncidentOpsDoctlSaved = $null
}
