# Team store benchmarks (issue 13), in one run so the ratios compare like with like on a loaded machine:
#   1. Add-IncidentNote in a warm session: PostgreSQL store vs file store (goal: PostgreSQL within 1.5x).
#   2. Get-Incident listing 10,000 incidents (goal: under 150 ms), PostgreSQL and file store.
#   3. Get-Incident -Wait delivery: a note added here, seen by a -Wait in another pwsh (goal: under 1 s).
# Needs the built module (out/IncidentOps) and $env:INCIDENTOPS_TEST_PG (a connection string, superuser).
param([int] $Appends = 200, [int] $Rounds = 5, [int] $Incidents = 10000, [int] $Deliveries = 15)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$module = Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1'
Import-Module $module
. (Join-Path $PSScriptRoot '../BenchStores.ps1') -BenchStore store

try {
    # 1. Appends, alternating stores round by round so both see the same load.
    $ids = @{}
    foreach ($k in 'file', 'postgres') {
        $ids[$k] = (New-Incident -Title 'bench appends' -Severity P2 -ConfigPath $cfg[$k]).Id
        foreach ($n in 1..20) { $null = Add-IncidentNote -Incident $ids[$k] -Text "warm $n" -ConfigPath $cfg[$k] }
    }
    $per = @{ file = @(); postgres = @() }
    foreach ($r in 1..$Rounds) {
        foreach ($k in 'file', 'postgres') {
            $t = Measure-Command { foreach ($n in 1..$Appends) { $null = Add-IncidentNote -Incident $ids[$k] -Text "n $r $n" -ConfigPath $cfg[$k] } }
            $per[$k] += $t.TotalMilliseconds / $Appends
        }
    }
    $fileMs = Median $per.file; $pgMs = Median $per.postgres
    'Add-IncidentNote, warm session, median of {0} rounds x {1}: file {2:0.00} ms, postgres {3:0.00} ms, ratio {4:0.00}x (goal <= 1.5x)' -f $Rounds, $Appends, $fileMs, $pgMs, ($pgMs / $fileMs)

    # 2. Listing $Incidents incidents: records written in bulk from a real record (New-Incident would take minutes).
    $template = Get-Content (Join-Path $work "files/incidents/$($ids.file)/incident.json") -Raw
    $template = $template -replace '"incidentStore":"[^"]*",?', ''
    $idOf = { param($g) 'INC-{0:yyyyMMdd}-{1:000}' -f ([datetime]'2020-01-01').AddDays([math]::Floor($g / 100)), ($g % 100 + 1) }
    foreach ($g in 0..($Incidents - 1)) {
        $id = & $idOf $g
        $dir = Join-Path $work "files/incidents/$id"
        [IO.Directory]::CreateDirectory($dir) | Out-Null
        [IO.File]::WriteAllText((Join-Path $dir 'incident.json'), $template.Replace($ids.file, $id))
    }
    $sqlTemplate = $template.Replace("'", "''")
    & psql @psql -c "INSERT INTO $schema.incidents (id, data, updated_by) SELECT i, replace('$sqlTemplate', '$($ids.file)', i)::json, 'bench' FROM (SELECT 'INC-' || to_char(date '2020-01-01' + (g / 100), 'YYYYMMDD') || '-' || lpad((g % 100 + 1)::text, 3, '0') AS i FROM generate_series(0, $($Incidents - 1)) g) s" | Out-Null
    foreach ($k in 'file', 'postgres') {
        $null = Get-Incident -ConfigPath $cfg[$k]
        $times = foreach ($r in 1..5) { (Measure-Command { $script:listed = @(Get-Incident -ConfigPath $cfg[$k]) }).TotalMilliseconds }
        'Get-Incident over {0} incidents ({1}): median of 5 {2:0} ms (goal < 150 ms)' -f $script:listed.Count, $k, (Median $times)
    }

    # 3. -Wait delivery: another pwsh follows; notes added here; latency = seen there - written here.
    foreach ($k in 'file', 'postgres') {
        $out = Join-Path $work "follow-$k.txt"
        $exe = [Environment]::ProcessPath
        $psi = [System.Diagnostics.ProcessStartInfo]::new($exe)
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        $follow = "Import-Module '$module'; Get-IncidentTimeline -Incident $($ids[$k]) -Wait -ConfigPath '$($cfg[$k])' | ForEach-Object { [IO.File]::AppendAllText('$out', [DateTime]::UtcNow.Ticks.ToString() + ' ' + `$_.Result + [Environment]::NewLine) }"
        foreach ($a in '-NoLogo', '-NoProfile', '-NonInteractive', '-Command', $follow) { $psi.ArgumentList.Add($a) }
        $child = [System.Diagnostics.Process]::Start($psi)
        try {
            while (-not (Test-Path $out) -or -not ((Get-Content $out -Raw) -match 'warm 20')) { Start-Sleep -Milliseconds 50 }
            Start-Sleep -Milliseconds 500
            $lat = foreach ($n in 1..$Deliveries) {
                $text = "latency $n"
                $written = Add-IncidentNote -Incident $ids[$k] -Text $text -ConfigPath $cfg[$k]
                $deadline = [DateTime]::UtcNow.AddSeconds(10)
                while (-not ((Get-Content $out -Raw) -match "$text\r?\n") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 5 }
                $line = Get-Content $out | Where-Object { $_ -match " $text$" } | Select-Object -First 1
                ([long]($line -split ' ', 2)[0] - $written.Timestamp.UtcTicks) / 10000
                Start-Sleep -Milliseconds 100
            }
            'Get-IncidentTimeline -Wait delivery ({0}): median {1:0} ms, max {2:0} ms over {3} notes (goal < 1000 ms)' -f $k, (Median $lat), ($lat | Measure-Object -Maximum).Maximum, $Deliveries
        }
        finally { if (-not $child.HasExited) { $child.Kill($true) }; $child.WaitForExit() }
    }
}
finally {
    Remove-BenchStores
}
