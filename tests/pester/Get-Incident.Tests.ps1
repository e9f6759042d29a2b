#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-Incident: reading incidents, the -Incident name (with -Id and -IncidentId aliases) and its completion.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:old = New-Incident -Title 'Redis evictions last week' -Severity P3
    $script:old | Close-Incident -Resolution 'Raised maxmemory' -Force | Out-Null
    $script:other = New-Incident -Title 'Slow search' -Severity P2
    $script:current = New-Incident -Title 'Checkout returns 502' -Severity P1 -Commander alice
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Get-Incident' {
    It 'returns the active incident with -Active' {
        (Get-Incident -Active).Id | Should -Be $current.Id
    }

    It 'filters by status and severity' {
        (Get-Incident -Status Resolved).Id | Should -Be $old.Id
        (Get-Incident -Severity P1, P2).Id | Sort-Object | Should -Be (@($other.Id, $current.Id) | Sort-Object)
    }

    It 'finds one incident by -Incident, and by the old names -Id and -IncidentId' {
        (Get-Incident -Incident $other.Id).Title | Should -Be 'Slow search'
        (Get-Incident -Id $other.Id).Title | Should -Be 'Slow search'
        (Get-Incident -IncidentId $other.Id).Title | Should -Be 'Slow search'
        (Get-Incident $other.Id).Title | Should -Be 'Slow search'
    }

    It 'writes IncidentNotFound for an unknown id' {
        { Get-Incident -Incident INC-20000101-999 -ErrorAction Stop } | Should -Throw -ErrorId 'IncidentNotFound,IncidentOps.Commands.GetIncidentCommand'
    }

    It 'renders the incident table at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-Incident) -Width $Width
        foreach ($column in 'Id', 'Sev', 'Status', 'Open for', 'Next update', 'Title') { $text | Should -Match $column }
        $text | Should -Match "$($old.Id)\s+P3\s+Resolved\s+\S+\s+-\s"
        $text | Should -Match "$($current.Id)\s+P1\s+Investigating"
    }

    It 'shows the severity history as levels and times under Format-List, not as a type name' {
        $text = Get-Incident -Incident $current.Id | Format-List SeverityHistory | Out-String -Width 80
        $text | Should -Not -Match 'SeverityChange'
        $text | Should -Match 'SeverityHistory : \{P1 at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\}'
    }

    It 'completes -Incident with open incidents first, the active one leading, titles as tooltips' {
        $matches = Get-Completion 'Get-Incident -Incident '
        $matches.CompletionText | Should -Be @($current.Id, $other.Id, $old.Id)
        $matches[0].ToolTip | Should -Be "(active) [P1 Investigating] Checkout returns 502"
        $matches[2].ToolTip | Should -Match '\[P3 Resolved\] Redis evictions last week'
    }

    It 'completes an incident from a word of its title' {
        (Get-Completion 'Get-Incident -Incident search').CompletionText | Should -Be $other.Id
    }

    It 'completes -Incident on every cmdlet that records on an incident (<Line>)' -TestCases @(
        @{ Line = 'Get-Incident -Id ' }
        @{ Line = 'Get-AppStatus -Incident ' }
        @{ Line = 'Stop-PgBackend -Incident ' }
        @{ Line = 'Send-IncidentUpdate -Incident ' }
        @{ Line = 'Get-IncidentUpdate -Incident ' }
        @{ Line = 'Send-IncidentChangeEvent x -Incident ' }
        @{ Line = 'Set-IncidentActionItem x -Incident ' }
    ) {
        (Get-Completion $Line).CompletionText | Select-Object -First 1 | Should -Be $current.Id
    }

    It 'names the incident parameter -Incident on every incident cmdlet, with -Id as an alias (<Name>)' -TestCases @(
        @('Get-Incident', 'Set-Incident', 'Close-Incident', 'Add-IncidentNote', 'Add-IncidentActionItem', 'Get-IncidentActionItem',
            'Get-IncidentTimeline', 'Save-IncidentEvidence', 'New-IncidentReport', 'Send-IncidentUpdate', 'Send-IncidentChangeEvent', 'Get-IncidentUpdate') |
            ForEach-Object { @{ Name = $_ } }
    ) {
        $p = (Get-Command $Name).Parameters['Incident']
        $p | Should -Not -BeNullOrEmpty
        $p.Aliases | Should -Contain 'Id'
        $p.Aliases | Should -Contain 'IncidentId'
        $p.Attributes.Where({ $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }).Count | Should -Be 1
    }

    It 'offers nothing, and throws nothing, when the configuration cannot be read' {
        $saved = $env:INCIDENTOPS_CONFIG
        try {
            $env:INCIDENTOPS_CONFIG = Join-Path $root.Dir 'missing.yml'
            { Get-Completion 'Get-Incident -Incident ' } | Should -Not -Throw
            Get-CompletionText 'Send-IncidentUpdate -Channel ' | Should -BeNullOrEmpty
            Get-CompletionText 'New-Incident x -Severity ' | Should -BeNullOrEmpty
            Get-CompletionText 'Get-AppStatus -Environment ' | Should -BeNullOrEmpty
        }
        finally { $env:INCIDENTOPS_CONFIG = $saved }
    }

    It 'completes -Severity from the configuration' {
        Get-CompletionText 'Get-Incident -Severity ' | Should -Be @('P0', 'P1', 'P2', 'P3')
    }

    It 'names a damaged record (IncidentRecordCorrupt, with its file) instead of calling the incident unknown' {
        $file = Get-ChildItem -Path $root.Dir -Recurse -Filter incident.json | Where-Object { $_.Directory.Name -eq $other.Id } | Select-Object -First 1
        $file | Should -Not -BeNullOrEmpty
        $saved = [System.IO.File]::ReadAllText($file.FullName)
        try {
            [System.IO.File]::WriteAllText($file.FullName, '{ "Id": ')
            $err = $null
            Get-Incident -Incident $other.Id -ErrorVariable err -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'IncidentRecordCorrupt,IncidentOps.Commands.GetIncidentCommand'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $err[0].Exception.Message | Should -BeLike "*'$($file.FullName)' is not valid JSON (line 1)*Restore it from backup or remove the folder."
            [System.IO.File]::ReadAllText($file.FullName) | Should -Be '{ "Id": '
        }
        finally { [System.IO.File]::WriteAllText($file.FullName, $saved) }
        (Get-Incident -Incident $other.Id).Title | Should -Be 'Slow search'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        $full = Assert-CmdletHelp Get-Incident
        $full | Should -Match '-Incident'
    }
}
