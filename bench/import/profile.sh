#!/usr/bin/env bash
# Where Import-Module and the first engine call spend their time: samples the host with dotnet-trace
# (installed into bench/.bin/tools on first use) over N fresh processes and prints the heaviest frames of
# the pipeline thread that ran Import-Module and of the one that ran the first engine call.
#   bash bench/import/profile.sh [N=8]      (run bench/import/run.sh first: it builds what this samples)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
N=${1:-8}
BIN="$ROOT/bench/.bin/import-r2r/ImportBench.dll"
[ -f "$BIN" ] || { echo "run bench/import/run.sh first" >&2; exit 1; }
TOOLS="$ROOT/bench/.bin/tools"
[ -x "$TOOLS/dotnet-trace" ] || dotnet tool install --tool-path "$TOOLS" dotnet-trace >/dev/null
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
for i in $(seq 1 "$N"); do
  "$TOOLS/dotnet-trace" collect --profile dotnet-sampled-thread-time --format Speedscope -o "$OUT/t$i.nettrace" \
    -- dotnet "$BIN" "$ROOT/out/IncidentOps" "$ROOT/examples/incidentops.yml" incidentops >/dev/null 2>&1
done
python3 - "$OUT" <<'PY'
import collections, glob, json, re, sys
files = sorted(glob.glob(sys.argv[1] + "/*.speedscope.json"))
noise = re.compile(r"Interpreter|LightLambda|^Thread \(|^Threads|Process64|Non-Activities|StartCallback|InvokeThreadProc|"
                   r"LocalPipeline|PipelineProcessor|CommandProcessor|DlrScript|PipelineOps|UpdateDelegates|ScriptBlock\.Invoke")
for title, marker in (("Import-Module", "ImportModuleCommand"), ("first engine call", "GetIncidentOpsServiceCommand")):
    inclusive, total = collections.Counter(), 0.0
    for f in files:
        d = json.load(open(f)); names = [x["name"] for x in d["shared"]["frames"]]
        for p in d["profiles"]:
            if p.get("type") != "evented" or not any(marker in names[e["frame"]] for e in p["events"]): continue
            stack, last = [], None
            for e in p["events"]:
                if last is not None and stack:
                    total += e["at"] - last
                    for n in {names[i] for i in stack}: inclusive[n] += e["at"] - last
                last = e["at"]
                if e["type"] == "O": stack.append(e["frame"])
                elif e["frame"] in stack: del stack[len(stack) - 1 - stack[::-1].index(e["frame"]):]
    print(f"== {title}: {total / len(files):.1f} ms sampled wall per run ({len(files)} runs); inclusive ms per frame")
    shown = 0
    for name, ms in inclusive.most_common():
        if noise.search(name): continue
        short = re.sub(r"\(.*", "", re.sub(r"^[^!]*!", "", name))
        print(f"{ms / len(files):8.1f}  {short[:140]}")
        shown += 1
        if shown == 30: break
PY
