#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Issue 16, "every example in help and README runs as written": every example of every exported cmdlet's help
# (Get-Help -Examples, from the <example><code> doc comments) and every ```powershell block of README.md runs in a
# child pwsh (DocExamples.Runner.ps1) against loopback stand-ins wired in here, never against a real system:
#   - fake flyctl, doctl, kubectl, aws, systemctl, journalctl and ssh first on PATH, replaying the recorded outputs in
#     tests/IncidentOps.Tests/Platforms/<Provider>/Fixtures (ssh runs its command locally), so a real CLI on the machine (an AWS
#     CLI, say) is never run;
#   - DocExamples.Server.py on loopback: health endpoints (HTTP, and HTTPS with a self-signed certificate for
#     localhost), the notification providers and the DigitalOcean rollback API; dnsmasq as the DNS server;
#   - the real PostgreSQL and Redis of INCIDENTOPS_TEST_PG and INCIDENTOPS_TEST_REDIS;
#   - an incidentops.yml with examples/incidentops.yml's services pointing at all of that ($env:INCIDENTOPS_CONFIG,
#     and ./incidentops.yml in each example's working folder), and a fresh incident store per example holding the
#     incidents the examples name (one resolved, the one named INC-20261122-001, and an active one).
#     Its services declare examples/incidentops.yml's runbook actions (an http call to the stand-in server, a manifest
#     through the fake kubectl, a command through the fake flyctl); ./team.yml is a team's configuration with a store
#     of its own (Import-Incident).
# An example passes when it finishes without a terminating error and writes no error record; its output goes through
# Out-String, so a broken view fails it too. Nothing is added to an example but $PSDefaultParameterValues
# '*:Confirm' = $false (a script's -Confirm:$false). Public endpoints an example names are mapped to the stand-ins by
# $endpointMap below, as a hosts file would; examples that watch until stopped are stopped after a few seconds, as a
# user stops them with Ctrl+C ($runsUntilStopped), and must have printed their first round by then ($firstOutput).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
    . (Join-Path $PSScriptRoot 'DocExamples.Collect.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    Import-IncidentOps
    . (Join-Path $PSScriptRoot 'DocExamples.Collect.ps1')
    $pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
    $work = Join-Path ([IO.Path]::GetTempPath()) ('io-docex-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $bin = Join-Path $work 'bin'
    $tmp = Join-Path $work 'tmp'
    New-Item -ItemType Directory -Path $tmp -Force | Out-Null
    New-Item -ItemType Directory -Path $bin -Force | Out-Null

    . (Join-Path $PSScriptRoot 'StandInKit.ps1')
    $cli = @{ Bin = $bin; LogFolder = $work }   # each stand-in logs its calls to $work/<name>.log
    function Fixture([string] $Name) { Get-Item (Get-Fixture $Name) }
    # The recorded outputs show the seeds' outages; the examples that wait for a platform to become healthy (-Wait,
    # -VerifyHealth) get the same shapes after recovery: every check passing, every replica updated and ready.
    function Healthy([string] $Name, [hashtable] $Replace) {
        $text = Get-Content -Raw (Get-Fixture $Name)
        foreach ($k in $Replace.Keys) { $text = $text -replace $k, $Replace[$k] }
        $path = Join-Path $work "healthy-$Name"; Set-Content -Path $path -Value $text -NoNewline; Get-Item $path
    }
    $flyPgHealthy = Healthy 'fly-pg-status.json' @{ '"status": "critical"' = '"status": "passing"' }
    $k8sDeploymentHealthy = Healthy 'k8s-deployment.json' @{
        '"(updatedReplicas|readyReplicas|availableReplicas)": \d+' = '"$1": 3'; '"unavailableReplicas": \d+,?' = ''
        '"replicas": 4' = '"replicas": 3'; '"status": "False"' = '"status": "True"'; 'MinimumReplicasUnavailable|ProgressDeadlineExceeded' = 'NewReplicaSetAvailable'
    }
    $k8sPodsHealthy = Healthy 'k8s-pods.json' @{
        '"ready": false' = '"ready": true'; '"restartCount": 7' = '"restartCount": 0'
        '"waiting": \{ "reason": "CrashLoopBackOff", "message": "[^"]*" \}' = '"running": { "startedAt": "2026-11-23T09:20:00Z" }'
        '"lastState": \{ "terminated": \{[^}]*\} \}' = '"lastState": {}'
    }
    # The backups the examples name: 20261123T020000 (restored) and 'before-rollback' (just taken).
    $backups = Healthy 'fly-pg-backups.txt' @{ '(?m)^(\| 20261123T020012 .*)$' = "`$1`n| 20261123T020000 | before-rollback | DONE   | Mon Nov 23 02:00:31 2026 | 000000010000000000000020 |" }

    New-StandInCli @cli flyctl ([ordered]@{
        "'status -a ai-affiliate-empire-db --json'*" = $flyPgHealthy
        "'status -a '*" = Fixture 'fly-status.json'
        "'releases -a '*" = Fixture 'fly-releases.json'
        "'logs -a '*" = Fixture 'fly-logs.json'
        "'postgres backup list '*" = $backups
        "'postgres backup create '*" = "Backup started`n"
        "'postgres backup restore '*" = "Launching a new Postgres app from the backup`n"
        "'postgres restart '*" = "Postgres cluster has been successfully restarted!`n"
        "'secrets list -a '*" = Fixture 'fly-secrets.json'
        "'secrets import -a '*" = "Secrets are staged for the first deployment`n"
        "'apps restart '*" = "restarted`n"
        "'scale count '*" = "ok`n"
        "'scale vm '*" = "ok`n"
        "'deploy -a '*" = "==> Release v10 created (stand-in)`n"
        "'ips block '*" = "203.0.113.7 blocked for ai-affiliate-empire (stand-in)`n"
    })
    New-StandInCli @cli doctl ([ordered]@{
        "'apps get '*" = Fixture 'do-app.json'
        "'apps list-deployments '*" = Fixture 'do-deployments.json'
        "'apps logs '*" = Fixture 'do-logs.txt'
        "'databases backups '*" = Fixture 'do-database-backups.json'
        "'databases get '*" = Fixture 'do-database.json'
        "'databases fork '*" = Fixture 'do-database-fork.json'
    })
    New-StandInCli @cli kubectl ([ordered]@{
        "*'get deployment marketing -o json'*" = $k8sDeploymentHealthy
        "*'get pods -l app=marketing -o json'*" = $k8sPodsHealthy
        "*'get replicasets -l app=marketing -o json'*" = Fixture 'k8s-replicasets.json'
        "*'get statefulset postgres -o json'*" = Fixture 'k8s-statefulset.json'
        "*' get events '*" = Fixture 'k8s-events.json'
        "*' logs '*'--follow=true'*" = @{ Stream = Fixture 'k8s-logs.txt' }
        "*' logs '*" = Fixture 'k8s-logs.txt'
        "*'get --raw /apis/metrics.k8s.io/v1beta1/namespaces/akaind-platform/pods?labelSelector=app%3Dmarketing'" = Fixture 'k8s-pod-metrics.json'
        "*'get nodes pool-a-1 pool-a-2 -o json'" = Fixture 'k8s-nodes.json'
        "*'get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-1'" = Fixture 'k8s-node-metrics-pool-a-1.json'
        "*'get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-2'" = Fixture 'k8s-node-metrics-pool-a-2.json'
        "*'rollout restart '*" = "deployment.apps/marketing restarted`n"
        "*' patch deployment/marketing --type=json '*" = "deployment.apps/marketing patched`n"
        "*'rollout status '*" = "deployment `"marketing`" successfully rolled out`n"
        "*'set env '*" = "deployment.apps/marketing env updated`n"
        "*' apply -f '*rate-limit-strict.yaml*" = "ingress.networking.k8s.io/marketing configured`n"
    })
    # aws (RDS, seed 004's fastapi-db): the machine may have a real AWS CLI on PATH; this stand-in comes first, so no
    # example ever reaches AWS. Waits return at once (the recorded instance is available).
    New-StandInCli @cli aws ([ordered]@{
        "'rds describe-db-instances '*" = Fixture 'aws-rds-describe-db-instances.json'
        "'rds describe-pending-maintenance-actions '*" = Fixture 'aws-rds-pending-maintenance.json'
        "'rds describe-db-snapshots '*" = Fixture 'aws-rds-describe-db-snapshots.json'
        "'rds reboot-db-instance '*" = Fixture 'aws-rds-reboot-db-instance.json'
        "'rds create-db-snapshot '*" = Fixture 'aws-rds-create-db-snapshot.json'
        "'rds restore-db-instance-from-db-snapshot '*" = Fixture 'aws-rds-restore-from-snapshot.json'
        "'rds restore-db-instance-to-point-in-time '*" = Fixture 'aws-rds-restore-to-point-in-time.json'
        "'rds wait db-instance-available '*" = ''
    })
    New-StandInCli @cli systemctl ([ordered]@{
        "'show fastapi --property=CPUUsageNSec --value'*" = "813045678901`n"
        "'show fastapi --property=MainPID,'*" = Fixture 'systemctl-show-usage.txt'
        "'show fastapi'*" = Fixture 'systemctl-show.txt'; "'restart fastapi'*" = ''
    })
    New-StandInCli @cli journalctl ([ordered]@{ "'-u fastapi '*' -f'" = @{ Stream = Fixture 'journal.jsonl' }; "'-u fastapi '*" = Fixture 'journal.jsonl' })
    New-StandInSsh -Bin $bin

    $releases = New-StandInReleases $work   # the fastapi host's release folders and 'current' (seed 004)

    # HTTP and HTTPS on loopback, and dnsmasq (authoritative for localhost, no upstream) as the DNS server.
    $web = Start-StandInWeb -Work $work -Script (Join-Path $PSScriptRoot 'DocExamples.Server.py')
    # A private CA's certificate where the examples name one (./internal-ca.pem, copied into each example's folder by the
    # runner): the stand-in's own, which signed its HTTPS endpoint.
    Copy-Item $web.Certificate (Join-Path $work 'internal-ca.pem')
    $httpPort = $web.HttpPort; $httpsPort = $web.HttpsPort; $dnsPort = $web.DnsPort

    $http = "http://localhost:$httpPort"
    $https = "https://localhost:$httpsPort"
    $redis = if ($env:INCIDENTOPS_TEST_REDIS) { $env:INCIDENTOPS_TEST_REDIS } else { '127.0.0.1:6379' }
    # A database of the examples' own on the test server, with the tables they name (seed 000's orders).
    if (-not $env:INCIDENTOPS_TEST_PG) { $env:INCIDENTOPS_TEST_PG = 'Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres' }   # CI=true fails on it
    $pgDatabase = New-TestPgDatabase 'docex'
    Invoke-TestPsql -Database $pgDatabase @'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);
CREATE INDEX orders_customer_id_idx1 ON public.orders (customer_id);
CREATE TABLE public.order_items (order_id bigint NOT NULL REFERENCES public.orders (id), sku text NOT NULL, quantity int NOT NULL);
'@ | Out-Null
    $pg = Get-PgTestConnectionString $pgDatabase
    # Stop-PgBackend -Pid 4242 -WhatIf reads the session a typed pid names before it shows it: a backend that holds the
    # examples' pid (an ordinary role's session, sleeping; -WhatIf never signals it, AfterAll ends it).
    $backendSession = Start-TestPgSession 'SELECT pg_sleep(3600)' 'docex-backend'
    $backendDeadline = [DateTime]::UtcNow.AddSeconds(20)
    do {
        $backendPid = "$(Invoke-TestPsql "SELECT pid FROM pg_stat_activity WHERE application_name = 'docex-backend' AND state = 'active'")".Trim()
        if (-not $backendPid) { Start-Sleep -Milliseconds 100 }
    } while (-not $backendPid -and [DateTime]::UtcNow -lt $backendDeadline)
    if (-not $backendPid) { throw 'The stand-in backend for Stop-PgBackend -Pid 4242 did not start.' }
    $config = Join-Path $work 'incidentops.yml'
    $manifest = Join-Path $work 'k8s/rate-limit-strict.yaml'
    New-Item -ItemType Directory -Path (Split-Path $manifest) -Force | Out-Null
    Set-Content -Path $manifest -Value "apiVersion: networking.k8s.io/v1`nkind: Ingress`nmetadata: { name: marketing }`n"
    # Import-Incident's example imports into a team's configuration (./team.yml): a second file store beside it.
    $teamConfig = Join-Path $work 'team.yml'
    "version: 1`nstore:`n  kind: file`n  path: ./team-store`n" | Set-Content -Path $teamConfig
    @"
# examples/incidentops.yml's services and channels, on loopback stand-ins (written by tests/pester/DocExamples.Tests.ps1).
version: 1
environments:
  production:
    services:
      api:
        platform: fly
        app: ai-affiliate-empire
        baseUrl: $https
        health:
          - $https/health
          - { url: $https/health/ready, expectStatus: 200 }
          - $https/health/services
        postgres:
          connectionString: '$pg'
          fly: ai-affiliate-empire-db
        actions:                          # examples/incidentops.yml's, on the stand-ins
          emergency-stop:
            description: Stop all automated workflows
            url: /api/workflows/emergency-stop
            method: POST
            headers: { Authorization: env:DOCEX_ADMIN_TOKEN }
            body: '{"reason":"incident"}'
            confirmImpact: High
            timeout: 30s
          block-ip:
            description: Block a suspicious IP at Fly's edge
            command: [flyctl, ips, block, '{ip}', --app, ai-affiliate-empire]
            parameters: [ip]
            confirmImpact: Medium
      portfolio:
        platform: digitalocean
        appId: f1e2d3c4-0000-4000-8000-00000000a001
        components: [portfolio-web, image-optimizer, image-worker, monitoring]
        health: [$https/api/health, $https/api/image/health]
        redis: redis://$redis/0
        postgres:
          digitalOcean: 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30
      marketing:
        platform: kubernetes
        context: production
        namespace: akaind-platform
        deployment: marketing
        health: [$https/health]
        postgres: '$pg'
        redis: redis://$redis/0
        actions:
          rate-limit-strict: { description: Strict ingress rate limit, apply: $manifest, confirmImpact: Medium }
      fastapi:
        platform: systemd
        unit: fastapi
        host: deploy@api-1.example.com
        releases: $releases
        health: [$https/down/api/health]     # down: the stand-in answers 503, so 'unhealthy' pipelines have input
        postgres: '$pg'
  staging:
    services:
      api:
        platform: fly
        app: ai-affiliate-empire-staging
        health: [$https/staging/health]
channels:
  incidents: { type: slack, url: $http/slack/services/T000/B000/XXXX }
  ops: { type: discord, url: $http/discord/api/webhooks/1/XXXX }
  teams: { type: teams, url: $http/teams/workflows/XXXX }
  pager: { type: pagerduty, routingKey: R0UTINGKEY00000000000000000000, url: $http/pagerduty/v2/enqueue }
  status: { type: statuspage, pageId: page1, apiKey: key1, url: $http/statuspage, components: { api: comp1 } }
  audit: { type: webhook, url: $http/webhook/incidents }
  warroom: { type: slack, token: xoxb-standin-b0t, url: $http/slackapi, channel: C0INCIDENTS1, incidentChannel: 'incident-{yyyy}-{MM}-{dd}-{NNN}', invite: [U0ONCALL001] }
routing:
  P0: [incidents, pager, status]
  P1: [incidents, pager]
  P2: [ops]
  P3: [ops]
"@ | Set-Content -Path $config

    # The public endpoints and names the examples use, mapped to the stand-ins (what a hosts file would do). Longest
    # first; applied to every example's text before it runs.
    $pgUrl = & {
        $kv = @{}; foreach ($pair in $pg -split ';') { $k, $v = $pair -split '=', 2; if ($k) { $kv[$k.Trim().ToLowerInvariant()] = "$v".Trim() } }
        "postgres://$($kv['username'])@$($kv['host']):$(if ($kv['port']) { $kv['port'] } else { 5432 })/$($kv['database'])"
    }
    $endpointMap = [ordered]@{
        'https://ai-affiliate-empire.fly.dev'       = $https
        'https://api.example.com'                   = $https
        'https://www.akaind.ca'                     = $https
        'Get-ServiceCertificate ai-affiliate-empire.fly.dev' = "Get-ServiceCertificate localhost:$httpsPort"
        'Get-ServiceCertificate api.example.com'    = "Get-ServiceCertificate localhost:$httpsPort"
        'Resolve-ServiceDns ai-affiliate-empire.fly.dev' = 'Resolve-ServiceDns localhost'
        'Resolve-ServiceDns frankpalmisano.com'     = 'Resolve-ServiceDns localhost'
        '-Server 1.1.1.1'                           = "-Server 127.0.0.1:$dnsPort"
        'postgres://ops@db.internal/app'            = $pgUrl
        'Stop-PgBackend -Pid 4242'                  = "Stop-PgBackend -Pid $backendPid"
        '/srv/fastapi/releases'                     = $releases
    }
    # Examples that watch until the user stops them: stopped after this many seconds (as with Ctrl+C); they pass when
    # nothing went wrong until then.
    $runsUntilStopped = @{
        'Watch-ServiceHealth example 2' = 3     # -Duration 30m: half an hour by design
        'Watch-ServiceHealth example 3' = 3     # -IntervalSec 60 -Alert: until Ctrl+C
        'Get-IncidentTimeline example 3' = 3    # -Wait: follows the timeline until Ctrl+C
        'Get-AppLog example 3' = 3              # -Follow -TimeoutSec 600: ten minutes by design
    }
    # What the examples stopped by the test printed before the stop (their first round); Watch-ServiceHealth example 2
    # prints only its last result (Select-Object -Last 1), so nothing until it ends. The runner stops such an example
    # once it printed this (and not before the seconds above), so a loaded machine slow to print it does not fail it.
    $firstOutput = @{
        'Get-IncidentTimeline example 3' = 'declared\s+Succeeded\s+Declare incident INC-\d{8}-\d{3}: P1 \(High\): API returns 502'
        'Get-AppLog example 3'           = 'error\s+Error: connect ECONNREFUSED'
        'Watch-ServiceHealth example 3'  = '(?s)True\s+200\s.*production/api.*Service\s+: production/api.*Decision\s+: Healthy'
    }
    # The examples that take seconds by design; they run beside the others.
    $slowExamples = @('Watch-ServiceHealth example 1', 'Watch-ServiceHealth example 2', 'Test-ServiceHealth example 4') +
        @($docExamples | Where-Object { $_.Code -match 'Watch-ServiceHealth' } | ForEach-Object Name)

    # What a user has in the session before the examples: the module, and the variables the examples name.
    $init = @"
Import-Module '$($script:ModulePath)' -ErrorAction Stop
`$PSDefaultParameterValues['*:Confirm'] = `$false
`$PSDefaultParameterValues['Resolve-ServiceDns:Server'] = '127.0.0.1:$dnsPort'
`$cs = '$pg'
`$uris = '$http/health', '$https/health'
"@
    # Each example's store: a resolved incident with an action item, the incident the examples name as
    # INC-20261122-001 (open, with action items A01 and A02 owned by alice), and the active one; prints the named id.
    $setup = @'
$ErrorActionPreference = 'Stop'
$r = New-Incident -Title 'Redis memory fragmentation' -Severity P2 -Commander alice -StartedAt (Get-Date).AddHours(-6)
Add-IncidentActionItem -Incident $r.IncidentId -Action 'Alert on fragmentation ratio' -Owner alice | Out-Null
Close-Incident -Incident $r.IncidentId -Resolution 'Restarted Redis' | Out-Null
$n = New-Incident -Title 'Checkout returns 502' -Severity P1 -Service production/api -Commander alice -StartedAt '2026-11-22T09:52Z'
Add-IncidentActionItem -Incident $n.IncidentId -Action 'Raise the pool size' -Owner alice | Out-Null
Add-IncidentActionItem -Incident $n.IncidentId -Action 'Alert on pool saturation' -Owner alice | Out-Null
New-Incident -Title 'API returns 502' -Severity P1 -Service production/api -Commander alice | Out-Null
$n.IncidentId
'@
    # Three runners side by side: the examples that take seconds by design (watch loops, -Count with an interval),
    # which mostly wait, in two, all the others in the third.
    function Start-Runner([string] $Label, [object[]] $Examples) {
        $manifest = Join-Path $work "manifest-$Label.json"
        @{
            Init = $init; Setup = $setup; Work = $work; Config = $config; TeamConfig = $teamConfig
            Map = @($endpointMap.Keys | ForEach-Object { @{ From = $_; To = $endpointMap[$_] } })
            Examples = @($Examples | ForEach-Object { @{ Name = $_.Name; Code = $_.Code; TimeoutSec = $(if ($runsUntilStopped[$_.Name]) { $runsUntilStopped[$_.Name] } else { 60 }); UntilStopped = [bool] $runsUntilStopped[$_.Name]; FirstOutput = [string] $firstOutput[$_.Name] } })
        } | ConvertTo-Json -Depth 5 | Set-Content -Path $manifest
        $resultPath = Join-Path $work "results-$Label.json"
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
        foreach ($a in '-NoLogo', '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'DocExamples.Runner.ps1'), '-ManifestPath', $manifest, '-ResultPath', $resultPath) { $psi.ArgumentList.Add($a) }
        $psi.Environment['PATH'] = $bin + [IO.Path]::PathSeparator + $env:PATH
        $psi.Environment['INCIDENTOPS_CONFIG'] = $config
        $psi.Environment['NO_COLOR'] = '1'
        $psi.Environment['REDIS_URL'] = "redis://$redis/0"
        $psi.Environment['DATABASE_URL'] = $pg
        $psi.Environment['DIGITALOCEAN_API_URL'] = "$http/digitalocean/"
        $psi.Environment['DIGITALOCEAN_ACCESS_TOKEN'] = 'stand-in-token'
        $psi.Environment['DOCEX_ADMIN_TOKEN'] = 'Bearer stand-in-admin-token'
        # The session's default PostgreSQL (libpq's variables, as a psql user has them) is the test server.
        $pgKv = @{}; foreach ($pair in $pg -split ';') { $k, $v = $pair -split '=', 2; if ($k) { $pgKv[$k.Trim().ToLowerInvariant()] = "$v".Trim() } }
        $psi.Environment['PGHOST'] = $pgKv['host']; $psi.Environment['PGPORT'] = $(if ($pgKv['port']) { $pgKv['port'] } else { '5432' })
        $psi.Environment['PGUSER'] = $pgKv['username']; $psi.Environment['PGDATABASE'] = $pgKv['database']
        # The stand-in's certificate (for localhost) is the one trusted root, as a company CA would be.
        $psi.Environment['SSL_CERT_FILE'] = $web.Certificate
        # What an example puts in the temp folder (Export-Incident -Path, archives, ...) stays in $work, which AfterAll removes.
        $psi.Environment['TMPDIR'] = $tmp
        $psi.WorkingDirectory = $work
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [System.Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Label = $Label; Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync(); Results = $resultPath }
    }
    # Controls: examples that are wrong on purpose, to prove the runner sees what a user would see go wrong.
    $controls = @(
        @{ Name = 'control: a cmdlet error'; Code = "Get-IncidentOpsConfig -Path ./no-such-file.yml" }
        @{ Name = 'control: a non-terminating error'; Code = "Get-IncidentOpsService -Name production/api, no-such-service" }
        @{ Name = 'control: a script error'; Code = "Write-Error 'control'; 'after'" }
    )
    $slow = @($docExamples | Where-Object { $_.Name -in $slowExamples })
    $runners = @(
        Start-Runner slow1 @(for ($i = 0; $i -lt $slow.Count; $i += 2) { $slow[$i] })
        Start-Runner slow2 @(for ($i = 1; $i -lt $slow.Count; $i += 2) { $slow[$i] })
        Start-Runner fast (@($docExamples | Where-Object { $_.Name -notin $slowExamples }) + $controls)
    )
    $results = @{}
    foreach ($run in $runners) {
        if (-not $run.Process.WaitForExit(600000)) { $run.Process.Kill($true); throw "The $($run.Label) examples did not finish within 10 minutes." }
        $run.Process.WaitForExit()
        if ($env:INCIDENTOPS_DOCEX_KEEP) { Set-Content -Path "$($env:INCIDENTOPS_DOCEX_KEEP)-$($run.Label).txt" -Value ($run.Out.Result + "`n----- stderr`n" + $run.Err.Result) }
        if (-not (Test-Path $run.Results)) { throw "The $($run.Label) examples' runner failed (exit $($run.Process.ExitCode)): $($run.Err.Result) $($run.Out.Result)" }
        foreach ($r in @(Get-Content -Raw $run.Results | ConvertFrom-Json)) { $results[$r.Name] = $r }
    }
}

AfterAll {
    Stop-StandInWeb $web
    Stop-TestPgSession $backendSession 'docex-backend'
    Remove-TestPgDatabase $pgDatabase
    if ($work -and -not $env:INCIDENTOPS_DOCEX_KEEP) { Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue }
}

Describe 'Help and README examples run as written' {
    It 'the runner reports an example that goes wrong (<Name>)' -ForEach @(
        @{ Name = 'control: a cmdlet error'; Id = 'ConfigNotFound' }
        @{ Name = 'control: a non-terminating error'; Id = 'ServiceNotFound' }
        @{ Name = 'control: a script error'; Id = 'Microsoft.PowerShell.Commands.WriteErrorException' }
    ) {
        (@($results[$Name].Errors) -join "`n") | Should -Match ([regex]::Escape($Id))
    }

    It 'the AWS examples run the aws stand-in, never a real AWS CLI on PATH' {
        $log = @(Get-Content (Join-Path $work 'aws.log') -ErrorAction SilentlyContinue)
        $log | Should -Contain 'rds reboot-db-instance --db-instance-identifier fastapi-db --force-failover --output json --no-cli-pager' -Because 'Restart-AppDatabase -Platform Aws -Failover ran through the stand-in'
        $log | Should -Contain 'rds describe-db-instances --db-instance-identifier fastapi-db --output json --no-cli-pager' -Because 'its -Wait read the instance through the stand-in'
    }

    It '<Name> runs without a terminating error or an error record' -ForEach $docExamples {
        $r = $results[$Name]
        $r | Should -Not -BeNullOrEmpty -Because 'the runner runs every example'
        @($r.Errors) -join "`n" | Should -BeNullOrEmpty -Because "the example must write no error:`n$($r.Code)`n$($r.Output)"
        if ($runsUntilStopped[$Name]) {
            $r.Completed | Should -BeFalse -Because 'it watches until stopped, so it is still running when the test stops it'
            $r.Seconds | Should -BeGreaterOrEqual $runsUntilStopped[$Name]
            if ($firstOutput[$Name]) { $r.Output | Should -Match $firstOutput[$Name] -Because 'it printed its first round before it was stopped' }
        }
        else { $r.Completed | Should -BeTrue -Because "the example must finish within 60 s (it ran $($r.Seconds) s):`n$($r.Code)" }
    }
}
