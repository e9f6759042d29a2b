# pwsh 7 only: the seeds' alternative to Test-ServiceHealth -ThrottleLimit, ForEach-Object -Parallel with
# Invoke-WebRequest. Wall time (ms) of $N requests to $Uri at -ThrottleLimit $N and how many returned 200,
# one line per run.
param(
    [Parameter(Mandatory)] [string] $Uri,
    [int] $N = 200,
    [int] $Runs = 3
)
$ProgressPreference = 'SilentlyContinue'
$uris = foreach ($i in 0..($N - 1)) { "$($Uri)?i=$i" }
$null = Invoke-WebRequest -Uri $Uri -TimeoutSec 20   # warm-up
foreach ($run in 1..$Runs) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $codes = $uris | ForEach-Object -Parallel {
        $ProgressPreference = 'SilentlyContinue'
        try { (Invoke-WebRequest -Uri $_ -TimeoutSec 20).StatusCode } catch { 0 }
    } -ThrottleLimit $N
    $sw.Stop()
    '{0:F1} {1}' -f $sw.Elapsed.TotalMilliseconds, @($codes | Where-Object { $_ -eq 200 }).Count
}
