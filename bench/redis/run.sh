#!/usr/bin/env bash
# Cost of one ping: `redis-cli ping` (a process per call, as in seeds 002/003) against
# `Test-RedisConnection -Count 1` (one cmdlet call in a warm pwsh runspace: connect, PING, disconnect).
# Builds nothing: run `dotnet build IncidentOps.sln` and `dotnet build bench/redis/RedisBench` first.
# Usage: bench/redis/run.sh [host:port] [iterations]   (loopback only; bounded loops, well under a minute)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
endpoint="${1:-${INCIDENTOPS_TEST_REDIS:-127.0.0.1:6379}}"
iterations="${2:-100}"
host="${endpoint%:*}"; port="${endpoint##*:}"
case "$host" in 127.*|localhost|::1) ;; *) echo "loopback only (got $host)" >&2; exit 2 ;; esac
bench_dll="$here/RedisBench/bin/Debug/net10.0/RedisBench.dll"
module="$root/out/IncidentOps"
[ -f "$bench_dll" ] || { echo "missing $bench_dll: run 'dotnet build bench/redis/RedisBench' first" >&2; exit 1; }
[ -f "$module/IncidentOps.psd1" ] || { echo "missing $module: run 'dotnet build IncidentOps.sln' first" >&2; exit 1; }
redis-cli -h "$host" -p "$port" ping >/dev/null || { echo "no Redis at $endpoint" >&2; exit 1; }

# Baseline: redis-cli ping, one process per ping, median wall time.
cli_ms=$(python3 - "$host" "$port" "$iterations" <<'PY'
import subprocess, sys, time, statistics
host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(5): subprocess.run(["redis-cli", "-h", host, "-p", port, "ping"], capture_output=True, check=True)
t = []
for _ in range(n):
    s = time.perf_counter(); subprocess.run(["redis-cli", "-h", host, "-p", port, "ping"], capture_output=True, check=True); t.append((time.perf_counter() - s) * 1000)
print(f"{statistics.median(t):.3f}")
PY
)
# redis-cli's own round-trip figure for a warm connection (--latency samples for ~1 s).
cli_rtt=$(timeout 10 redis-cli -h "$host" -p "$port" --latency --raw -i 1 2>/dev/null </dev/null | head -n 1 | awk '{print $3}' || true)

out="$(timeout 50 dotnet "$bench_dll" "$module" "$endpoint" "$iterations")"
cmd_ms=$(echo "$out" | awk '/^cmdlet_call_ms/ {print $2}')
cmd_ping=$(echo "$out" | awk '/^cmdlet_ping_p50_ms/ {print $2}')

echo "iterations:                         $iterations against $endpoint"
echo "redis-cli ping (process per call):  ${cli_ms} ms median"
echo "Test-RedisConnection -Count 1:      ${cmd_ms} ms median (warm runspace; connect + PING + disconnect)"
echo "ratio cmdlet / redis-cli:           $(python3 -c "print(f'{$cmd_ms/$cli_ms:.2f}')")"
echo "PING round trip on the connection:  cmdlet p50 ${cmd_ping} ms; redis-cli --latency avg ${cli_rtt:-n/a} ms"
