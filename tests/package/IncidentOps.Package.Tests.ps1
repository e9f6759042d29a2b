#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The package a pwsh user installs: build.ps1 -Task Package publishes out/IncidentOps with Publish-PSResource to
# the local file repository artifacts/repo (build.ps1 -Task Test does that before running Pester). This test
# installs it with Install-PSResource, as a user would from the Gallery, into a throw-away home, imports it BY
# NAME in a fresh pwsh, and runs a cmdlet. The user's own modules and repository list are never touched.
BeforeAll {
    $repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $localRepo = Join-Path $repoRoot 'artifacts/repo'
    $version = (Import-PowerShellDataFile (Join-Path $repoRoot 'out/IncidentOps/IncidentOps.psd1')).ModuleVersion
    $source = Join-Path $repoRoot 'IncidentOps.psd1'
    $pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })

    # Runs a script in a fresh pwsh whose home (and so its CurrentUser module folder and PSResourceGet store) is
    # $TestDrive/home, with the default PSModulePath: the repository's out/ folder is not on it.
    function Invoke-IsolatedPwsh([string] $Command) {
        $home_ = Join-Path $TestDrive 'home'
        $data = Join-Path $home_ '.local/share'
        New-Item -ItemType Directory -Force $data | Out-Null
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
        foreach ($a in '-NoLogo', '-NoProfile', '-NonInteractive', '-Command', $Command) { $psi.ArgumentList.Add($a) }
        $psi.Environment['HOME'] = $home_
        $psi.Environment['XDG_DATA_HOME'] = $data
        $psi.Environment['XDG_CONFIG_HOME'] = Join-Path $home_ '.config'
        $psi.Environment['XDG_CACHE_HOME'] = Join-Path $home_ '.cache'
        $psi.Environment['USERPROFILE'] = $home_
        $psi.Environment['LOCALAPPDATA'] = $data
        $psi.Environment['NO_COLOR'] = '1'   # plain-text errors: a failure message with colour codes breaks the NUnit report
        $psi.Environment.Remove('PSModulePath') | Out-Null
        $psi.Environment.Remove('INCIDENTOPS_CONFIG') | Out-Null
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [System.Diagnostics.Process]::Start($psi)
        $stderr = $p.StandardError.ReadToEndAsync()
        $stdout = $p.StandardOutput.ReadToEnd()
        if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw 'the isolated pwsh did not finish within 120 s' }
        [pscustomobject]@{ ExitCode = $p.ExitCode; Output = $stdout; Error = $stderr.Result }
    }
}

Describe 'The IncidentOps package' {
    It 'was published to artifacts/repo by build.ps1 -Task Package' {
        Join-Path $localRepo "IncidentOps.$version.nupkg" | Should -Exist -Because 'build.ps1 -Task Package (run by -Task Test) publishes it'
    }

    It 'installs with Install-PSResource, imports by name and runs a cmdlet' {
        $script = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name IncidentOpsLocal -Uri '$localRepo' -Trusted
Install-PSResource IncidentOps -Version '$version' -Repository IncidentOpsLocal -Scope CurrentUser -TrustRepository
Import-Module IncidentOps
`$m = Get-Module IncidentOps
"MODULE `$(`$m.Version) `$(`$m.ModuleBase)"
"COMMANDS `$(@(Get-Command -Module IncidentOps -CommandType Cmdlet).Count)"
"SEVERITY `$((Get-IncidentSeverity -Id P1).Name)"
"HELP `$((Get-Help New-Incident).Synopsis)"
"LICENSE `$((Find-PSResource IncidentOps -Repository IncidentOpsLocal).LicenseUri)"
"LICENSEFILE `$(Test-Path (Join-Path `$m.ModuleBase LICENSE))"
"LISTED `$(@(Get-Module -ListAvailable IncidentOps*).Name -join ',')"
Get-IncidentSeverity | Select-Object -First 1 | Out-String -Width 120
"VIEWS `$((Get-Module IncidentOps.Views).ModuleBase -eq `$m.ModuleBase)"
"@
        $r = Invoke-IsolatedPwsh $script
        $r.Error | Should -BeNullOrEmpty
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Match ([regex]::Escape("MODULE $version $(Join-Path $TestDrive 'home')"))
        $exported = @((Import-PowerShellDataFile $source).CmdletsToExport).Count
        $r.Output | Should -Match "COMMANDS $exported\b"
        $r.Output | Should -Match 'SEVERITY High'
        $r.Output | Should -Match 'HELP Declares an incident'
        $r.Output | Should -Match 'LICENSE https://opensource\.org/license/mit'
        $r.Output | Should -Match 'LICENSEFILE True'
        # The installed copy's views come from its own folder, on first use; only IncidentOps itself is an installed module.
        $r.Output | Should -Match 'LISTED IncidentOps(\r?\n|$)'
        $r.Output | Should -Match 'Id\s+Name\s+Respond\s+Update'
        $r.Output | Should -Match 'VIEWS True'
    }

    It 'shows the Gallery what it needs: tags, an MIT license file and URL, release notes, no placeholder URL' {
        $psData = (Import-PowerShellDataFile $source).PrivateData.PSData
        @($psData.Tags) | Should -Contain 'PostgreSQL'
        $psData.LicenseUri | Should -Match '^https://opensource\.org/licenses?/mit'
        $psData.ReleaseNotes | Should -Not -BeNullOrEmpty
        Get-Content (Join-Path $repoRoot 'LICENSE') -Raw | Should -Match 'MIT License'
        Get-Content $source -Raw | Should -Not -Match 'example\.(invalid|com)'
    }
}
