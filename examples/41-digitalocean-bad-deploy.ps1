#Requires -Version 7.4
# Seed 002 P0 "recent deployment failure" on DigitalOcean App Platform: status, deployments, logs, roll back, verify.
param([string] $AppId = $env:DO_PRODUCTION_APP_ID, [switch] $Execute)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
$target = @{ Platform = 'DigitalOcean'; AppId = $AppId }

# 1. doctl apps get
Get-AppStatus @target

# 2. doctl apps list-deployments: ERROR deployments never become current; the last good one is marked.
Get-AppDeployment @target -First 5

# 3. doctl apps logs --type build / run
Get-AppLog @target -Type build -Component portfolio-web -Tail 100
Get-AppLog @target -Type run -Tail 200 -Pattern 'error|redis'

# 3b. The managed database (seed 002 "Database Recovery"): status and its daily backups. DigitalOcean has no
#     on-demand backup: the newest daily backup is what preserves the data before the rollback, and a restore
#     forks it into a NEW cluster.
$db = @{ Platform = 'DigitalOcean'; DatabaseId = $env:DO_DATABASE_ID }
if ($db.DatabaseId) {
    Get-AppDatabase @db
    $backup = Get-AppDatabaseBackup @db | Where-Object Restorable | Select-Object -First 1
    $backup
    $backup | Restore-AppDatabaseBackup -NewName portfolio-db-restored -WhatIf
}

# 4. Roll back through the App Platform rollback API (validated first), or rebuild.
#    DigitalOcean pins the app to the rolled-back deployment until the rollback is committed or reverted.
if ($Execute) {
    $rollback = Invoke-Rollback @target -VerifyHealth -TimeoutSec 300 -Force
    $rollback
    # Healthy: keep it and unpin (POST /v2/apps/{id}/rollback/commit). Not healthy: undo it (POST .../rollback/revert).
    if ($rollback.HealthyAfter) { Invoke-Rollback @target -Commit -Force } else { Invoke-Rollback @target -Revert -Force }
} else {
    Invoke-Rollback @target -WhatIf
    Invoke-Rollback @target -Commit -WhatIf
    Invoke-Rollback @target -Revert -WhatIf
}
Restart-App @target -WhatIf       # doctl apps create-deployment --force-rebuild

# 5. Verify.
Get-AppStatus @target
