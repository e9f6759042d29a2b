# Wall time (ms) of $n probes of $uri at -ThrottleLimit $n, and how many were healthy.
$n = [int]$n
$uris = [string[]]::new($n); for ($i = 0; $i -lt $n; $i++) { $uris[$i] = "$uri`?i=$i" }
$null = Test-ServiceHealth $uri
$sw = [Diagnostics.Stopwatch]::StartNew()
$r = @(Test-ServiceHealth $uris -ThrottleLimit $n -TimeoutSec 20)
$sw.Stop()
$healthy = @($r | Where-Object Healthy).Count
'{0:F1} {1}' -f $sw.Elapsed.TotalMilliseconds, $healthy
