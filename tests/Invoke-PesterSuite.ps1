#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suite (tests/pester, tests/package, tests/examples) with Pester 5.9.1 and writes NUnit XML.
.DESCRIPTION
    build.ps1 -Task Test runs this in the pinned pwsh 7.6.9 after a build. It puts out/ (the built module and
    Pester from NuGet) on PSModulePath itself. Exit code 0 when every test passed, otherwise the number of failed tests (at least 1,
    also when Pester could not run at all).
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Test
.EXAMPLE
    dotnet pwsh ./tests/Invoke-PesterSuite.ps1 -Path tests/pester/Get-PgActivity.Tests.ps1 -Output Detailed
#>
param(
    [string[]] $Path = @('pester', 'package', 'examples' | ForEach-Object { Join-Path $PSScriptRoot $_ } | Where-Object { Test-Path $_ }),
    [string] $ResultPath = (Join-Path $PSScriptRoot '../artifacts/test-results/pester.xml'),
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Output = 'Normal'
)
$ErrorActionPreference = 'Stop'
# The child pwsh processes the tests start write plain text: an error they print lands in a failure message, and
# Pester's NUnit writer cannot write the escape character of a colour code (it stopped with no counts at all).
$env:NO_COLOR = '1'
$out = [IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../out'))
if (($env:PSModulePath -split [IO.Path]::PathSeparator) -notcontains $out) { $env:PSModulePath = $out + [IO.Path]::PathSeparator + $env:PSModulePath }
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
