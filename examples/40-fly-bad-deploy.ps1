#Requires -Version 7.4
# Seed 000/001 P0 "recent deployment failure" on Fly.io: status, releases, logs, roll back, verify.
param([string] $App = 'ai-affiliate-empire', [switch] $Execute)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
$target = @{ Platform = 'Fly'; App = $App }

# 1. flyctl status: which machines are down, and why (OOMKilled, failing checks)?
$status = Get-AppStatus @target
$status
$status.Instances | Format-Table Id, State, Region, Restarts, LastExitReason, Checks

# 2. flyctl releases: the current release and the last good one.
Get-AppDeployment @target -First 5

# 3. flyctl logs | grep -i "error\|memory"
Get-AppLog @target -Tail 200 -Pattern 'error|memory'

# 3b. Fly Postgres (seed 000 scenario B, seed 001 backup & restore): is the database healthy, and preserve a
#     backup before rolling back: a rollback does not undo the bad release's migrations.
$db = @{ Platform = 'Fly'; DatabaseApp = "$App-db" }
Get-AppDatabase @db
Get-AppDatabaseBackup @db | Select-Object -First 3
if ($Execute) { New-AppDatabaseBackup @db -Name "before-rollback-$(Get-Date -Format yyyyMMddHHmm)" -TimeoutSec 900 -Force } else { New-AppDatabaseBackup @db -WhatIf }

# 4. Roll back to the previous successful image (prints from -> to and the flyctl command without -Execute).
if ($Execute) { Invoke-Rollback @target -VerifyHealth -TimeoutSec 300 -Force } else { Invoke-Rollback @target -WhatIf }

# Mitigations from the seed: mock mode while the provider is down, more memory, a restart.
Get-AppSetting @target
Set-AppSetting @target -Setting @{ ENABLE_MOCK_MODE = 'true' } -WhatIf
Set-AppScale @target -Size shared-cpu-2x -Count 2 -WhatIf
Restart-App @target -WhatIf
Restart-AppDatabase @db -WhatIf     # flyctl postgres restart, when the database is the culprit
# Last resort: restore the newest finished backup into a NEW Postgres app, then attach it.
Get-AppDatabaseBackup @db | Where-Object Restorable | Select-Object -First 1 | Restore-AppDatabaseBackup -WhatIf

# 5. Verify.
Get-AppStatus @target
