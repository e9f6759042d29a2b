#!/usr/bin/env bash
# Import-Module in a fresh process of the pinned pwsh 7.6.9 (.config/dotnet-tools.json), cold, for:
#   - IncidentOps (out/IncidentOps, Release): its views load when the prompt is idle or at the first command;
#   - IncidentOps with its views bound at import (the same build with FormatsToProcess put back, as before 2026-12-01);
#   - a one-cmdlet binary module (bench/import/OneCmdlet) compiled in this run, with a manifest: the floor any
#     binary module pays;
#   - Microsoft.PowerShell.PSResourceGet, the binary module that ships with pwsh.
#   - the one-cmdlet module with one table view (the floor any module with views pays);
# Runs are interleaved (io, eager, one, view, psrg, io, ...) so load swings hit all alike. Prints medians and ratios.
# It also measures the import followed by a first command whose output is formatted to the console (`Get-IncidentOpsService
# | Out-Host`, `Get-OneThing | Out-Host`; Out-Host is a core command, as a script's own output would be): where deferred
# views are paid in a script, so the total is shown, not only the import.
#   RUNS=9 bash bench/import/pwsh.sh
# PROMPT=1 also times an interactive pwsh (PSReadLine on a pseudo-terminal) to its first prompt with each module imported
# at startup, and the first IncidentOps command typed after 2 s at that prompt (bench/import/prompt.py).
# VARIANTS=1 also measures IncidentOps with views at import cut to its first view (what any view costs).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
RUNS=${RUNS:-9}
(cd "$ROOT" && dotnet tool restore >/dev/null)
dotnet build "$ROOT/src/IncidentOps/IncidentOps.csproj" -c Release -v q -nologo -clp:ErrorsOnly >/dev/null
ONE="$ROOT/bench/.bin/onecmdlet/OneCmdlet"
dotnet build OneCmdlet/OneCmdlet.csproj -c Release -v q -nologo -clp:ErrorsOnly -o "$ONE" >/dev/null
cat > "$ONE/OneCmdlet.psd1" <<'PSD1'
@{ RootModule = 'OneCmdlet.dll'; ModuleVersion = '1.0.0'; GUID = '0b7d5a8e-3f4c-4e44-9a55-5f0b6c3d2e11'; CompatiblePSEditions = @('Core')
   CmdletsToExport = @('Get-OneThing'); FunctionsToExport = @(); AliasesToExport = @(); VariablesToExport = @() }
PSD1
# The same module with one table view: the floor any binary module with views pays (FormatsToProcess makes
# PowerShell rebuild the session's whole format table, built-in views included, whatever the file holds).
cat > "$ONE/OneCmdletView.format.ps1xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<Configuration><ViewDefinitions><View><Name>OneThing</Name><ViewSelectedBy><TypeName>OneCmdlet.Thing</TypeName></ViewSelectedBy>
<TableControl><TableHeaders><TableColumnHeader><Label>Name</Label></TableColumnHeader></TableHeaders>
<TableRowEntries><TableRowEntry><TableColumnItems><TableColumnItem><PropertyName>Name</PropertyName></TableColumnItem></TableColumnItems></TableRowEntry></TableRowEntries>
</TableControl></View></ViewDefinitions></Configuration>
XML
mkdir -p "$ONE/view/OneCmdletView"
cp "$ONE/OneCmdlet.dll" "$ONE/OneCmdletView.format.ps1xml" "$ONE/view/OneCmdletView/"
cat > "$ONE/view/OneCmdletView/OneCmdletView.psd1" <<'PSD1'
@{ RootModule = 'OneCmdlet.dll'; ModuleVersion = '1.0.0'; GUID = '0b7d5a8e-3f4c-4e44-9a55-5f0b6c3d2e12'; CompatiblePSEditions = @('Core')
   FormatsToProcess = @('OneCmdletView.format.ps1xml')
   CmdletsToExport = @('Get-OneThing'); FunctionsToExport = @(); AliasesToExport = @(); VariablesToExport = @() }
PSD1
PSHOME_=$(cd "$ROOT" && dotnet pwsh -NoProfile -NonInteractive -c '$PSHOME')
PWSH="$PSHOME_/pwsh"
VERSION=$("$PWSH" -NoProfile -NonInteractive -c '$PSVersionTable.PSVersion.ToString()')
RAW=$(mktemp); trap 'rm -f "$RAW"' EXIT
VAR="$ROOT/bench/.bin/variants"
rm -rf "$VAR" && mkdir -p "$VAR/eager" "$VAR/oneview"
cp -r "$ROOT/out/IncidentOps" "$VAR/eager/"
# The views bound at import, as the manifest had it before: FormatsToProcess put back after RequiredAssemblies.
sed -i "s/^\( *RequiredAssemblies *=.*\)$/\1\n    FormatsToProcess = @('IncidentOps.format.ps1xml')/" "$VAR/eager/IncidentOps/IncidentOps.psd1"
grep -q "FormatsToProcess = @('IncidentOps.format.ps1xml')" "$VAR/eager/IncidentOps/IncidentOps.psd1"
if [ "${VARIANTS:-0}" = 1 ]; then
  cp -r "$VAR/eager/IncidentOps" "$VAR/oneview/"
  python3 - "$VAR/oneview/IncidentOps/IncidentOps.format.ps1xml" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p, encoding='utf-8').read()
first = re.search(r'<View>.*?</View>', s, flags=re.S).group(0)
open(p, 'w', encoding='utf-8').write(s[:s.index('<View>')] + first + s[s.rindex('</View>') + len('</View>'):])
PY
fi
measure() { # wall and CPU ms of Import-Module $1 in a fresh pwsh (then of $2, the first command, if given)
  "$PWSH" -NoProfile -NonInteractive -c "
    \$p = [Diagnostics.Process]::GetCurrentProcess(); \$cpu = \$p.TotalProcessorTime; \$sw = [Diagnostics.Stopwatch]::StartNew()
    Import-Module '$1' -ErrorAction Stop
    ${2:+$2 | Out-Host}
    \$sw.Stop(); \$p.Refresh()
    '{0:F1} {1:F1}' -f \$sw.Elapsed.TotalMilliseconds, (\$p.TotalProcessorTime - \$cpu).TotalMilliseconds" | tail -n 1
}
FIRST="Get-IncidentOpsService -Path '$ROOT/examples/incidentops.yml'"
for _ in $(seq 1 "$RUNS"); do
  echo "io $(measure "$ROOT/out/IncidentOps")" >> "$RAW"
  echo "eager $(measure "$VAR/eager/IncidentOps/IncidentOps.psd1")" >> "$RAW"
  echo "iofirst $(measure "$ROOT/out/IncidentOps" "$FIRST")" >> "$RAW"
  echo "eagerfirst $(measure "$VAR/eager/IncidentOps/IncidentOps.psd1" "$FIRST")" >> "$RAW"
  echo "onefirst $(measure "$ONE/OneCmdlet.psd1" Get-OneThing)" >> "$RAW"
  echo "one $(measure "$ONE/OneCmdlet.psd1")" >> "$RAW"
  echo "view $(measure "$ONE/view/OneCmdletView/OneCmdletView.psd1")" >> "$RAW"
  echo "psrg $(measure Microsoft.PowerShell.PSResourceGet)" >> "$RAW"
  if [ "${VARIANTS:-0}" = 1 ]; then
    echo "onev $(measure "$VAR/oneview/IncidentOps/IncidentOps.psd1")" >> "$RAW"
  fi
done
med() { awk -v v="$1" -v c="$2" '$1 == v { print $c }' "$RAW" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
iw=$(med io 2); ic=$(med io 3); ow=$(med one 2); oc=$(med one 3); pw=$(med psrg 2); pc=$(med psrg 3); vw=$(med view 2); vc=$(med view 3)
echo "pwsh $VERSION, $RUNS fresh processes each, interleaved; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf 'Import-Module IncidentOps:                      wall %6.1f ms  cpu %6.1f ms\n' "$iw" "$ic"
printf 'Import-Module IncidentOps, views at import:     wall %6.1f ms  cpu %6.1f ms\n' "$(med eager 2)" "$(med eager 3)"
printf 'Import-Module one-cmdlet binary module:         wall %6.1f ms  cpu %6.1f ms\n' "$ow" "$oc"
printf 'Import-Module one-cmdlet module with one view:  wall %6.1f ms  cpu %6.1f ms\n' "$vw" "$vc"
printf 'Import-Module Microsoft.PowerShell.PSResourceGet: wall %6.1f ms  cpu %6.1f ms\n' "$pw" "$pc"
awk -v a="$iw" -v b="$ow" -v c="$ic" -v d="$oc" 'BEGIN { printf "IncidentOps / one-cmdlet module: wall %.2fx  cpu %.2fx (goal: at most 1.2x)\n", a / b, c / d }'
awk -v a="$iw" -v b="$vw" -v c="$ic" -v d="$vc" 'BEGIN { printf "IncidentOps / one-cmdlet module with one view: wall %.2fx  cpu %.2fx\n", a / b, c / d }'
awk -v a="$iw" -v b="$pw" -v c="$ic" -v d="$pc" 'BEGIN { printf "IncidentOps / PSResourceGet:     wall %.2fx  cpu %.2fx\n", a / b, c / d }'
awk -v a="$(med eager 2)" -v b="$ow" -v c="$(med eager 3)" -v d="$oc" 'BEGIN { printf "IncidentOps with views at import / one-cmdlet module: wall %.2fx  cpu %.2fx\n", a / b, c / d }'
printf 'Import + first command | Out-Host: IncidentOps wall %6.1f cpu %6.1f; views at import wall %6.1f cpu %6.1f; one-cmdlet wall %6.1f cpu %6.1f\n' \
  "$(med iofirst 2)" "$(med iofirst 3)" "$(med eagerfirst 2)" "$(med eagerfirst 3)" "$(med onefirst 2)" "$(med onefirst 3)"
awk -v a="$(med iofirst 2)" -v b="$(med eagerfirst 2)" -v c="$(med iofirst 3)" -v d="$(med eagerfirst 3)" 'BEGIN { printf "Import + first command, IncidentOps / views at import: wall %.2fx  cpu %.2fx\n", a / b, c / d }'
if [ "${VARIANTS:-0}" = 1 ]; then
  printf 'Import-Module IncidentOps, first view only at import: wall %6.1f ms  cpu %6.1f ms  (%.2fx wall)\n' "$(med onev 2)" "$(med onev 3)" "$(awk -v a="$(med onev 2)" -v b="$ow" 'BEGIN { print a / b }')"
fi
if [ "${PROMPT:-0}" = 1 ]; then
  # An interactive pwsh whose startup imports the module (as a profile does): time to the first prompt, and for
  # IncidentOps the first command typed after 2 s at the prompt (prompt.py).
  echo "Interactive pwsh (PSReadLine on a pseudo-terminal), ${PROMPT_RUNS:-$RUNS} runs each, interleaved:"
  python3 prompt.py "$PWSH" "${PROMPT_RUNS:-$RUNS}" 2 "$ROOT/examples/incidentops.yml" \
    "IncidentOps=$ROOT/out/IncidentOps/IncidentOps.psd1" "IncidentOps-views-at-import=$VAR/eager/IncidentOps/IncidentOps.psd1" \
    "one-cmdlet=$ONE/OneCmdlet.psd1"
fi
