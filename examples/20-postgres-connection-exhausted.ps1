#Requires -Version 7.4
# Seed 003's "Database Connection Exhausted" procedure ("Too many connections" errors), with cmdlets
# instead of SQL pasted into psql. Name the database with -ConnectionString, -Service, or the libpq
# environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, ~/.pgpass).
param([string] $ConnectionString = $env:DATABASE_URL)

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).
$pg = if ($ConnectionString) { @{ ConnectionString = $ConnectionString } } else { @{} }

# 1. Quick diagnosis: who holds the connections? (seed: SELECT count(*) FROM pg_stat_activity)
$summary = Get-PgConnectionSummary @pg       # total against max_connections, headroom, by state/db/user/app/client
$summary | Out-Host
$summary.ByApplication | Out-Host
$sessions = Get-PgActivity @pg
"{0} client sessions (Get-PgActivity -IncludeBackground adds the server's own processes)" -f @($sessions).Count
Get-PgActivity @pg -State idle -MinDuration 10m | Out-Host
Get-PgSlowQuery @pg -Top 5 | Out-Host                # what keeps connections busy (pg_stat_statements)
Get-PgActivity @pg -BlockedOnly | Out-Host          # waiting on locks; BlockedBy names the blockers

# 2. Preview the fix: which idle sessions would go, which are spared and why, and the exact SQL.
Stop-IdleConnections @pg -IdleFor 10m -WhatIf

# 3. Kill idle connections (seed resolution step 1) in one round trip; own, system and superuser sessions are spared.
$report = Stop-IdleConnection @pg -IdleFor 10m -State idle, 'idle in transaction' -Force
$report | Out-Host
$report.SparedSessions | Out-Host

# 4. Queries stuck for more than five minutes: cancel, and terminate those that ignore the cancel.
Get-PgActivity @pg -State active -MinDuration 5m |
    Stop-PgBackend @pg -Mode Cancel -EscalateAfter 10s -Force

# 5. After the incident: the seed's VACUUM ANALYZE (preview first).
Invoke-PgMaintenance @pg -Operation VacuumAnalyze -WhatIf
Get-PgIndex @pg -Unused | Out-Host                   # the seed's index listing, with PgHero's health flags
