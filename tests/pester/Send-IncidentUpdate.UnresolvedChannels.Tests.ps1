#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Channels whose secret does not resolve, as an on-call engineer meets them in a real pwsh: an env: variable that is not set
# and a file: whose file is missing. -WhatIf used to stop at the first one (its error, no other channel shown), so the next
# broken channel came to light only after fixing the first. Now -WhatIf shows every channel (a What if line each for those
# that would be sent, one ConfigReferenceUnresolved each for those that would not), and a real send names them all and sends
# to no channel: the loopback provider stub gets no request and the outbox is unchanged.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    Import-IncidentOps
    $script:stub = Start-ProviderStub
    $script:unset = 'IO_PESTER_UNSET_' + [guid]::NewGuid().ToString('N').Substring(0, 8).ToUpperInvariant()
    $script:root = Enter-IsolatedIncidentOps -Yaml @"
channels:
  audit: { type: webhook, url: '$($stub.Url)/hooks/audit' }
  pager: { type: pagerduty, routingKey: 'env:$unset', url: '$($stub.Url)' }
  status: { type: webhook, url: 'file:missing-hook.url' }
  ops: { type: webhook, url: '$($stub.Url)/hooks/ops' }
routing:
  P1: [audit, pager, status, ops]
"@
    $script:incident = New-Incident -Title 'Checkout returns 502' -Severity P1 -Confirm:$false
    # One update that went out before (to the channel that works), so the outbox is not empty and "unchanged" means something.
    $null = Send-IncidentUpdate -Message 'Investigating 502s' -Channel audit -Confirm:$false
    $script:outboxBefore = @(Get-IncidentUpdate -Incident $incident.Id | ForEach-Object UpdateId)
    $script:requestsBefore = $stub.Requests.Count
    $script:errorId = 'ConfigReferenceUnresolved,IncidentOps.Commands.SendIncidentUpdateCommand'
}

AfterAll {
    Exit-IsolatedIncidentOps $script:root
    Stop-ProviderStub $script:stub
}

Describe 'Send-IncidentUpdate with channels whose secret does not resolve' {
    It '-WhatIf shows a What if line for each channel that resolves and an error for each that does not, and sends nothing' {
        $out = Invoke-InChildPwsh (
            "`$ErrorActionPreference = 'Continue'; " +
            "Send-IncidentUpdate -Message 'Rolling back' -WhatIf -ErrorVariable broken; " +
            "foreach (`$e in `$broken) { 'BROKEN ' + `$e.FullyQualifiedErrorId + ' ' + `$e.TargetObject }")
        $out | Should -Match "What if: Send Progress update to audit \(Webhook\) for $($incident.Id): POST"
        $out | Should -Match "What if: Send Progress update to ops \(Webhook\) for $($incident.Id): POST"
        $out | Should -Not -Match 'What if: .* to pager '
        $out | Should -Not -Match 'What if: .* to status '
        # The errors a user sees: each names its channel, key and reference, and every broken channel.
        $out | Should -Match "Channel 'pager' \(PagerDuty\), channels\.pager\.routingKey at \S+incidentops\.yml:\d+:\d+, the reference 'env:$unset' does not resolve: the environment variable $unset is not set"
        $out | Should -Match "Channel 'status' \(Webhook\), channels\.status\.url at \S+incidentops\.yml:\d+:\d+, the reference 'file:missing-hook\.url' does not resolve"
        ([regex]::Matches($out, '2 of 4 selected channels do not resolve \(pager, status\)')).Count | Should -Be 2
        $out | Should -Match '-Channel audit,ops'
        $out | Should -Match "BROKEN $errorId pager"
        $out | Should -Match "BROKEN $errorId status"
        $stub.Requests.Count | Should -Be $requestsBefore
        @(Get-IncidentUpdate -Incident $incident.Id | ForEach-Object UpdateId) | Should -Be $outboxBefore
    }

    It 'a real send writes one error per broken channel and sends to none, not even the channels that resolve' {
        $result = Send-IncidentUpdate -Message 'Rolling back' -Confirm:$false -ErrorVariable broken -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $broken.Count | Should -Be 2
        $broken.FullyQualifiedErrorId | Should -Be @($errorId, $errorId)
        $broken.TargetObject | Should -Be @('pager', 'status')
        $broken[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $broken[0].ErrorDetails.RecommendedAction | Should -Match "Set the environment variable $unset"
        $broken[1].ErrorDetails.RecommendedAction | Should -Match 'Write the value into the file missing-hook\.url, or change channels\.status\.url'
        $stub.Requests.Count | Should -Be $requestsBefore
        @(Get-IncidentUpdate -Incident $incident.Id | ForEach-Object UpdateId) | Should -Be $outboxBefore
    }

    It '-ErrorAction Stop stops at the first error, which still names every broken channel' {
        { Send-IncidentUpdate -Message 'Rolling back' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId $errorId -ExpectedMessage "*2 of 4 selected channels do not resolve (pager, status)*"
        $stub.Requests.Count | Should -Be $requestsBefore
        @(Get-IncidentUpdate -Incident $incident.Id | ForEach-Object UpdateId) | Should -Be $outboxBefore
    }

    It 'sends to every channel once the secrets resolve' {
        Set-Content -Path (Join-Path (Split-Path $root.Config) 'missing-hook.url') -Value "$($stub.Url)/hooks/status"
        [Environment]::SetEnvironmentVariable($unset, '0123456789abcdef0123456789abcdef')
        try {
            $results = Send-IncidentUpdate -Message 'Rolled back' -Confirm:$false
        } finally { [Environment]::SetEnvironmentVariable($unset, $null) }
        $results.Channel | Should -Be @('audit', 'pager', 'status', 'ops')
        $results.Delivered | Should -Be @($true, $true, $true, $true)
        $stub.Requests.Count | Should -Be ($requestsBefore + 4)
    }
}
