#Requires -Version 7.4
# Seed 004 P0 "recent deployment failure" for a FastAPI unit under systemd: status, releases, journal, roll back, verify.
param([string] $Unit = 'fastapi', [string] $ReleasesPath = '/srv/fastapi/releases', [switch] $Execute)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
$target = @{ Platform = 'Systemd'; Unit = $Unit; ReleasesPath = $ReleasesPath }

# 1. systemctl status fastapi
Get-AppStatus @target

# 2. The release directories; 'current' is the symlink the unit runs from.
Get-AppDeployment @target

# 3. journalctl -u fastapi -n 200 | grep -i error
Get-AppLog @target -Tail 200 -Pattern 'error|traceback'
Get-AppSetting @target

# 4. Repoint 'current' to the previous good release atomically, then systemctl restart.
if ($Execute) { Invoke-Rollback @target -VerifyHealth -TimeoutSec 120 -Force } else { Invoke-Rollback @target -WhatIf }
Restart-App @target -WhatIf

# 5. Verify.
Get-AppStatus @target
