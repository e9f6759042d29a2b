#Requires -Version 7.4
# Seed 000/001 P0 "recent deployment failure" on Fly.io: status, resource usage (flyctl metrics), releases, logs, roll back, verify.
# Without -Execute every change is a -WhatIf preview. With -Execute it takes a backup of the Fly Postgres app first and
# stops, without rolling back, when that backup fails; -SkipBackup rolls back without one (the newest existing backup
# is then all that preserves the data). -TimeoutSec is how long the rollback may take, health checks included.
# It stops with SetShouldExit(1) and return, not exit: under pwsh -File, exit drops the output still waiting to be
# formatted, so the steps above and the reason would never show.
param([string] $App = 'ai-affiliate-empire', [switch] $Execute, [switch] $SkipBackup, [int] $TimeoutSec = 300)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).
$target = @{ Platform = 'Fly'; App = $App }

# 1. flyctl status: which machines are down, and why (OOMKilled, failing checks)?
$status = Get-AppStatus @target
$status | Out-Host
$status.Instances | Format-Table Id, State, Region, Restarts, LastExitReason, Checks

# 1b. flyctl metrics (the Fly dashboard): CPU and memory in use per machine against its size, and restarts. The
#     figures in use come from Fly's Prometheus (FLY_API_TOKEN or flyctl's own login); NotAvailable says what Fly lacks.
$usage = Get-AppResourceUsage @target
$usage | Out-Host
$usage | Where-Object MemoryPercent -gt 80 | ForEach-Object { "Machine $($_.Instance) uses $($_.MemoryPercent)% of its memory: an OOM kill is near." }

# 2. flyctl releases: the current release and the last good one.
Get-AppDeployment @target -First 5 | Out-Host

# 3. flyctl logs | grep -i "error\|memory"
Get-AppLog @target -Tail 200 -Pattern 'error|memory' | Out-Host

# 3b. Fly Postgres (seed 000 scenario B, seed 001 backup & restore): is the database healthy, and preserve a
#     backup before rolling back: a rollback does not undo the bad release's migrations.
$db = @{ Platform = 'Fly'; DatabaseApp = "$App-db" }
Get-AppDatabase @db | Out-Host
Get-AppDatabaseBackup @db | Select-Object -First 3 | Out-Host
if (-not $Execute) { New-AppDatabaseBackup @db -WhatIf }
elseif ($SkipBackup) { Write-Warning "Rolling back $App without a fresh backup of $($db.DatabaseApp) (-SkipBackup): its migrations will not be undone." }
else {
    $backup = New-AppDatabaseBackup @db -Name "before-rollback-$(Get-Date -Format yyyyMMddHHmm)" -TimeoutSec 900 -Force -ErrorAction SilentlyContinue -ErrorVariable backupFailed
    if ($backupFailed -or -not $backup) {
        $why = if ($backupFailed) { $backupFailed[0].ToString() } else { 'it returned no backup' }
        Write-Error -Category OperationStopped -ErrorId 'ProtectiveBackupFailed' -Message ("Not rolling back ${App}: the protective backup of $($db.DatabaseApp) failed ($why). " +
            "A rollback does not undo the bad release's migrations, so this backup is what preserves the data. Fix the backup and run again, " +
            "or run again with -SkipBackup to roll back without it.") -ErrorAction Continue
        $host.SetShouldExit(1); return
    }
    $backup | Out-Host
}

# 4. Roll back to the previous successful image (prints from -> to and the flyctl command without -Execute).
if ($Execute) { Invoke-Rollback @target -VerifyHealth -TimeoutSec $TimeoutSec -Force | Out-Host } else { Invoke-Rollback @target -WhatIf }

# Mitigations from the seed: mock mode while the provider is down, more memory, a restart.
Get-AppSetting @target | Out-Host
Set-AppSetting @target -Setting @{ ENABLE_MOCK_MODE = 'true' } -WhatIf
Set-AppScale @target -Size shared-cpu-2x -Count 2 -WhatIf
Restart-App @target -WhatIf
Restart-AppDatabase @db -WhatIf     # flyctl postgres restart, when the database is the culprit
# Last resort: restore the newest finished backup into a NEW Postgres app, then attach it.
Get-AppDatabaseBackup @db | Where-Object Restorable | Select-Object -First 1 | Restore-AppDatabaseBackup -WhatIf

# 5. Verify.
Get-AppStatus @target | Out-Host
