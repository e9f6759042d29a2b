#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Export-Incident and Import-Incident (issue 13): a team moves from the file store to the PostgreSQL team store with
# Get-Incident | Export-Incident; Import-Incident. Records, timelines, action items, updates and evidence hashes
# arrive identical; importing twice changes nothing; -WhatIf writes nothing.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:skipPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile -RouteToAudit P1, P2
    if ($env:INCIDENTOPS_TEST_PG) {
        . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
        $script:db = New-TestPgDatabase 'export'
        $env:IO_EXPORT_STORE = Get-PgTestConnectionString $script:db
    }
    function New-TeamConfig([string] $Schema) {
        $path = Join-Path $script:root.Dir "$Schema.yml"
        Set-Content -Path $path -Value "store:`n  kind: postgres`n  path: $(Join-Path $script:root.Dir $Schema)`n  connectionString: env:IO_EXPORT_STORE`n  schema: $Schema`n"
        Initialize-IncidentStore -ConfigPath $path -Confirm:$false | Out-Null
        $path
    }
    # Everything an archive holds of each incident, as comparable text (left out: the store's own identity, and the
    # duration of an open incident, which is computed from the clock when the record is written).
    function Get-ArchiveContent([string] $Path) {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Path)
        try {
            $zip.Entries | Where-Object FullName -like 'incidents/*' | Sort-Object FullName | ForEach-Object {
                $text = [IO.StreamReader]::new($_.Open()).ReadToEnd()
                "$($_.FullName)`n" + ($text -replace '"incidentStore":"[^"]*",?', '' -replace '"duration":"[^"]*",?', '')
            }
        }
        finally { $zip.Dispose() }
    }

    # The incidents of the file store: notes, an action item, a delivered update, evidence.
    $script:ids = foreach ($n in 1..2) {
        $i = New-Incident -Title "Moved $n" -Severity P2 -Commander alice
        Add-IncidentNote "note $n for the move" | Out-Null
        Add-IncidentActionItem -Action "follow up $n" -Owner bob | Out-Null
        Send-IncidentUpdate -Message "update $n" -Confirm:$false | Out-Null
        Save-IncidentEvidence -Source timeline -WarningAction SilentlyContinue | Out-Null
        $i.Id
    }
}

AfterAll {
    if ($script:db) { Remove-TestPgDatabase $script:db }
    Remove-Item Env:IO_EXPORT_STORE -ErrorAction SilentlyContinue
    Exit-IsolatedIncidentOps $script:root
}

Describe 'Export-Incident and Import-Incident' {
    It 'exports every incident of the file store to one archive' {
        $archive = Join-Path $script:root.Dir 'file.zip'
        $out = Get-Incident | Export-Incident -Path $archive
        $out.IncidentId | Should -Be $script:ids
        $out.Action | Should -Be @('Exported', 'Exported')
        $out[0].Evidence | Should -BeGreaterThan 0
        $out[0].Updates | Should -Be 1
        { Get-Incident | Export-Incident -Path $archive -ErrorAction Stop } | Should -Throw -ErrorId 'IncidentArchiveExists,IncidentOps.Commands.ExportIncidentCommand'
    }

    It 'imports into PostgreSQL with identical records, timelines, action items, updates and evidence hashes' -Skip:$skipPg {
        $archive = Join-Path $script:root.Dir 'file.zip'
        $team = New-TeamConfig 'moved'
        $in = Import-Incident -Path $archive -ConfigPath $team -Confirm:$false
        $in.Action | Should -Be @('Imported', 'Imported')
        $back = Join-Path $script:root.Dir 'team.zip'
        Get-Incident -ConfigPath $team | Export-Incident -Path $back -ConfigPath $team | Out-Null
        (Get-ArchiveContent $back) -join "`n" | Should -BeExactly ((Get-ArchiveContent $archive) -join "`n")
        (Get-IncidentTimeline -Incident $script:ids[0] -ConfigPath $team).Result | Should -Contain 'note 1 for the move'
        (Get-Incident -Incident $script:ids[1] -ConfigPath $team).IncidentStore | Should -Match '^postgres://.*#moved$'
    }

    It 'changes nothing when the same archive is imported again' -Skip:$skipPg {
        $archive = Join-Path $script:root.Dir 'file.zip'
        $team = Join-Path $script:root.Dir 'moved.yml'
        $before = (Get-IncidentTimeline -Incident $script:ids[0] -ConfigPath $team).Count
        $again = Import-Incident -Path $archive -ConfigPath $team -Confirm:$false
        $again.Action | Should -Be @('Unchanged', 'Unchanged')
        (Get-IncidentTimeline -Incident $script:ids[0] -ConfigPath $team).Count | Should -Be $before
        @(Get-IncidentActionItem -Incident $script:ids[0] -ConfigPath $team).Count | Should -Be 1
    }

    It '-WhatIf says what each incident would get and writes nothing' -Skip:$skipPg {
        $archive = Join-Path $script:root.Dir 'file.zip'
        $team = New-TeamConfig 'whatif_import'
        $text = Invoke-InChildPwsh "Import-Incident -Path '$archive' -ConfigPath '$team' -WhatIf"
        $text | Should -Match "What if: Performing the operation ""Import $($script:ids[0]): \d+ timeline entries, 1 action items, 1 updates, \d+ evidence"""
        Get-Incident -ConfigPath $team | Should -BeNullOrEmpty
    }

    It 'refuses a file that is not an IncidentOps archive with IncidentArchiveInvalid' {
        $bad = Join-Path $script:root.Dir 'bad.zip'
        Set-Content -Path $bad -Value 'not a zip'
        { Import-Incident -Path $bad -ErrorAction Stop } | Should -Throw -ErrorId 'IncidentArchiveInvalid,IncidentOps.Commands.ImportIncidentCommand'
    }

    It 'shows transfers in their default view at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $archive = Join-Path $script:root.Dir "view-$Width.zip"
        $text = Get-RenderedView (Export-Incident -Incident $script:ids[0] -Path $archive) -Width $Width
        $text | Should -Match 'IncidentId\s+Action\s+Entries\s+Items\s+Updates\s+Evidence\s+Path'
        $text | Should -Match "$($script:ids[0])\s+Exported\s+\d+\s+1\s+1\s+\d+"
    }

    It 'has help that renders for <Name>' -TestCases @(@{ Name = 'Export-Incident' }, @{ Name = 'Import-Incident' }) {
        Assert-CmdletHelp $Name | Should -Match $Name
    }
}
