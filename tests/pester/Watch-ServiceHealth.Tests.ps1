#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Watch-ServiceHealth against a loopback HTTP server (HttpListener on 127.0.0.1); no network beyond loopback.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    Import-IncidentOps
    $server = Start-TestHttpServer @{ '/503' = @{ Code = 503; Body = 'down' } }
    $base = $server.Base
    $root = New-OpsTestRoot "      web:`n        health:`n          - $base/health`n"
}

AfterAll { Stop-TestServer $server; Remove-TestTemp }

Describe 'Watch-ServiceHealth' {
    It 'ends with a summary once healthy' {
        $out = @(Watch-ServiceHealth "$base/ok" -IntervalSec 0.1 -UntilHealthy -Consecutive 2)
        $summary = $out[-1]
        $summary.StopReason | Should -Be 'UntilHealthy'
        $summary.Samples | Should -Be 2
        $out[0].PSObject.TypeNames[0] | Should -Be 'IncidentOps.Health.HealthResult'
    }

    It 'stops once unhealthy with -UntilUnhealthy and counts the failures' {
        $summary = @(Watch-ServiceHealth "$base/503" -IntervalSec 0.1 -UntilUnhealthy -Consecutive 2)[-1]
        $summary.StopReason | Should -Be 'UntilUnhealthy'
        $summary.Failures | Should -Be 2
        $summary.Healthy | Should -BeFalse
    }

    It 'takes -Interval and -Duration as durations, and the old -IntervalSec/-DurationSec as seconds' -TestCases @(
        @{ Watch = { Watch-ServiceHealth "$base/ok" -Interval 50ms -Duration 350ms } }
        @{ Watch = { Watch-ServiceHealth "$base/ok" -IntervalSec 0.05 -DurationSec 0.35 } }
    ) {
        param($Watch)
        $summary = @(& $Watch)[-1]
        $summary.StopReason | Should -Be 'Duration'
        $summary.Rounds | Should -BeGreaterThan 1
    }

    It 'refuses -Duration 0 with HealthWatchDurationNotPositive' {
        { Watch-ServiceHealth "$base/ok" -Duration 0 -ErrorAction Stop } | Should -Throw -ErrorId 'HealthWatchDurationNotPositive,IncidentOps.Commands.WatchServiceHealthCommand'
    }

    It 'watches a configured service for -DurationSec' {
        $summary = @(Watch-ServiceHealth -Service production/web -ConfigPath $root.Config -IntervalSec 0.2 -DurationSec 0.5)[-1]
        $summary.Rounds | Should -BeGreaterThan 0
        $summary.Healthy | Should -BeTrue
    }
}

Describe 'Watch-ServiceHealth in a real host' {
    BeforeAll { $out = @(Watch-ServiceHealth "$base/ok", "$base/503" -IntervalSec 0.1 -DurationSec 0.35) }

    It 'writes each probe as a table row and the summary as a list at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $out -Width $Width
        $text | Should -Match '\bTarget\b'
        $text | Should -Match 'False\s+503'
        foreach ($row in 'Targets', 'StopReason', 'Rounds', 'Failures', 'SuccessRatio', 'LongestOutage') { $text | Should -Match "(?m)^$row\s+:" }
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Watch-ServiceHealth | Out-Null
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Watch-ServiceHealth -ConfigPath '$($root.Config)' -Service production/w" | Should -Contain 'production/web'
    }
}
