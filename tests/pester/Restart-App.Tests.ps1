#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Restart-App against fake flyctl/systemctl that log their arguments; -WhatIf is checked in a child pwsh.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)


Describe 'Restart-App -Pod completion' -Skip:($IsWindows) {
    It 'offers the machines Get-AppStatus listed in this session, for that service only, without running the CLI' {
        $cli = New-FakeCli flyctl @{ 'status -a ai-affiliate-empire --json' = (Get-Fixture 'fly-status.json') }
        Get-AppStatus -Service production/api -ConfigPath $root.Config -FlyctlPath $cli.Path -ErrorAction Stop | Out-Null
        $calls = @(Get-Content $cli.Log -ErrorAction SilentlyContinue).Count
        $ids = Get-CompletionText "Restart-App -ConfigPath '$($root.Config)' -Service production/api -Pod "
        $ids | Should -Contain '148ed726c03918'
        $ids | Should -Contain '3d8d9e1a2b3c47'
        Get-CompletionText "Restart-App -Service production/api -Pod 3d" | Should -Be '3d8d9e1a2b3c47'
        Get-CompletionText "Get-AppLog -Service production/api -Instance 148" | Should -Be '148ed726c03918'
        Get-CompletionText "Restart-App -Service production/apiworker -Pod " | Should -BeNullOrEmpty
        # Completion asked no CLI.
        @(Get-Content $cli.Log -ErrorAction SilentlyContinue).Count | Should -Be $calls
    }
}

Describe 'Restart-App' -Skip:($IsWindows) {
    It 'restarts a Fly app with flyctl apps restart and reports success' {
        $cli = New-FakeCli flyctl @{ 'apps restart app1' = (New-ReplyFile "restarted`n") }
        $r = Restart-App -Platform Fly -App app1 -FlyctlPath $cli.Path -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        Get-Content $cli.Log | Should -Be 'flyctl apps restart app1'
    }

    It 'restarts a systemd unit' {
        $cli = New-FakeCli systemctl @{ 'restart fastapi' = (New-ReplyFile '') }
        Restart-App -Platform Systemd -Unit fastapi -SystemctlPath $cli.Path -Force -ErrorAction Stop | Out-Null
        Get-Content $cli.Log | Should -Be 'systemctl restart fastapi'
    }
}

Describe 'Restart-App with a piped App object' -Skip:($IsWindows) {
    BeforeAll {
        $k = '--context production -n akaind-platform'
        $script:replies = @{
            "$k get deployment marketing -o json" = (Get-Fixture 'k8s-deployment.json')
            "$k get pods -l app=marketing -o json" = (Get-Fixture 'k8s-pods.json')
            "$k get events --field-selector=involvedObject.kind=Pod -o json" = (Get-Fixture 'k8s-events.json')
            "$k rollout restart" = (New-ReplyFile "deployment.apps/marketing restarted`n")
        }
    }

    It 'keeps its platform identity out of sight: no Options member in Get-Member, Format-List * or ConvertTo-Json, and no -Options parameter' {
        $cli = New-FakeCli kubectl $replies
        $status = Get-AppStatus -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -ErrorAction Stop
        $status.GetOptions()['Deployment'] | Should -Be 'marketing'
        $status.GetOptions()['Namespace'] | Should -Be 'akaind-platform'
        $status.Deployment | Should -Be 'marketing'
        $status | Get-Member -Name Options -Force | Should -BeNullOrEmpty
        ($status | Format-List * | Out-String) | Should -Not -Match '(?m)^Options\s*:'
        ($status | Format-List * | Out-String) | Should -Match '(?m)^Namespace\s*: akaind-platform'
        $json = $status | ConvertTo-Json -Depth 4
        $json | Should -Not -Match '"Options"|"Key":'
        ($json | ConvertFrom-Json).Namespace | Should -Be 'akaind-platform'
        foreach ($name in 'Get-AppStatus', 'Restart-App', 'Set-AppScale', 'Invoke-Rollback', 'Get-AppLog') {
            (Get-Command $name -Syntax | Out-String -Width 400) | Should -Not -Match '-Options\b' -Because "$name shows no internal parameter"
        }
    }

    It 'restarts the app an object came from when the object carries only its platform and options' {
        # What a platform whose keys have no named property looks like to the binder: Platform and its options, nothing else.
        $cli = New-FakeCli kubectl $replies
        $status = Get-AppStatus -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -ErrorAction Stop
        $bare = [pscustomobject]@{ Platform = $status.Platform; Options = $status.GetOptions() }
        $r = $bare | Restart-App -KubectlPath $cli.Path -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        $r.Deployment | Should -Be 'marketing'
        (Get-Content $cli.Log)[-1] | Should -Be 'kubectl --context production -n akaind-platform rollout restart deployment/marketing'
    }

    It 'carries a key no named property has from the piped object into the result' {
        $cli = New-FakeCli kubectl $replies
        $status = Get-AppStatus -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -ErrorAction Stop
        $status.GetOptions().Set('Cluster', 'blue')
        $r = $status | Restart-App -KubectlPath $cli.Path -Force -ErrorAction Stop
        $r.GetOptions()['Cluster'] | Should -Be 'blue'
        $r.Namespace | Should -Be 'akaind-platform'
        (Get-Content $cli.Log)[-1] | Should -Be 'kubectl --context production -n akaind-platform rollout restart deployment/marketing'
    }

    It 'refuses a command-line parameter that names another app than the piped options, and runs nothing' {
        $cli = New-FakeCli kubectl $replies
        $status = Get-AppStatus -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -ErrorAction Stop
        $before = @(Get-Content $cli.Log).Count
        $err = $null
        [pscustomobject]@{ Platform = $status.Platform; Options = $status.GetOptions() } | Restart-App -Namespace staging -KubectlPath $cli.Path -Force -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'PipelineTargetMismatch,IncidentOps.Commands.RestartAppCommand'
        $err[0].Exception.Message | Should -Match "came from Namespace 'akaind-platform', but -Namespace 'staging' was given"
        @(Get-Content $cli.Log).Count | Should -Be $before
    }

    It 'still restarts a piped configured service, whose own Options are keyed by configuration key' {
        $cli = New-FakeCli flyctl @{ 'apps restart ai-affiliate-empire' = (New-ReplyFile "restarted`n") }
        Get-IncidentOpsService -Path $root.Config -Name production/api | Restart-App -ConfigPath $root.Config -FlyctlPath $cli.Path -Force -ErrorAction Stop | Out-Null
        Get-Content $cli.Log | Should -Be 'flyctl apps restart ai-affiliate-empire'
    }
}

Describe 'Restart-App on Kubernetes workloads beyond Deployments' -Skip:($IsWindows) {
    It 'restarts a <Kind> with kubectl rollout restart <Resource>' -TestCases @(
        @{ Kind = 'StatefulSet'; Name = 'postgres'; Resource = 'statefulset/postgres' }
        @{ Kind = 'DaemonSet'; Name = 'node-exporter'; Resource = 'daemonset/node-exporter' }
    ) {
        $cli = New-FakeCli kubectl @{ '--context production -n akaind-platform rollout restart' = (New-ReplyFile "$Resource restarted`n") }
        $splat = @{ $Kind = $Name }
        $r = Restart-App -Platform Kubernetes -Context production -Namespace akaind-platform @splat -KubectlPath $cli.Path -Force -ErrorAction Stop
        $r.Succeeded | Should -BeTrue
        $r.$Kind | Should -Be $Name
        Get-Content $cli.Log | Should -Be "kubectl --context production -n akaind-platform rollout restart $Resource"
    }

    It 'prints the seed''s kubectl rollout restart statefulset/postgres under -WhatIf and runs nothing' {
        $cli = New-FakeCli kubectl @{}
        $text = Get-WhatIfText 'Restart-App -Platform Kubernetes -Namespace akaind-platform -StatefulSet postgres -KubectlPath $args[0] -Wait -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*kubectl -n akaind-platform rollout restart statefulset/postgres; kubectl -n akaind-platform rollout status statefulset/postgres --timeout=60s'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'refuses kind/name in -StatefulSet with AppTargetInvalidName before kubectl runs' {
        $cli = New-FakeCli kubectl @{}
        { Restart-App -Platform Kubernetes -StatefulSet statefulset/postgres -KubectlPath $cli.Path -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'AppTargetInvalidName,IncidentOps.Commands.RestartAppCommand'
        Test-Path $cli.Log | Should -BeFalse
    }
}

Describe 'Restart-App -Pod where the platform cannot restart one instance' -Skip:($IsWindows) {
    It 'refuses -Pod on <Platform> with PlatformOperationNotSupported and restarts nothing' -TestCases @(
        @{ Platform = 'DigitalOcean'; Tool = 'doctl'; PathParameter = 'DoctlPath'; Target = @{ AppId = 'f1e2d3c4-0000-4000-8000-00000000a001' } }
        @{ Platform = 'Systemd'; Tool = 'systemctl'; PathParameter = 'SystemctlPath'; Target = @{ Unit = 'fastapi' } }
    ) {
        $fake = New-FakeCli $Tool @{}
        $path = @{ $PathParameter = $fake.Path }
        { Restart-App -Platform $Platform @Target @path -Pod web-1 -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlatformOperationNotSupported,IncidentOps.Commands.RestartAppCommand'
        Test-Path $fake.Log | Should -BeFalse
    }
}

Describe 'Restart-App in a real host' -Skip:($IsWindows) {
    It 'prints its What if: line with the exact command under -WhatIf and runs nothing' {
        $cli = New-FakeCli flyctl @{}
        $text = Get-WhatIfText 'Restart-App -Platform Fly -App app1 -FlyctlPath $args[0] -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*flyctl apps restart app1'
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'shows the result with its command at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $cli = New-FakeCli flyctl @{ 'apps restart app1' = (New-ReplyFile "restarted`n") }
        $r = Restart-App -Platform Fly -App app1 -FlyctlPath $cli.Path -Force
        $text = Get-RenderedView $r -Width $Width
        foreach ($col in 'Name', 'Action', 'Succeeded', 'Commands') { $text | Should -Match "\b$col\b" }
        Get-ViewColumn $text 'Commands' | Should -Be 'flyctlappsrestartapp1'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Restart-App | Should -Match 'ConfirmImpact is High'
    }

    It 'completes -Service and -Platform' {
        Get-CompletionText "Restart-App -ConfigPath '$($root.Config)' -Service " | Should -Contain 'production/apiworker'
        Get-CompletionText 'Restart-App -Platform S' | Should -Be 'Systemd'
    }
    It 'pins $env:KUBECONFIG''s current context: -WhatIf names the cluster, and a piped status restarts there after the context is switched' {
        function New-Kubeconfig([string] $Current) {
            @(
                'apiVersion: v1', 'kind: Config',
                'clusters:', '- name: prod-cluster', '  cluster: { server: "https://127.0.0.1:1" }', '- name: staging-cluster', '  cluster: { server: "https://127.0.0.1:2" }',
                'contexts:', '- name: production', '  context: { cluster: prod-cluster, namespace: akaind-platform }', '- name: staging', '  context: { cluster: staging-cluster, namespace: staging-platform }',
                "current-context: $Current"
            ) -join "`n"
        }
        $kc = New-TestTempFile 'io-kubeconfig' '.yaml'
        Set-Content -Path $kc -Value (New-Kubeconfig production)
        $pinned = "--kubeconfig $kc --context production -n akaind-platform"
        $cli = New-FakeCli kubectl @{
            "$pinned get deployment marketing -o json"         = (Get-Fixture 'k8s-deployment.json')
            "$pinned get pods -l app=marketing -o json"        = (Get-Fixture 'k8s-pods.json')
            "$pinned get events --field-selector=involvedObject.kind=Pod -o json" = (Get-Fixture 'k8s-events.json')
            "$pinned rollout restart deployment/marketing"     = (New-ReplyFile "deployment.apps/marketing restarted`n")
        }
        $text = Get-WhatIfText '$env:KUBECONFIG = $args[1]; Restart-App -Platform Kubernetes -Deployment marketing -KubectlPath $args[0] -WhatIf' $cli.Path, $kc
        $text | Should -Match ([regex]::Escape("What if: ") + '.*' + [regex]::Escape("kubectl $pinned rollout restart deployment/marketing"))
        Test-Path $cli.Log | Should -BeFalse

        $saved = $env:KUBECONFIG
        try {
            $env:KUBECONFIG = $kc
            $status = Get-AppStatus -Platform Kubernetes -Deployment marketing -KubectlPath $cli.Path -ErrorAction Stop
            Set-Content -Path $kc -Value (New-Kubeconfig staging)   # kubectl config use-context staging, in another terminal
            $r = $status | Restart-App -KubectlPath $cli.Path -Force -ErrorAction Stop
        }
        finally { $env:KUBECONFIG = $saved }
        $status.Context | Should -Be 'production'
        $r.Context | Should -Be 'production'
        (Get-Content $cli.Log)[-1] | Should -Be "kubectl $pinned rollout restart deployment/marketing"
        Get-Content $cli.Log | Should -Not -Match 'staging'
    }

    It 'pins a $env:KUBECONFIG list as kubectl merges it: the context''s cluster, user and the files, whatever the list says later' {
        # prod.yaml sets current-context production; team.yaml defines another 'production' (the staging cluster).
        $dir = New-TestTempDir 'io-kubelist'
        $prod = Join-Path $dir 'prod.yaml'; $team = Join-Path $dir 'team.yaml'
        Set-Content -Path $prod -Value (@(
            'apiVersion: v1', 'kind: Config', 'clusters:', '- name: prod-cluster', '  cluster: { server: "https://127.0.0.1:1" }',
            'users:', '- name: prod-admin', '  user: { token: not-a-secret }',
            'contexts:', '- name: production', '  context: { cluster: prod-cluster, user: prod-admin, namespace: akaind-platform }', 'current-context: production') -join "`n")
        Set-Content -Path $team -Value (@(
            'apiVersion: v1', 'kind: Config', 'clusters:', '- name: staging-cluster', '  cluster: { server: "https://127.0.0.1:2" }',
            'users:', '- name: staging-admin', '  user: { token: not-a-secret }',
            'contexts:', '- name: production', '  context: { cluster: staging-cluster, user: staging-admin, namespace: staging-platform }', 'current-context: production') -join "`n")
        $list = "${prod}:${team}"
        $pinned = '--context production --cluster prod-cluster --user prod-admin -n akaind-platform'
        # A kubectl stand-in that also records the KUBECONFIG it was started with.
        $log = Join-Path $dir 'argv.log'
        $kubectl = Join-Path $dir 'kubectl'
        Set-Content -Path $kubectl -NoNewline -Value (@(
            '#!/bin/bash', "printf '%s\n' `"kubectl `$* KUBECONFIG=`$KUBECONFIG`" >> '$log'", 'case "$*" in',
            "  '$pinned get deployment marketing -o json'*) cat '$(Get-Fixture 'k8s-deployment.json')';;",
            "  '$pinned get pods -l app=marketing -o json'*) cat '$(Get-Fixture 'k8s-pods.json')';;",
            "  '$pinned get events'*) cat '$(Get-Fixture 'k8s-events.json')';;",
            "  '$pinned rollout restart deployment/marketing'*) echo 'deployment.apps/marketing restarted';;",
            '  *) echo "unexpected: $*" >&2; exit 97;;', 'esac') -join "`n")
        chmod +x $kubectl

        $text = Get-WhatIfText '$env:KUBECONFIG = $args[1]; Restart-App -Platform Kubernetes -Deployment marketing -KubectlPath $args[0] -WhatIf' $kubectl, $list
        $text | Should -Match ([regex]::Escape("KUBECONFIG=$list kubectl $pinned rollout restart deployment/marketing"))
        $text | Should -Match ([regex]::Escape('(production, cluster prod-cluster)'))
        Test-Path $log | Should -BeFalse

        $saved = $env:KUBECONFIG
        try {
            $env:KUBECONFIG = $list
            $status = Get-AppStatus -Platform Kubernetes -Deployment marketing -KubectlPath $kubectl -ErrorAction Stop
            $env:KUBECONFIG = "${team}:${prod}"   # another order: team.yaml's 'production' (the staging cluster) would win
            $r = $status | Restart-App -KubectlPath $kubectl -Force -ErrorAction Stop
        }
        finally { $env:KUBECONFIG = $saved }
        $r.Context | Should -Be 'production'
        (Get-Content $log)[-1] | Should -Be "kubectl $pinned rollout restart deployment/marketing KUBECONFIG=$list"
        Get-Content $log | Should -Not -Match 'staging'
    }
}
