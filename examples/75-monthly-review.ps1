# Monthly review: replays seed 001's "Runbook Maintenance / Review Schedule" (weekly: review any runbook used during
# the week; monthly: rotate through the runbooks) and checks the policy seeds 000 and 001 set for every incident:
# the response targets per severity (P0 within 5 minutes, P1 15, P2 1 hour, P3 4 hours), the update cadence
# (P0 every 15 minutes, P1 every 30, P2 hourly) and action items with owners and due dates.
# It reviews one calendar month of the store (-Month 2026-10; default: last month). When that month has no incidents
# (a fresh example store), it first imports the sample month in examples/data/incidents-2026-10 and reviews that.
param(
    [string] $ConfigPath,
    [string] $Month,
    [string] $OutFolder = (Join-Path ([IO.Path]::GetTempPath()) 'incidentops-review')
)
Import-Module IncidentOps
$ErrorActionPreference = 'Stop'
$common = @{}
if ($ConfigPath) { $common.ConfigPath = $ConfigPath }

$start = if ($Month) { [DateTimeOffset]::ParseExact($Month, 'yyyy-MM', [cultureinfo]::InvariantCulture, 'AssumeUniversal') }
         else { $now = [DateTimeOffset]::UtcNow; [DateTimeOffset]::new($now.Year, $now.Month, 1, 0, 0, 0, [TimeSpan]::Zero).AddMonths(-1) }
$period = @{ Since = $start; Until = $start.AddMonths(1) }

if ((Get-IncidentMetric @period @common).Incidents -eq 0) {
    # The example store: the sample month, moved in as a team moves incidents between stores (idempotent).
    $sample = Join-Path $PSScriptRoot 'data/incidents-2026-10'
    $archive = Join-Path ([IO.Path]::GetTempPath()) "incidentops-sample-$([guid]::NewGuid().ToString('N').Substring(0, 8)).zip"
    Compress-Archive -Path (Join-Path $sample '*') -DestinationPath $archive
    Import-Incident -Path $archive -Confirm:$false @common | Format-Table IncidentId, Action, TimelineEntries, ActionItems, Updates | Out-Host
    Remove-Item $archive
    $start = [DateTimeOffset]::new(2026, 10, 1, 0, 0, 0, [TimeSpan]::Zero)
    $period = @{ Since = $start; Until = $start.AddMonths(1) }
}
Write-Host "Review of $($start.ToString('yyyy-MM')) (incidents that started from $($period.Since.ToString('u')) to $($period.Until.ToString('u')))"

# The month in figures, then per severity: did we respond in time, and keep the audience updated?
Get-IncidentMetric @period @common | Out-Host
(Get-IncidentMetric @period @common).BySeverity | Out-Host
Get-IncidentMetric @period @common -GroupBy Week | Format-Table | Out-Host

# Every figure traces to incidents: each one that missed a target, and why.
Get-IncidentMetric @period @common -Detailed |
    Where-Object { $_.ResponseTargetMet -eq $false -or $_.CadenceMet -eq $false } |
    Format-List IncidentId, Severity, Title, ResponseReason, CadenceReason | Out-Host

# Follow-ups whose owners are late.
(Get-IncidentMetric @period @common).ActionItemsByOwner | Where-Object Overdue | Out-Host

# The review itself, for the meeting (Markdown) and to share (HTML): metrics, every incident, overdue action items
# and the runbook steps actually used, which are the runbooks due for review this month.
New-Item -ItemType Directory -Path $OutFolder -Force | Out-Null
$markdown = New-IncidentReport -Kind Review @period -Path $OutFolder -Force @common
$html = New-IncidentReport -Kind Review @period -Format Html -Path $OutFolder -Force @common
Write-Host "Wrote $($markdown.Path) and $($html.Path) ($($markdown.IncidentIds.Count) incidents)."
$markdown.Content -split "`n" | Select-String -Pattern '^## Runbooks due for review' -Context 0, 12 | ForEach-Object { $_.Line; $_.Context.PostContext } | Out-Host
