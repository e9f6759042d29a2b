# Shared by the Platforms Pester files (Initialize-PlatformTestFile of OpsTestKit.ps1 loads it; Safety and Secrets
# dot-source it): a fake CLI that replays a recorded output file for each argument prefix and logs every command line
# it was called with.
function New-FakeCli([string] $Name, [hashtable] $Replies) {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("io-pester-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $dir | Out-Null
    $log = Join-Path $dir 'argv.log'
    $lines = @('#!/bin/bash', "printf '%s\n' `"$Name `$*`" >> '$log'", 'case "$*" in')
    foreach ($prefix in $Replies.Keys) { $lines += "  '$prefix'*) cat '$($Replies[$prefix])'; exit 0;;" }
    $lines += '  *) echo "unexpected: $*" >&2; exit 97;;', 'esac'
    $path = Join-Path $dir $Name
    Set-Content -Path $path -Value ($lines -join "`n") -NoNewline
    chmod +x $path
    [pscustomobject]@{ Path = $path; Log = $log }
}
