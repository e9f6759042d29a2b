# The team store: two responders on one PostgreSQL incident record. Replays seed 001's "Document actions" step for
# a team (everyone's notes and changes on one timeline) with the store of issue 13: store.kind postgres.
# Uses a throw-away schema (example_xxxxxxxx) in the database of $env:INCIDENTOPS_STORE (or $env:DATABASE_URL).
param(
    [string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml')
)
Import-Module IncidentOps
if (-not $env:INCIDENTOPS_STORE) { $env:INCIDENTOPS_STORE = $env:DATABASE_URL }
if (-not $env:INCIDENTOPS_STORE) {
    Write-Warning 'Set INCIDENTOPS_STORE to a PostgreSQL connection string (Host=...;Database=...;Username=...) to run this example.'
    return
}

# Each responder has their own configuration (their own active incident and spool), pointing at one store.
$schema = "example_$([guid]::NewGuid().ToString('N').Substring(0, 8))"
$work = Join-Path ([IO.Path]::GetTempPath()) "incidentops-$schema"
$configs = foreach ($who in 'alice', 'bob') {
    $dir = Join-Path $work $who
    New-Item -ItemType Directory -Path $dir -Force | Out-Null
    $cfg = Join-Path $dir 'incidentops.yml'
    # The team setup is these three lines under store: (path only keeps this example's local state apart).
    ((Get-Content $ConfigPath -Raw) -replace '(?m)^store:\r?\n(  .*\r?\n)*', '') +
        "`nstore:`n  kind: postgres`n  connectionString: env:INCIDENTOPS_STORE`n  schema: $schema`n  path: $dir`n" | Set-Content $cfg
    $cfg
}
$alice, $bob = $configs

# Once per store: create the schema (migrations only add; the version is recorded).
Initialize-IncidentStore -ConfigPath $alice -Confirm:$false | Out-Host

# Alice declares; Bob, on another machine, works on the same record.
$incident = New-Incident -Title 'Checkout returns 502' -Severity P1 -Commander alice -ConfigPath $alice
Add-IncidentNote -Incident $incident.Id -Text 'Rolled back api to v41' -ConfigPath $bob | Out-Null
Add-IncidentActionItem -Incident $incident.Id -Action 'Alert on pool saturation' -Owner bob -ConfigPath $bob | Out-Null
Set-Incident -Incident $incident.Id -Status Monitoring -ConfigPath $alice | Out-Null

# One timeline, whoever wrote it (Actor is user@host).
Get-IncidentTimeline -Incident $incident.Id -ConfigPath $alice | Out-Host
Get-IncidentActionItem -Incident $incident.Id -ConfigPath $alice | Out-Host
Close-Incident -Incident $incident.Id -Resolution 'Rolled back; pool limits raised' -ConfigPath $bob | Format-List Id, Status, Duration, IncidentStore

# Moving incidents between stores (a team leaving the file store does the same the other way round):
# a self-contained archive with records, timelines, action items, updates and evidence hashes. Importing is idempotent.
$archive = Join-Path $work 'incidents.zip'
Get-Incident -ConfigPath $alice | Export-Incident -Path $archive -ConfigPath $alice | Out-Host
$local = Join-Path $work 'local.yml'
"store:`n  path: $(Join-Path $work 'local-store')`n" | Set-Content $local
Import-Incident -Path $archive -ConfigPath $local -Confirm:$false | Out-Host
Remove-Item -Recurse -Force $work
