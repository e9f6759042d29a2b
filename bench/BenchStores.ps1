# The setup the store benchmarks share (bench/store, bench/metrics, bench/postmortem), dot-sourced after Import-Module:
#   . (Join-Path $PSScriptRoot '../BenchStores.ps1') -BenchStore metrics
# It sets, in the caller's scope: $work (a fresh folder), $schema (a PostgreSQL schema of its own), $cfg.file and
# $cfg.postgres (an incidentops.yml for a file store and one for the team store in $schema, initialised), $psql (psql
# arguments for $env:INCIDENTOPS_TEST_PG), and defines Median and Remove-BenchStores (for the caller's finally block).
param([Parameter(Mandatory)] [string] $BenchStore)   # letters only: it names the folder and the schema
if (-not $env:INCIDENTOPS_TEST_PG) { throw 'Set INCIDENTOPS_TEST_PG to a PostgreSQL connection string.' }
$work = Join-Path ([IO.Path]::GetTempPath()) ("io-bench-$BenchStore-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $work | Out-Null
$schema = "bench_$($BenchStore)_" + $work.Substring($work.Length - 8)
$env:IO_BENCH_STORE = $env:INCIDENTOPS_TEST_PG
$cfg = [ordered]@{ file = Join-Path $work 'file.yml'; postgres = Join-Path $work 'pg.yml' }
Set-Content $cfg.file "store:`n  path: $work/files`n"
Set-Content $cfg.postgres "store:`n  kind: postgres`n  path: $work/pg-local`n  connectionString: env:IO_BENCH_STORE`n  schema: $schema`n"
Initialize-IncidentStore -ConfigPath $cfg.postgres -Confirm:$false | Out-Null
$kv = @{}; foreach ($pair in $env:INCIDENTOPS_TEST_PG -split ';') { $k, $v = $pair -split '=', 2; if ($k) { $kv[$k.Trim().ToLowerInvariant()] = "$v".Trim() } }
$psql = @('-X', '-q', '-A', '-t', '-h', $kv['host'], '-p', $kv['port'], '-U', $(if ($kv['username']) { $kv['username'] } else { 'postgres' }), '-d', $(if ($kv['database']) { $kv['database'] } else { 'postgres' }))

function Median([double[]] $v) { $s = $v | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }

# Drops the schema and the folder, or (-Keep) says where they are, for profiling.
function Remove-BenchStores([switch] $Keep) {
    if ($Keep) { return "Kept: $work (schema $schema)" }
    & psql @psql -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE" 2>&1 | Out-Null
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
