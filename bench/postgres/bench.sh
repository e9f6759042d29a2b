#!/usr/bin/env bash
# Postgres benchmarks: Get-PgActivity at 1,000 sessions vs psql reading pg_stat_activity, and
# Stop-IdleConnections on 500 idle sessions vs the seed's psql one-liner, in the same run. Prints ratios.
# Builds nothing: run `dotnet build IncidentOps.sln && dotnet build bench/postgres/PgBenchHost` first.
# Uses $INCIDENTOPS_TEST_PG_HOSTPORT (host:port, superuser postgres) or starts its own server as .ci/run does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
hostdll="$here/PgBenchHost/bin/Debug/net10.0/PgBenchHost.dll"
[ -f "$hostdll" ] || { echo "Build the host first: dotnet build $here/PgBenchHost" >&2; exit 2; }
[ -d "$repo/out/IncidentOps" ] || { echo "Build the module first: dotnet build IncidentOps.sln" >&2; exit 2; }

if [ -n "${INCIDENTOPS_TEST_PG_HOSTPORT:-}" ]; then
  host=${INCIDENTOPS_TEST_PG_HOSTPORT%:*}; port=${INCIDENTOPS_TEST_PG_HOSTPORT#*:}
else
  PGBIN=/usr/lib/postgresql/15/bin
  root=$(mktemp -d); chown postgres:postgres "$root"
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  host=127.0.0.1
  runuser -u postgres -- $PGBIN/initdb -D "$root/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  runuser -u postgres -- $PGBIN/pg_ctl -D "$root/data" -l "$root/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=off -c max_connections=1200" start >/dev/null
  trap 'runuser -u postgres -- $PGBIN/pg_ctl -D "$root/data" -m immediate -w stop >/dev/null; rm -rf "$root"' EXIT
fi
timeout 120 dotnet "$hostdll" "$repo/out/IncidentOps" "$host" "$port" postgres postgres </dev/null
