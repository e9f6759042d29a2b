#Requires -Version 7.4
# Seed 003 P0 "recent deployment failure" on Kubernetes: status (why the pod died), events, kubectl top, rollout
# history, logs, undo, the database StatefulSet's restart, verify.
param([string] $Context = 'production', [string] $Namespace = 'akaind-platform', [string] $Deployment = 'marketing', [switch] $Execute)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).
$target = @{ Platform = 'Kubernetes'; Context = $Context; Namespace = $Namespace; Deployment = $Deployment }

# 1. kubectl get deployment / get pods: the Reason names the failing pod and why its last run ended.
$status = Get-AppStatus @target
$status | Out-Host
# kubectl describe pod <failing-pod>: state, restarts, last exit (OOMKilled, exit code 137) and its last events.
$status.Instances | Where-Object { -not $_.Ready } | Out-Host
$status.Instances | Where-Object { -not $_.Ready } | Select-Object -ExpandProperty Events | Out-Host

# kubectl get events -n akaind-platform --sort-by='.lastTimestamp': the warnings about the deployment and its pods.
Get-AppEvent @target -Type Warning | Out-Host

# 1b. kubectl top pods, with each pod's requests and limits (the metrics API; metrics-server must be installed):
#     a pod near its memory limit is the next OOMKilled. A pod without a limit can use its node's free memory
#     (kubectl top nodes), which NotAvailable says.
$usage = Get-AppResourceUsage @target
$usage | Out-Host
$usage | Where-Object { $null -eq $_.MemoryLimitBytes } | ForEach-Object { "$($_.Instance) on $($_.Node): $($_.NotAvailable -match 'Memory limit')" }
# kubectl top nodes: how much of each pod's node is in use and what is left.
$usage | Format-Table Instance, Node, @{ n = 'NodeCPU'; e = { '{0:0.##}/{1:0.##}' -f $_.HostCpuCores, $_.HostCpuTotalCores } },
    @{ n = 'NodeMemFreeMi'; e = { [long]($_.HostMemoryAvailableBytes / 1MB) } } | Out-Host

# 2. kubectl rollout history
Get-AppDeployment @target | Out-Host

# 3. kubectl logs deployment/marketing --tail=200 | grep -i error
Get-AppLog @target -Tail 200 -Pattern 'error' | Out-Host

# 4. kubectl rollout undo + rollout status (sent as a kubectl patch that the API server refuses if a deploy landed meanwhile)
if ($Execute) { Invoke-Rollback @target -VerifyHealth -TimeoutSec 300 -Force | Out-Host } else { Invoke-Rollback @target -WhatIf }

# Mitigations from the seed.
Set-AppSetting @target -Setting @{ PAYMENT_PROVIDER = 'backup' } -WhatIf
Set-AppScale @target -Count 5 -WhatIf
Restart-App @target -WhatIf

# If database issues, last resort: kubectl rollout restart statefulset/postgres -n akaind-platform
# (a StatefulSet: -StatefulSet, or statefulSet: postgres under the service in incidentops.yml).
$database = @{ Platform = 'Kubernetes'; Context = $Context; Namespace = $Namespace; StatefulSet = 'postgres' }
if ($Execute) { Restart-App @database -Wait -TimeoutSec 300 -Force | Out-Host } else { Restart-App @database -Wait -WhatIf }

# 5. Verify.
Get-AppStatus @target | Out-Host
