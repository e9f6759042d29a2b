#Requires -Version 7.4
# Redis triage from seeds 002 and 003 ("Redis Down", "image processing backlog"), as objects:
#   redis-cli -u $REDIS_URL ping          -> Test-RedisConnection
#   redis-cli -u $REDIS_URL info memory   -> Get-RedisInfo memory
#   redis-cli -u $REDIS_URL info keyspace -> Get-RedisInfo keyspace
#   redis-cli -u $REDIS_URL FLUSHDB       -> Clear-RedisDatabase (guarded, recorded on the incident)
param(
    [string] $RedisUrl = $env:REDIS_URL,          # redis://user:password@host:6379/0 or rediss:// for TLS
    [string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml'),
    [int] $CacheDatabase = 0,
    [switch] $FlushCache
)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).

# 1. Is it up? An unreachable Redis is a result with a Reason, not an exception.
$ping = Test-RedisConnection -ConnectionString $RedisUrl -Count 5 -TimeoutSec 3
$ping | Out-Host
if (-not $ping.Reachable) {
    Write-Warning "Redis is down: $($ping.Reason). Seed 003: restart it (kubectl rollout restart deploy/redis)."
    return
}

# The same check for every configured service that has a Redis (the URL comes from env:/file:/secret:).
Get-IncidentOpsService -Path $ConfigPath -Environment production |
    Where-Object Redis |
    Test-RedisConnection -ConfigPath $ConfigPath -Quiet -ErrorAction SilentlyContinue

# 2. Memory: a warning is written above 85% of maxmemory; evictions mean the cache is too small.
$memory = Get-RedisInfo memory -ConnectionString $RedisUrl
$memory | Out-Host
if ($memory.EvictedKeys -gt 0) { "Evicted keys so far: $($memory.EvictedKeys) (policy $($memory.EvictionPolicy))" }

# 3. Keyspace, clients, replication and the slow log: the next questions.
Get-RedisInfo keyspace -ConnectionString $RedisUrl | Out-Host
Get-RedisInfo Clients, Replication -ConnectionString $RedisUrl | Out-Host
Get-RedisClient -ConnectionString $RedisUrl | Where-Object { $_.Idle -gt [TimeSpan]::FromMinutes(10) } | Out-Host
Get-RedisSlowLog -ConnectionString $RedisUrl -Count 10 | Where-Object DurationMs -gt 50 | Out-Host

# 4. "Clear Redis cache if corrupted": see what would go first, then flush only that database.
Clear-RedisDatabase -ConnectionString $RedisUrl -Database $CacheDatabase -WhatIf
if ($FlushCache) {
    Clear-RedisDatabase -ConnectionString $RedisUrl -Database $CacheDatabase -Async -ConfigPath $ConfigPath -Confirm | Out-Host
}
