#Requires -Version 7.4
# Seed 003's database checks, whose PostgreSQL and Redis live inside the cluster ("kubectl exec -it deploy/postgres
# -n akaind-platform -- psql -U akaind -c ...", "kubectl exec -it deploy/redis ... -- redis-cli ping / info memory",
# "kubectl port-forward svc/postgres 5432:5432"), and seed 000's "flyctl postgres connect --app ai-affiliate-empire-db".
# The services' postgres.tunnel and redis.tunnel in incidentops.yml make every Pg* and Redis* cmdlet open
# kubectl port-forward (or flyctl proxy) on a free loopback port, connect through it, and close it when done.
param(
    [string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml'),
    [string] $Service = 'production/marketing',      # kubectl port-forward svc/postgres, deploy/redis
    [string] $FlyService = 'production/api',         # flyctl proxy to ai-affiliate-empire-db
    [switch] $Execute                                 # really cancel long-running queries (default: -WhatIf)
)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
$cfg = @{ ConfigPath = $ConfigPath }

# 1. "Check active connections": SELECT count(*) FROM pg_stat_activity, through kubectl port-forward svc/postgres.
#    -Verbose shows the tunnel opening, the loopback port it forwards, and the tunnel closing with the command.
Get-PgConnectionSummary -Service $Service @cfg -Verbose | Out-Host

# 2. "Check slow queries": active for more than a minute.
Get-PgActivity -Service $Service -State active -MinDuration 1m @cfg | Out-Host

# 3. "Kill long-running queries": one tunnel serves the whole pipeline; the timeline entry of each stop says it went
#    through kubectl port-forward. Without -Execute, -WhatIf prints the SQL and the tunnel it would go through.
Get-PgActivity -Service $Service -State active -MinDuration 1m @cfg |
    Stop-PgBackend -Service $Service -Mode Cancel -EscalateAfter 10s -WhatIf:(-not $Execute) -Force:$Execute @cfg
# A typed pid is read (through the tunnel) before -WhatIf names its session: take one the server has (a client session
# if there is one, else one of the server's own processes, which -IncludeBackground lists after them).
$backend = Get-PgActivity -Service $Service -IncludeBackground @cfg | Where-Object { -not $_.IsOwnSession } | Select-Object -First 1
Stop-PgBackend -Service $Service -Pid $backend.Pid -WhatIf @cfg   # what -WhatIf says about the session and the tunnel

# 4. "Redis Down": redis-cli ping and info memory, through kubectl port-forward deploy/redis.
Test-RedisConnection -Service $Service @cfg | Out-Host
Get-RedisInfo -Service $Service -Section Memory @cfg | Out-Host

# 5. Seed 000: "flyctl postgres connect" then SELECT count(*) FROM pg_stat_activity, through flyctl proxy.
Get-PgConnectionSummary -Service $FlyService @cfg | Out-Host
