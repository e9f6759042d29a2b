#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppEvent against a fake kubectl that replays the recorded events (Platforms/Kubernetes/Fixtures/k8s-events.json) and logs
# its arguments; the real kubectl against the API stub is in KubernetesWorkloadTests (xunit).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
    $k = '--context production -n akaind-platform'
    function New-Kubectl {
        New-FakeCli kubectl @{
            "$k get deployment marketing -o json" = (Get-Fixture 'k8s-deployment.json')
            "$k get statefulset postgres -o json" = (Get-Fixture 'k8s-statefulset.json')
            "$k get events" = (Get-Fixture 'k8s-events.json')
        }
    }
    $target = @{ Platform = 'Kubernetes'; Context = 'production'; Namespace = 'akaind-platform' }
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Get-AppEvent' -Skip:($IsWindows) {
    It 'returns the events of the deployment, its ReplicaSets and its pods, oldest first, and none of other workloads' {
        $cli = New-Kubectl
        $events = @(Get-AppEvent @target -Deployment marketing -KubectlPath $cli.Path -ErrorAction Stop)
        Get-Content $cli.Log | Should -Be @("kubectl $k get deployment marketing -o json", "kubectl $k get events -o json")
        $events.Object | Should -Be @('Pod/marketing-7d9f8b6c5d-q8w7e', 'Deployment/marketing', 'ReplicaSet/marketing-7d9f8b6c5d',
            'Pod/marketing-6c5b4a3f2e-abcde', 'Pod/marketing-7d9f8b6c5d-xyz12', 'Pod/marketing-7d9f8b6c5d-xyz12')
        $events[-1].Reason | Should -Be 'BackOff'
        $events[-1].Count | Should -Be 12
        $events[-1].Deployment | Should -Be 'marketing'
        $events.Object | Should -Not -Contain 'Pod/marketing-api-5f6d7c8b9-qwert'
    }

    It 'sends -Type Warning to the API server as a field selector' {
        $cli = New-Kubectl
        $events = @(Get-AppEvent @target -Deployment marketing -Type Warning -KubectlPath $cli.Path -ErrorAction Stop)
        (Get-Content $cli.Log)[-1] | Should -Be "kubectl $k get events -o json --field-selector=type=Warning"
        $events.Type | Sort-Object -Unique | Should -Be 'Warning'
        $events.Reason | Should -Be @('Unhealthy', 'Unhealthy', 'BackOff')
    }

    It 'keeps only events seen within -Since (the recorded ones are older)' {
        $cli = New-Kubectl
        @(Get-AppEvent @target -Deployment marketing -Since 30m -KubectlPath $cli.Path -ErrorAction Stop) | Should -HaveCount 0
    }

    It 'reads a StatefulSet''s events: the set and its ordinal pods' {
        $cli = New-Kubectl
        (Get-AppEvent @target -StatefulSet postgres -KubectlPath $cli.Path -ErrorAction Stop).Object | Should -Be @('StatefulSet/postgres', 'Pod/postgres-0')
    }

    It 'refuses a platform without events with PlatformOperationNotSupported and runs nothing' {
        $fly = New-FakeCli flyctl @{}
        { Get-AppEvent -Platform Fly -App app1 -FlyctlPath $fly.Path -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlatformOperationNotSupported,IncidentOps.Commands.GetAppEventCommand'
        Test-Path $fly.Log | Should -BeFalse
    }

    It 'refuses a -Type that is not Normal or Warning before anything runs' {
        $cli = New-Kubectl
        { Get-AppEvent @target -Deployment marketing -Type Error -KubectlPath $cli.Path -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,IncidentOps.Commands.GetAppEventCommand'
        Test-Path $cli.Log | Should -BeFalse
    }
}

Describe 'Get-AppEvent in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $cli = New-Kubectl
        $rows = @(Get-AppEvent @target -Deployment marketing -Type Warning -KubectlPath $cli.Path)
    }

    It 'shows time, type, reason with its count, object and the whole message at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'LastSeen', 'Type', 'Reason', 'Object', 'Message') { $text | Should -Match "\b$col\b" }
        $text | Should -Match 'LastSeen \(UTC\)' -Because 'the times are UTC, and the header says so'
        $text | Should -Match '\d\d-\d\d \d\d:\d\d:\d\d Warning BackOff x12\s+Pod/marketing-7d9f8b6c5d'
        # Object and Message wrap instead of being cut: every word of them is on screen.
        Get-ViewColumn $text 'Object' | Should -Be ($rows.Object -join '')
        Get-ViewColumn $text 'Message' | Should -Be (($rows.Message -join '') -replace '\s+', '')
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppEvent | Should -Match 'OUTPUTS'
    }

    It 'completes -Type with Warning and Normal, and -Service from the configuration' {
        Get-CompletionText 'Get-AppEvent -Type ' | Should -Be @('Normal', 'Warning')
        Get-CompletionText "Get-AppEvent -ConfigPath '$($root.Config)' -Service prod" | Should -Contain 'production/api'
    }

    It 'is a read: it has no -WhatIf, and -Record puts what it read on the active incident''s timeline' {
        (Get-Command Get-AppEvent).Parameters.ContainsKey('WhatIf') | Should -BeFalse
        New-Incident -Title 'marketing OOM' -Severity P1 -ConfigPath $root.Config | Out-Null
        Get-AppEvent @target -Deployment marketing -KubectlPath $cli.Path -ConfigPath $root.Config -Record | Out-Null
        $entry = Get-IncidentTimeline -ConfigPath $root.Config | Where-Object Action -eq 'Read events'
        $entry.Target | Should -Be 'Kubernetes deployment/marketing in akaind-platform (production)'
        $entry.Result | Should -Be '6 events, 3 warnings; last warning: BackOff Pod/marketing-7d9f8b6c5d-xyz12'
    }
}
