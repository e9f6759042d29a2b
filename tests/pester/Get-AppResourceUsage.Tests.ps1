#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-AppResourceUsage (issue 17, resource usage) against fake kubectl/ssh/flyctl/doctl that replay recorded output
# (Platforms/<Provider>/Fixtures): seed 003 kubectl top pods, seed 004 htop and df -h, seed 000 flyctl metrics.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
    $kube = New-FakeCli kubectl (@{
        '-n akaind-platform get deployment marketing -o json' = (Get-Fixture 'k8s-deployment.json')
        '-n akaind-platform get pods -l app=marketing -o json' = (Get-Fixture 'k8s-usage-pods.json')
        'get --raw /apis/metrics.k8s.io/v1beta1/namespaces/akaind-platform/pods?labelSelector=app%3Dmarketing' = (Get-Fixture 'k8s-pod-metrics.json')
        'get nodes pool-a-1 pool-a-2 -o json' = (Get-Fixture 'k8s-nodes.json')
        'get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-1' = (Get-Fixture 'k8s-node-metrics-pool-a-1.json')
        'get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-2' = (Get-Fixture 'k8s-node-metrics-pool-a-2.json')
    })
    $ssh = New-FakeCli ssh @{ '-o BatchMode=yes -- deploy@api-1 ' = (Get-Fixture 'systemd-usage.txt') }
    $k8s = @{ Platform = 'Kubernetes'; Deployment = 'marketing'; Namespace = 'akaind-platform'; KubectlPath = $kube.Path }
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Get-AppResourceUsage' -Skip:($IsWindows) {
    It 'gives each pod''s CPU and memory in use against its requests and limits, and its restarts (kubectl top pods)' {
        $rows = @(Get-AppResourceUsage @k8s -ErrorAction Stop)
        $rows.Instance | Should -Be @('marketing-6c5b4a3f2e-abcde', 'marketing-7d9f8b6c5d-xyz12')
        [math]::Round($rows[0].CpuCores, 4) | Should -Be 0.2516
        [math]::Round($rows[0].CpuLimitCores, 4) | Should -Be 0.6
        $rows[0].MemoryBytes | Should -Be (128MB + 20MB)
        $rows[0].MemoryLimitBytes | Should -Be (256MB + 64MB)
        $rows[0].Restarts | Should -Be 1
        # The crash-looping pod: no sample and no CPU limit, each named with where to look.
        $rows[1].CpuCores | Should -BeNullOrEmpty
        $rows[1].Restarts | Should -Be 7
        $rows[1].NotAvailable -join "`n" | Should -Match 'CPU limit'
        # kubectl top nodes: what is left on the crash-looping pod's node.
        $rows[1].HostMemoryAvailableBytes | Should -Be ((15225320 - 14912512) * 1KB)
        # Reads only: every kubectl call was a get.
        Get-Content $kube.Log | Should -Not -Match ' (delete|patch|scale|rollout|set|apply) '
    }

    It 'reads the unit, the host''s load and memory and its filesystems in one ssh command (htop and df -h)' {
        $u = Get-AppResourceUsage -Platform Systemd -Unit fastapi -ComputerName deploy@api-1 -SshPath $ssh.Path -ErrorAction Stop
        @(Get-Content $ssh.Log).Count | Should -Be 1
        $u.MemoryPercent | Should -Be 89.8
        $u.CpuCores | Should -Be 0.7
        $u.LoadAverage | Should -Be @(14.08, 7.86, 4.86)
        $u.Disks.Mount | Should -Be @('/', '/srv/data volume')
        ($u.Disks | Where-Object Mount -eq '/srv/data volume').UsedPercent | Should -Be 97
    }

    It 'reads a configured Fly service by name and says where the figures in use are when there is no Fly token' {
        $fly = New-FakeCli flyctl @{ 'status -a ai-affiliate-empire --json' = (Get-Fixture 'fly-status-usage.json') }
        $saved = $env:FLY_API_TOKEN, $env:FLY_ACCESS_TOKEN
        $env:FLY_API_TOKEN = $null; $env:FLY_ACCESS_TOKEN = $null
        try {
            $rows = @(Get-AppResourceUsage -Service production/api -ConfigPath $root.Config -FlyctlPath $fly.Path -WarningVariable warned -WarningAction SilentlyContinue -ErrorAction Stop)
        }
        finally { $env:FLY_API_TOKEN, $env:FLY_ACCESS_TOKEN = $saved }
        $rows.Count | Should -Be 2
        $rows[0].Service | Should -Be 'production/api'
        $rows[0].MemoryLimitBytes | Should -Be 512MB
        $rows[0].MemoryBytes | Should -BeNullOrEmpty
        $rows[0].NotAvailable -join "`n" | Should -Match 'FLY_API_TOKEN'
        "$warned" | Should -Match 'Prometheus'
    }

    It 'refuses a DigitalOcean static site with PlatformOperationNotSupported that says where to look' {
        $doctl = New-FakeCli doctl @{ 'apps get id1 -o json' = (Get-Fixture 'do-app-usage.json') }
        $err = $null
        try { Get-AppResourceUsage -Platform DigitalOcean -AppId id1 -Component docs -DoctlPath $doctl.Path -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'PlatformOperationNotSupported,IncidentOps.Commands.GetAppResourceUsageCommand'
        "$err" | Should -Match 'Insights'
    }

    It 'changes nothing, so it has no -WhatIf' {
        (Get-Command Get-AppResourceUsage).Parameters.ContainsKey('WhatIf') | Should -BeFalse
    }
}

Describe 'Get-AppResourceUsage in a real host' -Skip:($IsWindows) {
    BeforeAll {
        $rows = @(
            Get-AppResourceUsage @k8s
            Get-AppResourceUsage -Platform Systemd -Unit fastapi -ComputerName deploy@api-1 -SshPath $ssh.Path
        )
    }

    It 'shows used/limit and percent for CPU and memory, and restarts, in 79 columns (a redirected pwsh)' {
        $text = Get-RenderedView $rows -Width 79
        foreach ($col in 'Instance', 'State', 'CPU', 'Memory', 'Restarts') { $text | Should -Match "(?m)\b$col$|\b$col\s" }
        $text | Should -Match 'marketing-6c5b4a3f2e-abcde\s+Running\s+252m/600m 42%\s+148Mi/320Mi 46%\s+1'
        $text | Should -Match '4242\s+running\s+700m/2 35%\s+230Mi/256Mi 90%\s+3'
    }

    It 'shows the host, its load and its filesystems when there is room, and the disks in their own view' {
        Get-RenderedView $rows -Width 160 | Should -Match 'deploy@api-1, load 14.08 7.86 4.86, / 20%, /srv/data volume 97%'
        Get-RenderedView $rows[2].Disks -Width 80 | Should -Match '/srv/data volume\s+/dev/vdb\s+50G\s+48G\s+2G\s+97%'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-AppResourceUsage | Should -Match 'kubectl top'
    }

    It 'completes -Service from the configuration and -Platform with real platforms' {
        Get-CompletionText "Get-AppResourceUsage -ConfigPath '$($root.Config)' -Service prod" | Should -Contain 'production/api'
        Get-CompletionText 'Get-AppResourceUsage -Platform ' | Should -Be @('Fly', 'DigitalOcean', 'Kubernetes', 'Systemd')
    }
}
