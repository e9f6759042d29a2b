#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Set-AppScale against fake flyctl that logs its arguments; -WhatIf is checked in a child pwsh.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Set-AppScale' -Skip:($IsWindows) {
    It 'scales a Fly app with flyctl scale vm and scale count' {
        $cli = New-FakeCli flyctl @{ 'scale vm' = (New-ReplyFile "ok`n"); 'scale count' = (New-ReplyFile "ok`n") }
        $r = Set-AppScale -Platform Fly -App app1 -FlyctlPath $cli.Path -Count 3 -Size shared-cpu-2x -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        Get-Content $cli.Log | Should -Be @('flyctl scale vm shared-cpu-2x -a app1', 'flyctl scale count 3 -a app1 --yes')
    }

    It 'scales a Kubernetes StatefulSet with kubectl scale statefulset/NAME' {
        $cli = New-FakeCli kubectl @{ '-n akaind-platform scale' = (New-ReplyFile "statefulset.apps/postgres scaled`n") }
        $r = Set-AppScale -Platform Kubernetes -Namespace akaind-platform -StatefulSet postgres -KubectlPath $cli.Path -Count 3 -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        $r.StatefulSet | Should -Be 'postgres'
        Get-Content $cli.Log | Should -Be 'kubectl -n akaind-platform scale statefulset/postgres --replicas=3'
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
    It 'prints its What if: line with the exact command under -WhatIf and runs nothing' {
        $cli = New-FakeCli flyctl @{}
        $text = Get-WhatIfText 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 4 -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*flyctl scale count 4 -a app1'
        Test-Path $cli.Log | Should -BeFalse
    }

    # Seed 001's "scale count 0": every instance stops. Set-AppScale is Medium impact, below the default
    # $ConfirmPreference, so -Count 0 used to run at once (flyctl scale count 0 ... --yes) without a question.
    It 'asks before -Count 0 at the default $ConfirmPreference, and runs nothing when it cannot ask' {
        $cli = New-FakeCli flyctl @{ 'scale count' = (New-ReplyFile "ok`n") }
        $r = Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 0' $cli.Path
        $r.ExitCode | Should -Not -Be 0 -Because 'a -NonInteractive pwsh cannot answer the question'
        $r.Text | Should -Match 'NonInteractive mode. Read and Prompt functionality is not available'
        Test-Path $cli.Log | Should -BeFalse -Because 'nothing may be scaled before the answer'
        Get-WhatIfText 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 0 -WhatIf' $cli.Path | Should -Match 'What if: .*flyctl scale count 0 -a app1' -Because '-WhatIf shows the change without asking'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'scales to 0 with -Force or -Confirm:$false, and any other count without asking' {
        $cli = New-FakeCli flyctl @{ 'scale count' = (New-ReplyFile "ok`n") }
        (Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 0 -Force | Out-Null' $cli.Path).ExitCode | Should -Be 0
        (Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 0 -Confirm:$false | Out-Null' $cli.Path).ExitCode | Should -Be 0
        (Invoke-InChildPwsh 'Set-AppScale -Platform Fly -App app1 -FlyctlPath $args[0] -Count 2 | Out-Null' $cli.Path).ExitCode | Should -Be 0
        Get-Content $cli.Log | Should -Be @('flyctl scale count 0 -a app1 --yes', 'flyctl scale count 0 -a app1 --yes', 'flyctl scale count 2 -a app1 --yes')
    }

    It 'prints kubectl scale statefulset/postgres under -WhatIf and runs nothing' {
        $cli = New-FakeCli kubectl @{}
        $text = Get-WhatIfText 'Set-AppScale -Platform Kubernetes -StatefulSet postgres -KubectlPath $args[0] -Count 2 -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*kubectl scale statefulset/postgres --replicas=2'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'shows the result with its commands at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $cli = New-FakeCli flyctl @{ 'scale count' = (New-ReplyFile "ok`n") }
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
