#Requires -Version 7.4
# Seed 004 P0 "recent deployment failure" for a FastAPI unit under systemd: status, htop and df -h, releases, journal, roll back, verify.
# With -ComputerName every step (systemctl, journalctl, the release listing and the symlink swap) runs over
# ssh -o BatchMode=yes, so key-based login must already work.
param([string] $Unit = 'fastapi', [string] $ReleasesPath = '/srv/fastapi/releases', [string] $ComputerName, [switch] $Execute)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).
$target = @{ Platform = 'Systemd'; Unit = $Unit; ReleasesPath = $ReleasesPath }
if ($ComputerName) { $target.ComputerName = $ComputerName }

# 1. systemctl status fastapi
Get-AppStatus @target | Out-Host

# 1b. htop and df -h: the unit's memory against MemoryMax, its CPU, tasks and restarts, the host's load and memory,
#     and its filesystems (a full disk fails a deploy as surely as a bad release). Over ssh this is one command.
$usage = Get-AppResourceUsage @target
$usage | Out-Host
$usage.Disks | Out-Host

# 2. The release directories; 'current' is the symlink the unit runs from.
Get-AppDeployment @target | Out-Host

# 3. journalctl -u fastapi -n 200 | grep -i error
Get-AppLog @target -Tail 200 -Pattern 'error|traceback' | Out-Host
Get-AppSetting @target | Out-Host

# 4. Repoint 'current' to the previous good release atomically (ln -sfn to a temporary link, mv -Tf over 'current'),
#    then systemctl restart. -VerifyHealth runs the service's configured health checks when it comes from
#    incidentops.yml (-Service), and the unit's status otherwise.
if ($Execute) { Invoke-Rollback @target -VerifyHealth -TimeoutSec 120 -Force | Out-Host } else { Invoke-Rollback @target -WhatIf }
Restart-App @target -WhatIf

# 5. Verify.
Get-AppStatus @target | Out-Host
