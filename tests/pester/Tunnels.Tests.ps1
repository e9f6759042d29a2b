#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Tunnels to private databases (seed 003: kubectl port-forward svc/postgres; seed 000: flyctl proxy): a service's
# postgres.tunnel / redis.tunnel, opened by the Pg* and Redis* cmdlets in the real pwsh, against stand-in kubectl and
# flyctl (tests/tunnel/tunnel_standin.py) that log their argv and really forward to the PostgreSQL and Redis named by
# INCIDENTOPS_TEST_PG and INCIDENTOPS_TEST_REDIS. The configured hosts do not resolve: an answer came through the tunnel.
# The last tests start a child pwsh and end it (exit, kill -9) while it holds a tunnel: the tunnel must not outlive it.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $noServers = (Test-SkipWithout 'INCIDENTOPS_TEST_PG') -or (Test-SkipWithout 'INCIDENTOPS_TEST_REDIS') -or $IsWindows
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
    $pg = @{}
    foreach ($pair in $env:INCIDENTOPS_TEST_PG -split ';' | Where-Object { $_ -match '=' }) { $k, $v = $pair -split '=', 2; $pg[$k.Trim()] = $v.Trim() }
    $routes = "5432=$($pg['Host']):$($pg['Port']),6379=$env:INCIDENTOPS_TEST_REDIS"
    $root = New-TestRoot
    $log = Join-Path $root.Dir 'tunnel.jsonl'
    $standin = Join-Path $PSScriptRoot '../tunnel/tunnel_standin.py'
    foreach ($tool in 'kubectl', 'flyctl', 'ssh') {
        $path = Join-Path $root.Dir $tool
        Set-Content -Path $path -NoNewline -Value "#!/bin/sh`nexport TUNNEL_STANDIN_LOG='$log' TUNNEL_STANDIN_ROUTES='$routes'`nexec python3 '$standin' $tool `"`$@`"`n"
        chmod +x $path
    }
    $user = $pg['Username']; $database = $pg['Database']
    Set-Content -Path $root.Config -Value @"
store: { path: $($root.Store) }
tools: { kubectl: $(Join-Path $root.Dir 'kubectl'), flyctl: $(Join-Path $root.Dir 'flyctl'), ssh: $(Join-Path $root.Dir 'ssh') }
environments:
  production:
    services:
      marketing:
        platform: kubernetes
        context: production
        namespace: akaind-platform
        deployment: marketing
        postgres:
          connectionString: postgres://$user@postgres.akaind-platform.svc:5432/$database
          tunnel: { kubectl: svc/postgres }
        redis:
          url: redis://redis.akaind-platform.svc:6379/0
          tunnel: { kubectl: svc/redis }
      api:
        platform: fly
        app: ai-affiliate-empire
        postgres:
          connectionString: postgres://$user@ai-affiliate-empire-db.internal:5432/$database
          tunnel: { fly: ai-affiliate-empire-db }
      fastapi:
        postgres:
          connectionString: postgres://$user@db.internal:5432/$database
          tunnel: { ssh: deploy@squat.example.com }
      routed:
        postgres:
          connectionString: postgres://$user@postgres.akaind-platform.svc:5432/$database
          tunnel: { kubectl: svc/postgres, kubeconfig: $(Join-Path $root.Dir 'kubeconfig') }
"@
    # The kubeconfig of production/routed, whose tunnel names no context: 'kubectl config use-context' is a rewrite of it.
    $kubeconfig = Join-Path $root.Dir 'kubeconfig'
    function Set-KubeContext([string] $Current) {
        Set-Content -Path $kubeconfig -Value @"
apiVersion: v1
kind: Config
current-context: $Current
clusters:
- { name: blue-cluster, cluster: { server: 'https://127.0.0.1:1' } }
- { name: green-cluster, cluster: { server: 'https://127.0.0.1:2' } }
users:
- { name: ops, user: { token: not-a-real-token } }
contexts:
- { name: blue, context: { cluster: blue-cluster, user: ops, namespace: akaind-platform } }
- { name: green, context: { cluster: green-cluster, user: ops, namespace: akaind-platform } }
"@
    }
    Set-KubeContext blue

    function Get-TunnelEvent {
        if (-not (Test-Path $log)) { return @() }
        @(Get-Content $log | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json })
    }
    function Test-Running([int] $ProcessId) {
        $stat = "/proc/$ProcessId/stat"
        if (-not (Test-Path $stat)) { return $false }
        $text = try { Get-Content -Raw $stat -ErrorAction Stop } catch { return $false }
        $state = $text.Substring($text.LastIndexOf(')') + 2).Split(' ')[0]
        $state -notin 'Z', 'X'
    }
    # "Does not hang": the process is gone within 15 s (a kill is at once; a loaded machine may be slow to reap).
    function Wait-Gone([int] $ProcessId) {
        $until = [DateTime]::UtcNow.AddSeconds(15)
        while ((Test-Running $ProcessId) -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 50 }
        -not (Test-Running $ProcessId)
    }
    # A child pwsh that imports the module and runs $Command; returns the process.
    function Start-ChildPwsh([string] $Command) {
        $psi = [Diagnostics.ProcessStartInfo]::new((Join-Path $PSHOME 'pwsh'))
        foreach ($a in '-NoLogo', '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$((Resolve-Path (Join-Path $PSScriptRoot '../../out/IncidentOps')).Path)'; $Command") { $psi.ArgumentList.Add($a) }
        $psi.Environment['INCIDENTOPS_CONFIG'] = $root.Config
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        # A killed pwsh leaves its IPC pipes (CoreFxPipe_PSHost.*, dotnet-diagnostic-*) in its temp folder: give it a listed one.
        $psi.Environment['TMPDIR'] = New-TestTempDir 'io-child'
        $p = [Diagnostics.Process]::Start($psi)
        $p | Add-Member -NotePropertyName Output -NotePropertyValue $p.StandardOutput.ReadToEndAsync()
        $p | Add-Member -NotePropertyName Errors -NotePropertyValue $p.StandardError.ReadToEndAsync()
        $p
    }
    # Waits (at most 60 s) until a tunnel for $Target has started and forwarded data; returns its start event.
    function Wait-TunnelInUse([int] $Skip, [string] $Target) {
        $until = [DateTime]::UtcNow.AddSeconds(60)
        while ([DateTime]::UtcNow -lt $until) {
            $events = @(Get-TunnelEvent | Select-Object -Skip $Skip)
            $start = $events | Where-Object { $_.event -eq 'start' -and $_.argv -contains $Target } | Select-Object -First 1
            if ($start -and ($events | Where-Object { $_.event -eq 'forwarded' -and $_.pid -eq $start.pid })) { return $start }
            Start-Sleep -Milliseconds 100
        }
        throw "no tunnel to $Target forwarded data within 60 s"
    }
}

AfterAll { Remove-TestTemp }   # $root, fake CLIs, reply files (Common.ps1)

Describe 'postgres.tunnel and redis.tunnel' -Skip:$noServers {
    It 'Get-PgActivity opens kubectl port-forward with the exact arguments, answers through it and closes it' {
        $skip = @(Get-TunnelEvent).Count
        $own = @(Get-PgActivity -Service production/marketing -ConfigPath $root.Config | Where-Object IsOwnSession)
        $own.Count | Should -Be 1
        $own[0].Server | Should -BeLike 'postgres.akaind-platform.svc:5432/*'
        $start = @(Get-TunnelEvent | Select-Object -Skip $skip | Where-Object event -eq 'start')
        $start.Count | Should -Be 1
        $start[0].tool | Should -Be 'kubectl'
        ($start[0].argv -join ' ') | Should -Match '^--context production --namespace akaind-platform port-forward --address 127\.0\.0\.1 -- svc/postgres :5432$'
        Wait-Gone $start[0].pid | Should -BeTrue -Because 'the tunnel closes when the command is done'
    }

    It 'Get-PgConnectionSummary goes through flyctl proxy to the Fly Postgres app' {
        $skip = @(Get-TunnelEvent).Count
        (Get-PgConnectionSummary -Service production/api -ConfigPath $root.Config).MaxConnections | Should -BeGreaterThan 0
        $start = @(Get-TunnelEvent | Select-Object -Skip $skip | Where-Object event -eq 'start')
        ($start.argv -join ' ') | Should -Match '^proxy 0:5432 --app ai-affiliate-empire-db --bind-addr 127\.0\.0\.1$'
        Wait-Gone $start[0].pid | Should -BeTrue
    }

    It 'Test-RedisConnection answers through kubectl port-forward svc/redis and names the configured endpoint' {
        $r = Test-RedisConnection -Service production/marketing -ConfigPath $root.Config
        $r.Reachable | Should -BeTrue
        $r.Endpoint | Should -Be 'redis.akaind-platform.svc:6379'
    }

    It 'Get-PgActivity | Stop-PgBackend opens one tunnel for the pipeline, and -WhatIf names it' {
        # A typed pid is read before -WhatIf names its session: the checkpointer is a backend the server always has.
        $live = (Get-PgActivity -Service production/marketing -ConfigPath $root.Config -IncludeBackground | Where-Object BackendType -eq 'checkpointer').Pid
        $skip = @(Get-TunnelEvent).Count
        $null = Get-PgActivity -Service production/marketing -State active -ConfigPath $root.Config |
            Where-Object { -not $_.IsOwnSession } | Stop-PgBackend -Service production/marketing -WhatIf -ConfigPath $root.Config
        @(Get-TunnelEvent | Select-Object -Skip $skip | Where-Object event -eq 'start').Count | Should -Be 1
        # What if: goes to the host, so a child pwsh prints it.
        $child = Start-ChildPwsh "Stop-PgBackend -Service production/marketing -Pid $live -WhatIf"
        $child.WaitForExit(60000) | Should -BeTrue
        $preview = $child.Output.Result
        $preview | Should -Match "What if: Terminate backend $live \(.*checkpointer\) on postgres\.akaind-platform\.svc:5432/"
        # -WhatIf reads the session through one tunnel of its own (to name it), and closes it with the command.
        $starts = @(Get-TunnelEvent | Select-Object -Skip $skip | Where-Object event -eq 'start')
        $starts.Count | Should -Be 2
        Wait-Gone $starts[1].pid | Should -BeTrue
        $preview | Should -Match ([regex]::Escape("through the tunnel kubectl --context production --namespace akaind-platform port-forward --address 127.0.0.1 -- svc/postgres :5432"))
    }

    It 'does not send anything to another process that took the tunnel''s port before ssh bound it (TunnelPortTaken)' {
        # port_squatter.py takes the local port IncidentOps picked for ssh -L while the ssh stand-in still "logs in".
        $skip = @(Get-TunnelEvent).Count
        $psi = [Diagnostics.ProcessStartInfo]::new('python3')
        foreach ($a in (Join-Path $PSScriptRoot '../tunnel/port_squatter.py'), $log, "$skip", 'squat.example.com') { $psi.ArgumentList.Add($a) }
        $squatter = [Diagnostics.Process]::Start($psi)
        try {
            $r = Get-PgActivity -Service production/fastapi -TimeoutSec 20 -ConfigPath $root.Config -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'TunnelPortTaken,IncidentOps.Commands.GetPgActivityCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
            $events = @(Get-TunnelEvent | Select-Object -Skip $skip)
            $bound = @($events | Where-Object event -eq 'squatter-bound')
            $bound.Count | Should -Be 1
            "$($err[0])" | Should -Match ([regex]::Escape("another process holds its local port 127.0.0.1:$($bound[0].port)"))
            "$($err[0])" | Should -Match 'Run the command again'
            @($events | Where-Object { $_.event -in 'squatter-accept', 'squatter-bytes' }).Count | Should -Be 0 -Because 'nothing is sent to a port the tunnel does not own'
            $start = @($events | Where-Object { $_.event -eq 'start' -and $_.tool -eq 'ssh' })
            ($start[0].argv -join ' ') | Should -Match '^-N -o ExitOnForwardFailure=yes -o ControlMaster=no -o ControlPath=none -o BatchMode=yes -L 127\.0\.0\.1:\d+:db\.internal:5432 -- deploy@squat\.example\.com$'
            Wait-Gone $start[0].pid | Should -BeTrue -Because 'ssh is stopped'
        }
        finally {
            if (-not $squatter.HasExited) { $squatter.Kill($true) }
        }
    }

    It 'does not stop through the tunnel a backend read directly from a server with the same host:port' {
        # Read with -ConnectionString from a server that calls itself postgres.akaind-platform.svc:5432 too (no Service):
        # the same host:port/database, but not the database behind the tunnel.
        $psi = [Diagnostics.ProcessStartInfo]::new('psql')
        foreach ($a in '-X', '-q', '-h', $pg['Host'], '-p', $pg['Port'], '-U', $user, '-d', $database, '-c', 'SELECT pg_sleep(30)') { $psi.ArgumentList.Add($a) }
        $psi.Environment['PGAPPNAME'] = 'pester-route'
        $psi.RedirectStandardOutput = $true
        $session = [Diagnostics.Process]::Start($psi)
        try {
            $until = [DateTime]::UtcNow.AddSeconds(10)
            while (-not ($listed = Get-PgActivity -ConnectionString $env:INCIDENTOPS_TEST_PG -ApplicationName pester-route -State active) -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }
            $direct = [pscustomobject]@{ Pid = $listed.Pid; Server = "postgres.akaind-platform.svc:5432/$database"; Service = $null }
            $r = $direct | Stop-PgBackend -Service production/marketing -ConfigPath $root.Config -IncludeSuperuser -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Be 'PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand'
            "$($err[0])" | Should -Match 'tunnel'
            @(Get-PgActivity -ConnectionString $env:INCIDENTOPS_TEST_PG -ApplicationName pester-route -State active).Count | Should -Be 1
        }
        finally {
            if (-not $session.HasExited) { $session.Kill($true) }
            $null = Get-PgActivity -ConnectionString $env:INCIDENTOPS_TEST_PG -ApplicationName pester-route | Stop-PgBackend -ConnectionString $env:INCIDENTOPS_TEST_PG -IncludeSuperuser -Force
        }
    }

    It 'does not stop a backend read in another kubectl context than the current one (the other cluster''s database)' {
        # The stand-in kubectl forwards every context to the same test server: without the check, the stop would succeed.
        $psi = [Diagnostics.ProcessStartInfo]::new('psql')
        foreach ($a in '-X', '-q', '-h', $pg['Host'], '-p', $pg['Port'], '-U', $user, '-d', $database, '-c', 'SELECT pg_sleep(30)') { $psi.ArgumentList.Add($a) }
        $psi.Environment['PGAPPNAME'] = 'pester-context'
        $psi.RedirectStandardOutput = $true
        $session = [Diagnostics.Process]::Start($psi)
        try {
            Set-KubeContext blue
            $until = [DateTime]::UtcNow.AddSeconds(10)
            while (-not ($listed = Get-PgActivity -Service production/routed -ApplicationName pester-context -State active -ConfigPath $root.Config) -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 100 }
            @($listed).Count | Should -Be 1
            $listed.Route | Should -Be "kubectl context 'blue' (kubeconfig '$([IO.Path]::GetFullPath($kubeconfig))', namespace 'akaind-platform')"
            # The default table view is unchanged: Route is not a column.
            (Get-RenderedView $listed) | Should -Not -Match 'kubectl context'

            Set-KubeContext green   # kubectl config use-context green
            $r = $listed | Stop-PgBackend -Service production/routed -ConfigPath $root.Config -IncludeSuperuser -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand'
            "$($err[0])" | Should -Match ([regex]::Escape("read through kubectl context 'blue'"))
            "$($err[0])" | Should -Match ([regex]::Escape("connects through kubectl context 'green'"))
            "$($err[0])" | Should -Match ([regex]::Escape('Get-PgActivity -Service production/routed'))
            $session.HasExited | Should -BeFalse -Because 'the session read in blue is not stopped through green'

            # Read again in the current context: that record is stopped.
            $r = Get-PgActivity -Service production/routed -ApplicationName pester-context -State active -ConfigPath $root.Config |
                Stop-PgBackend -Service production/routed -ConfigPath $root.Config -IncludeSuperuser -Force
            $r.Succeeded | Should -BeTrue
            $session.WaitForExit(10000) | Should -BeTrue
        }
        finally {
            if (-not $session.HasExited) { $session.Kill($true) }
            Set-KubeContext blue
        }
    }

    It 'the tunnel is killed when pwsh exits in the middle of a pipeline that holds it' {
        $skip = @(Get-TunnelEvent).Count
        $child = Start-ChildPwsh 'Get-PgActivity -Service production/marketing | Select-Object -First 1 | ForEach-Object { Start-Sleep -Milliseconds 500; [Environment]::Exit(3) }'
        $start = Wait-TunnelInUse $skip 'svc/postgres'
        $child.WaitForExit(60000) | Should -BeTrue
        $child.ExitCode | Should -Be 3
        Wait-Gone $start.pid | Should -BeTrue -Because 'ProcessExit closes every tunnel'
    }

    It 'the tunnel dies with pwsh when pwsh is killed with SIGKILL (no exit hooks run)' {
        $skip = @(Get-TunnelEvent).Count
        $child = Start-ChildPwsh 'Get-PgActivity -Service production/marketing | ForEach-Object { Start-Sleep -Seconds 120 }'
        $start = Wait-TunnelInUse $skip 'svc/postgres'
        Test-Running $start.pid | Should -BeTrue
        kill -9 $child.Id
        $child.WaitForExit(10000) | Should -BeTrue
        Wait-Gone $start.pid | Should -BeTrue -Because 'the watchdog kills the CLI when the pipe from pwsh closes'
    }
}
