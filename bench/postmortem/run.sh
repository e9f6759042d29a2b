#!/usr/bin/env bash
# Post-mortem over a full alerting sample ring (bench/postmortem/bench.ps1) under the pinned pwsh. Build the module
# first (dotnet build src/IncidentOps/IncidentOps.csproj); needs INCIDENTOPS_TEST_PG (as .ci/run exports it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pwsh=${PWSH:-pwsh}
[ -n "${INCIDENTOPS_TEST_PG:-}" ] || { echo "Set INCIDENTOPS_TEST_PG (a PostgreSQL connection string)." >&2; exit 2; }
exec "$pwsh" -NoLogo -NoProfile -NonInteractive -File "$here/bench.ps1" "$@"
