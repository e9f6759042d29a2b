#Requires -Version 7.4
# Seed 002 P0 "recent deployment failure" on DigitalOcean App Platform: status, deployments, logs, roll back, verify.
# Needs: doctl on PATH and logged in (doctl auth init), the app id (-AppId or $env:DO_PRODUCTION_APP_ID) and, for the
# database steps, $env:DO_DATABASE_ID. With -Execute the rollback goes through the App Platform API, which needs a
# token: $env:DIGITALOCEAN_ACCESS_TOKEN, or the access-token doctl auth init saved in doctl's config.yaml.
# $env:DIGITALOCEAN_API_URL changes the API endpoint (default https://api.digitalocean.com/), e.g. for a proxy.
# Without -Execute every change is a -WhatIf preview.
param([string] $AppId = $env:DO_PRODUCTION_APP_ID, [switch] $Execute)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).
if (-not $AppId) {
    Write-Error -Category InvalidArgument -ErrorId 'AppIdMissing' -ErrorAction Continue -Message ("No DigitalOcean app id: pass -AppId <uuid> or set `$env:DO_PRODUCTION_APP_ID " +
        "(doctl apps list shows the ids).")
    $host.SetShouldExit(1); return
}
if ($Execute -and -not $env:DIGITALOCEAN_ACCESS_TOKEN) {
    # The same places Invoke-Rollback looks: the environment, then doctl's own config file.
    $configHome = if ($env:XDG_CONFIG_HOME) { $env:XDG_CONFIG_HOME } else { Join-Path $HOME '.config' }
    $doctlConfig = @((Join-Path $configHome 'doctl/config.yaml'), (Join-Path $HOME 'Library/Application Support/doctl/config.yaml')) |
        Where-Object { Test-Path $_ } | Where-Object { Select-String -Path $_ -Pattern '^access-token:\s*\S' -Quiet } | Select-Object -First 1
    if (-not $doctlConfig) {
        Write-Error -Category AuthenticationError -ErrorId 'DigitalOceanTokenMissing' -ErrorAction Continue -Message ("-Execute rolls back through the DigitalOcean " +
            "App Platform API, which needs a token, and none was found: set `$env:DIGITALOCEAN_ACCESS_TOKEN (a personal access token with " +
            "write access to apps), or log in with 'doctl auth init'. `$env:DIGITALOCEAN_API_URL changes the API endpoint " +
            "(default https://api.digitalocean.com/). Nothing was changed.")
        $host.SetShouldExit(1); return
    }
}
$target = @{ Platform = 'DigitalOcean'; AppId = $AppId }

# 1. doctl apps get
Get-AppStatus @target | Out-Host

# 2. doctl apps list-deployments: ERROR deployments never become current; the last good one is marked.
Get-AppDeployment @target -First 5 | Out-Host

# 3. doctl apps logs --type build / run
Get-AppLog @target -Type build -Component portfolio-web -Tail 100 | Out-Host
Get-AppLog @target -Type run -Tail 200 -Pattern 'error|redis' | Out-Host

# 3b. The managed database (seed 002 "Database Recovery"): status and its daily backups. DigitalOcean has no
#     on-demand backup: the newest daily backup is what preserves the data before the rollback, and a restore
#     forks it into a NEW cluster.
$db = @{ Platform = 'DigitalOcean'; DatabaseId = $env:DO_DATABASE_ID }
if ($db.DatabaseId) {
    Get-AppDatabase @db | Out-Host
    $backup = Get-AppDatabaseBackup @db | Where-Object Restorable | Select-Object -First 1
    $backup | Out-Host
    $backup | Restore-AppDatabaseBackup -NewName portfolio-db-restored -WhatIf
}

# 4. Roll back through the App Platform rollback API (validated first), or rebuild.
#    DigitalOcean pins the app to the rolled-back deployment until the rollback is committed or reverted.
if ($Execute) {
    $rollback = Invoke-Rollback @target -VerifyHealth -TimeoutSec 300 -Force
    if (-not $rollback) { $host.SetShouldExit(1); return }   # Invoke-Rollback said why; with no rollback there is nothing to commit or revert.
    $rollback | Out-Host
    # Healthy: keep it and unpin (POST /v2/apps/{id}/rollback/commit). Not healthy: undo it (POST .../rollback/revert).
    if ($rollback.HealthyAfter) { Invoke-Rollback @target -Commit -Force } else { Invoke-Rollback @target -Revert -Force }
} else {
    Invoke-Rollback @target -WhatIf
    Invoke-Rollback @target -Commit -WhatIf
    Invoke-Rollback @target -Revert -WhatIf
}
Restart-App @target -WhatIf       # doctl apps create-deployment --force-rebuild

# 5. Verify.
Get-AppStatus @target | Out-Host
