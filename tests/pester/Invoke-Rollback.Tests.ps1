#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Invoke-Rollback against fake CLIs that replay recorded output and log their arguments.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . Initialize-PlatformTestFile
    # A fake kubectl replaying the recorded Deployment marketing in akaind-platform, whose last good revision is 3.
    function New-MarketingKubectl {
        New-FakeCli kubectl @{
            '-n akaind-platform get deployment marketing -o json'         = (Get-Fixture 'k8s-deployment.json')
            '-n akaind-platform get replicasets -l app=marketing -o json' = (Get-Fixture 'k8s-replicasets.json')
            '-n akaind-platform rollout'                                  = (Get-Fixture 'k8s-logs.txt')
            '-n akaind-platform patch deployment/marketing'               = (New-ReplyFile "deployment.apps/marketing patched`n")
        }
    }
    # The JSON patch of deployment/marketing (generation 4) back to revision 3: the generation test, revision 3's template, its change-cause.
    $script:PatchTo3 = '[{"op":"test","path":"/metadata/generation","value":4},{"op":"test","path":"/metadata/uid","value":"6f1c2e0a-0000-4000-8000-000000000001"},{"op":"replace","path":"/spec/template","value":{"spec":{"containers":[{"name":"web","image":"registry.example.com/marketing:1.3.2"}]}}},{"op":"add","path":"/metadata/annotations/kubernetes.io~1change-cause","value":"kubectl set image deployment/marketing web=registry.example.com/marketing:1.3.2"}]'
}

AfterAll { Exit-DoctlHome; Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'Invoke-Rollback' -Skip:($IsWindows) {
    It 'Fly: goes back to the previous successful release, skipping failed ones (<Case>)' -TestCases @(
        @{ Case = 'WhatIf' }
    ) {
        $cli = New-FakeCli flyctl @{ 'releases -a ai-affiliate-empire --json --image' = (Get-Fixture 'fly-releases.json') }
        Invoke-Rollback -Platform Fly -App ai-affiliate-empire -FlyctlPath $cli.Path -WhatIf
        $calls = Get-Content $cli.Log
        $calls | Should -Be 'flyctl releases -a ai-affiliate-empire --json --image'
    }

    It 'Kubernetes: patches the last good revision''s template on condition of the generation it read' {
        $cli = New-MarketingKubectl
        $result = Invoke-Rollback -Platform Kubernetes -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -Force
        $result.From | Should -Be '4'
        $result.To | Should -Be '3'
        (Get-Content $cli.Log)[-2] | Should -BeExactly "kubectl -n akaind-platform patch deployment/marketing --type=json --field-manager=kubectl-rollout -p $PatchTo3"
        Get-Content $cli.Log | Should -Not -Match 'rollout undo'
    }

    It 'Kubernetes: -WhatIf shows the exact kubectl patch and runs no change' {
        $cli = New-MarketingKubectl
        $text = Get-WhatIfText 'Invoke-Rollback -Platform Kubernetes -Namespace akaind-platform -Deployment marketing -KubectlPath $args[0] -WhatIf' $cli.Path
        ($text -replace '\r?\n', '') | Should -MatchExactly ('What if: .*' + [regex]::Escape("4 -> 3 (registry.example.com/marketing:1.3.2): kubectl -n akaind-platform patch deployment/marketing --type=json --field-manager=kubectl-rollout -p '$PatchTo3'; kubectl -n akaind-platform rollout status deployment/marketing"))
        Get-Content $cli.Log | Should -Not -Match ' patch | rollout '
    }

    It 'Kubernetes: a deploy that lands before the patch is kept: the API server refuses it and the error is RollbackTargetMoved' {
        # The fake kubectl answers the plan's and the re-check's reads with revision 4 (generation 4); the patch is refused
        # as kubectl reports a failed JSON patch test (exit 1); the read after it finds revision 5 (generation 5).
        $dir = New-TestTempDir 'io-rb-kmoved'
        $moved = Get-Content (Get-Fixture 'k8s-deployment.json') -Raw | ConvertFrom-Json -Depth 50
        $moved.metadata.generation = 5
        $moved.metadata.annotations.'deployment.kubernetes.io/revision' = '5'
        $moved.spec.template.spec.containers[0].image = 'registry.example.com/marketing:1.5.0'
        $moved | ConvertTo-Json -Depth 50 -Compress | Set-Content (Join-Path $dir 'moved.json')
        Copy-Item (Get-Fixture 'k8s-deployment.json') (Join-Path $dir 'deployment.json')
        $kubectl = Join-Path $dir 'kubectl'
        Set-Content $kubectl -Value @"
#!/bin/bash
printf '%s\n' "kubectl `$*" >> '$dir/argv.log'
case "`$*" in
  '-n akaind-platform get deployment marketing -o json'*) n=`$(cat '$dir/n' 2>/dev/null || echo 0); echo `$((n+1)) > '$dir/n'; if [ "`$n" -lt 2 ]; then cat '$dir/deployment.json'; else cat '$dir/moved.json'; fi;;
  '-n akaind-platform get replicasets -l app=marketing -o json'*) cat '$(Get-Fixture 'k8s-replicasets.json')';;
  '-n akaind-platform patch '*) echo 'The request is invalid: the server rejected our request due to an error in our request' >&2; exit 1;;
  *) echo "unexpected: `$*" >&2; exit 97;;
esac
"@
        chmod +x $kubectl
        $err = $null
        $result = Invoke-Rollback -Platform Kubernetes -Namespace akaind-platform -Deployment marketing -KubectlPath $kubectl -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'RollbackTargetMoved,IncidentOps.Commands.InvokeRollbackCommand'
        $err[0].Exception.Message | Should -Match 'its spec is now at generation 5 \(it was 4 when the rollback was planned from revision 4\), its current revision is 5, it runs registry\.example\.com/marketing:1\.5\.0'
        $err[0].Exception.Message | Should -Match 'nothing was changed\. Run Get-AppDeployment'
        $calls = Get-Content (Join-Path $dir 'argv.log')
        @($calls -match ' patch ').Count | Should -Be 1
        $calls | Should -Not -Match ' rollout '
    }

    It 'Fly: a release deployed while the rollback waited is never replaced (RollbackCurrentChanged, nothing deployed)' {
        # The fake flyctl answers the first 'releases' with v9 current, and every later one with v10 (a deploy landed).
        $dir = New-TestTempDir 'io-rb-race'
        $release = { param($v, $image) @{ Version = $v; Status = 'complete'; CreatedAt = "2026-11-$(10 + $v)T10:00:00Z"; ImageRef = "registry.fly.io/api:$image"; Description = 'Release' } }
        ConvertTo-Json -Compress @((& $release 9 '1.9.0'), (& $release 8 '1.8.0')) | Set-Content (Join-Path $dir 'releases.json')
        ConvertTo-Json -Compress @((& $release 10 '1.10.0'), (& $release 9 '1.9.0'), (& $release 8 '1.8.0')) | Set-Content (Join-Path $dir 'after.json')
        $flyctl = Join-Path $dir 'flyctl'
        Set-Content $flyctl -Value @"
#!/bin/bash
printf '%s\n' "flyctl `$*" >> '$dir/argv.log'
case "`$*" in
  'releases -a api --json --image'*) cat '$dir/releases.json'; cp '$dir/after.json' '$dir/releases.json';;
  *) echo deployed;;
esac
"@
        chmod +x $flyctl
        $err = $null
        $result = Invoke-Rollback -Platform Fly -App api -FlyctlPath $flyctl -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'RollbackCurrentChanged,IncidentOps.Commands.InvokeRollbackCommand'
        $err[0].Exception.Message | Should -Match 'is now v10, not v9 .*Nothing was changed'
        Get-Content (Join-Path $dir 'argv.log') | Should -Not -Match 'deploy'
    }

    It 'systemd over ssh: a deploy landing on the host just before the swap is never replaced (RollbackCurrentChanged, nothing swapped or restarted)' {
        # The stand-in ssh runs the remote command with sh here; just before the swap script it repoints 'current' to r3,
        # as a deploy landing in the ssh round trip after the last read would.
        $dir = New-TestTempDir 'io-rb-cas'
        $root = Join-Path $dir 'releases'
        New-Item -ItemType Directory -Path (Join-Path $root 'r1'), (Join-Path $root 'r2') | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $root 'current') -Target (Join-Path $root 'r2') | Out-Null
        $ssh = Join-Path $dir 'ssh'
        Set-Content $ssh -Value @"
#!/bin/bash
printf '%s\n' "`${@: -1}" >> '$dir/remote.log'
case "`${@: -1}" in *'mv -Tf'*) mkdir -p '$root/r3'; ln -sfn '$root/r3' '$root/.deploy'; mv -Tf '$root/.deploy' '$root/current';; esac
exec sh -c "`${@: -1}"
"@
        chmod +x $ssh
        $result = Invoke-Rollback -Platform Systemd -Unit fastapi -ComputerName deploy@api-1 -ReleasesPath $root -SshPath $ssh -ToVersion r1 -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'RollbackCurrentChanged,IncidentOps.Commands.InvokeRollbackCommand'
        $err[0].Exception.Message | Should -Match 'is now r3, not r2 .*Nothing was changed'
        (Get-Item (Join-Path $root 'current')).Target | Should -Be (Join-Path $root 'r3')
        Get-Content (Join-Path $dir 'remote.log') | Should -Not -Match 'systemctl restart'
    }

    It 'systemd: a restart that fails after the swap is RollbackFailed saying the rollback is half done' {
        $root = New-TestTempDir 'io-rel-half'
        New-Item -ItemType Directory -Path (Join-Path $root 'r1'), (Join-Path $root 'r2') | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $root 'current') -Target (Join-Path $root 'r2') | Out-Null
        $systemctl = Join-Path $root 'systemctl'
        Set-Content $systemctl -Value "#!/bin/bash`necho 'Job for fastapi.service failed.' >&2`nexit 1"
        chmod +x $systemctl
        $result = Invoke-Rollback -Platform Systemd -Unit fastapi -ReleasesPath $root -SystemctlPath $systemctl -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'RollbackFailed,IncidentOps.Commands.InvokeRollbackCommand'
        $err[0].Exception.Message | Should -Match "'current' now points at r1\), but restarting fastapi failed, so it is half done"
        $err[0].Exception.Message | Should -Match 'Invoke-Rollback -ToVersion r2'
        (Get-Item (Join-Path $root 'current')).Target | Should -Be (Join-Path $root 'r1')
    }

    It 'systemd: -WhatIf leaves the current symlink alone' {
        $root = New-TestTempDir 'io-rel'
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

Describe 'Invoke-Rollback on StatefulSets and DaemonSets' -Skip:($IsWindows) {
    BeforeAll {
        $cli = New-FakeCli kubectl @{
            '-n akaind-platform get statefulset postgres -o json'                 = (Get-Fixture 'k8s-statefulset.json')
            '-n akaind-platform get daemonset node-exporter -o json'              = (Get-Fixture 'k8s-daemonset.json')
            '-n akaind-platform get controllerrevisions -l app=postgres -o json'  = (Get-Fixture 'k8s-controllerrevisions.json')
            '-n akaind-platform get controllerrevisions -l app=node-exporter -o json' = (Get-Fixture 'k8s-controllerrevisions.json')
        }
    }

    It 'goes back to the StatefulSet''s earlier ControllerRevision with a kubectl patch of its template (-WhatIf patches nothing)' {
        $text = Get-WhatIfText 'Invoke-Rollback -Platform Kubernetes -Namespace akaind-platform -StatefulSet postgres -KubectlPath $args[0] -WhatIf' $cli.Path
        ($text -replace '\r?\n', '') | Should -Match ([regex]::Escape("2 -> 1 (postgres:15.4): kubectl -n akaind-platform patch statefulset/postgres --type=json --field-manager=kubectl-rollout -p '[{`"op`":`"test`",`"path`":`"/metadata/generation`",`"value`":2},{`"op`":`"test`",`"path`":`"/metadata/uid`",`"value`":`"6f1c2e0a-0000-4000-8000-000000000101`"},{`"op`":`"replace`",`"path`":`"/spec/template`",`"value`":"))
        Get-Content $cli.Log | Should -Not -Match 'rollout| patch '
    }

    It 'refuses a DaemonSet with a single revision with RollbackNoEarlierRevision and changes nothing' {
        $err = $null
        Invoke-Rollback -Platform Kubernetes -Namespace akaind-platform -DaemonSet node-exporter -KubectlPath $cli.Path -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'RollbackNoEarlierRevision,IncidentOps.Commands.InvokeRollbackCommand'
        $err[0].Exception.Message | Should -Match 'has no earlier revision to roll back to: its history holds only the current release 1'
        Get-Content $cli.Log | Should -Not -Match 'rollout'
    }
}

Describe 'Invoke-Rollback in a real host' -Skip:($IsWindows) {
    It 'prints its What if: line (from -> to and the flyctl deploy command) and deploys nothing' {
        $cli = New-FakeCli flyctl @{ 'releases -a ai-affiliate-empire --json --image' = (Get-Fixture 'fly-releases.json') }
        $text = Get-WhatIfText 'Invoke-Rollback -Platform Fly -App ai-affiliate-empire -FlyctlPath $args[0] -WhatIf' $cli.Path
        $text | Should -Match 'What if: .*v13 -> v11'
        $text | Should -Match 'flyctl deploy -a ai-affiliate-empire --image registry.fly.io/ai-affiliate-empire:deployment-01HQ11'
        Get-Content $cli.Log | Should -Be 'flyctl releases -a ai-affiliate-empire --json --image'
    }

    It 'shows the rollback result as a list with From, To and Succeeded' {
        $cli = New-MarketingKubectl
        $result = Invoke-Rollback -Platform Kubernetes -Namespace akaind-platform -Deployment marketing -KubectlPath $cli.Path -Force
        foreach ($w in 80, 120) {
            $text = Get-RenderedView $result -Width $w
            $text | Should -Match 'From\s+:\s+4'
            $text | Should -Match 'To\s+:\s+3'
            $text | Should -Match 'Succeeded\s+:\s+True'
        }
    }

    It 'renders help with every parameter described and examples that parse' {
        $full = Assert-CmdletHelp Invoke-Rollback
        $full | Should -Match 'Tab completes from the deployment history'
    }

    It 'completes -ToVersion from the deployment history: good releases first, never the current one' {
        $cli = New-FakeCli flyctl @{ 'releases -a ai-affiliate-empire --json --image' = (Get-Fixture 'fly-releases.json') }
        $offered = @(Get-CompletionText "Invoke-Rollback -Platform Fly -App ai-affiliate-empire -FlyctlPath '$($cli.Path)' -ToVersion ")
        $offered | Should -Be @('v11', 'v14', 'v12')
        $offered | Should -Not -Contain 'v13'
        Get-CompletionText "Invoke-Rollback -Platform Fly -App ai-affiliate-empire -FlyctlPath '$($cli.Path)' -ToVersion v1" | Should -Contain 'v11'
    }

    It 'shows status, time and image of each release as the -ToVersion tooltip' {
        $cli = New-FakeCli flyctl @{ 'releases -a ai-affiliate-empire --json --image' = (Get-Fixture 'fly-releases.json') }
        $line = "Invoke-Rollback -Platform Fly -App ai-affiliate-empire -FlyctlPath '$($cli.Path)' -ToVersion "
        $match = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Where-Object CompletionText -EQ 'v11'
        $match.ToolTip | Should -Match 'complete'
        $match.ToolTip | Should -Match 'deployment-01HQ11'
        $match.ToolTip | Should -Match 'last good'
    }

    It 'completes -ToVersion for a configured service' {
        $cli = New-FakeCli flyctl @{ 'releases -a ai-affiliate-empire --json --image' = (Get-Fixture 'fly-releases.json') }
        Get-CompletionText "Invoke-Rollback -ConfigPath '$($root.Config)' -Service production/api -FlyctlPath '$($cli.Path)' -ToVersion " | Should -Contain 'v11'
    }

    It 'offers nothing, without an error, when the history cannot be read (<Case>)' -TestCases @(
        @{ Case = 'no target'; Line = 'Invoke-Rollback -ToVersion ' }
        @{ Case = 'CLI missing'; Line = 'Invoke-Rollback -Platform Fly -App x -FlyctlPath /nonexistent/flyctl -ToVersion ' }
        @{ Case = 'unknown service'; Line = 'Invoke-Rollback -Service nope/nothing -ToVersion ' }
    ) {
        $Error.Clear()
        Get-CompletionText $Line | Should -BeNullOrEmpty
    }

    It 'gives up on a CLI that hangs (30 s) at its lookup limit (3 s)' {
        $dir = New-TestTempDir 'io-hang'
        $hang = Join-Path $dir 'flyctl'
        Set-Content -Path $hang -Value "#!/bin/bash`nsleep 30`n" -NoNewline
        chmod +x $hang
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Get-CompletionText "Invoke-Rollback -Platform Fly -App x -FlyctlPath '$hang' -ToVersion " | Should -BeNullOrEmpty
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 15   # "does not hang": a generous bound for a loaded machine, half the CLI's 30 s
        Remove-Item -Recurse -Force $dir
    }

    It 'completes -Platform with real platforms only and -Service from the configuration' {
        Get-CompletionText 'Invoke-Rollback -Platform ' | Should -Be @('Fly', 'DigitalOcean', 'Kubernetes', 'Systemd')
        Get-CompletionText "Invoke-Rollback -ConfigPath '$($root.Config)' -Service production/a" | Should -Contain 'production/api'
    }
}
