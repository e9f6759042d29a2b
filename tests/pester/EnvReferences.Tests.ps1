#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# env:NAME has one rule in parameters and in incidentops.yml: an unset variable is an error that names it.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
    $script:Unset = 'INCIDENTOPS_PESTER_SURELY_UNSET'
    Remove-Item "env:$script:Unset" -ErrorAction Ignore
}
AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)

Describe 'env: references' {
    It 'refuses -AppId env:NAME when the variable is unset, naming it, before any CLI runs' {
        $doctl = New-TestTempFile 'io-no-doctl' ''   # a path where no CLI is
        $err = $null
        try { Get-AppStatus -Platform DigitalOcean -AppId "env:$script:Unset" -DoctlPath $doctl -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ConfigReferenceUnresolved,IncidentOps.Commands.GetAppStatusCommand'
        "$err" | Should -Match $script:Unset
        "$err" | Should -Match 'is not set'
    }

    It 'refuses an unset env: in incidentops.yml with the same reason' {
        $root = New-TestRoot
        try {
            $cfg = Join-Path $root.Dir 'incidentops.yml'
            Set-Content $cfg "version: 1`nenvironments:`n  production:`n    services:`n      cache:`n        redis: env:$script:Unset`n"
            $err = $null
            try { Get-RedisInfo -Service production/cache -ConfigPath $cfg -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ConfigReferenceUnresolved,IncidentOps.Commands.GetRedisInfoCommand'
            "$err" | Should -Match "the environment variable $script:Unset is not set"
        }
        finally { Remove-TestRoot $root }
    }
}

Describe 'the timeline parameters' {
    It '<Name> declares -Incident, and -Record only when it reads' -TestCases @(
        @{ Name = 'Get-RedisInfo'; Record = $true }
        @{ Name = 'Clear-RedisDatabase'; Record = $false }
        @{ Name = 'Test-ServiceHealth'; Record = $true }
        @{ Name = 'Watch-ServiceHealth'; Record = $true }
        @{ Name = 'Stop-PgBackend'; Record = $false }
        @{ Name = 'Get-PgActivity'; Record = $true }
    ) {
        param($Name, $Record)
        $p = (Get-Command $Name).Parameters
        $p.ContainsKey('Incident') | Should -BeTrue
        $p.ContainsKey('Record') | Should -Be $Record
    }
}
