#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Import-Incident between two file stores (the PostgreSQL round trip is in Export-Incident.Tests.ps1): idempotent,
# completes an interrupted import, -WhatIf writes nothing, and refuses evidence whose hash does not match.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $i = New-Incident -Title 'To move' -Severity P2
    Add-IncidentNote 'first note' | Out-Null
    Save-IncidentEvidence -Source timeline -WarningAction SilentlyContinue | Out-Null
    $script:id = $i.Id
    $script:archive = Join-Path $script:root.Dir 'one.zip'
    Export-Incident -Incident $script:id -Path $script:archive | Out-Null
    function New-FileStoreConfig([string] $Name) {
        $path = Join-Path $script:root.Dir "$Name.yml"
        Set-Content -Path $path -Value "store:`n  path: $(Join-Path $script:root.Dir $Name)`n"
        $path
    }
}

AfterAll { Exit-IsolatedIncidentOps $script:root }

Describe 'Import-Incident' {
    It 'imports once, then reports Unchanged and writes nothing more' {
        $cfg = New-FileStoreConfig 'target'
        (Import-Incident $script:archive -ConfigPath $cfg -Confirm:$false).Action | Should -Be 'Imported'
        $count = (Get-IncidentTimeline -Incident $script:id -ConfigPath $cfg).Count
        (Import-Incident $script:archive -ConfigPath $cfg -Confirm:$false).Action | Should -Be 'Unchanged'
        (Get-IncidentTimeline -Incident $script:id -ConfigPath $cfg).Count | Should -Be $count
        (Get-IncidentTimeline -Incident $script:id -ConfigPath $cfg).Result | Should -Contain 'first note'
    }

    It 'completes an import that stopped part-way, without repeating what arrived' {
        $cfg = New-FileStoreConfig 'partial'
        Import-Incident $script:archive -ConfigPath $cfg -Confirm:$false | Out-Null
        $timeline = Join-Path $script:root.Dir "partial/incidents/$($script:id)/timeline.jsonl"
        $lines = Get-Content $timeline
        Set-Content -Path $timeline -Value $lines[0]
        $done = Import-Incident $script:archive -ConfigPath $cfg -Confirm:$false
        $done.Action | Should -Be 'Completed'
        $done.TimelineEntries | Should -Be ($lines.Count - 1)
        (Get-IncidentTimeline -Incident $script:id -ConfigPath $cfg).Count | Should -Be $lines.Count
    }

    It 'never mixes the archived incident with another incident that has the same id in the target store' {
        $cfg = New-FileStoreConfig 'conflict'
        $other = New-Incident -Title 'Another incident' -Severity P3 -ConfigPath $cfg
        $other.Id | Should -Be $script:id -Because 'each store allocates its own ids, so the first of the day collide'
        $before = (Get-IncidentTimeline -Incident $other.Id -ConfigPath $cfg).Count
        $r = Import-Incident $script:archive -ConfigPath $cfg -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue
        $r.Action | Should -Be 'Conflict'
        "$warned" | Should -Match 'is another incident .*Another incident.* it was not imported'
        (Get-IncidentTimeline -Incident $other.Id -ConfigPath $cfg).Count | Should -Be $before
        (Get-Incident -Incident $other.Id -ConfigPath $cfg).Title | Should -Be 'Another incident'
    }

    It '-WhatIf writes nothing' {
        $cfg = New-FileStoreConfig 'whatif'
        Import-Incident $script:archive -ConfigPath $cfg -WhatIf
        Get-Incident -ConfigPath $cfg | Should -BeNullOrEmpty
    }

    It 'refuses evidence whose content does not match its SHA-256, with IncidentArchiveInvalid' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $bad = Join-Path $script:root.Dir 'tampered.zip'
        Copy-Item $script:archive $bad
        $zip = [System.IO.Compression.ZipFile]::Open($bad, 'Update')
        try {
            $entry = $zip.Entries | Where-Object FullName -like "incidents/$($script:id)/evidence/*" | Select-Object -First 1
            $name = $entry.FullName; $entry.Delete()
            $w = [IO.StreamWriter]::new($zip.CreateEntry($name).Open()); $w.Write('tampered'); $w.Dispose()
        }
        finally { $zip.Dispose() }
        $cfg = New-FileStoreConfig 'tampered'
        $err = { Import-Incident $bad -ConfigPath $cfg -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'IncidentArchiveInvalid,IncidentOps.Commands.ImportIncidentCommand' -PassThru
        $err.Exception.Message | Should -Match 'does not match its SHA-256'
        Get-Incident -ConfigPath $cfg | Should -BeNullOrEmpty
    }

    It 'adds every archived entry an incident lacks when it moved on in both stores since an earlier import' {
        $cfg = New-FileStoreConfig 'diverged'
        Import-Incident $script:archive -ConfigPath $cfg -Confirm:$false | Out-Null
        # The team store gets two notes, the laptop one; then the laptop's newer archive is imported again.
        Add-IncidentNote -Incident $script:id 'team 1' -ConfigPath $cfg | Out-Null
        Add-IncidentNote -Incident $script:id 'team 2' -ConfigPath $cfg | Out-Null
        Add-IncidentNote -Incident $script:id 'laptop 1' | Out-Null
        $newer = Join-Path $script:root.Dir 'newer.zip'
        Export-Incident -Incident $script:id -Path $newer | Out-Null
        $r = Import-Incident $newer -ConfigPath $cfg -Confirm:$false
        $r.Action | Should -Be 'Completed'
        $r.TimelineEntries | Should -Be 1 -Because 'the archive has one entry the team store lacks (and the team store has two of its own)'
        $notes = (Get-IncidentTimeline -Incident $script:id -ConfigPath $cfg | Where-Object Kind -eq 'note').Result
        $notes | Should -Contain 'laptop 1'
        $notes | Should -Contain 'team 1'
        $notes | Should -Contain 'team 2'
        (Import-Incident $newer -ConfigPath $cfg -Confirm:$false).Action | Should -Be 'Unchanged'
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Import-Incident | Should -Match 'Import-Incident'
    }
}
