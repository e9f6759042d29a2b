#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentTimeline: the record that writes itself, and how it reads on screen.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile -RouteToAudit P1
    $script:incident = New-Incident -Title 'Checkout returns 502 for every EU customer' -Severity P1 -Service production/api
    Add-IncidentNote 'Restarted the API' | Out-Null
    Set-Incident -Status Identified
    Send-IncidentUpdate -Message 'Pool exhausted' | Out-Null
    Send-IncidentUpdate -Message 'Raising the pool size' | Out-Null
    Invoke-InChildPwsh "Send-IncidentUpdate -Message 'Preview only' -WhatIf" | Out-Null
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Get-IncidentTimeline' {
    It 'records notes, changes and updates of the active incident' {
        $kinds = (Get-IncidentTimeline).Kind
        foreach ($k in 'declared', 'note', 'status', 'update') { $kinds | Should -Contain $k }
    }

    It 'filters by -Kind and names the incident with -Incident or the old -Id' {
        (Get-IncidentTimeline -Incident $incident.Id -Kind note).Result | Should -Be 'Restarted the API'
        @(Get-IncidentTimeline -Id $incident.Id -Kind declared).Count | Should -Be 1
    }

    It 'names each update by its kind, not "Update update"' {
        $actions = (Get-IncidentTimeline -Kind update).Action
        $actions | Should -Be @('Initial alert (Identified)', 'Progress update (Identified)')
        (Get-IncidentTimeline | Out-String -Width 200) | Should -Not -Match 'Update update|Initial update'
    }

    It 'keeps a -WhatIf preview with its whole payload on the timeline' {
        $preview = Get-IncidentTimeline | Where-Object Outcome -EQ 'WhatIf'
        $preview.Action | Should -Be 'Send Progress update'
        $preview.Result | Should -Match '"message":"Preview only"'
    }

    It 'shows whole rows at <Width> columns: nothing is cut' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-IncidentTimeline) -Width $Width
        foreach ($column in 'Time \(UTC\)', 'Kind', 'Outcome', 'What') { $text | Should -Match $column }
        $text | Should -Not -Match 'Declare incident \(New…'
        $flat = $text -replace '\s', ''
        $flat | Should -Match ([regex]::Escape("Declareincident$($incident.Id):P1(High):Checkoutreturns502foreveryEUcustomer"))
        $flat | Should -Match 'Progressupdate\(Identified\)audit:audit:delivered'
        # A -WhatIf preview shows its request line, not its JSON payload.
        $flat | Should -Match 'SendProgressupdatetoaudit\(Webhook\)'
        $text | Should -Not -Match '"message":"Preview only"'
    }

    It 'shows the kind action-item whole at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        if (-not (Get-IncidentTimeline -Kind action-item)) { Add-IncidentActionItem 'Add statement_timeout to the reporting role' -Owner bob | Out-Null }
        $text = Get-RenderedView (Get-IncidentTimeline -Kind action-item) -Width $Width
        $text | Should -Match '(?m)^\d\d-\d\d \d\d:\d\d:\d\d action-item\s+Succeeded\s+Add action item'
    }

    It 'declares -Record and -Incident on read-only cmdlet <Name>' -TestCases @(
        @{ Name = 'Get-AppStatus' }
        @{ Name = 'Get-PgActivity' }
        @{ Name = 'Get-RedisInfo' }
        @{ Name = 'Test-ServiceHealth' }
        @{ Name = 'Resolve-ServiceDns' }
    ) {
        (Get-Command $Name).Parameters.ContainsKey('Record') | Should -Be $true
        (Get-Command $Name).Parameters.ContainsKey('Incident') | Should -Be $true
    }

    It 'completes -Incident with open incidents' {
        Get-CompletionText 'Get-IncidentTimeline -Incident ' | Should -Be $incident.Id
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-IncidentTimeline | Should -Match 'Get-IncidentTimeline'
    }
}
