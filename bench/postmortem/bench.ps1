# Post-mortem over a full alerting sample ring (issue 14, "Noticed"): an incident whose alerting rounds filled the
# ring of RoundHealthSamples.MaxRounds (1,440) evidence documents of one service, two endpoints each. Times
# `New-IncidentReport -Kind PostMortem -Format Html` (which reads every round document for the health chart) in a warm
# session, on the file store and on the PostgreSQL team store, alternating the two, median of -Rounds after a warm-up.
# The documents are written in bulk in the shape the alerting round writes (1,440 Invoke-ServiceAlert rounds would take
# a day). Needs the built module (out/IncidentOps) and $env:INCIDENTOPS_TEST_PG.
param([int] $Samples = 1440, [int] $Rounds = 5, [switch] $Keep, [string] $Module = (Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1'))   # -Module: another build, to compare builds back to back
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module $Module
. (Join-Path $PSScriptRoot '../BenchStores.ps1') -BenchStore postmortem
$t = [Globalization.CultureInfo]::InvariantCulture
try {
    $ids = [ordered]@{}; $bare = [ordered]@{}
    foreach ($k in $cfg.Keys) {
        $ids[$k] = (New-Incident -Title 'production/api is failing its health checks' -Severity P1 -Service production/api -ConfigPath $cfg[$k] -Confirm:$false).Id
        # The baseline of the same run: the same post-mortem of an incident without health evidence (no chart to read).
        $bare[$k] = (New-Incident -Title 'production/api is failing its health checks' -Severity P1 -Service production/api -ConfigPath $cfg[$k] -Confirm:$false).Id
    }
    # One document per round, as HealthResultEvidenceSource.Serialize(withBody: false) writes it (indented, camelCase).
    $start = [DateTimeOffset]::new(2026, 11, 1, 0, 0, 0, [TimeSpan]::Zero)
    $sha = [Security.Cryptography.SHA256]::Create()
    $docs = for ($r = 0; $r -lt $Samples; $r++) {
        $at = $start.AddMinutes($r)
        $down = ($r % 97) -lt 9
        $items = foreach ($ep in 'health', 'ready') {
            "  {`n    ""service"": ""production/api"",`n    ""uri"": ""https://api.example.com/$ep"",`n    ""healthy"": $(if ($down) { 'false' } else { 'true' }),`n" +
            "    ""statusCode"": $(if ($down) { 503 } else { 200 }),`n    ""reason"": $(if ($down) { '"Expected status 200, got 503."' } else { 'null' }),`n" +
            "    ""failureKind"": ""$(if ($down) { 'UnexpectedStatus' } else { 'None' })"",`n    ""totalMs"": $(40 + ($r * 7 + $ep.Length * 13) % 180).5,`n" +
            "    ""timestamp"": ""$($at.AddMilliseconds($ep.Length).ToString('yyyy-MM-ddTHH:mm:ss.fffzzz', $t))"",`n    ""error"": null,`n    ""body"": null`n  }"
        }
        $content = "[`n" + ($items -join ",`n") + "`n]"
        $hash = [Convert]::ToHexString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($content))).ToLowerInvariant()
        [pscustomobject]@{ Name = 'health-rounds-production-api-{0:0000}.json' -f $r; Content = $content; Sha = $hash; At = $at }
    }
    # File store: evidence/NAME and NAME.sha256, as FileIncidentStore.PutEvidenceAsync writes them.
    $dir = Join-Path $work "files/incidents/$($ids.file)/evidence"
    [IO.Directory]::CreateDirectory($dir) | Out-Null
    foreach ($d in $docs) {
        [IO.File]::WriteAllText((Join-Path $dir $d.Name), $d.Content)
        [IO.File]::WriteAllText((Join-Path $dir "$($d.Name).sha256"), "$($d.Sha)  $($d.Name)`n$($d.At.ToString('O', $t))`n")
    }
    # PostgreSQL store: the evidence table, in one \copy.
    $csv = [Text.StringBuilder]::new()
    foreach ($d in $docs) {
        $null = $csv.Append($ids.postgres).Append(',').Append($d.Name).Append(',"').Append($d.Content.Replace('"', '""')).Append('",').Append($d.Sha).Append(',')
        $null = $csv.Append([Text.Encoding]::UTF8.GetByteCount($d.Content)).Append(',').Append($d.At.ToString('O', $t)).Append(',').Append($d.At.UtcTicks).Append("`n")
    }
    [IO.File]::WriteAllText("$work/evidence.csv", $csv.ToString())
    & psql @psql -c "\copy $schema.evidence (incident_id, name, content, sha256, bytes, captured_at, captured_ticks) FROM '$work/evidence.csv' WITH (FORMAT csv)" | Out-Null

    $check = @{}
    foreach ($k in $cfg.Keys) {
        $report = New-IncidentReport -Incident $ids[$k] -Kind PostMortem -Format Html -ConfigPath $cfg[$k]   # warm-up
        $null = New-IncidentReport -Incident $bare[$k] -Kind PostMortem -Format Html -ConfigPath $cfg[$k]
        $check[$k] = "$($report.Content.Length) chars"
    }
    $times = @{ file = @(); postgres = @() }; $baseline = @{ file = @(); postgres = @() }
    for ($i = 0; $i -lt $Rounds; $i++) {
        foreach ($k in $cfg.Keys) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $null = New-IncidentReport -Incident $ids[$k] -Kind PostMortem -Format Html -ConfigPath $cfg[$k]
            $times[$k] += $sw.Elapsed.TotalMilliseconds
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $null = New-IncidentReport -Incident $bare[$k] -Kind PostMortem -Format Html -ConfigPath $cfg[$k]
            $baseline[$k] += $sw.Elapsed.TotalMilliseconds
        }
    }
    $load = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ' | Select-Object -First 1
    "Post-mortem over $Samples round documents (2 endpoints each), median of $Rounds (load average $load):"
    foreach ($k in $cfg.Keys) {
        '  {0,-9} {1,7:N0} ms   (runs: {2}; report {3}); without samples {4:N0} ms' -f $k, (Median $times[$k]), (($times[$k] | ForEach-Object { '{0:N0}' -f $_ }) -join ', '), $check[$k], (Median $baseline[$k])
    }
}
finally {
    Remove-BenchStores -Keep:$Keep
}
