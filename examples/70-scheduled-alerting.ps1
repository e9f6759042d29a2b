#Requires -Version 7.4
# Detection to incident, unattended: every seed runbook (000-004) starts with a failing check, a declared incident,
# a page (PagerDuty or Opsgenie, whichever pager the severity routes: one alert per incident) and the first
# update, then someone watching until it recovers. This is the alerting round that does it,
# which a scheduler runs every minute (examples/scheduled/ has the cron line, the systemd service and timer, the
# Kubernetes CronJob and the GitHub Actions schedule), run here by hand. Rules come from the `alerting` section of incidentops.yml (failureThreshold, successThreshold, severity,
# channels, autoResolveAfter, evidence); without one, 3 failures declare a P1 and 2 successes recover.
param(
    [string] $ConfigPath,                 # default: $env:INCIDENTOPS_CONFIG, ./incidentops.yml, ~/.config/incidentops/config.yml
    [string] $Service = 'production/api'
)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
$common = @{}
if ($ConfigPath) { $common.ConfigPath = $ConfigPath }

# 1. Preview: what this round would decide for the service ("Failing 1/3, waiting", "Healthy"...). Nothing is
#    counted, declared or sent.
Invoke-ServiceAlert @common -Service $Service -WhatIf | Out-Host

# 2. One round: counts the result in the incident store, and declares, updates, recovers or resolves when the rules
#    say so. A service being down is not an error; an unreachable store or an invalid configuration is.
Invoke-ServiceAlert @common -Service $Service -ErrorAction Stop | Out-Host

# 3. The on-call engineer's watch with the same rules (and the same state): a minute, one round every 20 seconds.
Watch-ServiceHealth @common -Service $Service -IntervalSec 20 -DurationSec 45 -Alert |
    Where-Object { $_.PSObject.TypeNames[0] -eq 'IncidentOps.Alerting.AlertDecision' } | Out-Host
