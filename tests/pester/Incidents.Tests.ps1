# Pester 5: the incident lifecycle through the module, against a throw-away store.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1') -Force
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) ("io-pester-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $script:dir | Out-Null
    $script:cfg = Join-Path $script:dir 'incidentops.yml'
    Set-Content -Path $script:cfg -Value "store:`n  path: $(Join-Path $script:dir 'store')`n"
}

AfterAll {
    Remove-Item -Recurse -Force $script:dir -ErrorAction SilentlyContinue
}

Describe 'Incidents' {
    It 'declares an incident that becomes active' {
        $i = New-Incident -Title 'API 502s' -Severity P1 -Service production/api -Commander alice -ConfigPath $script:cfg
        $i.Id | Should -Match '^INC-\d{8}-\d{3}$'
        $i.SeverityName | Should -Be 'High'
        (Get-Incident -Active -ConfigPath $script:cfg).Id | Should -Be $i.Id
    }

    It 'rejects severity <Severity>' -TestCases @(
        @{ Severity = 'P9' }
        @{ Severity = 'SEV1' }
    ) {
        param($Severity)
        { New-Incident -Title x -Severity $Severity -ConfigPath $script:cfg -ErrorAction Stop } | Should -Throw -ErrorId 'SeverityUnknown,IncidentOps.Commands.NewIncidentCommand'
    }

    It 'records notes and changes on the timeline' {
        Add-IncidentNote 'Restarted the API' -ConfigPath $script:cfg | Out-Null
        Set-Incident -Status Identified -Severity P2 -ConfigPath $script:cfg
        $kinds = (Get-IncidentTimeline -ConfigPath $script:cfg).Kind
        $kinds | Should -Contain 'note'
        $kinds | Should -Contain 'severity'
        $kinds | Should -Contain 'status'
    }

    It 'does nothing under -WhatIf' {
        $before = (Get-Incident -Active -ConfigPath $script:cfg).Status
        Set-Incident -Status Monitoring -WhatIf -ConfigPath $script:cfg
        (Get-Incident -Active -ConfigPath $script:cfg).Status | Should -Be $before
    }

    It 'tracks action items' {
        $item = Add-IncidentActionItem -Action 'Alert on pool saturation' -Owner alice -Priority P1 -ConfigPath $script:cfg
        $item | Set-IncidentActionItem -Status Done -ConfigPath $script:cfg | Out-Null
        (Get-IncidentActionItem -ConfigPath $script:cfg).Status | Should -Be 'Done'
    }

    It 'saves evidence with a SHA-256' {
        $captures = Save-IncidentEvidence -Source timeline -ConfigPath $script:cfg
        $captures.Sha256 | Should -Match '^[0-9a-f]{64}$'
        Test-Path $captures.Path | Should -Be $true
    }

    It 'offers evidence source <Source>' -TestCases @(
        @{ Source = 'app-status' }
        @{ Source = 'app-deployments' }
        @{ Source = 'app-logs' }
        @{ Source = 'pg-activity' }
        @{ Source = 'redis-info' }
    ) {
        param($Source)
        # The incident's services are not in this config, so the source has nothing to capture (and no error).
        { Save-IncidentEvidence -Source $Source -ConfigPath $script:cfg -ErrorAction Stop -WarningAction SilentlyContinue } | Should -Not -Throw
    }

    It 'declares -Record on read-only cmdlet <Name>' -TestCases @(
        @{ Name = 'Get-AppStatus' }
        @{ Name = 'Get-PgActivity' }
        @{ Name = 'Get-RedisInfo' }
        @{ Name = 'Test-ServiceHealth' }
        @{ Name = 'Resolve-ServiceDns' }
    ) {
        param($Name)
        (Get-Command $Name).Parameters.ContainsKey('Record') | Should -Be $true
        (Get-Command $Name).Parameters.ContainsKey('Incident') | Should -Be $true
    }

    It 'closes with a resolution and clears the active incident' {
        $closed = Get-Incident -Active -ConfigPath $script:cfg | Close-Incident -Resolution 'Capped the pool' -ConfigPath $script:cfg
        $closed.Status.ToString() | Should -Be 'Resolved'
        Get-Incident -Active -ConfigPath $script:cfg | Should -BeNullOrEmpty
    }
}
