#!/usr/bin/env bash
# Import-Module cost of out/IncidentOps in a fresh hosted pwsh 7.6 session, against the floor cost of
# importing a one-function script module in the same run. The issue's figure to beat: 150 ms.
#   RUNS=9 bash bench/import/run.sh        # fresh processes per variant (median reported); default 7
#   HOST=jit bash bench/import/run.sh      # host whose SMA is IL only (JIT-compiled); see README.md
# The host (bench/import/ImportBench) is published ReadyToRun by default, because a real pwsh install ships
# System.Management.Automation precompiled; the SMA in the NuGet package is IL only, and JIT-compiling
# SMA's own import code would otherwise dominate every figure (README.md, "Why the host is ReadyToRun").
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
RUNS=${RUNS:-7}
HOST=${HOST:-r2r}
CONFIG="$ROOT/examples/incidentops.yml"
dotnet build "$ROOT/IncidentOps.sln" -c Release -v q -nologo >/dev/null
if [ "$HOST" = jit ]; then
  BIN="$ROOT/bench/.bin/import-jit"
  dotnet build ImportBench.csproj -c Release -v q -nologo -o "$BIN" >/dev/null
else
  RID=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
  BIN="$ROOT/bench/.bin/import-r2r"
  dotnet publish ImportBench.csproj -c Release -r "$RID" --self-contained false -p:PublishReadyToRun=true \
    -v q -nologo -o "$BIN" >/dev/null
fi
BASE=$(mktemp -d); RAW=$(mktemp); trap 'rm -rf "$BASE" "$RAW"' EXIT
echo 'function Get-BaselineThing { 1 }' > "$BASE/Baseline.psm1"
# Each line of $RAW: variant import_ms first_call_ms import_cpu_ms first_call_cpu_ms (then JIT figures).
for _ in $(seq 1 "$RUNS"); do
  echo "io $(dotnet "$BIN/ImportBench.dll" "$ROOT/out/IncidentOps" "$CONFIG" incidentops)" >> "$RAW"
  echo "base $(dotnet "$BIN/ImportBench.dll" "$BASE/Baseline.psm1" none baseline)" >> "$RAW"
done
med() { awk -v v="$1" -v c="$2" '$1 == v { print $c }' "$RAW" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
iw=$(med io 2); fw=$(med io 3); ic=$(med io 4); fc=$(med io 5); bw=$(med base 2); bc=$(med base 4)
echo "host=$HOST runs=$RUNS (medians of fresh processes; wall = what the user waits, cpu = process CPU time)"
printf 'Import-Module out/IncidentOps:     wall %6.1f ms  cpu %6.1f ms   (target < 150 ms)\n' "$iw" "$ic"
printf 'first engine call (config load):   wall %6.1f ms  cpu %6.1f ms\n' "$fw" "$fc"
printf 'Import-Module one-function .psm1:  wall %6.1f ms  cpu %6.1f ms\n' "$bw" "$bc"
awk -v a="$iw" -v b="$bw" -v c="$ic" -v d="$bc" \
  'BEGIN { printf "ratio IncidentOps import / baseline import: wall %.2fx  cpu %.2fx\n", a / b, c / d }'
