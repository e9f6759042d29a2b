#Requires -Version 7.4
# Paging through Opsgenie instead of PagerDuty: seed 002 pages the on-call engineer with `pd incident create`; teams
# on Opsgenie do the same step with its Alert API v2. One alert per incident, whose alias is the incident id and
# when it was declared (INC-20261130-001-20261130T091512345Z: unique across stores), so every send lands on that
# alert: created with the initial alert, acknowledged once the cause is identified, closed with the resolution.
# The channel comes from incidentops.yml (`genie: { type: opsgenie, apiKey: ... }`).
param(
    [string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml'),
    [string] $Channel = 'genie'
)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
$ErrorActionPreference = 'Stop'

# 1. Declare the incident. Its severity sets the alert's priority by rank: P0 -> P1, P1 -> P2, P2 -> P3 ...
$incident = New-Incident -ConfigPath $ConfigPath -Title 'Checkout returns 502' -Severity P1 -Service production/api `
    -Impact 'Checkout fails for all users' -Confirm:$false
$send = @{ ConfigPath = $ConfigPath; Incident = $incident.Id; Channel = $Channel }

# 2. Preview: the exact Opsgenie request (POST /v2/alerts, alias = incident id + declared time); the API key is never shown.
Send-IncidentUpdate @send -Message 'Checkout returns 502. Investigating.' -WhatIf

# 3. Page: create the alert. Opsgenie answers 202 with a requestId, kept as the result's ProviderId.
Send-IncidentUpdate @send -Message 'Checkout returns 502. Investigating.' -NextUpdateIn 15m |
    Format-Table Channel, ChannelType, Kind, Delivered, StatusCode, ProviderId | Out-Host

# 4. Cause identified: acknowledge the same alert by its alias (POST /v2/alerts/<id>/acknowledge?identifierType=alias).
Send-IncidentUpdate @send -Status Identified -Message 'Connection pool exhausted.' -ActionsTaken 'Raised pool size to 50' |
    Format-Table Channel, Kind, Delivered, StatusCode | Out-Host

# 5. Resolved: close it (POST /v2/alerts/<alias>/close?identifierType=alias), with the resolution as its note.
Send-IncidentUpdate @send -Status Resolved -Message 'Pool raised; error rate back to normal.' |
    Format-Table Channel, Kind, Delivered, StatusCode | Out-Host

# The outbox: every update and its delivery state (anything undelivered is re-sent by Send-IncidentUpdate -Pending;
# Opsgenie's alias makes that safe even after an unanswered attempt).
Get-IncidentUpdate -ConfigPath $ConfigPath -Incident $incident.Id | Out-Host
