#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppStatus against fake flyctl/doctl/systemctl/kubectl that replay recorded output (Platforms/<Provider>/Fixtures).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Get-AppStatus' -Skip:($IsWindows) {
    It 'reads <Platform> output as <State>' -TestCases @(
        @{ Platform = 'Fly'; Tool = 'flyctl'; Prefix = 'status -a app1 --json'; Fixture = 'fly-status.json'; TargetArgs = @{ App = 'app1' }; State = 'Degraded' }
        @{ Platform = 'DigitalOcean'; Tool = 'doctl'; Prefix = 'apps get id1 -o json'; Fixture = 'do-app.json'; TargetArgs = @{ AppId = 'id1' }; State = 'Degraded' }
        @{ Platform = 'Systemd'; Tool = 'systemctl'; Prefix = 'show fastapi'; Fixture = 'systemctl-show.txt'; TargetArgs = @{ Unit = 'fastapi' }; State = 'Down' }
    ) {
        $cli = New-FakeCli $Tool @{ $Prefix = (Get-Fixture $Fixture) }
        $pathParam = @{ flyctl = 'FlyctlPath'; doctl = 'DoctlPath'; systemctl = 'SystemctlPath' }[$Tool]
        $splat = $TargetArgs.Clone()
        $splat[$pathParam] = $cli.Path
        $status = Get-AppStatus -Platform $Platform @splat -ErrorAction Stop
        $status.State | Should -Be $State
    }

    It 'reads a configured service by name' {
        $cli = New-FakeCli flyctl @{ 'status -a ai-affiliate-empire --json' = (Get-Fixture 'fly-status.json') }
        $status = Get-AppStatus -Service production/api -ConfigPath $root.Config -FlyctlPath $cli.Path -ErrorAction Stop
        $status.Service | Should -Be 'production/api'
        $status.State | Should -Be 'Degraded'
    }

    It 'shows why a Kubernetes pod died: OOMKilled, exit code 137, restarts and its last events' {
        $k = '--context production -n akaind-platform'
        $cli = New-FakeCli kubectl @{
            "$k get deployment marketing -o json" = (Get-Fixture 'k8s-deployment.json')
            "$k get pods -l app=marketing -o json" = (Get-Fixture 'k8s-pods.json')
            "$k get events --field-selector=involvedObject.kind=Pod -o json" = (Get-Fixture 'k8s-events.json')
        }
        $status = Get-AppStatus -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -ErrorAction Stop
        $status.Reason | Should -Be 'rollout stalled; CrashLoopBackOff (OOMKilled)'
        $pod = $status.Instances | Where-Object Id -eq 'marketing-7d9f8b6c5d-xyz12'
        $pod.LastExitReason | Should -Be 'OOMKilled'
        $pod.ExitCode | Should -Be 137
        $pod.Restarts | Should -Be 7
        $pod.Events[0] | Should -Match 'Warning BackOff x12: Back-off restarting failed container web'
        # The instances' default view shows the last exit with its code, even at 80 columns.
        $text = Get-RenderedView $status.Instances -Width 80
        foreach ($col in 'Id', 'State', 'Ready', 'Restarts', 'LastExit') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'marketing-7d9f8b6c5d-xyz12\s+CrashLoopBackOff\s+False\s+7 OOMKilled \(137\)'
    }

    It 'reads a <Kind> with -<Kind>' -TestCases @(
        @{ Kind = 'StatefulSet'; Name = 'postgres'; Fixture = 'k8s-statefulset.json'; State = 'Healthy'; Ready = '1/1' }
        @{ Kind = 'DaemonSet'; Name = 'node-exporter'; Fixture = 'k8s-daemonset.json'; State = 'Degraded'; Ready = '1/2' }
    ) {
        $k = '--context production -n akaind-platform'
        # The API server answers -l app=NAME with that workload's pods only.
        $pods = Get-Content -Raw (Get-Fixture 'k8s-workload-pods.json') | ConvertFrom-Json
        $pods.items = @($pods.items | Where-Object { $_.metadata.labels.app -eq $Name })
        $podsFile = New-ReplyFile ($pods | ConvertTo-Json -Depth 30)
        $cli = New-FakeCli kubectl @{
            "$k get $($Kind.ToLowerInvariant()) $Name -o json" = (Get-Fixture $Fixture)
            "$k get pods -l app=$Name -o json" = $podsFile
            "$k get events" = (Get-Fixture 'k8s-events.json')
        }
        $splat = @{ $Kind = $Name }
        $status = Get-AppStatus -Platform Kubernetes -Context production -Namespace akaind-platform @splat -KubectlPath $cli.Path -ErrorAction Stop
        $status.State | Should -Be $State
        "$($status.ReadyInstances)/$($status.DesiredInstances)" | Should -Be $Ready
        $status.$Kind | Should -Be $Name
        (Get-Content $cli.Log)[0] | Should -Be "kubectl $k get $($Kind.ToLowerInvariant()) $Name -o json"
    }

    It 'says a flyctl without its execute bit could not be started (PlatformCliNotStarted), not that it is missing' {
        $file = Join-Path (New-TestTempDir 'io-noexec') 'flyctl'
        Set-Content -Path $file -Value "#!/bin/sh`necho ran > '$file.ran'"
        chmod 600 $file
        $err = $null
        Get-AppStatus -Platform Fly -App app1 -FlyctlPath $file -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'PlatformCliNotStarted,IncidentOps.Commands.GetAppStatusCommand'
        $err[0].Exception.Message | Should -Be "flyctl at '$file' could not be started: Permission denied. Nothing was run. Make it executable (chmod +x '$file'), or pass -FlyctlPath or set tools.flyctl in incidentops.yml to the right file."
        Test-Path "$file.ran" | Should -BeFalse
    }

    It 'refuses a -Platform that is not a platform with PlatformInvalid' {
        { Get-AppStatus -Platform Heroku -App x -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformInvalid,IncidentOps.Commands.GetAppStatusCommand'
    }
}

Describe 'Get-AppStatus in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $fly = New-FakeCli flyctl @{ 'status -a app1 --json' = (Get-Fixture 'fly-status.json') }
        $sd = New-FakeCli systemctl @{ 'show fastapi' = (Get-Fixture 'systemctl-show.txt') }
        $rows = @(
            Get-AppStatus -Platform Fly -App app1 -FlyctlPath $fly.Path
            Get-AppStatus -Platform Systemd -Unit fastapi -SystemctlPath $sd.Path
        )
    }

    It 'keeps State, Ready and the whole Reason in view at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Name', 'State', 'Ready', 'Version', 'Reason') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'Degraded\s+1/2'
        # Reason wraps instead of being cut: every word of it is on screen.
        Get-ViewColumn $text 'Reason' | Should -Be (($rows.Reason -join '') -replace '\s+', '')
    }

    It 'fits an app of each platform in at most <MaxLines> line(s) at <Width> columns, with its Version and Deployed' -TestCases @(
        @{ Width = 80; MaxLines = 2 }, @{ Width = 120; MaxLines = 1 }
    ) {
        # A Kubernetes reason once took 5 lines of a 23-column Reason at 80 columns, and a DigitalOcean deployment id 5
        # lines of Version: the reasons are short and plain now (the failing pod's name is in Instances), and an id is
        # shown by its first 8 characters (the whole one is in .Version).
        $k = '--context production -n akaind-platform'
        $kube = New-FakeCli kubectl @{
            "$k get deployment marketing -o json" = (Get-Fixture 'k8s-deployment.json')
            "$k get pods -l app=marketing -o json" = (Get-Fixture 'k8s-pods.json')
            "$k get events --field-selector=involvedObject.kind=Pod -o json" = (Get-Fixture 'k8s-events.json')
        }
        $do = New-FakeCli doctl @{ 'apps get f1e2d3c4-0000-4000-8000-00000000a001 -o json' = (Get-Fixture 'do-app.json') }
        $all = @(
            Get-AppStatus -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath $kube.Path -ErrorAction Stop
            $rows
            Get-AppStatus -Platform DigitalOcean -AppId f1e2d3c4-0000-4000-8000-00000000a001 -DoctlPath $do.Path -ErrorAction Stop
        )
        $all.Count | Should -Be 4
        $text = Get-RenderedView $all -Width $Width
        $lines = @($text -split '\r?\n' | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^Name\s+State\s+Ready\s+Version\s+Deploy UTC\s+Reason\s*$' -Because 'the times are UTC, and the header says so'
        # Each app starts a line with its name; what follows until the next app is its wrapped Reason.
        $starts = @(for ($i = 2; $i -lt $lines.Count; $i++) { if ($lines[$i] -match '^\S') { $i } })
        $starts.Count | Should -Be 4
        $ends = @($starts | Select-Object -Skip 1) + $lines.Count
        for ($r = 0; $r -lt 4; $r++) { ($ends[$r] - $starts[$r]) | Should -BeLessOrEqual $MaxLines -Because "row $r of:`n$text" }
        $text | Should -Match 'marketing\s+Degraded\s+2/3\s+4\s+11-23 09:10\s+rollout stalled; '
        $text | Should -Match 'portfolio\s+Degraded\s+3/3\s+d4d4d4d4\s+11-22 10:00\s+latest deploy '
        (Get-ViewColumn $text 'Reason') | Should -Be (($all.Reason -join '') -replace '\s+', '')
        $all[0].Reason | Should -Be 'rollout stalled; CrashLoopBackOff (OOMKilled)'
        $all[3].Version | Should -Be 'd4d4d4d4-0000-4000-8000-000000000004'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppStatus | Should -Match 'OUTPUTS'
    }

    It 'completes -Service from the configuration' {
        Get-CompletionText "Get-AppStatus -ConfigPath '$($root.Config)' -Service prod" | Should -Contain 'production/api'
    }

    It 'completes -Platform with real platforms only (never None)' {
        $offered = Get-CompletionText 'Get-AppStatus -Platform '
        $offered | Should -Be @('Fly', 'DigitalOcean', 'Kubernetes', 'Systemd')
        Get-CompletionText 'Get-AppStatus -Platform N' | Should -BeNullOrEmpty
    }
}
