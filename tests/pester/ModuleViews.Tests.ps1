#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Issue 12 (import speed): the module's format views are not bound by Import-Module, where PowerShell would rebuild the
# session's whole format table on the importing thread. They come with IncidentOps.Views (a views-only manifest), imported
# when an interactive prompt is idle (PSReadLine's PowerShell.OnIdle) or at the start of the first IncidentOps command,
# before it writes anything, and removed with IncidentOps. Every case runs in a
# fresh pwsh, as a user's session or a scheduled script starts.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Pwsh = Join-Path $PSHOME 'pwsh'
    $script:Config = Join-Path $script:RepoRoot 'examples/incidentops.yml'
    # Runs $Script in a fresh non-interactive pwsh after importing the module; Test-ViewsLoaded counts the module's format
    # file among the session's formats. Returns the output lines (errors included, as text).
    function Invoke-FreshPwsh([string] $Script) {
        $prelude = @"
`$ErrorActionPreference = 'Stop'
`$config = '$script:Config'
function Test-ViewsLoaded { @([runspace]::DefaultRunspace.InitialSessionState.Formats | Where-Object FileName -like '*IncidentOps.format.ps1xml').Count }
Import-Module '$script:ModulePath'
"@
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($prelude + "`n" + $Script))
        $lines = & $script:Pwsh -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Lines = $lines; Text = $lines -join "`n" }
    }
}

Describe 'IncidentOps format views' {
    It 'are not loaded by Import-Module, and a script''s first command shows its default view' {
        # What a scheduled script prints: the command's output through Out-Default, with nothing run before it.
        $r = Invoke-FreshPwsh @'
"import:$(Test-ViewsLoaded)"
Get-IncidentOpsService -Path $config
"after:$(Test-ViewsLoaded)"
'@
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Lines | Should -Contain 'import:0'
        $r.Lines | Should -Contain 'after:1'
        $r.Text | Should -Match 'Service\s+Platform\s+Health\s+Target'
        $r.Text | Should -Match 'production/api\s+Fly'
        $r.Text | Should -Not -Match 'EnvironmentName\s*:'   # the list of properties PowerShell shows without a view
    }

    It 'are in place for a formatter that started before the first command ran' {
        # Out-String's pipeline begins before Get-IncidentOpsService loads the views; it still uses them.
        $r = Invoke-FreshPwsh @'
$text = 1 | ForEach-Object { Get-IncidentOpsService -Path $config } | Out-String -Width 120
$text
'@
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Text | Should -Match 'Service\s+Platform\s+Health\s+Target'
    }

    It 'load when the prompt is idle, with no IncidentOps command and no visible event subscriber' {
        # PSReadLine raises PowerShell.OnIdle while it waits for a key; New-Event raises the same engine event here.
        $r = Invoke-FreshPwsh @'
"visible:$(@(Get-EventSubscriber).Count) hidden:$(@(Get-EventSubscriber -Force).Count)"
$null = New-Event -SourceIdentifier PowerShell.OnIdle
"idle:$(Test-ViewsLoaded) hidden:$(@(Get-EventSubscriber -Force).Count)"
$null = New-Event -SourceIdentifier PowerShell.OnIdle
"again:$(Test-ViewsLoaded)"
'@
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Lines | Should -Contain 'visible:0 hidden:1'
        $r.Lines | Should -Contain 'idle:1 hidden:0'
        $r.Lines | Should -Contain 'again:1'
    }

    It 'load while a real interactive pwsh sits at its prompt (PSReadLine on a terminal)' {
        $driver = Join-Path $PSScriptRoot 'InteractivePwsh.py'
        $idle = & python3 $driver views $script:Pwsh $script:ModulePath 3
        $idle | Should -Be @('imported 0', 'checked 1') -Because 'after three seconds at the prompt the views are in, and no command loaded them'
        # Typed at once, before the prompt idles: nothing has loaded them yet (the first IncidentOps command would).
        $typed = & python3 $driver views $script:Pwsh $script:ModulePath 0
        $typed | Should -Be @('imported 0', 'checked 0')
    }

    It 'go with Remove-Module (also a pending idle load), and load once again after a re-import' {
        $r = Invoke-FreshPwsh @'
Remove-Module IncidentOps
"removed hidden:$(@(Get-EventSubscriber -Force).Count)"
$null = New-Event -SourceIdentifier PowerShell.OnIdle
"removed idle:$(Test-ViewsLoaded)"
Import-Module $env:IO_MODULE_PATH
Get-IncidentOpsService -Path $config | Out-Null
"used:$(Test-ViewsLoaded) $((Get-Module IncidentOps.Views).ExportedFormatFiles -replace '.*/')"
Remove-Module IncidentOps
"removed with it:$(Test-ViewsLoaded) $(@(Get-Module IncidentOps.Views).Count)"
Import-Module $env:IO_MODULE_PATH
Get-IncidentOpsService -Path $config | Out-Null
"reimported:$(Test-ViewsLoaded)"
(Get-IncidentOpsService -Path $config | Out-String -Width 120)
'@.Replace('$env:IO_MODULE_PATH', "'$script:ModulePath'")
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Lines | Should -Contain 'removed hidden:0'
        $r.Lines | Should -Contain 'removed idle:0'
        $r.Lines | Should -Contain 'used:1 IncidentOps.format.ps1xml'
        $r.Lines | Should -Contain 'removed with it:0 0'
        $r.Lines | Should -Contain 'reimported:1'
        $r.Text | Should -Match 'Service\s+Platform\s+Health\s+Target'
    }

    It 'load in each runspace that imports the module (ForEach-Object -Parallel)' {
        $r = Invoke-FreshPwsh @'
$m = (Get-Module IncidentOps).Path
1..2 | ForEach-Object -ThrottleLimit 2 -Parallel {
    Import-Module (Join-Path (Split-Path $using:m) 'IncidentOps.psd1')
    Get-IncidentOpsService -Path $using:config | Select-Object -First 1 | Out-String -Width 120
}
'@
        $r.ExitCode | Should -Be 0 -Because $r.Text
        ([regex]::Matches($r.Text, 'Service\s+Platform\s+Health\s+Target')).Count | Should -Be 2
    }
}
