#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Pester 5: the Incident Get→Change pair (issue 16 item 2). Get-Incident | Set-Incident / Close-Incident /
# Add-IncidentNote / ... acts on the incident the object came from, in the store it came from: a record read
# through one -ConfigPath and piped into a change that resolves another store is refused (PipelineTargetMismatch)
# and nothing is written. The two stores below both hold INC-<today>-001, so a change in the wrong store would
# otherwise land silently.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
}
AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)

Describe 'Get-Incident piped into a change' {
    BeforeEach {
        $a = New-TestRoot
        $b = New-TestRoot
        $x = New-Incident -Title 'Checkout returns 502' -Severity P1 -ConfigPath $a.Config -ErrorAction Stop
        $y = New-Incident -Title 'Search is slow' -Severity P3 -ConfigPath $b.Config -ErrorAction Stop
    }
    AfterEach { Remove-TestRoot $a; Remove-TestRoot $b }

    It 'shows the store each incident was read from' {
        $x.Id | Should -Be $y.Id -Because 'two stores allocate the same first id, which is what makes a wrong store dangerous'
        (Get-Incident -ConfigPath $a.Config).IncidentStore | Should -Be ([IO.Path]::TrimEndingDirectorySeparator([IO.Path]::GetFullPath($a.Store)))
    }

    It 'refuses <Change> when the record came from another store, and writes nothing there' -TestCases @(
        @{ Change = 'Set-Incident'; Arguments = @{ Status = 'Identified'; Impact = 'wrong store' } }
        @{ Change = 'Close-Incident'; Arguments = @{ Resolution = 'wrong store'; Force = $true } }
        @{ Change = 'Add-IncidentNote'; Arguments = @{ Message = 'wrong store' } }
        @{ Change = 'Add-IncidentActionItem'; Arguments = @{ Action = 'wrong store' } }
    ) {
        $errors = $null
        Get-Incident -ConfigPath $a.Config | & $Change @Arguments -ConfigPath $b.Config -ErrorAction SilentlyContinue -ErrorVariable errors | Out-Null
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike "PipelineTargetMismatch,*"
        $errors[0].ToString() | Should -Match ([regex]::Escape($a.Store))
        $errors[0].ToString() | Should -Match '-ConfigPath'

        $other = Get-Incident -ConfigPath $b.Config
        $other.Title | Should -Be 'Search is slow'
        $other.Status | Should -Be 'Investigating'
        $other.Impact | Should -BeNullOrEmpty
        @(Get-IncidentTimeline -Incident $other.Id -ConfigPath $b.Config) | Should -HaveCount 1 -Because 'only the declaration is on the other store''s timeline'
        @(Get-IncidentActionItem -Incident $other.Id -ConfigPath $b.Config) | Should -HaveCount 0
    }

    It 'acts on the piped incident in its own store' {
        Get-Incident -ConfigPath $a.Config | Set-Incident -Impact 'All checkouts fail' -ConfigPath $a.Config -ErrorAction Stop | Out-Null
        $closed = Get-Incident -ConfigPath $a.Config | Close-Incident -Resolution 'Rolled back' -Force -ConfigPath $a.Config -ErrorAction Stop
        $closed.Status | Should -Be 'Resolved'
        $closed.Impact | Should -Be 'All checkouts fail'
        (Get-Incident -ConfigPath $b.Config).Status | Should -Be 'Investigating'
    }
}
