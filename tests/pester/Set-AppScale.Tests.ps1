#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Set-AppScale against fake flyctl that logs its arguments; -WhatIf is checked in a child pwsh.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile

    # A reply file of flyctl status --json for an app with $Machines started machines (the recorded shape, its first machine repeated).
    function New-FlyStatusReply([int] $Machines) {
        $status = Get-Content (Get-Fixture 'fly-status.json') -Raw | ConvertFrom-Json -Depth 50
        $first = $status.Machines[0] | ConvertTo-Json -Depth 50
        $status.Machines = @(foreach ($i in 1..$Machines) { $m = $first | ConvertFrom-Json -Depth 50; $m.id = "machine$i"; $m.state = 'started'; $m })
        New-ReplyFile ($status | ConvertTo-Json -Depth 50 -Compress)
    }
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Set-AppScale' -Skip:($IsWindows) {
    It 'scales a Fly app with flyctl scale vm and scale count' {
        $cli = New-FakeCli flyctl @{ 'status -a app1 --json' = (Get-Fixture 'fly-status.json'); 'scale vm' = (New-ReplyFile "ok`n"); 'scale count' = (New-ReplyFile "ok`n") }
        $r = Set-AppScale -Platform Fly -App app1 -FlyctlPath $cli.Path -Count 3 -Size shared-cpu-2x -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        # The count it scales from is read first.
        Get-Content $cli.Log | Should -Be @('flyctl status -a app1 --json', 'flyctl scale vm shared-cpu-2x -a app1', 'flyctl scale count 3 -a app1 --yes')
    }

    It 'scales a Kubernetes StatefulSet with kubectl scale statefulset/NAME' {
        $cli = New-FakeCli kubectl @{ '-n akaind-platform get statefulset postgres -o json' = (Get-Fixture 'k8s-statefulset.json'); '-n akaind-platform scale' = (New-ReplyFile "statefulset.apps/postgres scaled`n") }
        $r = Set-AppScale -Platform Kubernetes -Namespace akaind-platform -StatefulSet postgres -KubectlPath $cli.Path -Count 3 -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        $r.StatefulSet | Should -Be 'postgres'
        Get-Content $cli.Log | Should -Be @('kubectl -n akaind-platform get statefulset postgres -o json', 'kubectl -n akaind-platform scale statefulset/postgres --replicas=3')
    }

    It 'refuses to scale a DaemonSet (one pod per node) with PlatformOperationNotSupported and runs nothing' {
        $cli = New-FakeCli kubectl @{}
        $err = $null
        Set-AppScale -Platform Kubernetes -DaemonSet node-exporter -KubectlPath $cli.Path -Count 3 -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PlatformOperationNotSupported,IncidentOps.Commands.SetAppScaleCommand'
        $err[0].Exception.Message | Should -Match 'daemonset/node-exporter is a DaemonSet: it runs one pod on each node'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'is not supported on systemd' {
        { Set-AppScale -Platform Systemd -Unit fastapi -Count 2 -Force -ErrorAction Stop } | Should -Throw -ErrorId 'PlatformOperationNotSupported,IncidentOps.Commands.SetAppScaleCommand'
    }
}

Describe 'Set-AppScale in a real host' -Skip:($IsWindows) {
    It 'prints its What if: line with the counts from and to and the exact command under -WhatIf, and scales nothing' {
        $cli = New-FakeCli flyctl @{ 'status -a app1 --json' = (New-FlyStatusReply 2) }
        $text = Get-WhatIfText 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 4 -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*from 2 to 4 instances: flyctl scale count 4 -a app1'
        Get-Content $cli.Log | Should -Be 'flyctl status -a app1 --json' -Because 'only the current count is read'
    }

    # Seed 001's "scale count 0": every instance stops. Set-AppScale is Medium impact, below the default
    # $ConfirmPreference, so -Count 0 used to run at once (flyctl scale count 0 ... --yes) without a question.
    It 'asks before -Count 0 at the default $ConfirmPreference, and runs nothing when it cannot ask' {
        $cli = New-FakeCli flyctl @{ 'status -a app1 --json' = (New-FlyStatusReply 2); 'scale count' = (New-ReplyFile "ok`n") }
        $r = Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 0' $cli.Path
        $r.ExitCode | Should -Not -Be 0 -Because 'a -NonInteractive pwsh cannot answer the question'
        $r.Text | Should -Match 'NonInteractive mode. Read and Prompt functionality is not available'
        Get-Content $cli.Log | Should -Not -Match 'scale' -Because 'nothing may be scaled before the answer'
        Get-WhatIfText 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 0 -WhatIf' $cli.Path | Should -Match 'What if: .*from 2 to 0 instances: flyctl scale count 0 -a app1' -Because '-WhatIf shows the change without asking'
        Get-Content $cli.Log | Should -Not -Match 'scale'
    }

    # A large scale-in: production from 10 instances to 1 ran at once (Medium impact, below the default $ConfirmPreference).
    It 'asks before scaling to less than half of the current count (10 to 4), and runs nothing when it cannot ask' {
        $cli = New-FakeCli flyctl @{ 'status -a app1 --json' = (New-FlyStatusReply 10); 'scale count' = (New-ReplyFile "ok`n") }
        $r = Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 4' $cli.Path
        $r.ExitCode | Should -Not -Be 0 -Because 'a -NonInteractive pwsh cannot answer the question'
        $r.Text | Should -Match 'NonInteractive mode. Read and Prompt functionality is not available'
        Get-Content $cli.Log | Should -Be 'flyctl status -a app1 --json' -Because 'nothing may be scaled before the answer'
        Get-WhatIfText 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 1 -WhatIf' $cli.Path | Should -Match 'What if: .*from 10 to 1 instances: flyctl scale count 1 -a app1 --yes'
        Get-Content $cli.Log | Should -Not -Match 'scale'
    }

    It 'asks when the current count cannot be read' {
        $cli = New-FakeCli flyctl @{ 'scale count' = (New-ReplyFile "ok`n") }   # status is not answered: the fake fails it
        $r = Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 3' $cli.Path
        $r.ExitCode | Should -Not -Be 0 -Because 'a -NonInteractive pwsh cannot answer the question'
        Get-Content $cli.Log | Should -Not -Match 'scale'
        Get-WhatIfText 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 3 -WhatIf' $cli.Path | Should -Match 'What if: .*to 3 instances \(current count unknown\): flyctl scale count 3'
    }

    It 'scales in with -Force or -Confirm:$false, and to half or more of the current count without asking' {
        $cli = New-FakeCli flyctl @{ 'status -a app1 --json' = (New-FlyStatusReply 10); 'scale count' = (New-ReplyFile "ok`n") }
        (Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 0 -Force | Out-Null' $cli.Path).ExitCode | Should -Be 0
        (Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 1 -Confirm:$false | Out-Null' $cli.Path).ExitCode | Should -Be 0
        (Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 5 | Out-Null' $cli.Path).ExitCode | Should -Be 0
        (Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 12 | Out-Null' $cli.Path).ExitCode | Should -Be 0
        Get-Content $cli.Log | Where-Object { $_ -like 'flyctl scale *' } | Should -Be @('flyctl scale count 0 -a app1 --yes', 'flyctl scale count 1 -a app1 --yes', 'flyctl scale count 5 -a app1 --yes', 'flyctl scale count 12 -a app1 --yes')
    }

    It 'prints kubectl scale statefulset/postgres under -WhatIf and runs nothing' {
        $cli = New-FakeCli kubectl @{ 'get statefulset postgres -o json' = (Get-Fixture 'k8s-statefulset.json') }
        $text = Get-WhatIfText 'Set-AppScale -Platform Kubernetes -StatefulSet postgres -KubectlPath $args[0] -Count 2 -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*from 1 to 2 instances: kubectl scale statefulset/postgres --replicas=2'
        Get-Content $cli.Log | Should -Be 'kubectl get statefulset postgres -o json'
    }

    It 'shows the result with its commands at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $cli = New-FakeCli flyctl @{ 'status -a app1 --json' = (New-FlyStatusReply 2); 'scale count' = (New-ReplyFile "ok`n") }
        $text = Get-RenderedView (Set-AppScale -Platform Fly -App app1 -FlyctlPath $cli.Path -Count 2 -Force) -Width $Width
        foreach ($col in 'Name', 'Action', 'Succeeded', 'Commands') { $text | Should -Match "\b$col\b" }
        Get-ViewColumn $text 'Commands' | Should -Be 'flyctlscalecount2-aapp1--yes'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Set-AppScale | Out-Null
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Set-AppScale -ConfigPath '$($root.Config)' -Service production/" | Should -Contain 'production/api'
        Get-CompletionText 'Set-AppScale -Platform ' | Should -Not -Contain 'None'
    }

    It 'completes -Size with the sizes of the platform named by -Platform or by the configured service' {
        $fly = Get-CompletionText 'Set-AppScale -Platform Fly -App app1 -Size '
        $fly | Should -Contain 'shared-cpu-2x'
        $fly | Should -Contain 'performance-1x'
        $fly | Where-Object { $_ -like 'apps-*' } | Should -BeNullOrEmpty
        Get-CompletionText 'Set-AppScale -Platform DigitalOcean -AppId id1 -Size apps-d-1' | Should -Contain 'apps-d-1vcpu-1gb'
        # production/api runs on Fly in the test configuration: only Fly sizes.
        $svc = Get-CompletionText "Set-AppScale -ConfigPath '$($root.Config)' -Service production/api -Size "
        $svc | Should -Contain 'shared-cpu-1x'
        $svc | Where-Object { $_ -like 'apps-*' } | Should -BeNullOrEmpty
        # The tooltip says what a size is.
        $tip = (TabExpansion2 -inputScript 'Set-AppScale -Platform Fly -Size shared-cpu-2' -cursorColumn 45).CompletionMatches | Select-Object -First 1
        $tip.ToolTip | Should -Be 'Fly: 2 shared CPUs, 512 MB'
    }
}
