# Send-IncidentUpdate -Pending (no -Incident) against a PostgreSQL team store of N settled incidents: the old path (every
# incident's outbox and timeline read: INCIDENTOPS_PENDING_ALL_INCIDENTS=1) and the new one (the store names the incidents
# with outbox work in one query), alternating round by round in one warm session so both see the same load:
#   1. loopback, for each N in -Incidents;
#   2. a WAN link (latency_proxy.py holds each chunk -DelayMs in each direction) with -WanIncidents settled incidents.
# Each incident: a record (from a real one), -Entries timeline entries (the last tells the update's delivery by its key),
# one outbox entry delivered to Slack. -Keep leaves the store (schema and folder) for profiling. Needs the built module (out/IncidentOps), $env:INCIDENTOPS_TEST_PG, psql and python3.
param([string[]] $Incidents = @('200', '1000'), [int] $Rounds = 5, [int] $WanIncidents = 200, [int] $WanRounds = 3, [int] $DelayMs = 5, [int] $Entries = 10, [switch] $Keep)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$module = Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1'
Import-Module $module
. (Join-Path $PSScriptRoot '../BenchStores.ps1') -BenchStore pending
$switch = 'INCIDENTOPS_PENDING_ALL_INCIDENTS'
$sizes = @($Incidents -split ',' | ForEach-Object { [int]$_ })   # "200,1000" from run.sh arrives as one string
$proxy = $null

function Add-Settled([int] $From, [int] $To) {
    # Ids INC-2020mmdd-NNN (100 a day), as bench/store writes them; update ids UPD-<day>000000000-<hex of g>.
    $sql = @"
CREATE TEMP TABLE ids AS
  SELECT g, 'INC-' || to_char(date '2020-01-01' + (g / 100), 'YYYYMMDD') || '-' || lpad((g % 100 + 1)::text, 3, '0') AS i,
         'UPD-' || to_char(date '2020-01-01' + (g / 100), 'YYYYMMDD') || '000000000-' || lpad(to_hex(g), 4, '0') AS u,
         timestamptz '2020-01-01 00:00:00+00' + (g / 100) * interval '1 day' AS t0
    FROM generate_series($From, $To) g;
INSERT INTO $schema.incidents (id, data, updated_by, timeline_last)
  SELECT i, replace('$($template.Replace("'", "''"))', '$templateId', i)::json, 'bench', $Entries FROM ids;
INSERT INTO $schema.outbox (incident_id, update_id, entry, pending)
  SELECT i, u, json_build_object('updateId', u, 'incidentId', i, 'kind', 'Update', 'status', 'Investigating', 'message', 'Checkout is failing',
         'actionsTaken', json_build_array(), 'createdAt', to_char(t0, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
         'deliveries', json_build_array(json_build_object('channel', 'incidents', 'channelType', 'Slack', 'state', 'Delivered', 'attempts', 1,
             'statusCode', 200, 'deliveredAt', to_char(t0 + interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')))), false FROM ids;
INSERT INTO $schema.timeline (incident_id, seq, at, at_ticks, writer, entry)
  SELECT i, n, t0 + n * interval '1 minute', (extract(epoch FROM t0 + n * interval '1 minute') * 10000000)::bigint + 621355968000000000, 'bench',
         CASE WHEN n < $Entries
              THEN json_build_object('timestamp', to_char(t0 + n * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'actor', 'bench@host',
                   'kind', 'note', 'action', 'Note', 'parameters', json_build_object(), 'outcome', 'Info', 'result', 'Checked the load balancer, step ' || n)
              ELSE json_build_object('timestamp', to_char(t0 + n * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'actor', 'bench@host',
                   'kind', 'update', 'cmdlet', 'Send-IncidentUpdate', 'action', 'Status update (Investigating)', 'target', 'incidents',
                   'parameters', json_build_object('UpdateId', u), 'outcome', 'Succeeded', 'result', 'incidents: delivered (200, 1 attempt(s))',
                   'deliveryKeys', json_build_array('delivery:' || u || ':incidents')) END
    FROM ids, generate_series(1, $Entries) n;
"@
    $sql | & psql @psql -v ON_ERROR_STOP=1 | Out-Null
    if ($LASTEXITCODE) { throw "psql failed ($LASTEXITCODE)" }
}

# One timed -Pending; $Every: the old path. It must find nothing to do.
function Measure-Pending([string] $Config, [bool] $Every) {
    if ($Every) { Set-Item "env:$switch" '1' } else { Remove-Item "env:$switch" -ErrorAction SilentlyContinue }
    try { $ms = (Measure-Command { $script:out = @(Send-IncidentUpdate -Pending -ConfigPath $Config -Confirm:$false) }).TotalMilliseconds }
    finally { Remove-Item "env:$switch" -ErrorAction SilentlyContinue }
    if ($script:out.Count) { throw "-Pending did something on a settled store: $($script:out.Count) results" }
    $ms
}

function Compare-Paths([string] $What, [string] $Config, [int] $N, [int] $R) {
    $null = Measure-Pending $Config $true; $null = Measure-Pending $Config $false   # warm: connections, schema check, JIT
    $before = @(); $after = @()
    foreach ($r in 1..$R) { $before += Measure-Pending $Config $true; $after += Measure-Pending $Config $false }
    $b = Median $before; $a = Median $after
    '{0}, {1} settled incidents, median of {2}: before {3:0} ms, after {4:0} ms, after/before {5:0.000}x ({6:0.0}x faster)' -f $What, $N, $R, $b, $a, ($a / $b), ($b / $a)
}

try {
    # The WAN link: a proxy in front of the same server, and a config of its own for the same schema.
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $listener.Start()
    $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $kv = [ordered]@{}; foreach ($pair in $env:INCIDENTOPS_TEST_PG -split ';') { $k, $v = $pair -split '=', 2; if ($k) { $kv[$k.Trim()] = "$v".Trim() } }
    $target = $kv['Host']; $targetPort = $kv['Port']
    $kv['Host'] = '127.0.0.1'; $kv['Port'] = "$port"
    $env:IO_BENCH_WAN = ($kv.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ';'
    $wan = Join-Path $work 'pg-wan.yml'
    Set-Content $wan "store:`n  kind: postgres`n  path: $work/pg-local`n  connectionString: env:IO_BENCH_WAN`n  schema: $schema`n"
    $log = Join-Path $work 'proxy.out'
    $proxy = Start-Process python3 -ArgumentList (Join-Path $PSScriptRoot 'latency_proxy.py'), $port, $target, $targetPort, $DelayMs -PassThru -RedirectStandardOutput $log
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while (-not ((Test-Path $log) -and (Get-Content $log -Raw) -match 'listening')) { if ([DateTime]::UtcNow -gt $deadline) { throw 'latency_proxy.py did not start' }; Start-Sleep -Milliseconds 50 }

    $templateId = (New-Incident -Title 'Checkout returns 502' -Severity P2 -ConfigPath $cfg.postgres).Id
    $template = (& psql @psql -c "SELECT data::text FROM $schema.incidents WHERE id = '$templateId'") -join "`n"
    $template = $template -replace '"incidentStore":"[^"]*",?', ''
    $have = 0
    foreach ($n in ($sizes + $WanIncidents | Sort-Object -Unique)) {
        Add-Settled $have ($n - 1); $have = $n
        # + 1: the incident the template came from (settled too: no update).
        if ($n -in $sizes) { Compare-Paths 'loopback' $cfg.postgres ($n + 1) $Rounds }
        if ($n -eq $WanIncidents) { Compare-Paths "WAN link (+$DelayMs ms each way)" $wan ($n + 1) $WanRounds }
    }
}
finally {
    if ($proxy -and -not $proxy.HasExited) { $proxy.Kill(); $proxy.WaitForExit() }
    Remove-BenchStores -Keep:$Keep
}
