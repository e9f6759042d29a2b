#Requires -Version 7.4
# Seeds 000 and 003 while a fix rolls out: one terminal ran 'kubectl logs -f deployment/marketing | grep -i error'
# (or 'flyctl logs', 'journalctl -u fastapi -f') and another 'watch -n 5 curl .../health'. Here both run side by side
# in one session, as objects: the log follow in a thread job (Start-ThreadJob ships with pwsh 7.6) while
# Watch-ServiceHealth watches in the foreground, then the same pair with ForEach-Object -Parallel. Every step is
# bounded: -TimeoutSec ends the follow cleanly (no error) and -Duration ends the watch, and the CLI is stopped with them.
param([string] $Service = 'production/marketing', [int] $Seconds = 300, [string] $ConfigPath)

$module = Join-Path $PSScriptRoot '../out/IncidentOps'
Import-Module $module -ErrorAction Stop
$common = @{}
if ($ConfigPath) { $common.ConfigPath = $ConfigPath }

# 1. kubectl logs -f deployment/marketing | grep -i 'error|refused', in a thread job for $Seconds seconds.
$logJob = Start-ThreadJob -Name "logs $Service" -ScriptBlock {
    Import-Module $using:module
    $c = $using:common
    Get-AppLog -Service $using:Service -Follow -Pattern 'error|refused' -TimeoutSec $using:Seconds @c
}

# 2. watch -n 5 curl https://www.akaind.ca/health, in this session at the same time; keep the summary.
$interval = [TimeSpan]::FromSeconds([Math]::Max(1, [Math]::Min(5, $Seconds / 3)))
Watch-ServiceHealth -Service $Service -Interval $interval -Duration ([TimeSpan]::FromSeconds($Seconds)) @common |
    Select-Object -Last 1 | Out-Host

# 3. What the log said meanwhile (the job ends by itself at -TimeoutSec).
$logJob | Wait-Job -Timeout ($Seconds + 60) | Receive-Job | Out-Host
$logJob | Remove-Job -Force

# 4. The same pair with ForEach-Object -Parallel: both at once, the results in one pipeline, grouped by type.
$both = 'logs', 'health' | ForEach-Object -ThrottleLimit 2 -Parallel {
    Import-Module $using:module
    $c = $using:common
    if ($_ -eq 'logs') { Get-AppLog -Service $using:Service -Follow -Level warning -TimeoutSec $using:Seconds @c }
    else { Watch-ServiceHealth -Service $using:Service -Interval $using:interval -Duration ([TimeSpan]::FromSeconds($using:Seconds)) @c | Select-Object -Last 1 }
}
$both | Group-Object { $_.GetType().Name } -NoElement | Out-Host

# 5. Seeds 000 and 004 follow their logs the same way ('flyctl logs -a ai-affiliate-empire', and
#    'ssh deploy@api-1 journalctl -u fastapi -f'): several services in one follow, side by side, errors only.
Get-AppLog -Service production/api, production/fastapi -Follow -Level error -TimeoutSec $Seconds @common | Out-Host
