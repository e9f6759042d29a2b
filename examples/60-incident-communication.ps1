#Requires -Version 7.4
# Incident communication from pwsh (seeds 000-004's templates): the initial alert, progress updates
# through Investigating -> Identified -> Monitoring, the resolution, and the safety nets (outbox, -Pending,
# overdue-update nagging). Channels and routing come from incidentops.yml (see examples/incidentops.yml).
param(
    [string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml'),
    [string] $Incident   # defaults to the active incident
)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).
$common = @{ ConfigPath = $ConfigPath }
if ($Incident) { $common.Incident = $Incident }

# 0. The incident's own Slack channel (seed 002: #incident-YYYY-MM-DD-NNN; seed 003: invite, pin, archive). With a
#    Slack channel that has a bot token and an incidentChannel pattern, New-Incident creates it, invites the
#    responders, posts the initial update there and pins it. Preview the Web API calls a declaration would make:
New-Incident -ConfigPath $ConfigPath -Title 'Checkout returns 502' -Severity P1 -WhatIf
$declared = if ($Incident) { Get-Incident -ConfigPath $ConfigPath -Id $Incident } else { Get-Incident -ConfigPath $ConfigPath -Active }
foreach ($key in @($declared.ExternalIds.Keys) -match '^slack:[^:]+$') {
    "Incident channel ($key): $($declared.ExternalIds[$key]), #$($declared.ExternalIds["$($key):name"])" | Out-Host
}
Get-IncidentTimeline -ConfigPath $ConfigPath -Id $declared.Id | Where-Object Action -like 'Slack *' |
    Format-Table Timestamp, Action, Target, Outcome -AutoSize | Out-Host

# 1. Preview: every channel's rendered request (Slack Block Kit, Teams Adaptive Card, PagerDuty event,
#    Statuspage incident...), secrets masked. Nothing is sent.
Send-IncidentUpdate @common -Message 'Checkout returns 502 for all users.' -WhatIf

# 2. The initial alert to every channel routed for the incident's severity; next update in 15 minutes.
Send-IncidentUpdate @common -Message 'Checkout returns 502 for all users. Investigating.' -NextUpdateIn 15m |
    Where-Object { -not $_.Delivered } |
    ForEach-Object { Write-Warning "$($_.Channel): $($_.Error)" }

# 3. Progress updates. With the incidents cmdlets, pipe the active incident in.
if (Get-Command Get-Incident -ErrorAction Ignore) {
    Get-Incident -Active | Send-IncidentUpdate -ConfigPath $ConfigPath -Status Identified -Message 'Connection pool exhausted.' `
        -ActionsTaken 'Restarted api', 'Raised pool size to 50' -CurrentFocus 'Watching error rate' -Eta '20 minutes'
} else {
    Send-IncidentUpdate @common -Status Identified -Message 'Connection pool exhausted.' -ActionsTaken 'Restarted api' -CurrentFocus 'Watching error rate' | Out-Host
}
Send-IncidentUpdate @common -Status Monitoring -Message 'Fix deployed; error rate back to normal.' -Channel incidents, status | Out-Host

# 4. Nothing is lost: list what some channel has not received yet, and re-send it.
Get-IncidentUpdate @common -Pending | Out-Host
Send-IncidentUpdate -ConfigPath $ConfigPath -Pending | Out-Host

# A rollback, shown to PagerDuty responders as a Change event next to the alert.
Send-IncidentChangeEvent -ConfigPath $ConfigPath -Summary 'Rolled back api from v42 to v41' -Source api -Detail @{ from = 'v42'; to = 'v41' } | Out-Host

# 5. The resolution (Kind is inferred from the status).
Send-IncidentUpdate @common -Status Resolved -Message 'Resolved. Post-mortem to follow.' | Out-Host
Get-IncidentUpdate @common | Format-Table

# The post-mortem closes the incident, and that archives its Slack channel (conversations.archive; -WhatIf first).
Close-Incident -ConfigPath $ConfigPath -Incident $declared.Id -Resolution 'Raised the pool size; error rate normal' -WhatIf
Close-Incident -ConfigPath $ConfigPath -Incident $declared.Id -Resolution 'Raised the pool size; error rate normal' -Force | Out-Host

# 6. For a scheduled task: nag about overdue updates.
Get-IncidentUpdateDue -ConfigPath $ConfigPath | ForEach-Object {
    Write-Warning "$($_.IncidentId) [$($_.Severity)] status update overdue by $($_.OverdueBy.ToString('hh\:mm\:ss')): $($_.Title)"
}
