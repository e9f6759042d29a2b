#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, packages and runs the IncidentOps module, always under the pinned pwsh 7.6.9.
.DESCRIPTION
    Run it through the pinned pwsh from the repository: dotnet tool restore && dotnet pwsh ./build.ps1 -Task <Task>

    Build:   dotnet build IncidentOps.sln: lays out the module in out/IncidentOps and Pester 5.9.1 (from NuGet)
             in out/Pester.
    Test:    everything, and the counts of each suite: a build, then xunit (dotnet test, TRX) in the background
             while Package and Pester run in the pinned pwsh over tests/pester, tests/package and tests/examples
             (NUnit XML; after xunit, in one process by default; -PesterJobs 2 runs two side by side). Results go to artifacts/test-results
             (xunit.trx, pester.xml, and the logs xunit.log, pester-N.log). Fails when either suite fails or cannot run.
    Package: Publish-PSResource of out/IncidentOps to the local file repository artifacts/repo, as the
             PowerShell Gallery would receive it (IncidentOps.<version>.nupkg).
    Shell:   builds, then opens the pinned pwsh with IncidentOps imported, or runs -Script in it (for scheduled
             jobs: the exit code is the script's). The configuration is -ConfigPath, else $env:INCIDENTOPS_CONFIG,
             else examples/incidentops.yml; incidents go to the configuration's store (local files by default).
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Shell
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Shell -Script ./nightly-check.ps1 -ConfigPath /etc/incidentops.yml
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Shell')]
    [string[]] $Task = @('Build'),
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Shell: a script to run instead of an interactive session.
    [string] $Script,
    # Shell: arguments passed to -Script.
    [string[]] $ScriptArgs = @(),
    # Shell: the incidentops.yml to use.
    [string] $ConfigPath,
    # Test: how many pwsh processes run the Pester files side by side.
    [ValidateRange(1, 16)]
    [int] $PesterJobs = 1
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$sln = Join-Path $root 'IncidentOps.sln'
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'IncidentOps'
$results = Join-Path $root 'artifacts/test-results'
$script:Built = $false

# Runs the pinned pwsh (the local tool manifest's PowerShell 7.6.9) with the built module and Pester on
# PSModulePath, in the user's current directory, attached to this console. Returns its exit code.
function Invoke-PinnedPwsh([string[]] $Arguments, [hashtable] $Environment = @{}) {
    Push-Location $root
    try { dotnet tool restore | Out-Null } finally { Pop-Location }
    if ($LASTEXITCODE) { throw "dotnet tool restore failed ($LASTEXITCODE)" }
    $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
    $psi.UseShellExecute = $false
    $psi.WorkingDirectory = $root   # `dotnet pwsh` finds the tool manifest from its working directory
    foreach ($a in @('pwsh', '-NoLogo', '-WorkingDirectory', (Get-Location).ProviderPath) + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.Environment['PSModulePath'] = $out + [IO.Path]::PathSeparator + $env:PSModulePath
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
    $p = [Diagnostics.Process]::Start($psi)
    try { $p.WaitForExit(); $p.ExitCode } finally { $p.Dispose() }
}

function Invoke-Build {
    dotnet build $sln -c $Configuration -v q -nologo
    if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)" }
    $script:Built = $true
}

function Get-TrxCount([string] $Path) {
    $c = ([xml](Get-Content -Raw $Path)).TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout; Skipped = [int]$c.notExecuted }
}

function Get-NUnitCount([string] $Path) {
    $cases = @(([xml](Get-Content -Raw $Path)).SelectNodes('//test-case'))
    [pscustomobject]@{
        Passed  = @($cases | Where-Object { $_.result -eq 'Success' }).Count
        Failed  = @($cases | Where-Object { $_.result -in 'Failure', 'Error' }).Count
        Skipped = @($cases | Where-Object { $_.result -notin 'Success', 'Failure', 'Error' }).Count
    }
}

function Invoke-Test {
    Remove-Item -Recurse -Force $results -ErrorAction Ignore
    New-Item -ItemType Directory -Force $results | Out-Null
    $trx = Join-Path $results 'xunit.trx'
    $nunit = Join-Path $results 'pester.xml'

    # 1. Build everything once (module, Pester layout in out/Pester, test hosts).
    Invoke-Build

    # 2. xunit in the background: most of its time is spent waiting on servers and timeouts, so it runs beside the
    #    packaging and Pester below; its output goes to xunit.log and is printed once it has ended.
    $xunitLog = Join-Path $results 'xunit.log'
    $xunit = Start-Process dotnet -ArgumentList @('test', $sln, '-c', $Configuration, '--no-build', '--logger', 'trx;LogFileName=xunit.trx', '--results-directory', $results) `
        -NoNewWindow -PassThru -RedirectStandardOutput $xunitLog -RedirectStandardError (Join-Path $results 'xunit.err.log')
    $null = $xunit.Handle   # keeps the exit code readable once it has ended

    try {
        # 3. The package the Pester suite installs.
        $packaged = $true
        try { Invoke-Package } catch { $packaged = $false; Write-Warning "Package failed: $_" }

        # 4. Pester, in the pinned pwsh, its files in two processes side by side (tests/Invoke-PesterSuite.ps1 -Jobs); the
        #    second starts when xunit has ended, so no more than two test processes compete for the cores (the deadline
        #    tests of both suites allow a few seconds, not a machine run three times over).
        #    By default (-PesterJobs 1) Pester starts once xunit has ended and runs in one process: the deadline and tunnel
        #    tests of both suites allow a few seconds, and two test processes on two cores made them flaky in CI
        #    (examples/21's tunnel did not open within 3 s). -PesterJobs 2 is faster on a machine with more cores.
        if ($PesterJobs -le 1) { $xunit.WaitForExit() }
        $pesterRc = Invoke-PinnedPwsh -Arguments @('-NoProfile', '-NonInteractive', '-File', (Join-Path $root 'tests/Invoke-PesterSuite.ps1'), '-ResultPath', $nunit, '-Jobs', $PesterJobs, '-AfterProcess', $xunit.Id)
    }
    finally {
        $xunit.WaitForExit()
        $xunitRc = $xunit.ExitCode
        Write-Host '---- xunit:'
        Get-Content (Join-Path $results 'xunit.log'), (Join-Path $results 'xunit.err.log') -ErrorAction Ignore | Write-Host
    }

    $x = if (Test-Path $trx) { Get-TrxCount $trx } else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    $p = if (Test-Path $nunit) { Get-NUnitCount $nunit } else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    Write-Host ''
    Write-Host ("xunit:  {0} passed, {1} failed, {2} skipped{3}" -f $x.Passed, $x.Failed, $x.Skipped, $(if (-not (Test-Path $trx)) { ' (no result file: the build or test run failed)' }))
    Write-Host ("Pester: {0} passed, {1} failed, {2} skipped{3}" -f $p.Passed, $p.Failed, $p.Skipped, $(if (-not (Test-Path $nunit)) { ' (no result file: Pester could not run)' }))
    if ($xunitRc -or $x.Failed) { throw "xunit failed (exit code $xunitRc, $($x.Failed) failed)" }
    if ($pesterRc -or $p.Failed) { throw "Pester failed (exit code $pesterRc, $($p.Failed) failed)" }
    if (-not $packaged) { throw 'Package failed' }
}

function Invoke-Package {
    if (-not $script:Built) { Invoke-Build }
    $repo = Join-Path $root 'artifacts/repo'
    $version = (Import-PowerShellDataFile (Join-Path $moduleOut 'IncidentOps.psd1')).ModuleVersion
    New-Item -ItemType Directory -Force $repo | Out-Null
    Remove-Item (Join-Path $repo "IncidentOps.$version.nupkg") -ErrorAction Ignore
    # Publish-PSResource only publishes to a registered repository. Register it in a throw-away PSResourceGet
    # store (XDG_DATA_HOME), so the user's own repository list is never touched.
    $data = Join-Path ([IO.Path]::GetTempPath()) ('incidentops-publish-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory $data | Out-Null
    try {
        $publish = "`$ErrorActionPreference = 'Stop'; Register-PSResourceRepository -Name IncidentOpsLocal -Uri '$repo' -Trusted; " +
            "Publish-PSResource -Path '$(Join-Path $moduleOut 'IncidentOps.psd1')' -Repository IncidentOpsLocal"
        $rc = Invoke-PinnedPwsh -Arguments @('-NoProfile', '-NonInteractive', '-Command', $publish) -Environment @{ XDG_DATA_HOME = $data }
        if ($rc) { throw "Publish-PSResource failed ($rc)" }
    }
    finally { Remove-Item -Recurse -Force $data -ErrorAction Ignore }
    Get-Item (Join-Path $repo "IncidentOps.$version.nupkg")
}

function Invoke-Shell {
    if (-not $script:Built) {
        dotnet build (Join-Path $root 'src/IncidentOps/IncidentOps.csproj') -c $Configuration -v q -nologo -clp:ErrorsOnly
        if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)" }
    }
    $config = if ($ConfigPath) { (Resolve-Path $ConfigPath).ProviderPath }
              elseif ($env:INCIDENTOPS_CONFIG) { $env:INCIDENTOPS_CONFIG }
              else { Join-Path $root 'examples/incidentops.yml' }
    $environment = @{ INCIDENTOPS_CONFIG = $config }
    if ($Script) {
        $path = (Resolve-Path $Script).ProviderPath
        $rc = Invoke-PinnedPwsh -Arguments (@('-NoProfile', '-NonInteractive', '-File', $path) + $ScriptArgs) -Environment $environment
    }
    else {
        Write-Host "IncidentOps with $config (Get-Command -Module IncidentOps; Get-Help Test-ServiceHealth -Full)"
        $rc = Invoke-PinnedPwsh -Arguments @('-NoExit', '-Command', 'Import-Module IncidentOps') -Environment $environment
    }
    exit $rc
}

foreach ($t in $Task) {
    if ($t -ne 'Shell') { Write-Host "==> $t" -ForegroundColor Cyan }
    & "Invoke-$t"
}
