# A whole incident, driven from pwsh: declare, act, note, evidence, close, report. Replays the incident process of
# seeds 000 and 001 (severity matrix, incident record, "Post-Incident" review and post-mortem template).
# Uses a throw-away store so it never touches your real incidents.
param(
    [string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml')
)
Import-Module IncidentOps
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).

# A config that reuses the example services but keeps incidents in a temp folder.
$store = Join-Path ([IO.Path]::GetTempPath()) "incidentops-example-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
$config = Join-Path $store 'incidentops.yml'
New-Item -ItemType Directory -Path $store | Out-Null
((Get-Content $ConfigPath -Raw) -replace '(?m)^store:\r?\n(  .*\r?\n)*', '') + "`nstore:`n  path: $store`n" | Set-Content $config

# The severity policy (seed 000/001: P0 < 5 min, P1 < 15 min ...).
Get-IncidentSeverity -ConfigPath $config | Out-Host

# Declare: services can come straight from the pipeline (for example failing health checks).
$incident = Get-IncidentOpsService -Path $config -Name api -Environment production |
    New-Incident -Title 'API returns 502 for 20% of requests' -Severity P1 -Impact 'Checkout fails for some users' -Commander alice -ConfigPath $config
$incident | Format-List Id, Severity, SeverityName, Status, ResponseDue, NextUpdateDue, Services

# Act and keep the books: every change is a timeline entry.
Set-Incident -Status Identified -RootCause 'Connection pool exhausted by a slow report query' -Scribe bob -ConfigPath $config | Out-Host
# Preserve evidence before changing anything: platform status, deployments, recent logs, pg_stat_activity
# and Redis INFO of the incident's services, each hashed and referenced from the timeline. Without the CLIs or
# database variables of the example config, those captures come back as failed (Succeeded = $false) and the
# others are still saved.
$evidence = Save-IncidentEvidence -Source config, timeline, app-status, app-deployments, app-logs, pg-activity, redis-info -TimeoutSec 20 -ConfigPath $config -WarningAction SilentlyContinue
$evidence | Format-Table Source, Service, Succeeded, Sha256, Error
# A read-only check whose result also belongs on the timeline.
Get-RedisInfo -Service production/portfolio -Section Memory -Record -ConfigPath $config -ErrorAction SilentlyContinue | Out-Host
Add-IncidentNote 'Killed the slow report query; error rate dropping' -ConfigPath $config | Out-Host
Set-Incident -Status Monitoring -Severity P2 -UsersAffected '~1,200 checkouts' -DataLoss $false -ConfigPath $config | Out-Host
Add-IncidentActionItem -Action 'Add a statement_timeout for the reporting role' -Owner alice -Priority P1 -Due (Get-Date).AddDays(7) -ConfigPath $config | Out-Host
Get-IncidentActionItem -ConfigPath $config | Set-IncidentActionItem -Status InProgress -ConfigPath $config | Out-Host
Set-Incident -WentWell 'Alert fired within 2 minutes' -WentWrong 'No query timeout on the reporting role' `
    -LessonsLearned 'Reporting must not share the OLTP pool' -Prevention 'Separate pool for reporting' -ConfigPath $config

# Close and write the post-mortem (and a customer email draft).
Get-Incident -Active -ConfigPath $config | Close-Incident -Resolution 'Killed the runaway query and capped the pool' -ConfigPath $config | Out-Host
Get-IncidentTimeline -Id $incident.Id -ConfigPath $config | Out-Host
New-IncidentReport -Id $incident.Id -Path (Join-Path $store 'postmortem.md') -ConfigPath $config | Out-Host
New-IncidentReport -Id $incident.Id -Template google-sre -Format Html -Path (Join-Path $store 'postmortem.html') -ConfigPath $config | Out-Host
(New-IncidentReport -Id $incident.Id -Kind CustomerCommunication -ConfigPath $config).Content

Get-Incident -Since (Get-Date).AddDays(-1) -ConfigPath $config | Out-Host
