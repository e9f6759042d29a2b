# Dot-sourced by DocExamples.Tests.ps1 (in discovery and in BeforeAll) after the module is imported: sets
# $docExamples, one @{ Name; Code } per help example of every exported cmdlet and per ```powershell block of README.md.
$docExamples = [System.Collections.Generic.List[hashtable]]::new()
foreach ($c in Get-Command -Module IncidentOps -CommandType Cmdlet | Sort-Object Name) {
    $i = 0
    foreach ($ex in @((Get-Help $c.Name -Full).Examples.Example)) { $docExamples.Add(@{ Name = "$($c.Name) example $((++$i))"; Code = "$($ex.Code)".Trim() }) }
}
# README.md: every ```powershell block (indented ones in lists too), run as one script.
$lines = Get-Content (Join-Path $script:RepoRoot 'README.md')
for ($n = 0; $n -lt $lines.Count; $n++) {
    if ($lines[$n] -notmatch '^(\s*)```powershell\s*$') { continue }
    $indent = $Matches[1].Length; $start = $n + 1; $block = @()
    for ($n++; $n -lt $lines.Count -and $lines[$n] -notmatch '^\s*```\s*$'; $n++) { $block += $(if ($lines[$n].Length -ge $indent) { $lines[$n].Substring($indent) } else { $lines[$n] }) }
    $docExamples.Add(@{ Name = "README.md line $start"; Code = ($block -join "`n").Trim() })
}
