#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Runs every script in examples/ in a fresh pwsh (the one running this file: the pinned 7.6.9 under
# build.ps1 -Task Test), as a user would, against loopback stand-ins that this file wires in; the examples
# themselves only name services and parameters:
#   - fake flyctl, doctl, kubectl, systemctl, journalctl and ssh first on PATH, replaying the recorded outputs in
#     tests/IncidentOps.Tests/Platforms/<Provider>/Fixtures and logging their argv (ssh runs its command locally);
#   - a loopback HTTP and HTTPS server (standin_server.py) for health endpoints and notification providers, and
#     dnsmasq on a loopback port as the "public" resolver;
#   - the real PostgreSQL and Redis named by INCIDENTOPS_TEST_PG and INCIDENTOPS_TEST_REDIS;
#   - an incidentops.yml with examples/incidentops.yml's services, pointing at all of that, and a store of its own.
# A script fails its test when it exits non-zero, writes an error record (stderr), leaves a stack trace, prints
# one of the planted secrets, or does not finish within 3 minutes. INCIDENTOPS_EXAMPLES='4*' runs only some;
# INCIDENTOPS_EXAMPLES_KEEP=<folder> keeps each run's output there.
BeforeDiscovery {
    $examples = Get-ChildItem (Join-Path $PSScriptRoot '../../examples') -Filter '*.ps1' | Sort-Object Name |
        Where-Object { -not $env:INCIDENTOPS_EXAMPLES -or $_.Name -like $env:INCIDENTOPS_EXAMPLES } |   # e.g. '1*' while working on one
        ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } }
}

BeforeAll {
    $repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $fixtures = Join-Path $repoRoot 'tests/IncidentOps.Tests/Platforms'   # <Provider>/Fixtures/NAME
    $pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
    $work = Join-Path ([IO.Path]::GetTempPath()) ('io-examples-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $bin = Join-Path $work 'bin'
    New-Item -ItemType Directory -Path $bin -Force | Out-Null
    $argvLog = Join-Path $work 'argv.log'
    $fastapiDatabaseUrl = 'postgres://fastapi:CANARYfastapiDbPassw0rd@db.internal:5432/fastapi'

    . (Join-Path $PSScriptRoot '../pester/StandInKit.ps1')
    $cli = @{ Bin = $bin; Log = $argvLog }   # one argv log for all the stand-ins, each line after the CLI's name
    function Fixture([string] $Name) { Get-Item (Join-Path $fixtures "*/Fixtures/$Name") }

    New-StandInCli @cli flyctl ([ordered]@{
        "'status -a ai-affiliate-empire-db --json'*" = Fixture 'fly-pg-status.json'
        # fly-status.json with each machine's config.guest (cpus, memory_mb), which Get-AppResourceUsage reads.
        "'status -a '*" = Fixture 'fly-status-usage.json'
        "'releases -a '*" = Fixture 'fly-releases.json'
        "'logs -a '*" = Fixture 'fly-logs.json'
        "'postgres backup list '*" = Fixture 'fly-pg-backups.txt'
        "'secrets list -a '*" = Fixture 'fly-secrets.json'
        # The protective backup examples/40 takes with -Execute fails, as it does when the Postgres app is unhealthy.
        "'postgres backup create '*" = @{ Fail = 'Error: failed to create backup: postgres app ai-affiliate-empire-db has no healthy primary' }
        "'deploy -a '*" = '==> Release v10 created (stand-in)'
        "'ips block '*" = 'Blocked 203.0.113.7 (stand-in)'
    })
    New-StandInCli @cli doctl ([ordered]@{
        "'apps get '*" = Fixture 'do-app.json'
        "'apps list-deployments '*" = Fixture 'do-deployments.json'
        "'apps logs '*" = Fixture 'do-logs.txt'
        "'databases backups '*" = Fixture 'do-database-backups.json'
        "'databases get '*" = Fixture 'do-database.json'
    })
    # The AWS CLI for seed 004's RDS database (aws rds describe-db-instances ...): reads replay, changes are -WhatIf only.
    New-StandInCli @cli aws ([ordered]@{
        "'rds describe-db-instances '*" = Fixture 'aws-rds-describe-db-instances.json'
        "'rds describe-pending-maintenance-actions '*" = Fixture 'aws-rds-pending-maintenance.json'
        "'rds describe-db-snapshots '*" = Fixture 'aws-rds-describe-db-snapshots.json'
    })
    New-StandInCli @cli kubectl ([ordered]@{
        "*'get deployment marketing -o json'*" = Fixture 'k8s-deployment.json'
        "*'get pods -l app=marketing -o json'*" = Fixture 'k8s-pods.json'
        "*'get replicasets -l app=marketing -o json'*" = Fixture 'k8s-replicasets.json'
        "*' logs '*'--follow=true'*" = @{ Stream = Fixture 'k8s-logs.txt' }
        "*' get events '*" = Fixture 'k8s-events.json'
        "*' logs '*" = Fixture 'k8s-logs.txt'
        "*'get --raw /apis/metrics.k8s.io/v1beta1/namespaces/akaind-platform/pods?labelSelector=app%3Dmarketing'" = Fixture 'k8s-pod-metrics.json'
        "*'get nodes pool-a-1 pool-a-2 -o json'" = Fixture 'k8s-nodes.json'
        "*'get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-1'" = Fixture 'k8s-node-metrics-pool-a-1.json'
        "*'get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-2'" = Fixture 'k8s-node-metrics-pool-a-2.json'
        "*' apply -f '*" = 'ingress.networking.k8s.io/marketing configured (stand-in)'
    })
    # The unit's environment carries a database URL with a password (a canary): no example may print it.
    $systemdShow = Join-Path $work 'systemctl-show.txt'
    (Get-Content -Raw (Fixture 'systemctl-show.txt')) -replace '(?m)^Environment=(.*)$', ('Environment=$1 DATABASE_URL=' + $fastapiDatabaseUrl) |
        Set-Content -Path $systemdShow -NoNewline
    New-StandInCli @cli systemctl ([ordered]@{
        "'show fastapi --property=CPUUsageNSec --value'*" = '813045678901'
        "'show fastapi --property=MainPID,'*" = Fixture 'systemctl-show-usage.txt'
        "'show fastapi'*" = Get-Item $systemdShow
    })
    New-StandInCli @cli journalctl ([ordered]@{
        "'-u fastapi '*" = Fixture 'journal.jsonl'
    })
    New-StandInSsh -Bin $bin -Log $argvLog
    # Tunnels (postgres.tunnel, redis.tunnel): kubectl port-forward, flyctl proxy and ssh -L go to tests/tunnel/tunnel_standin.py,
    # which logs its argv and really forwards to the test PostgreSQL and Redis (routed by the remote port).
    $tunnelStandIn = Join-Path $repoRoot 'tests/tunnel/tunnel_standin.py'
    $tunnelLog = Join-Path $work 'tunnel.jsonl'
    foreach ($t in @(@{ Name = 'kubectl'; Case = '*" port-forward "*' }, @{ Name = 'flyctl'; Case = '" proxy "*' }, @{ Name = 'ssh'; Case = '*" -L "*' })) {
        $path = Join-Path $bin $t.Name
        $lines = [Collections.Generic.List[string]](Get-Content $path)
        $lines.Insert(2, "case `" `$* `" in $($t.Case)) exec python3 '$tunnelStandIn' $($t.Name) `"`$@`";; esac")
        Set-Content -Path $path -Value ($lines -join "`n") -NoNewline
    }

    $releases = New-StandInReleases $work   # the fastapi host's release folders and 'current' (seed 004)

    # HTTP and HTTPS (self-signed, for localhost) on loopback, and dnsmasq as the "public" resolver.
    $requestLog = Join-Path $work 'requests.log'
    $web = Start-StandInWeb -Work $work -Script (Join-Path $PSScriptRoot 'standin_server.py') -ScriptArguments $requestLog
    $httpPort = $web.HttpPort; $httpsPort = $web.HttpsPort; $dnsPort = $web.DnsPort

    $http = "http://localhost:$httpPort"
    $https = "https://localhost:$httpsPort"
    $config = Join-Path $work 'incidentops.yml'
    @"
# examples/incidentops.yml's services and channels, on loopback stand-ins (written by tests/examples/Examples.Tests.ps1).
version: 1
environments:
  production:
    services:
      api:
        platform: fly
        app: ai-affiliate-empire
        health:
          - $http/health
          - { url: $http/health/ready, expectStatus: 200 }
          - $http/health/services
        postgres:
          connectionString: env:DATABASE_URL
          fly: ai-affiliate-empire-db
          tunnel: { fly: ai-affiliate-empire-db }
        baseUrl: $http
        actions:
          emergency-stop:
            description: Stop all automated workflows
            url: /api/workflows/emergency-stop
            headers: { Authorization: env:AFFILIATE_ADMIN_TOKEN }
            body: '{"reason":"incident"}'
            timeout: 30s
          block-ip:
            command: [flyctl, ips, block, '{ip}', --app, ai-affiliate-empire]
            parameters: [ip]
            confirmImpact: Medium
      portfolio:
        platform: digitalocean
        appId: env:DO_PRODUCTION_APP_ID
        components: [portfolio-web, image-optimizer, image-worker, monitoring]
        health: [$https/api/health, $https/api/image/health]
        redis: env:REDIS_URL
        postgres:
          digitalOcean: env:DO_DATABASE_ID
      marketing:
        platform: kubernetes
        context: production
        namespace: akaind-platform
        deployment: marketing
        health: [$http/health]
        postgres: { connectionString: env:AKAIND_DATABASE_URL, tunnel: { kubectl: svc/postgres } }
        redis: { url: env:AKAIND_REDIS_URL, tunnel: { kubectl: deploy/redis } }
        actions:
          rate-limit-strict: { apply: $repoRoot/examples/k8s/rate-limit-strict.yaml, confirmImpact: Medium }
          circuit-breaker: { apply: $repoRoot/examples/k8s/circuit-breaker.yaml }
      fastapi:
        platform: systemd
        unit: fastapi
        host: deploy@api-1.example.com
        releases: $releases
        health: [$http/api/health]
        postgres: { connectionString: env:FASTAPI_DATABASE_URL, rds: fastapi-db }
  staging:
    services:
      api:
        platform: fly
        app: ai-affiliate-empire-staging
        health: [$http/staging/health]
channels:
  incidents: { type: slack, url: env:SLACK_INCIDENTS_WEBHOOK }
  ops: { type: discord, url: env:DISCORD_WEBHOOK }
  teams: { type: teams, url: env:TEAMS_WORKFLOW_URL }
  pager: { type: pagerduty, routingKey: env:PD_ROUTING_KEY, url: $http/pagerduty/v2/enqueue }
  status: { type: statuspage, pageId: env:STATUSPAGE_PAGE_ID, apiKey: env:STATUSPAGE_KEY, url: $http/statuspage,
            components: { api: env:STATUSPAGE_API_COMPONENT } }
  audit: { type: webhook, url: $http/webhook/incidents }
  genie: { type: opsgenie, apiKey: env:OPSGENIE_API_KEY, apiUrl: $http/opsgenie }
  warroom: { type: slack, token: env:SLACK_BOT_TOKEN, url: $http/slackapi, channel: C0INCIDENTS1, incidentChannel: 'incident-{yyyy}-{MM}-{dd}-{NNN}', invite: [U0ONCALL001, U0LEAD00001] }
routing:
  P0: [incidents, pager, status]
  P1: [incidents, pager]
  P2: [ops]
  P3: [ops]
store:
  kind: file
"@ | Set-Content -Path $config

    $redis = if ($env:INCIDENTOPS_TEST_REDIS) { $env:INCIDENTOPS_TEST_REDIS } else { '127.0.0.1:6379' }
    $pgPort = if ($env:INCIDENTOPS_TEST_PG -match '(?i)Port=(\d+)') { $Matches[1] } else { '5432' }
    $environment = @{
        PATH                      = $bin + [IO.Path]::PathSeparator + $env:PATH
        PSModulePath              = (Join-Path $repoRoot 'out') + [IO.Path]::PathSeparator + $env:PSModulePath
        INCIDENTOPS_CONFIG        = $config
        NO_COLOR                  = '1'
        DATABASE_URL              = $env:INCIDENTOPS_TEST_PG
        AKAIND_DATABASE_URL       = $env:INCIDENTOPS_TEST_PG
        FASTAPI_DATABASE_URL      = $env:INCIDENTOPS_TEST_PG
        REDIS_URL                 = "redis://$redis/0"
        AKAIND_REDIS_URL          = "redis://$redis/0"
        # The tunnel stand-ins forward the databases' own ports (the far end of each tunnel) to the test servers.
        TUNNEL_STANDIN_ROUTES     = "$pgPort=127.0.0.1:$pgPort,$($redis -replace '^.*:', '')=$redis"
        TUNNEL_STANDIN_LOG        = $tunnelLog
        DO_PRODUCTION_APP_ID      = 'f1e2d3c4-0000-4000-8000-00000000a001'
        DO_DATABASE_ID            = '9cc10173-e9ea-4176-9dbc-a4cee4c4ff30'
        SLACK_INCIDENTS_WEBHOOK   = "$http/slack/services/T000/B000/CANARYslackT0k3n"
        DISCORD_WEBHOOK           = "$http/discord/api/webhooks/1/CANARYdiscordT0k3n"
        TEAMS_WORKFLOW_URL        = "$http/teams/workflows/CANARYteamsT0k3n"
        PD_ROUTING_KEY            = 'CANARYpdR0utingKey0000000000000'
        STATUSPAGE_PAGE_ID        = 'page1'
        STATUSPAGE_KEY            = 'CANARYstatuspageK3y'
        STATUSPAGE_API_COMPONENT  = 'comp1'
        OPSGENIE_API_KEY          = 'CANARYgenieK3y0000'
        SLACK_BOT_TOKEN           = 'xoxb-CANARYslackB0tT0k3n'
        AFFILIATE_ADMIN_TOKEN     = 'Bearer CANARYadminT0ken'
        # The App Platform API (Invoke-Rollback on DigitalOcean) on loopback, never the real one.
        DIGITALOCEAN_API_URL      = "$http/digitalocean/"
        # Fly's Prometheus (Get-AppResourceUsage on Fly) on loopback, with a canary token that must never be printed.
        FLY_PROMETHEUS_URL        = "$http/flyprometheus/"
        FLY_API_TOKEN             = 'CANARYflyApiT0ken'
    }
    # Arguments some examples need to reach the stand-ins (they default to the real systems otherwise).
    $exampleArgs = @{
        '10-health-triage.ps1'    = @('-PublicResolver', "127.0.0.1:$dnsPort", '-MonitorSec', '1')
        '43-systemd-bad-deploy.ps1' = @('-ReleasesPath', $releases)
        '46-live-logs-beside-health.ps1' = @('-Seconds', '4')
    }
    # What a user has done before running an example (not part of the example itself).
    $setup = @{
        '60-incident-communication.ps1' = "New-Incident -Title 'Checkout returns 502' -Severity P1 -Impact 'All checkouts fail' -Commander alice -ErrorAction Stop | Out-Null"
    }

    # Starts a command line in a fresh pwsh with the stand-ins' environment and its own incident store.
    # -ExtraEnvironment adds to (or, with a $null value, removes from) the stand-ins' environment.
    function Start-Example([string] $Name, [string[]] $Arguments, [hashtable] $ExtraEnvironment = @{}) {
        $data = Join-Path $work "data-$Name"
        New-Item -ItemType Directory -Path $data -Force | Out-Null
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
        foreach ($a in @('-NoLogo', '-NoProfile', '-NonInteractive') + $Arguments) { $psi.ArgumentList.Add($a) }
        foreach ($k in $environment.Keys) { $psi.Environment[$k] = $environment[$k] }
        $psi.Environment['XDG_DATA_HOME'] = $data
        $psi.Environment['XDG_STATE_HOME'] = $data
        # The example's throw-away stores, reports and archives in the temp folder stay in $work, which AfterAll removes.
        $psi.Environment['TMPDIR'] = Join-Path $data 'tmp'
        New-Item -ItemType Directory -Path $psi.Environment['TMPDIR'] -Force | Out-Null
        foreach ($k in $ExtraEnvironment.Keys) { if ($null -eq $ExtraEnvironment[$k]) { $null = $psi.Environment.Remove($k) } else { $psi.Environment[$k] = $ExtraEnvironment[$k] } }
        $psi.WorkingDirectory = $work
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [System.Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Name = $Name; Process = $p; Output = $p.StandardOutput.ReadToEndAsync(); Error = $p.StandardError.ReadToEndAsync(); Started = [DateTime]::UtcNow }
    }
    function Complete-Example($Run, [bool] $TimedOut = $false) {
        if ($TimedOut) { $Run.Process.Kill($true) }
        $Run.Process.WaitForExit()
        $result = [pscustomobject]@{
            ExitCode = if ($TimedOut) { -1 } else { $Run.Process.ExitCode }
            Output   = $Run.Output.Result
            Error    = $(if ($TimedOut) { "did not finish within 180 s`n" }) + $Run.Error.Result
        }
        # INCIDENTOPS_EXAMPLES_KEEP=<folder> keeps what each run printed, to read the examples' output as a user sees it.
        if ($env:INCIDENTOPS_EXAMPLES_KEEP) {
            New-Item -ItemType Directory -Path $env:INCIDENTOPS_EXAMPLES_KEEP -Force | Out-Null
            Set-Content -Path (Join-Path $env:INCIDENTOPS_EXAMPLES_KEEP "$($Run.Name).txt") -Value ($result.Output + "`n----- stderr (exit $($result.ExitCode))`n" + $result.Error)
        }
        $Run.Process.Dispose()
        $result
    }

    # Every example, three at a time (most of their time is waiting: watch loops, timeouts), each with its own
    # store; the tests below read the results.
    foreach ($name in $setup.Keys) {
        $prepared = Complete-Example (Start-Example $name @('-Command', $setup[$name]))
        if ($prepared.ExitCode -or $prepared.Error) { throw "The setup before $name failed: $($prepared.Error)" }
    }
    $queue = [System.Collections.Generic.Queue[object]]::new()
    Get-ChildItem (Join-Path $repoRoot 'examples') -Filter '*.ps1' | Sort-Object Name |
        Where-Object { -not $env:INCIDENTOPS_EXAMPLES -or $_.Name -like $env:INCIDENTOPS_EXAMPLES } |
        ForEach-Object { $queue.Enqueue($_) }
    $results = @{}
    $running = [System.Collections.Generic.List[object]]::new()
    while ($queue.Count -or $running.Count) {
        while ($queue.Count -and $running.Count -lt 3) {
            $file = $queue.Dequeue()
            $arguments = @('-File', $file.FullName)
            # The stand-ins' configuration, for the scripts that take one (the others find it through INCIDENTOPS_CONFIG).
            if ((Get-Command $file.FullName).Parameters.ContainsKey('ConfigPath')) { $arguments += '-ConfigPath', $config }
            $running.Add((Start-Example $file.Name ($arguments + @($exampleArgs[$file.Name] | Where-Object { $_ }))))
        }
        foreach ($run in @($running)) {
            $timedOut = ([DateTime]::UtcNow - $run.Started).TotalSeconds -gt 180
            if ($run.Process.HasExited -or $timedOut) {
                $results[$run.Name] = Complete-Example $run $timedOut
                $null = $running.Remove($run)
            }
        }
        Start-Sleep -Milliseconds 200
    }
}

AfterAll {
    Stop-StandInWeb $web
    if ($work -and -not $env:INCIDENTOPS_EXAMPLES_KEEP) { Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue }
}

Describe 'examples/<Name>' -ForEach $examples {
    It 'says what it replays from which seed runbook' {
        (Get-Content $Path -TotalCount 6) -join "`n" | Should -Match 'seed'
    }

    It 'runs under pwsh against the loopback stand-ins without an error or a stack trace' {
        $run = $results[$Name]
        $run | Should -Not -BeNullOrEmpty -Because 'BeforeAll runs every example'
        $all = $run.Output + "`n" + $run.Error
        $tail = if ($all.Length -gt 4000) { $all.Substring($all.Length - 4000) } else { $all }
        $run.Error.Trim() | Should -BeNullOrEmpty -Because "the script must write no error (exit code $($run.ExitCode)). Output:`n$tail"
        $run.ExitCode | Should -Be 0 -Because "the script must finish. Output:`n$tail"
        $all | Should -Not -Match '(?m)^\s+at [\w.`<>+]+\.[\w<>`]+\(.*\)( in .*:line \d+)?\s*$' -Because 'no stack trace may reach the user'
        $all | Should -Not -Match 'CANARY' -Because 'webhook URLs, routing keys and API keys (planted as CANARY... values) never reach the output'
    }
}

# Issue 16 item 14: the examples that change things stop, and say why, when they cannot change them safely; and no
# example prints a database password. These run one example at a time after the ones above, so the stand-ins' argv
# log grows only with what each of them ran.
Describe 'examples that must stop before an unsafe change' {
    BeforeAll {
        function Invoke-Scenario([string] $Example, [string[]] $Arguments, [hashtable] $ExtraEnvironment = @{}) {
            $before = if (Test-Path $argvLog) { @(Get-Content $argvLog).Count } else { 0 }
            $requestsBefore = if (Test-Path $requestLog) { @(Get-Content $requestLog).Count } else { 0 }
            $script = Join-Path $repoRoot "examples/$Example"
            $run = Start-Example ("scenario-$Example" + ($Arguments -join "")) (@('-File', $script, '-ConfigPath', $config) + $Arguments) $ExtraEnvironment
            $done = $run.Process.WaitForExit(180000)
            $result = Complete-Example $run (-not $done)
            $result | Add-Member Argv @(if (Test-Path $argvLog) { Get-Content $argvLog | Select-Object -Skip $before })
            $result | Add-Member Requests @(if (Test-Path $requestLog) { Get-Content $requestLog | Select-Object -Skip $requestsBefore })
            $result
        }
    }

    It 'examples/46 follows the log beside the health watch, both bounded, and leaves no CLI running' {
        $r = Invoke-Scenario '46-live-logs-beside-health.ps1' @('-Seconds', '3')
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $r.Error.Trim() | Should -BeNullOrEmpty -Because 'reaching -TimeoutSec is no error'
        @($r.Argv | Where-Object { $_ -like 'kubectl * logs deployment/marketing * --follow=true' }).Count | Should -Be 2 -Because 'the thread job and the parallel branch each follow once'
        $r.Output | Should -Match 'ECONNREFUSED' -Because 'the followed error line reached the session'
        $r.Argv | Should -Contain 'flyctl logs -a ai-affiliate-empire --json' -Because 'seed 000 follows flyctl logs (no --no-tail)'
        @($r.Argv | Where-Object { $_ -like 'ssh -o BatchMode=yes -- deploy@api-1.example.com journalctl -u fastapi -o json --no-pager -n 10 -f' }).Count | Should -Be 1 -Because 'seed 004 follows journalctl -f over ssh'
        $r.Output | Should -Match 'Reached heap limit' -Because 'the Fly error line was followed'
        $r.Output | Should -Match 'OperationalError' -Because 'the journal error line was followed'
        $r.Output | Should -Match '\bAppLogEntry\b'
        $r.Output | Should -Match '\bHealthWatchSummary\b'
        # The stand-in kubectl ends in 'sleep 600' with the stand-ins' PATH: none may be left once the example is done.
        $left = @(Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$' | Where-Object {
            try { (Get-Content "$($_.FullName)/cmdline" -Raw) -eq "sleep`0600`0" -and (Get-Content "$($_.FullName)/environ" -Raw).Contains($bin) } catch { $false }
        })
        $left | Should -BeNullOrEmpty -Because 'every followed CLI is killed when its follow ends'
    }

    It 'examples/40 -Execute does not roll back when its protective backup fails, and says why' {
        $r = Invoke-Scenario '40-fly-bad-deploy.ps1' @('-Execute')
        ($r.Argv | Where-Object { $_ -like 'flyctl postgres backup create *' }) | Should -Not -BeNullOrEmpty -Because 'the example tries the backup first'
        ($r.Argv | Where-Object { $_ -like 'flyctl deploy *' }) | Should -BeNullOrEmpty -Because 'no rollback may run after the backup failed'
        $r.ExitCode | Should -Not -Be 0
        $r.Error | Should -Match 'Not rolling back ai-affiliate-empire'
        $r.Error | Should -Match 'no healthy primary' -Because 'the message says why the backup failed'
        $r.Error | Should -Match '-SkipBackup' -Because 'the message says how to opt out'
    }

    It 'examples/40 -Execute -SkipBackup rolls back without a backup, with a warning' {
        $r = Invoke-Scenario '40-fly-bad-deploy.ps1' @('-Execute', '-SkipBackup', '-TimeoutSec', '5')   # the replayed machines stay unhealthy
        ($r.Argv | Where-Object { $_ -like 'flyctl postgres backup create *' }) | Should -BeNullOrEmpty
        ($r.Argv | Where-Object { $_ -like 'flyctl deploy -a ai-affiliate-empire --image *' }) | Should -Not -BeNullOrEmpty -Because 'the user opted out of the backup'
        $r.Output | Should -Match 'without a fresh backup'
    }

    It 'examples/41 -Execute without a DigitalOcean token stops and names DIGITALOCEAN_ACCESS_TOKEN and DIGITALOCEAN_API_URL' {
        $emptyHome = Join-Path $work 'no-doctl-login'
        New-Item -ItemType Directory -Path $emptyHome -Force | Out-Null
        $r = Invoke-Scenario '41-digitalocean-bad-deploy.ps1' @('-Execute') @{ DIGITALOCEAN_ACCESS_TOKEN = $null; XDG_CONFIG_HOME = $emptyHome; HOME = $emptyHome }
        $r.ExitCode | Should -Not -Be 0
        $r.Error | Should -Match 'DIGITALOCEAN_ACCESS_TOKEN'
        $r.Error | Should -Match 'DIGITALOCEAN_API_URL'
        $r.Error | Should -Match 'doctl auth init'
        $r.Error | Should -Match 'Nothing was changed'
        ($r.Requests | Where-Object { $_ -match 'rollback' }) | Should -BeNullOrEmpty -Because 'no rollback, commit or revert request may be sent'
    }

    It 'examples/61 creates, acknowledges and closes one Opsgenie alert aliased by the incident id and its declaration time' {
        $r = Invoke-Scenario '61-opsgenie-paging.ps1' @()
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $genie = @($r.Requests | Where-Object { $_ -like '* /opsgenie/*' -and $_ -notlike 'GET /opsgenie/v2/alerts/requests/*' })
        # Each 202 is checked with Get Request Status before the update counts as delivered.
        @($r.Requests | Where-Object { $_ -like 'GET /opsgenie/v2/alerts/requests/og-standin-request-1 *' }).Count | Should -Be 3
        $genie.Count | Should -Be 3 -Because 'the -WhatIf preview sends nothing; create, acknowledge and close send one request each'
        $genie[0] | Should -Match '^POST /opsgenie/v2/alerts \d+$'
        $genie[1] | Should -Match '^POST /opsgenie/v2/alerts/INC-\d{8}-\d{3}-\d{8}T\d{9}Z/acknowledge\?identifierType=alias '
        $genie[2] | Should -Match '^POST /opsgenie/v2/alerts/INC-\d{8}-\d{3}-\d{8}T\d{9}Z/close\?identifierType=alias '
        $r.Output | Should -Match 'og-standin-request-1' -Because 'the ProviderId is the requestId of Opsgenie''s 202'
        ($r.Output + $r.Error) | Should -Not -Match 'CANARYgenieK3y'
    }

    It 'examples/45 -Execute sends the emergency-stop request, blocks the IP and applies the manifest, and the post-mortem lists them' {
        $r = Invoke-Scenario '45-runbook-actions.ps1' @('-Execute')
        $r.Error.Trim() | Should -BeNullOrEmpty
        $r.ExitCode | Should -Be 0
        $r.Requests | Should -Contain 'POST /api/workflows/emergency-stop 21' -Because 'the declared request, with its 21-byte body, reaches the service'
        $r.Argv | Should -Contain 'flyctl ips block 203.0.113.7 --app ai-affiliate-empire'
        ($r.Argv | Where-Object { $_ -like "kubectl --context production --namespace akaind-platform apply -f */examples/k8s/rate-limit-strict.yaml" }) | Should -Not -BeNullOrEmpty
        $r.Output | Should -Match '\| Invoke emergency-stop \(Invoke-ServiceAction\) \| production/api \| Succeeded \|'
        $r.Output | Should -Match '\| Invoke rate-limit-strict \(Invoke-ServiceAction\) \| production/marketing \| Succeeded \|'
        ($r.Output + $r.Error) | Should -Not -Match 'CANARY'
    }

    It 'examples/45 without -Execute previews the actions and sends nothing' {
        $r = Invoke-Scenario '45-runbook-actions.ps1' @()
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Match 'What if: .*POST http://localhost:\d+/api/workflows/emergency-stop'
        $r.Output | Should -Match 'Authorization: \*{8} \(env:AFFILIATE_ADMIN_TOKEN\)'
        $r.Output | Should -Match 'flyctl ips block 203.0.113.7 --app ai-affiliate-empire'
        ($r.Requests | Where-Object { $_ -match 'emergency-stop' }) | Should -BeNullOrEmpty
        ($r.Argv | Where-Object { $_ -match 'ips block| apply -f ' }) | Should -BeNullOrEmpty
        ($r.Output + $r.Error) | Should -Not -Match 'CANARY'
    }

    It 'examples/21 reaches seed 003''s databases through kubectl port-forward and seed 000''s through flyctl proxy, and leaves no tunnel running' {
        $before = if (Test-Path $tunnelLog) { @(Get-Content $tunnelLog).Count } else { 0 }
        $r = Invoke-Scenario '21-postgres-through-a-tunnel.ps1' @()
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $events = @(Get-Content $tunnelLog | Select-Object -Skip $before | ForEach-Object { $_ | ConvertFrom-Json })
        $starts = @($events | Where-Object event -eq 'start')
        ($starts | ForEach-Object { $_.tool + ' ' + ($_.argv -join ' ') }) | Should -Contain "kubectl --context production --namespace akaind-platform port-forward --address 127.0.0.1 -- svc/postgres $($starts[0].argv[-1])"
        @($starts | Where-Object { $_.tool -eq 'kubectl' -and $_.argv -contains 'deploy/redis' }).Count | Should -BeGreaterThan 0
        @($starts | Where-Object { $_.tool -eq 'flyctl' -and ($_.argv -join ' ') -match '^proxy \d+:\d+ --app ai-affiliate-empire-db --bind-addr 127\.0\.0\.1$' }).Count | Should -Be 1
        foreach ($s in $starts) {
            @($events | Where-Object { $_.event -eq 'forwarded' -and $_.pid -eq $s.pid }).Count | Should -BeGreaterThan 0 -Because "every tunnel carried the example's queries ($($s.argv -join ' '))"
            # Gone, or a zombie that only waits for init to reap it.
            $stat = Get-Content -Raw "/proc/$($s.pid)/stat" -ErrorAction SilentlyContinue
            $running = $stat -and $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')[0] -notin 'Z', 'X'
            $running | Should -BeFalse -Because 'no tunnel outlives the example'
        }
        $r.Output | Should -Match "through the tunnel kubectl --context production --namespace akaind-platform port-forward --address 127\.0\.0\.1 -- svc/postgres :\d+"
    }

    It 'examples/43 shows the unit''s DATABASE_URL setting with its password masked' {
        $r = $results['43-systemd-bad-deploy.ps1']
        $r | Should -Not -BeNullOrEmpty
        $r.Output | Should -Match 'DATABASE_URL' -Because 'Get-AppSetting lists the setting, so the canary check below is not vacuous'
        ($r.Output + $r.Error) | Should -Not -Match 'CANARYfastapiDbPassw0rd'
    }

    It 'examples/44 reads the RDS instance and only previews the snapshot, failover and restores: the stand-in aws ran no change' {
        $r = Invoke-Scenario '44-aws-rds-database.ps1' @()
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $r.Output | Should -Match 'Multi-AZ: True; pending maintenance: system-update'
        $r.Output | Should -Match 'aws rds reboot-db-instance --db-instance-identifier fastapi-db --force-failover'
        $r.Output | Should -Match 'aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier fastapi-db --target-db-instance-identifier fastapi-db-before-incident'
        $aws = @($r.Argv | Where-Object { $_ -like 'aws *' })
        $aws | Should -Not -BeNullOrEmpty
        ($aws | Where-Object { $_ -notmatch '^aws rds describe-' }) | Should -BeNullOrEmpty -Because '-WhatIf runs no create, reboot or restore'
    }
}
