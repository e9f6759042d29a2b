# Mean ms per warm, sequential probe of $uri ($n probes, one invocation each).
$n = [int]$n
$null = Test-ServiceHealth $uri
$sw = [Diagnostics.Stopwatch]::StartNew()
for ($i = 0; $i -lt $n; $i++) { $null = Test-ServiceHealth $uri }
$sw.Stop()
'{0:F3}' -f ($sw.Elapsed.TotalMilliseconds / $n)
