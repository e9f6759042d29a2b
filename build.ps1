#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages the IncidentOps module.
.DESCRIPTION
    Build:   dotnet build IncidentOps.sln -c $Configuration  (lays out out/IncidentOps)
    Test:    dotnet test IncidentOps.sln, then Pester 5 on tests/pester when Pester is installed
    Package: zips out/IncidentOps as artifacts/IncidentOps-<version>.zip
.EXAMPLE
    ./build.ps1 -Task Build, Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package')]
    [string[]] $Task = @('Build'),
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$moduleOut = Join-Path $root 'out/IncidentOps'

function Invoke-Build {
    dotnet build (Join-Path $root 'IncidentOps.sln') -c $Configuration
    if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)" }
}

function Invoke-Test {
    dotnet test (Join-Path $root 'IncidentOps.sln') -c $Configuration
    if ($LASTEXITCODE) { throw "dotnet test failed ($LASTEXITCODE)" }
    $pester = Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0' | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $pester) {
        Write-Warning 'Pester 5 is not installed; skipping tests/pester (Install-Module Pester -MinimumVersion 5.0).'
        return
    }
    Import-Module $pester -Force
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests/pester'
    $config.Run.Exit = $false
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    $result = Invoke-Pester -Configuration $config
    if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester test(s) failed" }
}

function Invoke-Package {
    if (-not (Test-Path (Join-Path $moduleOut 'IncidentOps.psd1'))) { Invoke-Build }
    $version = (Import-PowerShellDataFile (Join-Path $moduleOut 'IncidentOps.psd1')).ModuleVersion
    $artifacts = Join-Path $root 'artifacts'
    New-Item -ItemType Directory -Force $artifacts | Out-Null
    $zip = Join-Path $artifacts "IncidentOps-$version.zip"
    Compress-Archive -Path $moduleOut -DestinationPath $zip -Force
    Get-Item $zip
}

foreach ($t in $Task) {
    Write-Host "==> $t" -ForegroundColor Cyan
    & "Invoke-$t"
}
