#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppLog against fake flyctl/journalctl that replay recorded logs (Platforms/<Provider>/Fixtures).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)


Describe 'Get-AppLog' -Skip:($IsWindows) {
    It 'filters Fly logs with -Pattern' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --no-tail --json' = (Get-Fixture 'fly-logs.json') }
        @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Pattern 'memory').Count | Should -Be 2
    }

    It 'returns every line as an AppLogEntry with a time and a message' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --no-tail --json' = (Get-Fixture 'fly-logs.json') }
        $entries = @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -ErrorAction Stop)
        $entries.Count | Should -BeGreaterThan 2
        $entries | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'IncidentOps.Platforms.AppLogEntry' }
        $entries[0].Message | Should -Not -BeNullOrEmpty
    }

    It 'keeps -Level and more severe, and one -Instance (wildcards allowed), in a read too' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --no-tail --json' = (Get-Fixture 'fly-logs.json') }
        $errors = @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Level warning)
        $errors.Count | Should -Be 1
        $errors[0].Message | Should -Match 'heap out of memory'
        $machine = @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Instance '3d8d*')
        $machine.Count | Should -Be 2
        $machine.Instance | Sort-Object -Unique | Should -Be '3d8d9e1a2b3c47'
        { Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Level loud } | Should -Throw -ErrorId 'ParameterArgumentValidationError,IncidentOps.Commands.GetAppLogCommand'
    }

    It 'refuses an invalid -Pattern with InvalidPattern' {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --no-tail --json' = (Get-Fixture 'fly-logs.json') }
        { Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Pattern '([' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPattern,IncidentOps.Commands.GetAppLogCommand'
    }
}

Describe 'Get-AppLog in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $cli = New-FakeCli flyctl @{ 'logs -a app1 --no-tail --json' = (Get-Fixture 'fly-logs.json') }
        $rows = @(Get-AppLog -Platform Fly -App app1 -FlyctlPath $cli.Path -Pattern 'memory')
    }

    It 'shows time, instance, level and the whole message at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Time', 'Instance', 'Level', 'Message') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'Time \(UTC\)' -Because 'the times are UTC, and the header says so'
        Get-ViewColumn $text 'Message' | Should -Be (($rows.Message -join '') -replace '\s+', '')
    }

    It 'shows the levels whole at 80 columns (warning and critical were cut to "warni" / "ng")' {
        $levels = foreach ($level in 'warning', 'critical', 'notice') {
            $logFile = New-TestTempFile 'io-log' '.json'
            Set-Content -Path $logFile -Value ('{"timestamp":"2026-11-23T09:12:00Z","message":"disk almost full","level":"' + $level + '","instance":"3d8d9e1a2b3c47","region":"ams"}')
            $levelCli = New-FakeCli flyctl @{ 'logs -a app1 --no-tail --json' = $logFile }
            Get-AppLog -Platform Fly -App app1 -FlyctlPath $levelCli.Path
        }
        @($levels).Count | Should -Be 3
        $text = Get-RenderedView $levels -Width 80
        foreach ($level in 'warning', 'critical', 'notice') { $text | Should -Match "\s$level\s+disk almost full" }
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppLog | Out-Null
    }

    It 'completes -Since with durations, never file names' {
        # Before, -Since (a TimeSpan) fell back to PowerShell's file-name completion: Tab offered ./incidentops.yml.
        Push-Location (Split-Path $root.Config)
        try {
            $since = Get-CompletionText 'Get-AppLog -Since '
            $since | Should -Be @('10m', '30m', '1h', '6h', '1d', '7d')
            Get-CompletionText 'Get-AppLog -Since 15' | Should -Be @('15m', '15h', '15d')
            Get-CompletionText 'Get-AppLog -Since 1h' | Should -Be @('1h')
            Get-CompletionText 'Get-AppEvent -Since ' | Should -Be @('10m', '30m', '1h', '6h', '1d', '7d')
            # What it offers binds: -Since 6h is six hours back.
            (TabExpansion2 -inputScript 'Get-AppLog -Since ' -cursorColumn 18).CompletionMatches[0].ToolTip | Should -Be 'the last 10 minutes'
            foreach ($line in 'Get-AppLog -Tail ', 'Get-AppLog -Pattern ', 'Get-AppLog -TimeoutSec ', 'Get-AppDeployment -First ', 'Set-AppScale -Count ') {
                $offered = @(Get-CompletionText $line)
                $offered.Count | Should -BeGreaterThan 0 -Because $line
                $offered | Should -Not -Match 'incidentops\.yml|^\./|^\.\\' -Because $line
            }
            Get-CompletionText 'Get-AppLog -Tail ' | Should -Be @('100', '200', '500', '1000', '50')
            Get-CompletionText 'Get-AppLog -Pattern ' | Should -Contain 'error'
        }
        finally { Pop-Location }
    }

    It 'completes the app identity parameters from the configured services, never file names' {
        Push-Location (Split-Path $root.Config)
        try {
            Get-CompletionText "Get-AppLog -ConfigPath '$($root.Config)' -App " | Should -Be @('ai-affiliate-empire')
            Get-CompletionText "Get-AppLog -ConfigPath '$($root.Config)' -Unit f" | Should -Be @('fastapi')
            (TabExpansion2 -inputScript "Get-AppLog -ConfigPath '$($root.Config)' -Unit " -cursorColumn ("Get-AppLog -ConfigPath '$($root.Config)' -Unit ".Length)).CompletionMatches[0].ToolTip | Should -Be 'production/apiworker'
            # No service gives a namespace: nothing is offered, and no file name either.
            @(Get-CompletionText "Get-AppLog -ConfigPath '$($root.Config)' -Namespace ") | Should -Not -Match 'incidentops\.yml'
        }
        finally { Pop-Location }
    }

    It 'completes -Service, -Platform and -Type' {
        Get-CompletionText "Get-AppLog -ConfigPath '$($root.Config)' -Service production/a" | Should -Contain 'production/api'
        Get-CompletionText 'Get-AppLog -Platform K' | Should -Be 'Kubernetes'
        Get-CompletionText 'Get-AppLog -Type ' | Sort-Object | Should -Be @('build', 'deploy', 'run')
    }
}
