#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suite (tests/pester, tests/package, tests/examples) with Pester 5.9.1 and writes NUnit XML.
.DESCRIPTION
    build.ps1 -Task Test runs this in the pinned pwsh 7.6.9 after a build. It puts out/ (the built module and
    Pester from NuGet) on PSModulePath itself. Exit code 0 when every test passed, otherwise the number of failed tests (at least 1,
    also when Pester could not run at all).

    With -Jobs N (build.ps1 passes 2) the test files are split into N groups, each run by its own pwsh process (a
    Pester file runs in one process, in order, as before; files never share a process with another group). Each group
    writes its own NUnit XML and log; they are merged into -ResultPath, and the logs printed, once all have ended.
    With -AfterProcess, the last group waits for that process (build.ps1's xunit run) to end before it starts.
    Files that must not run beside others go into the serial group, run after the parallel groups.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Test
.EXAMPLE
    dotnet pwsh ./tests/Invoke-PesterSuite.ps1 -Jobs 2
.EXAMPLE
    dotnet pwsh ./tests/Invoke-PesterSuite.ps1 -Path tests/pester/Get-PgActivity.Tests.ps1 -Output Detailed
#>
param(
    [string[]] $Path = @('pester', 'package', 'examples' | ForEach-Object { Join-Path $PSScriptRoot $_ } | Where-Object { Test-Path $_ }),
    [string] $ResultPath = (Join-Path $PSScriptRoot '../artifacts/test-results/pester.xml'),
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Output = 'Normal',
    # How many pwsh processes run the files side by side (1: all in this process).
    [ValidateRange(1, 16)]
    [int] $Jobs = 1,
    # With -Jobs: the last group starts once this process has ended (build.ps1 passes its xunit run), so no more than
    # -Jobs test processes run at once on a machine with as many cores; that group gets fewer files to make up for it.
    [int] $AfterProcess
)
$ErrorActionPreference = 'Stop'
# The child pwsh processes the tests start write plain text: an error they print lands in a failure message, and
# Pester's NUnit writer cannot write the escape character of a colour code (it stopped with no counts at all).
$env:NO_COLOR = '1'
# The suite starts well over a hundred child pwsh processes (examples, scheduled rounds, -WhatIf and view checks in a real
# host); without this each one also sets up PowerShell's startup telemetry (about 0.1 s of CPU a start here).
$env:POWERSHELL_TELEMETRY_OPTOUT = '1'
$out = [IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../out'))
if (($env:PSModulePath -split [IO.Path]::PathSeparator) -notcontains $out) { $env:PSModulePath = $out + [IO.Path]::PathSeparator + $env:PSModulePath }

# Seconds each of the slowest files takes in CI (the rest count as 3): only to balance the groups (longest first, into the
# group with the least so far); a file missing here still runs.
$weights = @{
    'Examples.Tests.ps1' = 128; 'Invoke-ServiceAlert.Tests.ps1' = 50; 'DocExamples.Tests.ps1' = 65; 'IncidentStore.Team.Tests.ps1' = 36
    'Get-AppLog.Follow.Tests.ps1' = 22; 'New-IncidentReport.Charts.Tests.ps1' = 21; 'Invoke-ServiceAlert.Opsgenie.Tests.ps1' = 21
    'Tunnels.Tests.ps1' = 16; 'Invoke-Rollback.Tests.ps1' = 13; 'Help.Tests.ps1' = 13; 'Stop-PgBackend.Tests.ps1' = 11
    'Restart-App.Tests.ps1' = 11; 'Clear-RedisDatabase.Tests.ps1' = 11; 'Send-IncidentUpdate.Delivery.Tests.ps1' = 10; 'Stop-IdleConnection.Tests.ps1' = 10
}
# Files that change what other files on the same servers see while they run: none today (each file keeps to its own
# Redis database numbers, PostgreSQL schemas, application names and temp folders). Name a file here to run it alone.
$serial = @()

if ($Jobs -gt 1) {
    $files = @(Get-ChildItem -Path $Path -Recurse -File -Filter '*.Tests.ps1' | Sort-Object FullName)
    $groups = @(1..$Jobs | ForEach-Object { [pscustomobject]@{ Files = [Collections.Generic.List[string]]::new(); Weight = 0 } })
    if ($AfterProcess) { $groups[-1].Weight = 200 }   # seconds the xunit run took in CI, before the last group starts
    $alone = [Collections.Generic.List[string]]::new()
    foreach ($f in $files | Sort-Object { -($weights[$_.Name] ?? 3) }, FullName) {
        if ($serial -contains $f.Name) { $alone.Add($f.FullName); continue }
        $g = $groups | Sort-Object Weight | Select-Object -First 1
        $g.Files.Add($f.FullName); $g.Weight += $weights[$f.Name] ?? 3
    }
    $groups = @($groups | Where-Object { $_.Files.Count })
    $exe = [Environment]::ProcessPath
    $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    $resultDir = Split-Path -Parent ([IO.Path]::GetFullPath($ResultPath))
    New-Item -ItemType Directory -Force $resultDir | Out-Null
    $stem = [IO.Path]::GetFileNameWithoutExtension($ResultPath)
    # Runs one group in its own pwsh (this script with -Jobs 1); its output goes to <stem>-<n>.log.
    function Start-Group([string[]] $GroupFiles, [string] $Name) {
        $psi = [Diagnostics.ProcessStartInfo]::new($exe)
        $quote = { "'" + ($args[0] -replace "'", "''") + "'" }
        $command = '& {0} -ResultPath {1} -Output {2} -Path {3}; exit $LASTEXITCODE' -f (& $quote $PSCommandPath), (& $quote (Join-Path $resultDir "$stem-$Name.xml")), $Output,
            (($GroupFiles | ForEach-Object { & $quote $_ }) -join ',')
        foreach ($a in $prefix + @('-NoLogo', '-NoProfile', '-NonInteractive', '-Command', $command)) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        $log = Join-Path $resultDir "$stem-$Name.log"
        [pscustomobject]@{ Name = $Name; Process = $p; Log = $log; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync(); Result = Join-Path $resultDir "$stem-$Name.xml" }
    }
    function Complete-Group($Run) {
        $Run.Process.WaitForExit()
        $text = $Run.Out.Result + $Run.Err.Result
        Set-Content -Path $Run.Log -Value $text
        Write-Host "---- Pester group $($Run.Name) ($($Run.Log)):"
        Write-Host $text
        $rc = $Run.Process.ExitCode
        $Run.Process.Dispose()
        $rc
    }
    $failedRuns = 0
    $runs = @(for ($i = 0; $i -lt $groups.Count; $i++) {
        if ($AfterProcess -and $i -eq $groups.Count - 1 -and $i -gt 0) {
            while (Get-Process -Id $AfterProcess -ErrorAction Ignore) { Start-Sleep -Milliseconds 500 }
        }
        Start-Group $groups[$i].Files ($i + 1)
    })
    foreach ($r in $runs) { if (Complete-Group $r) { $failedRuns++ } }
    if ($alone.Count) {
        $r = Start-Group $alone.ToArray() 'serial'
        $runs += $r
        if (Complete-Group $r) { $failedRuns++ }
    }

    # One NUnit XML for all groups: each group's file suites under one Pester suite, the counters added up. A group
    # that wrote no XML (its pwsh could not run Pester) fails the run.
    $merged = $null; $top = $null
    $counters = 'total', 'errors', 'failures', 'not-run', 'inconclusive', 'ignored', 'skipped', 'invalid'
    foreach ($r in $runs) {
        if (-not (Test-Path $r.Result)) { Write-Host "Pester group $($r.Name) wrote no results ($($r.Result))" -ForegroundColor Red; $failedRuns++; continue }
        $doc = [xml](Get-Content -Raw $r.Result)
        $suite = $doc.SelectSingleNode('/test-results/test-suite')
        if (-not $merged) { $merged = $doc; $top = $suite; continue }
        foreach ($c in $counters) { $merged.DocumentElement.SetAttribute($c, [int]$merged.DocumentElement.GetAttribute($c) + [int]$doc.DocumentElement.GetAttribute($c)) }
        foreach ($child in @($suite.SelectSingleNode('results').ChildNodes)) { $null = $top.SelectSingleNode('results').AppendChild($merged.ImportNode($child, $true)) }
        if ($suite.GetAttribute('result') -ne 'Success') { foreach ($a in 'result', 'success') { $top.SetAttribute($a, $suite.GetAttribute($a)) } }
        $top.SetAttribute('time', [Math]::Max([double]$top.GetAttribute('time'), [double]$suite.GetAttribute('time')).ToString([Globalization.CultureInfo]::InvariantCulture))
    }
    if ($merged) { $merged.Save([IO.Path]::GetFullPath($ResultPath)) }
    $runs | ForEach-Object { Remove-Item -LiteralPath $_.Result -ErrorAction Ignore }
    $cases = if ($merged) { @($merged.SelectNodes('//test-case')) } else { @() }
    $failed = @($cases | Where-Object { $_.result -in 'Failure', 'Error' }).Count
    Write-Host ("Pester ({0} groups): {1} passed, {2} failed, {3} skipped" -f $runs.Count, @($cases | Where-Object result -EQ 'Success').Count, $failed,
        @($cases | Where-Object { $_.result -notin 'Success', 'Failure', 'Error' }).Count)
    exit ([Math]::Min([Math]::Max($failed, $failedRuns), 255))
}

try {
    Import-Module Pester -RequiredVersion 5.9.1 -ErrorAction Stop
    $config = New-PesterConfiguration
    $config.Run.Path = $Path
    $config.Run.Exit = $false
    $config.Run.PassThru = $true
    $config.Output.Verbosity = $Output
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'NUnitXml'
    $config.TestResult.OutputPath = $ResultPath
    $result = Invoke-Pester -Configuration $config
    # Pester reports a failure of its own steps (writing the NUnit XML, say) as an error and returns nothing: that run
    # has no counts to trust, so it is a failed run, never "0 failed".
    if ($null -eq $result) { throw 'Invoke-Pester returned no result (see its error above)' }
    # Temporary folders and files a test file made (New-TestTempDir, New-TestTempFile of pester/Common.ps1) and did not
    # remove in its AfterAll (Remove-TestTemp): named here, so the file gets fixed, and removed.
    $left = @($global:IncidentOpsTestTemp | Where-Object { $_ -and (Test-Path -LiteralPath $_) })
    if ($left.Count) {
        Write-Host ("Pester: {0} temporary path(s) left by test files without Remove-TestTemp in AfterAll, removed now: {1}" -f $left.Count, (($left | Select-Object -First 10) -join ', '))
        $left | ForEach-Object { Remove-Item -LiteralPath $_ -Recurse -Force -ErrorAction SilentlyContinue }
    }
    # A container that failed to discover or whose BeforeAll threw counts as a failure, not as nothing.
    $failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Write-Host ("Pester {0}: {1} passed, {2} failed, {3} skipped ({4:n1} s)" -f (Get-Module Pester).Version, $result.PassedCount, $failed, $result.SkippedCount, $result.Duration.TotalSeconds)
    exit ([Math]::Min($failed, 255))
}
catch {
    Write-Host "Pester could not run: $_" -ForegroundColor Red
    exit 1
}
