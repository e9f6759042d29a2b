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

# 4. Roll back to the previous successful image (prints from -> to and the flyctl command without -Execute).
if ($Execute) { Invoke-Rollback @target -VerifyHealth -TimeoutSec 300 -Force } else { Invoke-Rollback @target -WhatIf }

# Mitigations from the seed: mock mode while the provider is down, more memory, a restart.
Get-AppSetting @target
Set-AppSetting @target -Setting @{ ENABLE_MOCK_MODE = 'true' } -WhatIf
Set-AppScale @target -Size shared-cpu-2x -Count 2 -WhatIf
Restart-App @target -WhatIf

# 5. Verify.
Get-AppStatus @target
