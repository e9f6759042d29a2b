#!/usr/bin/env bash
# Send-IncidentUpdate -Pending over a team store of settled incidents (bench/pending/bench.ps1) under the pinned pwsh.
# Build the module first (dotnet pwsh ./build.ps1 -Task Build); needs INCIDENTOPS_TEST_PG (as .ci/run exports it),
# psql and python3 (the WAN link: latency_proxy.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pwsh=${PWSH:-pwsh}
[ -n "${INCIDENTOPS_TEST_PG:-}" ] || { echo "Set INCIDENTOPS_TEST_PG (a PostgreSQL connection string)." >&2; exit 2; }
exec "$pwsh" -NoLogo -NoProfile -NonInteractive -File "$here/bench.ps1" "$@"
