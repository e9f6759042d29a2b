#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Invoke-Rollback against fake CLIs that replay recorded output and log their arguments.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/IncidentOps') -Force
    $Fixtures = Join-Path $PSScriptRoot '../IncidentOps.Tests/Platforms/Fixtures'
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
}

Describe 'Invoke-Rollback' -Skip:($IsWindows) {
    It 'Fly: goes back to the previous successful release, skipping failed ones (<Case>)' -TestCases @(
        @{ Case = 'WhatIf' }
    ) {
        $cli = New-FakeCli flyctl @{ 'releases -a ai-affiliate-empire --json --image' = (Join-Path $Fixtures 'fly-releases.json') }
        Invoke-Rollback -Platform Fly -App ai-affiliate-empire -FlyctlPath $cli.Path -WhatIf
        $calls = Get-Content $cli.Log
        $calls | Should -Be 'flyctl releases -a ai-affiliate-empire --json --image'
    }

    It 'Kubernetes: undoes to the last good revision' {
        $replies = @{
            '-n akaind-platform get deployment marketing -o json'            = (Join-Path $Fixtures 'k8s-deployment.json')
            '-n akaind-platform get replicasets -l app=marketing -o json'    = (Join-Path $Fixtures 'k8s-replicasets.json')
            '-n akaind-platform rollout'                                     = (Join-Path $Fixtures 'k8s-logs.txt')
        }
        $cli = New-FakeCli kubectl $replies
        $result = Invoke-Rollback -Platform Kubernetes -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -Force
        $result.From | Should -Be '4'
        $result.To | Should -Be '3'
        (Get-Content $cli.Log)[-2] | Should -Be 'kubectl -n akaind-platform rollout undo deployment/marketing --to-revision=3'
    }

    It 'systemd: -WhatIf leaves the current symlink alone' {
        $root = Join-Path ([IO.Path]::GetTempPath()) ("io-rel-" + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path (Join-Path $root 'r1'), (Join-Path $root 'r2') | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $root 'current') -Target (Join-Path $root 'r2') | Out-Null
        Invoke-Rollback -Platform Systemd -Unit fastapi -ReleasesPath $root -WhatIf
        (Get-Item (Join-Path $root 'current')).Target | Should -Be (Join-Path $root 'r2')
    }

    It 'DigitalOcean: -<Switch> -WhatIf sends nothing' -TestCases @(
        @{ Switch = 'Commit' }
        @{ Switch = 'Revert' }
    ) {
        $cli = New-FakeCli doctl @{}
        $params = @{ Platform = 'DigitalOcean'; AppId = 'f1e2d3c4-0000-4000-8000-00000000a001'; DoctlPath = $cli.Path; WhatIf = $true; $Switch = $true }
        $result = Invoke-Rollback @params
        $result | Should -BeNullOrEmpty
        Test-Path $cli.Log | Should -BeFalse
    }

    It 'Kubernetes: -Commit is not supported (nothing is pinned)' {
        Invoke-Rollback -Platform Kubernetes -Deployment marketing -Commit -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PlatformOperationNotSupported,IncidentOps.Commands.InvokeRollbackCommand'
    }
}
