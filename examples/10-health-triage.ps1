#Requires -Version 7.4
# The first minutes of an incident (seeds 000-004, "Detection" and "Verify"), without curl, dig or watch.
# Replays the seeds' curl health checks, "curl -w" timings, dig/nslookup and the watch loop after a fix.
param(
    [string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml'),
    [string] $PublicResolver = '1.1.1.1',   # dig @1.1.1.1
    [int] $MonitorSec = 1800                # seeds: "monitor for 30 minutes" after the fix
)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).

# The endpoints come from incidentops.yml, so the same script works with any configuration.
$api = Get-IncidentOpsService -Path $ConfigPath -Name production/api              # https://ai-affiliate-empire.fly.dev/...
$site = Get-IncidentOpsService -Path $ConfigPath -Name production/portfolio       # https://frankpalmisano.com/api/...
$marketing = Get-IncidentOpsService -Path $ConfigPath -Name production/marketing  # https://www.akaind.ca/health

# 1. curl -I .../health for every configured endpoint of every production service, in parallel.
$results = Get-IncidentOpsService -Path $ConfigPath -Environment production | Test-ServiceHealth -TimeoutSec 5
$results | Where-Object { -not $_.Healthy } | Format-Table Service, Uri, FailureKind, Reason

# 2. curl -w "@curl-format.txt": where does the time go? Per phase, summed over redirects.
Test-ServiceHealth $api.Health[0].Url |
    Format-List Uri, StatusCode, DnsMs, ConnectMs, TlsMs, TimeToFirstByteMs, TotalMs, RedirectCount, RemoteAddress, HttpVersion

# 3. curl .../health/services (seed 000): which component is down?
(Test-ServiceHealth ($api.Health.Url -like '*/health/services')).Components | Where-Object { -not $_.Healthy }

# 4. Gatus-style checks, including the certificate (curl -vI | grep expire).
Test-ServiceHealth $site.Health[0].Url -Condition '[STATUS] == 200', '[BODY].status == ok', '[RESPONSE_TIME] < 300', '[CERTIFICATE_EXPIRATION] > 48h' |
    ForEach-Object { $_.Conditions; $_.Certificate | Format-List Subject, Issuer, NotAfter, DaysRemaining, ChainNotAfter, ChainExpiresFirst }

# 5. for i in {1..10}; do curl ...; sleep 1; done: availability with latency spread.
Test-ServiceHealth $marketing.Health[0].Url -Count 10 -Interval 1s | Format-List SuccessRatio, MinMs, P50Ms, P95Ms, MaxMs, Failures

# 6. Scripts want one answer.
if (-not (Test-ServiceHealth -Service production/fastapi -ConfigPath $ConfigPath -Quiet)) { Write-Warning 'fastapi is unhealthy' }

# 7. watch -n 5 curl ... while the fix rolls out, then "monitor for 30 minutes".
Watch-ServiceHealth -Service production/api -ConfigPath $ConfigPath -Interval 5s -UntilHealthy -Consecutive 3 -Duration 10m | Out-Host
Watch-ServiceHealth -Service production/api -ConfigPath $ConfigPath -IntervalSec 30 -DurationSec $MonitorSec | Select-Object -Last 1 | Out-Host

# 8. dig / nslookup: answers with TTLs, from the system resolver and from a public one.
# A service piped in is looked up by the hosts of its health endpoints and baseUrl, each once.
$api | Resolve-ServiceDns -Type A, AAAA, CNAME | Out-Host
$site | Resolve-ServiceDns -Type MX, TXT, NS -Server $PublicResolver | Out-Host

# 9. curl -vI ... | grep certificate: the whole chain, its earliest expiry, and whether it names the host.
# A service piped in is read at each of its https:// health endpoints (host and port once each).
$site | Get-ServiceCertificate | Format-List Subject, Issuer, NotAfter, DaysRemaining, ChainNotAfter, ChainExpiresFirst, HostnameMatches, ValidationErrors
