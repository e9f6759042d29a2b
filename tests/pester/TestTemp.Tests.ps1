# The temp-folder helpers of Common.ps1 that every Pester file uses: what a test makes with New-TestTempDir,
# New-TestTempFile, New-TestRoot or New-FakeCli is gone after Remove-TestTemp, so a run leaves nothing in the temp
# folder (a /tmp of 45,000 entries once made the CI Pester run 3 times slower).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
}
AfterAll { Remove-TestTemp }

Describe 'Temporary folders and files of the tests' {
    It 'makes them in the temp folder ($TMPDIR) and removes all of them with Remove-TestTemp' {
        $dir = New-TestTempDir 'io-probe'
        $file = New-TestTempFile 'io-probe' '.json'
        Set-Content -Path $file -Value '{}'
        $root = New-TestRoot "services: {}`n"
        New-Item -ItemType Directory -Path (Join-Path $root.Store 'incidents') -Force | Out-Null
        $cli = New-FakeCli flyctl @{ 'status' = $file }
        & $cli.Path status | Should -Be '{}'
        foreach ($p in $dir, $file, $root.Dir, (Split-Path $cli.Path)) {
            Split-Path $p | Should -Be ([IO.Path]::GetTempPath().TrimEnd('/'))
            Test-Path $p | Should -BeTrue
        }

        Remove-TestTemp

        foreach ($p in $dir, $file, $root.Dir, (Split-Path $cli.Path)) { Test-Path $p | Should -BeFalse -Because "$p was made by a test helper" }
        $global:IncidentOpsTestTemp | Should -Not -Contain $dir
    }

    It 'removes one root at once with Remove-TestRoot and keeps the others' {
        $a = New-TestRoot
        $b = New-TestRoot
        Remove-TestRoot $a
        Test-Path $a.Dir | Should -BeFalse
        Test-Path $b.Dir | Should -BeTrue
        $global:IncidentOpsTestTemp | Should -Not -Contain $a.Dir
        $global:IncidentOpsTestTemp | Should -Contain $b.Dir
    }

    It 'forgets a listed path that is already gone' {
        $dir = New-TestTempDir 'io-probe'
        Remove-Item -Recurse -Force $dir
        Remove-TestTemp
        $global:IncidentOpsTestTemp | Should -Not -Contain $dir
    }
}
