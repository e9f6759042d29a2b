#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Invoke-ServiceAction in a real pwsh against a loopback HTTP server that records each request and fake flyctl/kubectl
# that log their argv: the exact request and command line, -WhatIf (in a child pwsh), errors, the declared
# ConfirmImpact, the timeline and the report, help and completion. The credential is a canary that must appear nowhere.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
    . (Join-Path $PSScriptRoot 'ServiceActionKit.ps1')
    Import-IncidentOps
    $server = Start-ActionServer
    $root = New-ActionTestRoot $server.Base
}

AfterAll {
    Stop-TestServer $server
    Remove-TestTemp
}

Describe 'Invoke-ServiceAction' -Skip:($IsWindows) {
    BeforeEach {
        $server.Requests.Clear()
        $server.State.Status = 200
        $server.State.Body = '{"stopped":true}'
    }

    It 'sends the exact declared request and returns the result' {
        $r = Invoke-ServiceAction -Service production/api -Name emergency-stop -Force -ConfigPath $root.Config -ErrorAction Stop
        $r.PSObject.TypeNames[0] | Should -Be 'IncidentOps.Actions.ServiceActionResult'
        "$($r.StatusCode) $($r.Succeeded) $($r.Outcome)" | Should -Be '200 True Succeeded'
        $server.Requests.Count | Should -Be 1
        $q = $server.Requests[0]
        "$($q.Method) $($q.Path) $($q.Body)" | Should -Be 'POST /api/workflows/emergency-stop {"reason":"incident"}'
        $q.Headers['Authorization'] | Should -Be $env:IO_PESTER_ACTION_TOKEN
        $q.Headers['X-Api-Key'] | Should -Be 'literal-CANARY-key-0042'
    }

    It 'runs manifest and command actions as the exact command line of the platform CLI' {
        Get-ServiceAction -Service marketing -ConfigPath $root.Config | Invoke-ServiceAction -ConfigPath $root.Config -ErrorAction Stop | Out-Null  # Low: no prompt
        Invoke-ServiceAction api block-ip -Parameter @{ ip = '203.0.113.7' } -Confirm:$false -ConfigPath $root.Config -ErrorAction Stop | Out-Null
        Get-Content $root.Kubectl.Log | Should -Be "kubectl --context production --namespace akaind-platform apply -f $($root.Dir)/k8s/rate-limit-strict.yaml"
        Get-Content $root.Flyctl.Log | Should -Be 'flyctl ips block 203.0.113.7 --app ai-affiliate-empire'
    }

    It 'prints the exact request under -WhatIf with secrets masked, and sends nothing' {
        $text = Get-WhatIfText 'Invoke-ServiceAction production/api emergency-stop -WhatIf -ConfigPath $args[0]' $root.Config
        $text | Should -Match ('What if: .*POST ' + [regex]::Escape("$($server.Base)/api/workflows/emergency-stop"))
        $text | Should -Match 'Authorization: \*{8} \(env:IO_PESTER_ACTION_TOKEN\)'
        $text | Should -Match 'X-Api-Key: \*{8}'
        $text | Should -Match ([regex]::Escape('{"reason":"incident"}'))
        $text | Should -Not -Match 'CANARY'
        $server.Requests.Count | Should -Be 0
    }

    It 'prints the exact command line under -WhatIf and runs nothing' {
        $before = @(Get-Content $root.Flyctl.Log -ErrorAction SilentlyContinue).Count
        $text = Get-WhatIfText 'Invoke-ServiceAction production/api block-ip -Parameter @{ ip = "198.51.100.9" } -WhatIf -ConfigPath $args[0]' $root.Config
        $text | Should -Match 'What if: .*flyctl ips block 198\.51\.100\.9 --app ai-affiliate-empire'
        @(Get-Content $root.Flyctl.Log -ErrorAction SilentlyContinue).Count | Should -Be $before
    }

    It 'asks first when the declared ConfirmImpact reaches $ConfirmPreference' {
        # A -NonInteractive child cannot answer the prompt: the High action stops there, and nothing is sent ...
        $r = Invoke-InChildPwsh 'Invoke-ServiceAction production/api emergency-stop -ConfigPath $args[0]' $root.Config
        $r.ExitCode | Should -Not -Be 0
        $r.Text | Should -Match 'NonInteractive mode. Read and Prompt functionality is not available'
        $server.Requests.Count | Should -Be 0
        # ... while the Low one runs without asking, and -Confirm:$false answers for the High one.
        (Invoke-InChildPwsh 'Invoke-ServiceAction production/marketing rate-limit-strict -ConfigPath $args[0] | Out-Null' $root.Config).ExitCode | Should -Be 0
        (Invoke-InChildPwsh 'Invoke-ServiceAction production/api emergency-stop -Confirm:$false -ConfigPath $args[0] | Out-Null' $root.Config).ExitCode | Should -Be 0
        $server.Requests.Count | Should -Be 1
    }

    It 'makes a non-2xx answer an ActionHttpFailed error, never a success' {
        $server.State.Status = 503
        $server.State.Body = '{"error":"maintenance"}'
        $out = Invoke-ServiceAction api emergency-stop -Force -ConfigPath $root.Config -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'ActionHttpFailed,IncidentOps.Commands.InvokeServiceActionCommand'
        $err[0].TargetObject.StatusCode | Should -Be 503
        "$($err[0])" | Should -Match 'HTTP 503'
    }

    It 'shows the result at <Width> columns with its target whole' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $r = Invoke-ServiceAction api emergency-stop -Force -ConfigPath $root.Config -ErrorAction Stop
        $text = Get-RenderedView $r -Width $Width
        foreach ($col in 'Service', 'Name', 'Outcome', 'Code', 'Took', 'Target') { $text | Should -Match "\b$col\b" }
        Get-ViewColumn $text 'Target' | Should -Be ("POST$($server.Base)/api/workflows/emergency-stop")
        Get-ViewColumn $text 'Code' | Should -Be '200'
        ($text -split "`n" | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual $Width
    }

    It 'records each run on the active incident and the report lists it, with the credential nowhere' {
        $incident = New-Incident -Title 'Workflows out of control' -Severity P1 -ConfigPath $root.Config -ErrorAction Stop
        $server.State.Body = '{"echo":"' + $env:IO_PESTER_ACTION_TOKEN + '"}'
        $out = Invoke-ServiceAction api emergency-stop -Force -Verbose -ConfigPath $root.Config -ErrorAction Stop 4>&1 | Out-String -Width 200
        $timeline = Get-IncidentTimeline -Incident $incident.Id -ConfigPath $root.Config | Where-Object Cmdlet -EQ 'Invoke-ServiceAction'
        $timeline.Action | Should -Be 'Invoke emergency-stop'
        "$($timeline.Outcome)" | Should -Be 'Succeeded'
        $timeline.Result | Should -Match '^POST .*/api/workflows/emergency-stop: HTTP 200 in '
        $report = (New-IncidentReport -Incident $incident.Id -ConfigPath $root.Config).Content
        $report | Should -Match '\| Invoke emergency-stop \(Invoke-ServiceAction\) \| production/api \| Succeeded \|'
        $stored = Get-ChildItem $root.Store -Recurse -File | Get-Content -Raw
        foreach ($text in $out, ($timeline | Out-String), $report, ($stored -join "`n")) { $text | Should -Not -Match 'CANARY' }
    }

    It 'renders help with every parameter described and examples that parse' {
        $help = Assert-CmdletHelp Invoke-ServiceAction
        $help | Should -Match 'confirmImpact'
        $help | Should -Match 'WhatIf'
    }

    It 'completes -Service, and -Name from the chosen service''s actions' {
        Get-CompletionText "Invoke-ServiceAction -ConfigPath '$($root.Config)' -Service prod" | Should -Contain 'production/api'
        Get-CompletionText "Invoke-ServiceAction -ConfigPath '$($root.Config)' -Service production/api -Name " | Should -Be @('emergency-stop', 'block-ip')
        Get-CompletionText "Invoke-ServiceAction -ConfigPath '$($root.Config)' -Service marketing -Name " | Should -Be 'rate-limit-strict'
    }
}

Describe 'Invoke-ServiceAction with a service of one environment and -Environment of another' -Skip:($IsWindows) {
    BeforeAll {
        $dir = New-TestTempDir 'io-envconflict'
        $config = Join-Path $dir 'incidentops.yml'
        Set-Content -Path $config -Value @"
store: { path: '$(Join-Path $dir 'store')' }
environments:
  production:
    services:
      api: { baseUrl: '$($server.Base)/production', actions: { emergency-stop: { url: /api/workflows/emergency-stop } } }
  staging:
    services:
      api: { baseUrl: '$($server.Base)/staging', actions: { emergency-stop: { url: /api/workflows/emergency-stop } } }
"@
    }

    It 'acts on neither environment and says the two disagree' {
        $server.Requests.Clear()
        $r = Invoke-ServiceAction -Service production/api -Environment staging -Name emergency-stop -Force -ConfigPath $config -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $server.Requests.Count | Should -Be 0
        $err[0].FullyQualifiedErrorId | Should -Be 'ServiceEnvironmentConflict,IncidentOps.Commands.InvokeServiceActionCommand'
        "$($err[0])" | Should -Match "names the environment 'production', but -Environment staging"
    }

    It 'acts on the one environment when it is given once' {
        $server.Requests.Clear()
        (Invoke-ServiceAction -Service api -Environment staging -Name emergency-stop -Force -ConfigPath $config -ErrorAction Stop).Succeeded | Should -BeTrue
        $server.Requests[0].Path | Should -Be '/staging/api/workflows/emergency-stop'
    }
}

Describe 'Invoke-ServiceAction -Parameter values never change the target' -Skip:($IsWindows) {
    BeforeAll {
        $kubectl = New-FakeCli kubectl @{ '--context production' = (New-ReplyFile "deployment.apps/marketing restarted`n") }
        $config = (New-TestRoot @"
environments:
  production:
    services:
      marketing:
        platform: kubernetes
        context: production
        namespace: akaind-platform
        deployment: marketing
        baseUrl: $($server.Base)
        actions:
          restart: { command: [kubectl, rollout, restart, '{deployment}'], parameters: [deployment], confirmImpact: Low }
          drain: { url: /api/drain, body: '{"service":"{svc}"}', parameters: [svc], confirmImpact: Low }
tools:
  kubectl: $($kubectl.Path)
"@).Config
    }

    It 'refuses <Shown> as a kubectl argument with ActionParameterInvalid and runs nothing' -TestCases @(
        @{ Value = '--context=prod-eu'; Shown = '--context=prod-eu' }, @{ Value = '--kubeconfig=/tmp/other'; Shown = '--kubeconfig=/tmp/other' }
        @{ Value = '-n kube-system'; Shown = '-n kube-system' }, @{ Value = "marketing`nother"; Shown = 'a value with a newline' }
    ) {
        $out = Invoke-ServiceAction production/marketing restart -Parameter @{ deployment = $Value } -Force -ConfigPath $config -ErrorVariable err -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'ActionParameterInvalid,IncidentOps.Commands.InvokeServiceActionCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        "$($err[0])" | Should -Match "given for 'deployment'.*Nothing was run\."
        Test-Path $kubectl.Log | Should -BeFalse
    }

    It 'shows the exact command under -WhatIf for a plain name' {
        $text = Get-WhatIfText 'Invoke-ServiceAction production/marketing restart -Parameter @{ deployment = "deployment/marketing" } -WhatIf -ConfigPath $args[0]' $config
        $text | Should -Match 'What if: .*kubectl --context production --namespace akaind-platform rollout restart deployment/marketing'
        Test-Path $kubectl.Log | Should -BeFalse
    }

    It 'keeps a value in a JSON body one JSON string' {
        $server.Requests.Clear()
        Invoke-ServiceAction production/marketing drain -Parameter @{ svc = 'x","env":"prod' } -Force -ConfigPath $config -ErrorAction Stop | Out-Null
        $body = $server.Requests[0].Body
        $body | Should -Be '{"service":"x\",\"env\":\"prod"}'
        $json = $body | ConvertFrom-Json
        @($json.PSObject.Properties.Name) | Should -Be @('service')
        $json.service | Should -Be 'x","env":"prod'
    }
}
