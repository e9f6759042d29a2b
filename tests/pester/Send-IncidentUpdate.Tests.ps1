#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $repo 'out/IncidentOps') -Force

    $store = Join-Path $TestDrive 'store'
    $id = 'INC-20260101-001'
    $dir = Join-Path $store "incidents/$id"
    New-Item -ItemType Directory -Path $dir -Force | Out-Null
    '{"id":"INC-20260101-001","title":"Checkout returns 502","severity":"P3","status":"Investigating"}' |
        Set-Content -Path (Join-Path $dir 'incident.json') -NoNewline
    # Port 9 on loopback refuses connections: every send fails and stays pending.
    Set-Content -Path (Join-Path $TestDrive 'hook.url') -Value 'http://127.0.0.1:9/hooks/CANARYpesterT0k3n'
    $config = Join-Path $TestDrive 'incidentops.yml'
    @"
store: { path: '$store' }
channels:
  audit: { type: webhook, url: file:hook.url }
routing:
  P3: [audit]
"@ | Set-Content -Path $config
}

Describe 'Send-IncidentUpdate' {
    It '-WhatIf shows the rendered payload and writes no outbox entry' {
        $out = Send-IncidentUpdate -ConfigPath $config -Incident $id -Message 'Investigating' -WhatIf
        $out | Should -BeNullOrEmpty
        @(Get-IncidentUpdate -ConfigPath $config -Incident $id).Count | Should -Be 0
    }

    It 'keeps an undelivered update pending, without the webhook token in the result' {
        $result = Send-IncidentUpdate -ConfigPath $config -Incident $id -Message 'Investigating' -WarningAction SilentlyContinue
        $result.Channel | Should -Be 'audit'
        $result.Delivered | Should -Be $false
        $result.Attempts | Should -Be 1
        "$($result.Error)" | Should -Not -Match 'CANARYpesterT0k3n'
        @(Get-IncidentUpdate -ConfigPath $config -Incident $id -Pending).Count | Should -Be 1
    }

    It 'writes <ErrorId> for <Case>' -TestCases @(
        @{ Case = 'an unknown channel'; Arguments = @{ Channel = 'nope' }; ErrorId = 'ChannelNotFound,IncidentOps.Commands.SendIncidentUpdateCommand' }
        @{ Case = 'an unknown incident'; Arguments = @{ Incident = 'INC-20260101-999' }; ErrorId = 'IncidentNotFound,IncidentOps.Commands.SendIncidentUpdateCommand' }
    ) {
        # Not $arguments: PowerShell names are case-insensitive, so that would be the -TestCases' $Arguments itself.
        $splat = @{ ConfigPath = $config; Incident = $id; Message = 'm' }
        foreach ($k in $Arguments.Keys) { $splat[$k] = $Arguments[$k] }
        { Send-IncidentUpdate @splat -ErrorAction Stop } | Should -Throw -ErrorId $ErrorId
    }
}

Describe 'Get-IncidentUpdateDue' {
    It 'returns nothing when no update is due' {
        @(Get-IncidentUpdateDue -ConfigPath $config).Count | Should -Be 0
    }
}
