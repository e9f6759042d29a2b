# Incident metrics benchmark (issue 19): Get-IncidentMetric over 10,000 incidents on the file store and on the PostgreSQL
# team store (goal: under a second), next to the baseline of the same run, `Get-Incident | Measure-Object` (reading and
# emitting every record), so the ratio compares like with like on a loaded machine.
# The incidents are realistic records: a year of them, four severities, acknowledged/mitigated/resolved times, 2-6
# delivered updates each (UpdatesSentAt), a few services, and action items on every fifth incident; written in bulk
# (New-Incident for 10,000 would take minutes). Needs the built module (out/IncidentOps) and $env:INCIDENTOPS_TEST_PG.
param([int] $Incidents = 10000, [int] $Rounds = 5, [switch] $Keep)   # -Keep: leave the stores (folder and schema) for profiling
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$module = Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1'
Import-Module $module
. (Join-Path $PSScriptRoot '../BenchStores.ps1') -BenchStore metrics

try {
    # The records: a year (2025) of incidents, deterministic (seeded), the shape New-Incident and Send-IncidentUpdate write.
    $rng = [Random]::new(19)
    $severities = @(@{ Id = 'P0'; Name = 'Critical'; Target = 5; Every = 15 }, @{ Id = 'P1'; Name = 'High'; Target = 15; Every = 30 },
        @{ Id = 'P2'; Name = 'Medium'; Target = 60; Every = 60 }, @{ Id = 'P3'; Name = 'Low'; Target = 240; Every = 0 })
    $services = 'production/api', 'production/portfolio', 'production/marketing', 'production/fastapi', 'staging/api'
    $day0 = [DateTimeOffset]::new(2025, 1, 1, 0, 0, 0, [TimeSpan]::Zero)
    $perDay = [math]::Ceiling($Incidents / 365)
    $fileRows = [System.Collections.Generic.List[object]]::new()
    $csv = [System.Text.StringBuilder]::new()
    $itemsCsv = [System.Text.StringBuilder]::new()
    $t = [Globalization.CultureInfo]::InvariantCulture
    $iso = { param($d) $d.ToString('yyyy-MM-ddTHH:mm:ss+00:00', $t) }
    for ($g = 0; $g -lt $Incidents; $g++) {
        $day = $day0.AddDays([math]::Floor($g / $perDay))
        $id = 'INC-{0}-{1:000}' -f $day.ToString('yyyyMMdd', $t), ($g % $perDay + 1)
        $sev = $severities[$rng.Next(4)]
        $started = $day.AddMinutes($rng.Next(0, 1380))
        $declared = $started.AddMinutes($rng.Next(0, 10))
        $ack = $declared.AddMinutes($rng.Next(1, [int]($sev.Target * 1.5) + 2))
        $mitigated = $ack.AddMinutes($rng.Next(5, 120))
        $resolved = $mitigated.AddMinutes($rng.Next(5, 120))
        $sent = [System.Collections.Generic.List[string]]::new()
        if ($sev.Every) { $at = $declared; foreach ($n in 1..$rng.Next(2, 7)) { $at = $at.AddMinutes($rng.Next(5, [int]($sev.Every * 1.3) + 1)); if ($at -le $resolved) { $sent.Add("""$(& $iso $at)""") } } }
        $svc = $services[$rng.Next($services.Count)]
        $json = '{"id":"' + $id + '","title":"Bench incident ' + $g + '","severity":"' + $sev.Id + '","severityName":"' + $sev.Name + '","status":"Resolved",' +
            '"startedAt":"' + (& $iso $started) + '","declaredAt":"' + (& $iso $declared) + '","detectedAt":"' + (& $iso $declared) + '","acknowledgedAt":"' + (& $iso $ack) +
            '","mitigatedAt":"' + (& $iso $mitigated) + '","resolvedAt":"' + (& $iso $resolved) + '","commander":"alice","services":["' + $svc + '"],' +
            '"responseDue":"' + (& $iso $declared.AddMinutes($sev.Target)) + '",' + $(if ($sent.Count) { '"lastUpdateAt":' + $sent[$sent.Count - 1] + ',' } else { '' }) +
            '"updatesSentAt":[' + ($sent -join ',') + '],"severityHistory":[{"severity":"' + $sev.Id + '","at":"' + (& $iso $started) + '"}],"resolution":"Restarted"}'
        $items = $null
        if ($g % 5 -eq 0) {
            $due = $resolved.AddDays($rng.Next(3, 30))
            $items = '[{"id":"' + $id + '-A01","incidentId":"' + $id + '","action":"Alert earlier","owner":"' + ('alice', 'bob', 'carol')[$rng.Next(3)] + '","due":"' + (& $iso $due) + '","priority":"P2","status":"Open","createdAt":"' + (& $iso $resolved) + '"},' +
                '{"id":"' + $id + '-A02","incidentId":"' + $id + '","action":"Write the runbook step","priority":"P3","status":"Done","createdAt":"' + (& $iso $resolved) + '"}]'
            $null = $itemsCsv.Append($id).Append(',"').Append($items.Replace('"', '""')).Append("`"`n")
        }
        $fileRows.Add(@($id, $json, $items))
        $null = $csv.Append($id).Append(',"').Append($json.Replace('"', '""')).Append("`",bench`n")
    }
    foreach ($row in $fileRows) {
        $dir = Join-Path $work "files/incidents/$($row[0])"
        [IO.Directory]::CreateDirectory($dir) | Out-Null
        [IO.File]::WriteAllText((Join-Path $dir 'incident.json'), $row[1])
        if ($row[2]) { [IO.File]::WriteAllText((Join-Path $dir 'actions.json'), $row[2]) }
    }
    [IO.File]::WriteAllText("$work/incidents.csv", $csv.ToString())
    [IO.File]::WriteAllText("$work/items.csv", $itemsCsv.ToString())
    & psql @psql -c "\copy $schema.incidents (id, data, updated_by) FROM '$work/incidents.csv' WITH (FORMAT csv)" | Out-Null
    & psql @psql -c "\copy $schema.action_items (incident_id, items) FROM '$work/items.csv' WITH (FORMAT csv)" | Out-Null

    $year = @{ Since = '2025-01-01T00:00:00Z'; Until = '2026-01-01T00:00:00Z' }
    $check = @{}
    foreach ($k in $cfg.Keys) {
        $m = Get-IncidentMetric @year -ConfigPath $cfg[$k]
        $check[$k] = "$($m.Incidents) incidents, response $($m.ResponseTargetMet)/$($m.ResponseTargetDecided), cadence $($m.UpdatesOnTime)/$($m.UpdatesDue), $($m.ActionItemsOpen) open items"
        "{0}: {1}" -f $k, $check[$k]
    }
    if ($check.file -ne $check.postgres) { throw "The stores disagree: file $($check.file); postgres $($check.postgres)" }

    # Rounds alternate store by store and measure by measure, so each sees the same load; the first call of each warms up.
    $measures = [ordered]@{
        'Get-Incident | Measure-Object (baseline)' = { param($c) Get-Incident -ConfigPath $c | Measure-Object }
        'Get-IncidentMetric -Since -Until'          = { param($c) Get-IncidentMetric @year -ConfigPath $c }
        'Get-IncidentMetric -GroupBy Week'          = { param($c) Get-IncidentMetric @year -GroupBy Week -ConfigPath $c }
        'Get-IncidentMetric -Detailed | Measure-Object' = { param($c) Get-IncidentMetric @year -Detailed -ConfigPath $c | Measure-Object }
    }
    $times = @{}
    foreach ($k in $cfg.Keys) { foreach ($name in $measures.Keys) { $null = & $measures[$name] $cfg[$k]; $times["$k|$name"] = @() } }
    foreach ($r in 1..$Rounds) {
        foreach ($k in $cfg.Keys) {
            foreach ($name in $measures.Keys) { $times["$k|$name"] += (Measure-Command { $null = & $measures[$name] $cfg[$k] }).TotalMilliseconds }
        }
    }
    "`n{0} incidents, median of {1} rounds (load average {2})" -f $Incidents, $Rounds, ((Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ')[0]
    foreach ($k in $cfg.Keys) {
        $base = Median $times["$k|Get-Incident | Measure-Object (baseline)"]
        foreach ($name in $measures.Keys) {
            $ms = Median $times["$k|$name"]
            '{0,-9} {1,-46} {2,7:0} ms  {3,5:0.00}x baseline{4}' -f $k, $name, $ms, ($ms / $base), $(if ($name -notmatch 'baseline') { if ($ms -lt 1000) { '  (goal < 1 s: met)' } else { '  (goal < 1 s: NOT met)' } } else { '' })
        }
    }
}
finally {
    Remove-BenchStores -Keep:$Keep
}
