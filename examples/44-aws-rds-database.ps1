#Requires -Version 7.4
# Seed 004 "database down" for the FastAPI service's AWS RDS PostgreSQL: the seed's 'aws rds describe-db-instances'
# step as objects (state, engine version, Multi-AZ, pending maintenance), its snapshots, then a snapshot, a reboot
# with failover and a point-in-time restore into a NEW instance. Needs the aws CLI v2 on PATH with a profile and
# region set (AWS_PROFILE, AWS_REGION), and a service whose postgres has rds: set. Without -Execute every change
# is a -WhatIf preview.
param([string] $Service = 'production/fastapi', [switch] $Execute)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view.

# 1. aws rds describe-db-instances --db-instance-identifier fastapi-db (and describe-pending-maintenance-actions)
$db = Get-AppDatabase -Service $Service
$db | Out-Host
"Multi-AZ: $($db.MultiAz); pending maintenance: $(if ($db.PendingMaintenance) { $db.PendingMaintenance -join '; ' } else { 'none' })" | Out-Host

# 2. aws rds describe-db-snapshots: the newest available snapshot is what a restore would start from.
$snapshots = Get-AppDatabaseBackup -Service $Service
$snapshots | Select-Object -First 5 | Out-Host
$latest = $snapshots | Where-Object Restorable | Select-Object -First 1

# 3. Keep the current state before any change (aws rds create-db-snapshot).
if ($Execute) { New-AppDatabaseBackup -Service $Service -Name "before-incident-$(Get-Date -AsUTC -Format yyyyMMddHHmm)" -Force | Out-Host }
else { New-AppDatabaseBackup -Service $Service -Name before-incident -WhatIf }

# 4. A stuck primary: reboot by failing over to the Multi-AZ standby (aws rds reboot-db-instance --force-failover).
if ($db.MultiAz) { Restart-AppDatabase -Service $Service -Failover -Wait -TimeoutSec 900 -WhatIf:(-not $Execute) -Force:$Execute }

# 5. Bad data: restore into a NEW instance, from the newest snapshot or to a point in time; the source stays as it is.
if ($latest) { $latest | Restore-AppDatabaseBackup -WhatIf }
Restore-AppDatabaseBackup -Service $Service -RestoreTime (Get-Date -AsUTC).AddMinutes(-30) -NewName fastapi-db-before-incident -WhatIf
