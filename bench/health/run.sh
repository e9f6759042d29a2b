#!/usr/bin/env bash
# Health benchmarks: Test-ServiceHealth (through a warm hosted runspace) against curl, on loopback only.
# Builds nothing: needs out/IncidentOps (dotnet build IncidentOps.sln) and the host
# (dotnet build bench/health/BenchHost -c Release). Bounded: about 40 s in all (RUNS=3 fan-out runs, N=30 phase samples).
# The fan-out figures depend on machine load: the load average is printed with them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
module="$root/out/IncidentOps"
host="$here/BenchHost/bin/Release/net10.0/BenchHost"
[[ -x "$host" ]] || { echo "Build the host first: dotnet build $here/BenchHost -c Release" >&2; exit 2; }
[[ -d "$module" ]] || { echo "Build the module first: dotnet build $root/IncidentOps.sln" >&2; exit 2; }

tmp="$(mktemp -d)"; server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
hp=$(free_port); sp=$(free_port)
python3 "$here/server.py" "$hp" "$sp" "$tmp/cert.pem" "$tmp/key.pem" & server_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$hp/ok" && break; sleep 0.1; done

N=${N:-30}
curl_phases() { # mean dns connect tls ttfb total (ms) over N fresh curl processes
  for _ in $(seq "$N"); do curl -sk -o /dev/null -w '%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}\n' "$1"; done |
  awk '{ d+=$1; c+=$2-$1; a=($3>0?$3:$2); t+=($3>0?$3-$2:0); f+=$4-a; tot+=$5 } END { printf "%.3f %.3f %.3f %.3f %.3f\n", d/NR*1000, c/NR*1000, t/NR*1000, f/NR*1000, tot/NR*1000 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a/b; else printf "n/a" }'; }

echo "== Phase fidelity: Test-ServiceHealth vs curl -w (means over $N fresh connections, ms)"
for scheme in http https; do
  port=$([[ $scheme == http ]] && echo "$hp" || echo "$sp")
  uri="$scheme://127.0.0.1:$port/ok"
  read -r cd cc ct cf ctot < <(curl_phases "$uri")
  read -r td tc tt tf ttot < <("$host" "$module" "$here/phases.ps1" "uri=$uri" "n=$N")
  printf '%-5s %-8s %9s %9s %7s\n' "$scheme" phase curl cmdlet ratio
  for p in dns:$cd:$td connect:$cc:$tc tls:$ct:$tt ttfb:$cf:$tf total:$ctot:$ttot; do
    IFS=: read -r name c t <<<"$p"
    # The URIs use 127.0.0.1: the cmdlet does no lookup for an IP literal, curl still reports its parse as "namelookup".
    r=$([[ $name == dns ]] && echo "n/a (IP literal)" || ratio "$t" "$c")
    printf '%-5s %-8s %9.3f %9.3f %7s\n' "" "$name" "$c" "$t" "$r"
  done
done

RUNS=${RUNS:-3}
delay="http://127.0.0.1:$hp/delay"
echo "== Fan-out: 200 endpoints x 200 ms ($RUNS runs each, median; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"
ones=(); for i in $(seq "$RUNS"); do ones+=("$(curl -s -o /dev/null -w '%{time_total}' "$delay?one=$i" | awk '{ printf "%.1f", $1*1000 }')"); done
one=$(printf '%s\n' "${ones[@]}" | median)
echo "one probe (curl):                      ${ones[*]} ms -> median ${one} ms"
"$host" "$module" "$here/fanout.ps1" "uri=$delay" "n=200" "runs=$RUNS" > "$tmp/fan"
fan=$(cut -d' ' -f1 "$tmp/fan" | median)
echo "Test-ServiceHealth -ThrottleLimit 200: $(cut -d' ' -f1 "$tmp/fan" | xargs) ms -> median ${fan} ms (healthy per run: $(cut -d' ' -f2 "$tmp/fan" | xargs) of 200)"
echo "  ratio to one probe: $(ratio "$fan" "$one") (target <= 1.30)"
start=$(date +%s%N); for i in $(seq 20); do curl -s -o /dev/null "$delay?i=$i"; done; end=$(date +%s%N)
seq20=$(( (end - start) / 1000000 )); seq200=$(( seq20 * 10 ))
echo "sequential curl loop: ${seq20} ms for 20, ~${seq200} ms for 200 (extrapolated; bounded to 20 requests); ratio to one probe: $(ratio "$seq200" "$one"); Test-ServiceHealth is $(ratio "$seq200" "$fan")x faster"
# The pinned pwsh 7.6.9 (.config/dotnet-tools.json, `dotnet pwsh`), so the comparison runs in the users' pwsh;
# a pwsh on PATH only when the tool cannot be restored.
if (cd "$root" && dotnet tool restore >/dev/null 2>&1); then
  pwsh() { (cd "$root" && dotnet pwsh "$@"); }
fi
if command -v pwsh >/dev/null 2>&1; then
  pwsh -NoProfile -NonInteractive -File "$here/parallel.ps1" -Uri "$delay" -N 200 -Runs "$RUNS" > "$tmp/par"
  par=$(cut -d' ' -f1 "$tmp/par" | median)
  echo "ForEach-Object -Parallel + Invoke-WebRequest (pwsh $(pwsh -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()')): $(cut -d' ' -f1 "$tmp/par" | xargs) ms -> median ${par} ms (200s per run: $(cut -d' ' -f2 "$tmp/par" | xargs)); ratio to one probe: $(ratio "$par" "$one"); Test-ServiceHealth is $(ratio "$par" "$fan")x faster"
  pwsh -NoProfile -NonInteractive -Command "Import-Module '$module' -ErrorAction Stop; \$uri = '$delay'; \$n = '200'; \$runs = '$RUNS'; . '$here/fanout.ps1'" > "$tmp/pwshfan"
  pfan=$(cut -d' ' -f1 "$tmp/pwshfan" | median)
  echo "Test-ServiceHealth in pwsh itself:     $(cut -d' ' -f1 "$tmp/pwshfan" | xargs) ms -> median ${pfan} ms; ratio to one probe: $(ratio "$pfan" "$one")"
else
  echo "ForEach-Object -Parallel with Invoke-WebRequest: not measured (pwsh is not on PATH; bench/health/parallel.ps1 runs it where it is)"
fi

echo "== Overhead per probe (http /ok, sequential, 50 each)"
warm=$("$host" "$module" "$here/overhead.ps1" "uri=http://127.0.0.1:$hp/ok" "n=50")
start=$(date +%s%N); for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$hp/ok"; done; end=$(date +%s%N)
curlper=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns/50/1e6 }')
echo "warm Test-ServiceHealth: ${warm} ms/probe; curl process: ${curlper} ms/probe; ratio: $(ratio "$warm" "$curlper")"
