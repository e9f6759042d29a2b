#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Invoke-ServiceAlert in the real pwsh: help, the default view at 80 and 120 columns, -WhatIf over a whole outage,
# the scheduled example script run as 15 separate processes against a scripted loopback endpoint, its exit codes,
# and Watch-ServiceHealth -Alert.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:skipPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    Import-IncidentOps

    # A loopback health endpoint that answers each GET with the next scripted status code (200 once the script is
    # used up), or with the code set through /set/<code> when no script is queued.
    function Start-ScriptedHealth([int[]] $Codes = @()) {
        # A started listener on a free port (New-TestHttpListener of Common.ps1 retries with a fresh port and listener
        # when another process took the probed port before Start).
        $http = New-TestHttpListener
        $listener = $http.Listener
        $port = ([uri]$http.Base).Port
        $queue = [System.Collections.Queue]::Synchronized([System.Collections.Queue]::new())
        foreach ($c in $Codes) { $queue.Enqueue($c) }
        $state = [hashtable]::Synchronized(@{ Code = 200; Served = 0 })
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
            param($listener, $queue, $state)
            while ($listener.IsListening) {
                try { $ctx = $listener.GetContext() } catch { break }
                $path = $ctx.Request.Url.AbsolutePath
                if ($path -like '/set/*') { $state.Code = [int]$path.Substring(5); $code = 200 }
                else {
                    $state.Served++
                    $code = if ($queue.Count -gt 0) { [int]$queue.Dequeue() } else { $state.Code }
                }
                $ctx.Response.StatusCode = $code
                $bytes = [Text.Encoding]::UTF8.GetBytes($(if ($code -lt 400) { '{"status":"ok"}' } else { '{"status":"down"}' }))
                try { $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length); $ctx.Response.Close() } catch { }
            }
        }).AddArgument($listener).AddArgument($queue).AddArgument($state)
        $handle = $ps.BeginInvoke()
        [pscustomobject]@{ Url = "http://127.0.0.1:$port"; Listener = $listener; PowerShell = $ps; Handle = $handle; State = $state }
    }
    function Stop-ScriptedHealth($Server) {
        if (-not $Server) { return }
        try { $Server.Listener.Stop(); $Server.Listener.Close() } catch { }
        $Server.PowerShell.Dispose()
    }

    function New-AlertRoot([string] $HealthUrl, [string] $ProviderUrl, [string] $Rules = "failureThreshold: 3`n  successThreshold: 2`n  severity: P1") {
        New-TestRoot @"
environments:
  production:
    services:
      api: { health: ['$HealthUrl/health'] }
channels:
  hook: { type: webhook, url: '$ProviderUrl/hooks/CANARYpesterAlertT0k3n' }
routing:
  P1: [hook]
alerting:
  $Rules
"@
    }

    # The pinned pwsh may run as a .NET tool (dotnet pwsh.dll): start children the same way.
    $script:Exe = [Environment]::ProcessPath
    $script:Prefix = @()
    if ([IO.Path]::GetFileNameWithoutExtension($script:Exe) -eq 'dotnet') { $script:Prefix = @(Join-Path $PSHOME 'pwsh.dll') }
    $script:RoundScript = Join-Path $script:RepoRoot 'examples/scheduled/alert-round.ps1'

    # Runs the scheduled example in a fresh pwsh, as the scheduler would (module by name, config from the environment).
    function Invoke-ScheduledRound([string] $Config) {
        $saved = $env:INCIDENTOPS_CONFIG, $env:PSModulePath
        try {
            $env:INCIDENTOPS_CONFIG = $Config
            $env:PSModulePath = (Join-Path $script:RepoRoot 'out') + [IO.Path]::PathSeparator + $env:PSModulePath
            $text = & $script:Exe @script:Prefix -NoLogo -NoProfile -NonInteractive -File $script:RoundScript 2>&1 | Out-String -Width 300
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Text = $text }
        }
        finally { $env:INCIDENTOPS_CONFIG, $env:PSModulePath = $saved }
    }
}
AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)

Describe 'Invoke-ServiceAlert' {
    It 'has help for every parameter and example, and Watch-ServiceHealth documents -Alert' {
        $full = Assert-CmdletHelp 'Invoke-ServiceAlert'
        $full | Should -Match 'alerting@host'
        (Get-Help Watch-ServiceHealth -Parameter Alert | Out-String) | Should -Match 'alerting rules'
    }

    Context 'a service that is down' {
        BeforeAll {
            $health = Start-ScriptedHealth
            $stub = Start-ProviderStub
            $root = New-AlertRoot $health.Url $stub.Url
            Invoke-RestMethod "$($health.Url)/set/503" | Out-Null
        }
        AfterAll { Stop-ScriptedHealth $health; Stop-ProviderStub $stub; Remove-TestRoot $root }

        It '-WhatIf over a whole outage prints every decision and declares, sends and changes nothing' {
            $decisions = foreach ($i in 1..6) { Invoke-ServiceAlert -ConfigPath $root.Config -WhatIf }
            $decisions.Count | Should -Be 6
            $decisions | ForEach-Object { $_.WhatIf | Should -BeTrue; $_.Decision | Should -Be 'Failing 1/3, waiting' }
            @(Get-Incident -ConfigPath $root.Config).Count | Should -Be 0
            Test-Path (Join-Path $root.Store 'alerting/state.json') | Should -BeFalse
            $stub.Requests.Count | Should -Be 0
            $text = Invoke-InChildPwsh "Invoke-ServiceAlert -ConfigPath '$($root.Config)' -WhatIf"
            $text | Should -Match 'What if: Performing the operation "Failing 1/3, waiting" on target "production/api"'
        }

        It 'shows what it saw, did and why at 80 and 120 columns, and declares at the threshold' {
            $decisions = foreach ($i in 1..3) { Invoke-ServiceAlert -ConfigPath $root.Config }
            $decisions[2].Decision | Should -Match '^Declared INC-\d{8}-\d{3} P1$'
            foreach ($width in 80, 120) {
                $text = Get-RenderedView $decisions -Width $width
                $text | Should -Match 'Service\s+Streak\s+Action\s+Decision'
                $text | Should -Match 'production/api\s+fail 2/3\s+Waiting\s+Failing 2/3, waiting'
                $text | Should -Match 'fail 3/3\s+Declared\s+Declared INC-'
                ($text -split "`r?`n" | Where-Object { $_.TrimEnd().Length -gt $width }) | Should -BeNullOrEmpty
            }
            $stub.Requests.Count | Should -Be 1
            "$($stub.Requests[0].Body)" | Should -Match '"kind":"Initial"'
            $timeline = Get-IncidentTimeline -ConfigPath $root.Config -Incident $decisions[2].IncidentId
            $timeline.Actor | Sort-Object -Unique | Should -Be "alerting@$([Environment]::MachineName)"
            # The initial update was sent by this command, and its entry says so (it once said Send-IncidentUpdate).
            $update = @($timeline | Where-Object Kind -EQ 'update')
            $update.Count | Should -Be 1
            $update[0].Cmdlet | Should -Be 'Invoke-ServiceAlert'
            $timeline.Cmdlet | Sort-Object -Unique | Should -Be 'Invoke-ServiceAlert'
        }
    }

    # Every phase the rules (3 failures declare, 2 successes recover) distinguish, each in its own process: healthy before;
    # failing below the threshold, declaring at it and staying down past it; recovering, recovered, and staying
    # monitored; failing below the threshold while monitored; healthy again after that.
    It 'the scheduled example, 15 separate runs through healthy, 5 failures, healthy, 2 failures, healthy: one incident, one initial and one recovery update' {
        $codes = @(200) * 2 + @(503) * 5 + @(200) * 3 + @(503) * 2 + @(200) * 3
        $health = Start-ScriptedHealth $codes
        $stub = Start-ProviderStub
        $root = New-AlertRoot $health.Url $stub.Url
        try {
            $log = foreach ($run in 1..$codes.Count) {
                $r = Invoke-ScheduledRound $root.Config
                $r.ExitCode | Should -Be 0 -Because "run $run is a normal round: $($r.Text)"
                $r.Text
            }
            $health.State.Served | Should -Be $codes.Count
            $incidents = @(Get-Incident -ConfigPath $root.Config)
            $incidents.Count | Should -Be 1
            $incidents[0].Status | Should -Be 'Monitoring'
            $kinds = $stub.Requests | ForEach-Object { ($_.Body | ConvertFrom-Json).kind + '/' + ($_.Body | ConvertFrom-Json).status }
            $kinds | Should -Be @('Initial/Investigating', 'Update/Monitoring')
            ($log -join "`n") | Should -Match 'Declared INC-\d{8}-\d{3} P1'
            ($log -join "`n") | Should -Match 'Recovered 2/2, set Monitoring'
            ($log -join "`n") | Should -Match 'Failing 2/3, waiting'
            ($log -join "`n") | Should -Not -Match 'CANARYpesterAlertT0k3n'
            $note = Get-IncidentTimeline -ConfigPath $root.Config -Incident $incidents[0].Id | Where-Object Kind -EQ 'note'
            "$($note.Result)" | Should -Match 'The outage lasted'
        }
        finally { Stop-ScriptedHealth $health; Stop-ProviderStub $stub; Remove-TestRoot $root }
    }

    It 'the scheduled example on the team store, 8 separate runs through 4 failures and recovery: one incident, one initial and one recovery update' -Skip:$skipPg {
        $codes = @(200) + @(503) * 4 + @(200) * 3
        $health = Start-ScriptedHealth $codes
        $stub = Start-ProviderStub
        $root = New-AlertRoot $health.Url $stub.Url
        $schema = 'alert_pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $env:IO_ALERT_TEAM_STORE = $env:INCIDENTOPS_TEST_PG
        try {
            $yaml = (Get-Content -Raw $root.Config) -replace '(?m)^store:\r?\n  path: (.*)$', "store:`n  kind: postgres`n  connectionString: env:IO_ALERT_TEAM_STORE`n  schema: $schema`n  path: `$1"
            Set-Content -Path $root.Config -Value $yaml
            (Initialize-IncidentStore -ConfigPath $root.Config -Confirm:$false).SchemaVersion | Should -Be 2
            $log = foreach ($run in 1..8) {
                $r = Invoke-ScheduledRound $root.Config
                $r.ExitCode | Should -Be 0 -Because "run $run is a normal round: $($r.Text)"
                $r.Text
            }
            ($log -join "`n") | Should -Not -Match 'AlertingStateStoreNotAvailable'
            ($log -join "`n") | Should -Match 'Declared INC-\d{8}-\d{3} P1'
            ($log -join "`n") | Should -Match 'Recovered 2/2, set Monitoring'
            $incidents = @(Get-Incident -ConfigPath $root.Config)
            $incidents.Count | Should -Be 1
            $incidents[0].IncidentStore | Should -Match "#$schema`$"
            $incidents[0].Status | Should -Be 'Monitoring'
            $kinds = $stub.Requests | ForEach-Object { ($_.Body | ConvertFrom-Json).kind + '/' + ($_.Body | ConvertFrom-Json).status }
            $kinds | Should -Be @('Initial/Investigating', 'Update/Monitoring')
            # The state is in the team store's table, not in the local folder.
            Invoke-TestPsql "SELECT state->>'phase' FROM $schema.alert_state WHERE service = 'production/api'" | Should -Not -BeNullOrEmpty
            Test-Path (Join-Path $root.Store 'alerting') | Should -BeFalse
        }
        finally {
            Invoke-TestPsql "SET client_min_messages TO warning; DROP SCHEMA IF EXISTS $schema CASCADE" | Out-Null
            Remove-Item Env:IO_ALERT_TEAM_STORE -ErrorAction SilentlyContinue
            Stop-ScriptedHealth $health; Stop-ProviderStub $stub; Remove-TestRoot $root
        }
    }

    It 'the scheduled example exits 1 when the round fails (<Case>), and 0 when a service is only down' -TestCases @(
        @{ Case = 'store unreachable'; Break = 'store'; ErrorId = 'Alerting round failed \(AlertingStoreUnavailable,IncidentOps.Commands.InvokeServiceAlertCommand\): The incident store .* cannot be opened' }
        @{ Case = 'configuration invalid'; Break = 'config'; ErrorId = '(?s)Alerting round failed \(ConfigInvalid,IncidentOps.Commands.InvokeServiceAlertCommand\).*AlertingThresholdInvalid' }
    ) {
        $health = Start-ScriptedHealth
        $stub = Start-ProviderStub
        $root = New-AlertRoot $health.Url $stub.Url
        try {
            Invoke-RestMethod "$($health.Url)/set/503" | Out-Null
            $ok = Invoke-ScheduledRound $root.Config
            $ok.ExitCode | Should -Be 0 -Because $ok.Text
            $ok.Text | Should -Match 'Failing 1/3, waiting'
            if ($Break -eq 'store') {
                Remove-Item -Recurse -Force $root.Store
                Set-Content -Path $root.Store -Value 'not a folder'
            }
            else { (Get-Content -Raw $root.Config) -replace 'failureThreshold: 3', 'failureThreshold: 0' | Set-Content -Path $root.Config }
            $failed = Invoke-ScheduledRound $root.Config
            $failed.ExitCode | Should -Be 1 -Because $failed.Text
            $failed.Text | Should -Match $ErrorId
        }
        finally { Stop-ScriptedHealth $health; Stop-ProviderStub $stub; Remove-TestRoot $root }
    }

    It 'Watch-ServiceHealth -Alert applies the same rules while watching: one incident, one initial update' {
        $health = Start-ScriptedHealth
        $stub = Start-ProviderStub
        $root = New-AlertRoot $health.Url $stub.Url "failureThreshold: 2`n  successThreshold: 2`n  severity: P1"
        try {
            Invoke-RestMethod "$($health.Url)/set/503" | Out-Null
            $out = Watch-ServiceHealth -ConfigPath $root.Config -Service production/api -IntervalSec 0.1 -DurationSec 1.5 -Alert
            $decisions = @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'IncidentOps.Alerting.AlertDecision' })
            $decisions.Count | Should -BeGreaterThan 3
            @($decisions | Where-Object Action -EQ 'Declared').Count | Should -Be 1
            @(Get-Incident -ConfigPath $root.Config).Count | Should -Be 1
            $stub.Requests.Count | Should -Be 1
            $update = @(Get-IncidentTimeline -ConfigPath $root.Config -Incident (Get-Incident -ConfigPath $root.Config).Id | Where-Object Kind -EQ 'update')
            $update.Cmdlet | Should -Be 'Watch-ServiceHealth'
            $preview = Watch-ServiceHealth -ConfigPath $root.Config -Service production/api -IntervalSec 0.1 -DurationSec 0.5 -Alert -WhatIf |
                Where-Object { $_.PSObject.TypeNames[0] -eq 'IncidentOps.Alerting.AlertDecision' }
            $preview | ForEach-Object { $_.WhatIf | Should -BeTrue }
            $stub.Requests.Count | Should -Be 1
        }
        finally { Stop-ScriptedHealth $health; Stop-ProviderStub $stub; Remove-TestRoot $root }
    }
}
