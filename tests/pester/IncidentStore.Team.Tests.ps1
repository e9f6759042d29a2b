#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The PostgreSQL team store under real concurrency (issue 13): several pwsh processes, as several responders and
# automation hosts would run them, against one store in the test PostgreSQL. Nothing is lost, nothing is done twice.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:skipPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:module = Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1'
    if ($env:INCIDENTOPS_TEST_PG) {
        $script:db = New-TestPgDatabase 'team'
        $env:IO_TEAM_STORE = Get-PgTestConnectionString $script:db
    }

    # One responder's configuration: the shared store, their own local folder. $Extra adds YAML (channels, routing).
    function New-TeamConfig([string] $Who, [string] $Extra = '') {
        $dir = Join-Path $script:root.Dir $Who
        New-Item -ItemType Directory -Path $dir -Force | Out-Null
        $path = Join-Path $dir 'incidentops.yml'
        Set-Content -Path $path -Value ("store:`n  kind: postgres`n  path: $dir`n  connectionString: env:IO_TEAM_STORE`n  schema: team`n" + $Extra)
        $path
    }

    # Starts a pwsh that imports the module, runs $Warm, waits for $Go to exist (so all start together), then runs $Work.
    function Start-StoreChild([string] $Warm, [string] $Work, [string] $Go) {
        $exe = [Environment]::ProcessPath
        $psi = [System.Diagnostics.ProcessStartInfo]::new($exe)
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        $script = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; Import-Module '$script:module'; $Warm; " +
            "while (-not (Test-Path '$Go')) { Start-Sleep -Milliseconds 10 }; $Work"
        foreach ($a in '-NoLogo', '-NoProfile', '-NonInteractive', '-Command', $script) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        # A killed pwsh leaves its IPC pipes (CoreFxPipe_PSHost.*, dotnet-diagnostic-*) in its temp folder: give it a listed one.
        $psi.Environment['TMPDIR'] = New-TestTempDir 'io-child'
        $p = [System.Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Process = $p; Output = $p.StandardOutput.ReadToEndAsync(); Error = $p.StandardError.ReadToEndAsync() }
    }

    function Wait-StoreChild($Children, [int] $Seconds = 120) {
        foreach ($c in $Children) {
            if (-not $c.Process.WaitForExit($Seconds * 1000)) { $c.Process.Kill($true); throw "a child pwsh did not finish within $Seconds s" }
            $c.Process.WaitForExit()
            [pscustomobject]@{ ExitCode = $c.Process.ExitCode; Output = $c.Output.Result; Error = $c.Error.Result }
        }
    }

    # A provider stub that answers 400 while $State.Fail is set and 200 after, and counts requests by Idempotency-Key.
    function Start-CountingStub {
        # A started listener on a free port (New-TestHttpListener of Common.ps1 retries with a fresh port and listener
        # when another process took the probed port before Start).
        $http = New-TestHttpListener
        $listener = $http.Listener
        $port = ([uri]$http.Base).Port
        $state = [hashtable]::Synchronized(@{ Fail = $true; Keys = [System.Collections.ArrayList]::Synchronized([System.Collections.ArrayList]::new()) })
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
            param($listener, $state)
            while ($listener.IsListening) {
                try { $ctx = $listener.GetContext() } catch { break }
                $null = [IO.StreamReader]::new($ctx.Request.InputStream).ReadToEnd()
                if (-not $state.Fail) { $null = $state.Keys.Add($ctx.Request.Headers['Idempotency-Key']) }
                $ctx.Response.StatusCode = if ($state.Fail) { 400 } else { 200 }
                $bytes = [Text.Encoding]::UTF8.GetBytes('{"ok":true}')
                $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length)
                $ctx.Response.Close()
            }
        }).AddArgument($listener).AddArgument($state)
        $handle = $ps.BeginInvoke()
        [pscustomobject]@{ Url = "http://127.0.0.1:$port"; Listener = $listener; PowerShell = $ps; Handle = $handle; State = $state }
    }

    if ($env:INCIDENTOPS_TEST_PG) {
        $script:cfg = New-TeamConfig 'lead'
        Initialize-IncidentStore -ConfigPath $script:cfg -Confirm:$false | Out-Null
    }
}

AfterAll {
    if ($script:db) { Remove-TestPgDatabase $script:db }
    Remove-Item Env:IO_TEAM_STORE -ErrorAction SilentlyContinue
    Exit-IsolatedIncidentOps $script:root
}

Describe 'The PostgreSQL team store under concurrent pwsh processes' {
    It '8 processes x 250 appends keep all 2,000 entries in one total order that every reader sees' -Skip:$skipPg {
        $incident = New-Incident -Title 'Many writers' -Severity P2 -ConfigPath $script:cfg
        $go = Join-Path $script:root.Dir 'go-appends'
        $children = foreach ($w in 1..8) {
            $c = New-TeamConfig "writer$w"
            Start-StoreChild "`$null = Get-Incident -Incident $($incident.Id) -ConfigPath '$c'" `
                "foreach (`$n in 1..250) { `$null = Add-IncidentNote -Incident $($incident.Id) -Text ""w$w-`$n"" -ConfigPath '$c' }" $go
        }
        New-Item -ItemType File -Path $go | Out-Null
        $results = Wait-StoreChild $children 300
        foreach ($r in $results) { $r.ExitCode | Should -Be 0 -Because $r.Error }

        $first = Get-IncidentTimeline -Incident $incident.Id -ConfigPath $script:cfg
        $notes = @($first | Where-Object Kind -eq 'note')
        $notes.Count | Should -Be 2000
        @($notes.Result | Sort-Object -Unique).Count | Should -Be 2000
        @($first.Sequence | Sort-Object -Unique).Count | Should -Be $first.Count
        # Each writer's notes appear in the order it wrote them.
        foreach ($w in 1..8) { @($notes | Where-Object Result -like "w$w-*").Result | Should -Be @(1..250 | ForEach-Object { "w$w-$_" }) }
        # Another reader, in another process, sees the very same order.
        $other = Invoke-InChildPwsh "(Get-IncidentTimeline -Incident $($incident.Id) -ConfigPath '$(New-TeamConfig 'reader')').Sequence -join ','"
        $other.Text.Trim() | Should -Be ($first.Sequence -join ',')
    }

    It 'a note on a resolved incident in the team store warns, lands once with the next sequence and the writer, and an unknown id is IncidentNotFound' -Skip:$skipPg {
        $incident = New-Incident -Title 'Resolved then noted' -Severity P2 -ConfigPath $script:cfg
        Close-Incident -Incident $incident.Id -Resolution 'rolled back' -Force -Confirm:$false -ConfigPath $script:cfg | Out-Null
        $before = @(Get-IncidentTimeline -Incident $incident.Id -ConfigPath $script:cfg)
        $note = Add-IncidentNote -Incident $incident.Id -Text 'customer confirmed' -ConfigPath $script:cfg -WarningVariable warned 3>$null
        @($warned | Where-Object { "$_" -like "$($incident.Id) is resolved*" }).Count | Should -Be 1
        $note.Sequence | Should -Be ($before[-1].Sequence + 1)
        $after = @(Get-IncidentTimeline -Incident $incident.Id -ConfigPath $script:cfg)
        $after.Count | Should -Be ($before.Count + 1)
        $after[-1].Result | Should -Be 'customer confirmed'
        $after[-1].Sequence | Should -Be $note.Sequence
        $after[-1].Actor | Should -Be $note.Actor
        Add-IncidentNote -Incident 'INC-20000101-001' -Text 'nowhere' -ConfigPath $script:cfg -ErrorVariable failed -ErrorAction SilentlyContinue | Out-Null
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'IncidentNotFound,*'
    }

    It 'two processes declaring 20 incidents each at once get 40 distinct ids' -Skip:$skipPg {
        $go = Join-Path $script:root.Dir 'go-declare'
        $children = foreach ($w in 1..2) {
            $c = New-TeamConfig "declarer$w"
            Start-StoreChild "`$null = Get-Incident -ConfigPath '$c'" `
                "foreach (`$n in 1..20) { (New-Incident -Title ""d$w-`$n"" -Severity P3 -ConfigPath '$c').Id }" $go
        }
        New-Item -ItemType File -Path $go | Out-Null
        $results = Wait-StoreChild $children 180
        foreach ($r in $results) { $r.ExitCode | Should -Be 0 -Because $r.Error }
        $ids = @($results.Output -split "`r?`n" | Where-Object { $_ -match '^INC-' })
        $ids.Count | Should -Be 40
        @($ids | Sort-Object -Unique).Count | Should -Be 40
        $titles = (Get-Incident -ConfigPath $script:cfg | Where-Object Title -like 'd?-*').Title
        @($titles).Count | Should -Be 40
    }

    It 'two processes flushing the same pending updates deliver each update once per channel' -Skip:$skipPg {
        $stub = Start-CountingStub
        try {
            $env:IO_TEAM_HOOK_A = "$($stub.Url)/hooks/a"
            $env:IO_TEAM_HOOK_B = "$($stub.Url)/hooks/b"
            $channels = "channels:`n  hook-a: { type: webhook, url: env:IO_TEAM_HOOK_A }`n  hook-b: { type: webhook, url: env:IO_TEAM_HOOK_B }`nrouting:`n  P2: [hook-a, hook-b]`n"
            $sender = New-TeamConfig 'sender' $channels
            $ids = foreach ($n in 1..3) {
                $i = New-Incident -Title "flush $n" -Severity P2 -ConfigPath $sender
                $null = Send-IncidentUpdate -Incident $i.Id -Message "update $n" -ConfigPath $sender -Confirm:$false -WarningAction SilentlyContinue
                $i.Id
            }
            $pending = @(foreach ($id in $ids) { Get-IncidentUpdate -Incident $id -Pending -ConfigPath $sender })
            $pending.Count | Should -Be 3
            $stub.State.Fail = $false
            $go = Join-Path $script:root.Dir 'go-flush'
            $children = foreach ($w in 1..2) {
                $c = New-TeamConfig "flusher$w" $channels
                Start-StoreChild "`$null = Get-Incident -ConfigPath '$c'" "`$null = Send-IncidentUpdate -Pending -ConfigPath '$c' -Confirm:`$false" $go
            }
            New-Item -ItemType File -Path $go | Out-Null
            foreach ($r in (Wait-StoreChild $children 180)) { $r.ExitCode | Should -Be 0 -Because $r.Error }
            $expected = foreach ($u in $pending) { foreach ($ch in 'hook-a', 'hook-b') { "$($u.UpdateId)-$ch" } }
            @($stub.State.Keys | Sort-Object) | Should -Be @($expected | Sort-Object)
            foreach ($id in $ids) { Get-IncidentUpdate -Incident $id -Pending -ConfigPath $sender | Should -BeNullOrEmpty }
        }
        finally {
            Stop-ProviderStub $stub
            Remove-Item Env:IO_TEAM_HOOK_A, Env:IO_TEAM_HOOK_B -ErrorAction SilentlyContinue
        }
    }

    It 'kill -9 of a writer in the middle of appends loses no entry it had acknowledged' -Skip:$skipPg {
        $incident = New-Incident -Title 'Killed writer' -Severity P2 -ConfigPath $script:cfg
        $acks = Join-Path $script:root.Dir 'acks.txt'
        $go = Join-Path $script:root.Dir 'go-kill'
        $c = New-TeamConfig 'victim'
        $child = Start-StoreChild "`$null = Get-Incident -Incident $($incident.Id) -ConfigPath '$c'" `
            "foreach (`$n in 1..100000) { `$null = Add-IncidentNote -Incident $($incident.Id) -Text ""k-`$n"" -ConfigPath '$c'; [IO.File]::AppendAllText('$acks', ""k-`$n``n"") }" $go
        New-Item -ItemType File -Path $go | Out-Null
        $deadline = [DateTime]::UtcNow.AddSeconds(90)
        while (((Test-Path $acks) -and @(Get-Content $acks).Count -ge 40) -eq $false -and [DateTime]::UtcNow -lt $deadline -and -not $child.Process.HasExited) { Start-Sleep -Milliseconds 50 }
        $child.Process.HasExited | Should -BeFalse -Because $(if ($child.Process.HasExited) { $child.Error.Result })
        $child.Process.Kill()   # SIGKILL: no cleanup runs
        $child.Process.WaitForExit()
        $acknowledged = @(Get-Content $acks | Where-Object { $_ })
        $acknowledged.Count | Should -BeGreaterOrEqual 40
        $stored = (Get-IncidentTimeline -Incident $incident.Id -ConfigPath $script:cfg | Where-Object Kind -eq 'note').Result
        foreach ($a in $acknowledged) { $stored | Should -Contain $a }
        @($stored | Sort-Object -Unique).Count | Should -Be @($stored).Count
    }

    It 'a scheduled script whose configuration spells the store address differently records its change on the active incident' -Skip:$skipPg {
        # One person, one local folder; two configuration files: the interactive one (Host=127.0.0.1;...) and a
        # scheduled script's own (a postgres:// URL with localhost). Both reach one database, so they share one active incident.
        $dir = Join-Path $script:root.Dir 'one-person'
        New-Item -ItemType Directory -Path $dir -Force | Out-Null
        $part = @{}
        foreach ($kv in $env:IO_TEAM_STORE -split ';' | Where-Object { $_ -match '=' }) { $k, $v = $kv -split '=', 2; $part[$k.Trim()] = $v.Trim() }
        $env:IO_TEAM_STORE_URL = "postgres://$($part.Username)@localhost:$($part.Port)/$($part.Database)"
        $interactive = Join-Path $dir 'interactive.yml'
        $scheduled = Join-Path $dir 'scheduled.yml'
        Set-Content -Path $interactive -Value "store:`n  kind: postgres`n  path: $dir`n  connectionString: env:IO_TEAM_STORE`n  schema: team`n"
        Set-Content -Path $scheduled -Value "store:`n  kind: postgres`n  path: $dir`n  connectionString: env:IO_TEAM_STORE_URL`n  schema: team`n"
        try {
            $incident = New-Incident -Title 'Checkout errors' -Severity P1 -ConfigPath $interactive
            $child = Invoke-InChildPwsh "(Add-IncidentNote -Text 'cron: cache warmed' -ConfigPath '$scheduled').IncidentId"
            $child.ExitCode | Should -Be 0 -Because $child.Text
            $child.Text.Trim() | Should -Be $incident.Id
            @(Get-IncidentTimeline -Incident $incident.Id -ConfigPath $interactive | Where-Object Result -EQ 'cron: cache warmed') | Should -HaveCount 1
        }
        finally { Remove-Item Env:IO_TEAM_STORE_URL -ErrorAction SilentlyContinue }
    }

    It 'a change after a teammate closed the active incident says it was recorded on no timeline' -Skip:$skipPg {
        $http = Start-TestHttpServer @{ '/stop' = @{ Code = 200; Body = 'stopped' } }
        try {
            $service = "environments:`n  production:`n    services:`n      api:`n        baseUrl: $($http.Base)`n        actions:`n          stop: { url: /stop }`n"
            $me = New-TeamConfig 'me-closed' $service
            $mate = New-TeamConfig 'mate-closed'
            $incident = New-Incident -Title 'Closed by a teammate' -Severity P2 -ConfigPath $me
            Close-Incident -Incident $incident.Id -Resolution 'rolled back' -Confirm:$false -ConfigPath $mate | Out-Null
            $r = Invoke-ServiceAction -Service production/api -Name stop -Force -ConfigPath $me -WarningVariable warned 3>$null
            $r.Succeeded | Should -BeTrue
            $text = @($warned | ForEach-Object { "$_" }) -join "`n"
            $text | Should -Match ([regex]::Escape("$($incident.Id), the active incident, was resolved"))
            $text | Should -Match 'was not recorded on any timeline'
            @(Get-IncidentTimeline -Incident $incident.Id -ConfigPath $me | Where-Object Cmdlet -EQ 'Invoke-ServiceAction') | Should -HaveCount 0
        }
        finally { Stop-TestServer $http }
    }
}
