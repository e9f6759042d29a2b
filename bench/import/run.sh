#!/usr/bin/env bash
# Import-Module cost of out/IncidentOps in a fresh hosted pwsh 7.6 session, against the floor cost of
# importing a one-function script module in the same run. The issue's figure to beat: 150 ms.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
RUNS=${RUNS:-7}
dotnet build "$ROOT/IncidentOps.sln" -c Release -v q -nologo >/dev/null
dotnet build ImportBench.csproj -c Release -v q -nologo -o "$ROOT/bench/.bin/import" >/dev/null
BASE=$(mktemp -d); trap 'rm -rf "$BASE"' EXIT
echo 'function Get-BaselineThing { 1 }' > "$BASE/Baseline.psm1"
bin="$ROOT/bench/.bin/import/ImportBench.dll"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
io_import=(); io_first=(); base_import=()
for _ in $(seq 1 "$RUNS"); do
  read -r i f < <(dotnet "$bin" "$ROOT/out/IncidentOps" "$ROOT/examples/incidentops.yml" incidentops)
  io_import+=("$i"); io_first+=("$f")
  read -r b _ < <(dotnet "$bin" "$BASE/Baseline.psm1" none baseline)
  base_import+=("$b")
done
mi=$(printf '%s\n' "${io_import[@]}" | median); mf=$(printf '%s\n' "${io_first[@]}" | median)
mb=$(printf '%s\n' "${base_import[@]}" | median)
echo "runs=$RUNS (median of fresh processes)"
echo "Import-Module out/IncidentOps:        ${mi} ms   (target < 150 ms)"
echo "first engine call (config load):      ${mf} ms"
echo "Import-Module one-function .psm1:     ${mb} ms"
awk -v a="$mi" -v b="$mb" 'BEGIN { printf "ratio IncidentOps import / baseline import: %.2fx\n", a/b }'
