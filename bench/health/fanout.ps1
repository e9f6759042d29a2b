# Wall time (ms) of $n probes of $uri at -ThrottleLimit $n and how many were healthy, one line per run ($runs runs).
$n = [int]$n
$runs = if ($runs) { [int]$runs } else { 3 }
$uris = [string[]]::new($n); for ($i = 0; $i -lt $n; $i++) { $uris[$i] = "$uri`?i=$i" }
$null = Test-ServiceHealth $uris[0..([Math]::Min(9, $n - 1))] -ThrottleLimit 10   # warm-up of the fan-out path itself (JIT), not only of one probe
for ($k = 0; $k -lt $runs; $k++) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $r = @(Test-ServiceHealth $uris -ThrottleLimit $n -TimeoutSec 20)
    $sw.Stop()
    $healthy = @($r | Where-Object Healthy).Count
    '{0:F1} {1}' -f $sw.Elapsed.TotalMilliseconds, $healthy
}
