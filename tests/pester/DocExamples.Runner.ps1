# Runs the help and README examples that DocExamples.Tests.ps1 collected, one after another, in a runspace of this
# pwsh (a child of the test, started with the stand-ins' environment), and writes one result per example as JSON.
# Each example gets a fresh incident store with the incidents it names, its own working folder (with the stand-ins'
# incidentops.yml as ./incidentops.yml), and runs as written after the test's endpoint map (see the test file).
param([Parameter(Mandatory)] [string] $ManifestPath, [Parameter(Mandatory)] [string] $ResultPath)
$ErrorActionPreference = 'Stop'
$m = Get-Content -Raw $ManifestPath | ConvertFrom-Json

$iss = [initialsessionstate]::CreateDefault2()
$rs = [runspacefactory]::CreateRunspace($Host, $iss)
$rs.Open()

# What an example printed so far (the collection is being written to while it runs: read by index, which locks it).
function Get-Printed([System.Management.Automation.PSDataCollection[psobject]] $Out) {
    $lines = for ($i = 0; $i -lt $Out.Count; $i++) { "$($Out[$i])" }
    $lines -join "`n"
}

# Runs $Script in the examples' runspace; stops it after $TimeoutSec. Returns what a user would have seen go wrong.
# -Stream formats as the objects come (Out-String -Stream), so an example stopped while it watches keeps what it printed.
# -Until (a pattern): an example that runs until stopped is stopped no sooner than it printed that (its first round), for
# at most 60 s more: a loaded machine can take longer than $TimeoutSec to get there.
function Invoke-Example([string] $Script, [double] $TimeoutSec, [switch] $Format, [switch] $Stream, [string] $Until) {
    $ps = [powershell]::Create()
    $ps.Runspace = $rs
    $null = $ps.AddScript($Script)
    if ($Format) { $null = $ps.AddCommand('Out-String').AddParameter('Width', 120) }
    if ($Format -and $Stream) { $null = $ps.AddParameter('Stream') }
    $in = [System.Management.Automation.PSDataCollection[psobject]]::new(); $in.Complete()
    $out = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $handle = $ps.BeginInvoke($in, $out)
    $completed = $handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSec))
    if ($Until) {
        $more = [Diagnostics.Stopwatch]::StartNew()
        while (-not $completed -and $more.Elapsed.TotalSeconds -lt 60 -and (Get-Printed $out) -notmatch $Until) { $completed = $handle.AsyncWaitHandle.WaitOne(100) }
    }
    if (-not $completed) { $ps.Stop() }
    $terminating = $null
    try { $null = $ps.EndInvoke($handle) } catch { $terminating = $_.Exception }
    if ($terminating -is [System.Management.Automation.MethodInvocationException] -and $terminating.InnerException) { $terminating = $terminating.InnerException }
    if (-not $completed -and $terminating -is [System.Management.Automation.PipelineStoppedException]) { $terminating = $null }
    $sw.Stop()
    $errors = @($ps.Streams.Error | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" })
    if ($terminating) {
        $id = if ($terminating -is [System.Management.Automation.IContainsErrorRecord]) { $terminating.ErrorRecord.FullyQualifiedErrorId } else { $terminating.GetType().FullName }
        $errors += "terminating $($id): $($terminating.Message)"
    }
    $text = if ($Stream) { @($out) -join "`n" } else { $out | Out-String }
    $ps.Dispose()
    [pscustomobject]@{ Completed = $completed; Seconds = [math]::Round($sw.Elapsed.TotalSeconds, 2); Errors = $errors; Output = $(if ($text.Length -gt 3000) { $text.Substring(0, 3000) } else { $text }) }
}

$init = Invoke-Example $m.Init 60
if ($init.Errors) { throw "The examples' runspace could not be prepared: $($init.Errors -join '; ')" }

$results = foreach ($ex in $m.Examples) {
    # A fresh store (XDG_DATA_HOME) and per-person state (XDG_STATE_HOME), and a working folder of its own.
    $dir = Join-Path $m.Work ('run-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path (Join-Path $dir 'data'), (Join-Path $dir 'cwd') -Force | Out-Null
    New-Item -ItemType Directory -Path (Join-Path $dir 'cwd/examples') -Force | Out-Null
    Copy-Item $m.Config (Join-Path $dir 'cwd/incidentops.yml')
    Copy-Item $m.Config (Join-Path $dir 'cwd/examples/incidentops.yml')   # examples that name the repository's examples/incidentops.yml
    Copy-Item $m.TeamConfig (Join-Path $dir 'cwd/team.yml')                # a team's configuration with a store of its own (Import-Incident)
    Copy-Item (Join-Path $m.Work 'internal-ca.pem') (Join-Path $dir 'cwd/internal-ca.pem')   # a private CA's certificate (-CaCertificate ./internal-ca.pem)
    [Environment]::SetEnvironmentVariable('XDG_DATA_HOME', (Join-Path $dir 'data'))
    [Environment]::SetEnvironmentVariable('XDG_STATE_HOME', (Join-Path $dir 'data'))
    $setup = Invoke-Example ("Set-Location '$dir/cwd'; & {" + $m.Setup + "}") 60
    $code = $ex.Code
    foreach ($s in $m.Map) { $code = $code.Replace($s.From, $s.To) }
    # The incident the examples name (INC-20261122-001, and its action items INC-20261122-001-Ann) is the one the setup made.
    if (-not $setup.Errors) { $code = $code.Replace('INC-20261122-001', $setup.Output.Trim()) }
    $run = if ($setup.Errors) { $setup } else { Invoke-Example $code $ex.TimeoutSec -Format -Stream:$ex.UntilStopped -Until $ex.FirstOutput }
    [pscustomobject]@{
        Name = $ex.Name; Code = $code; Completed = $run.Completed; Seconds = $run.Seconds
        Errors = @($(if ($setup.Errors) { $setup.Errors | ForEach-Object { "(setup) $_" } } else { $run.Errors }))
        Output = $run.Output
    }
}
ConvertTo-Json -InputObject @($results) -Depth 4 | Set-Content -Path $ResultPath
