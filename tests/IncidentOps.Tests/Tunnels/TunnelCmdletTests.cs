using System.Text.RegularExpressions;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Tunnels;
using IncidentOps.Incidents;
using IncidentOps.Postgres;
using IncidentOps.Redis;
using IncidentOps.Tests.Postgres;
using Xunit;

namespace IncidentOps.Tests.Tunnels;

/// <summary>
/// Seeds 000 (flyctl proxy / postgres connect) and 003 (kubectl port-forward svc/postgres, kubectl exec into the
/// database pods): the Pg* and Redis* cmdlets reach a database that is only reachable through a tunnel. The configured
/// hosts (pg.akaind.internal, redis.akaind.internal) do not resolve, so a query that answers went through the tunnel.
/// </summary>
public sealed class TunnelCmdletTests : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>
{
    private readonly ModuleFixture _fx;
    private readonly PgTestDatabase _db;
    private readonly TunnelStandIns _cli = new();
    private readonly string _config;
    private readonly string _store;

    public TunnelCmdletTests(ModuleFixture fx, PgTestDatabase db)
    {
        _fx = fx;
        _db = db;
        var dir = Paths.TempDir("tunnel-cfg");
        _store = Path.Combine(dir, "store");
        _config = Path.Combine(dir, "incidentops.yml");
        var pg = $"postgres://{db.AppRole}@pg.akaind.internal:5432/{db.Database}";
        File.WriteAllText(_config, $$"""
            version: 1
            {{_cli.ToolsYaml}}
            store: { path: {{_store}} }
            environments:
              production:
                services:
                  marketing:
                    platform: kubernetes
                    context: production
                    namespace: akaind-platform
                    deployment: marketing
                    postgres: { connectionString: '{{pg}}', tunnel: { kubectl: svc/postgres } }
                    redis: { url: 'redis://redis.akaind.internal:6379/0', tunnel: { kubectl: svc/redis } }
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                    postgres: { connectionString: '{{pg}}', fly: ai-affiliate-empire-db, tunnel: { fly: ai-affiliate-empire-db } }
                  fastapi:
                    platform: systemd
                    unit: fastapi
                    host: deploy@api-1.example.com
                    postgres:
                      connectionString: '{{pg}}'
                      tunnel: { ssh: bastion.example.com, user: deploy, identity: /keys/bastion_ed25519, port: 2222 }
                  broken:
                    postgres: { connectionString: '{{pg}}', tunnel: { kubectl: svc/missing, namespace: akaind-platform } }
                  leaky:
                    postgres: { connectionString: 'postgres://{{db.AppRole}}:{{TunnelStandIns.Canary}}@pg.akaind.internal:5432/{{db.Database}}', tunnel: { kubectl: svc/leak } }
                  squatted:
                    postgres:
                      connectionString: '{{pg}}'
                      tunnel: { ssh: squat.example.com, user: deploy }
                  inuse:
                    postgres:
                      connectionString: '{{pg}}'
                      tunnel: { ssh: inuse.example.com }
                  slow:
                    redis: { url: 'redis://redis.akaind.internal:6379', tunnel: { kubectl: svc/slow, namespace: akaind-platform } }
            """);
    }

    private static string App() => "io-tun-" + Guid.NewGuid().ToString("N")[..6];

    private PwshResult Run(string script) => _fx.Session.Run(script, new Dictionary<string, object?> { ["cfg"] = _config });

    /// <summary>The argv, argument by argument (each expected item is a regular expression for one whole argument).</summary>
    private static void AssertArgv(string[] expected, string[] actual) =>
        Assert.True(expected.Length == actual.Length && expected.Zip(actual).All(p => Regex.IsMatch(p.Second, "^(?:" + p.First + ")$")),
            $"argv was [{string.Join("] [", actual)}], expected [{string.Join("] [", expected)}]");

    [Fact]
    public async Task Kubectl_port_forward_gets_the_exact_argv_a_real_query_goes_through_it_and_it_is_gone_after_the_command()
    {
        var app = App();
        var session = await _db.OpenAsync(_db.AppRole, app);
        var skip = _cli.Events().Count;

        var r = Run($"Get-PgActivity -Service production/marketing -ApplicationName '{app}' -ConfigPath $cfg").AssertNoErrors();

        var a = Assert.Single(r.Objects<PgActivity>());
        Assert.Equal(session.ProcessID, a.Pid);
        Assert.Equal($"pg.akaind.internal:5432/{_db.Database}", a.Server);
        var start = Assert.Single(_cli.StartsSince(skip, "svc/postgres"));
        Assert.Equal("kubectl", start.Tool);
        AssertArgv(["--context", "production", "--namespace", "akaind-platform", "port-forward", "--address", "127\\.0\\.0\\.1", "--", "svc/postgres", ":5432"], start.Argv);
        Assert.Contains(_cli.Events(), e => e.Kind == "forwarded" && e.Pid == start.Pid && e.Bytes > 0);
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid), $"the tunnel process {start.Pid} still runs after the command");
    }

    [Fact]
    public void Flyctl_proxy_gets_the_exact_argv_and_answers_a_real_query()
    {
        var skip = _cli.Events().Count;
        var r = Run("Get-PgConnectionSummary -Service production/api -ConfigPath $cfg").AssertNoErrors();
        var s = r.Single<PgConnectionSummary>();
        Assert.True(s.MaxConnections > 0);
        Assert.Equal($"pg.akaind.internal:5432/{_db.Database}", s.Server);
        var start = Assert.Single(_cli.StartsSince(skip, "ai-affiliate-empire-db"));
        Assert.Equal("flyctl", start.Tool);
        AssertArgv(["proxy", "0:5432", "--app", "ai-affiliate-empire-db", "--bind-addr", "127\\.0\\.0\\.1"], start.Argv);
        Assert.Contains(_cli.Events(), e => e.Kind == "forwarded" && e.Pid == start.Pid);
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid));
    }

    [Fact]
    public async Task Ssh_L_through_the_bastion_gets_the_exact_argv_and_answers_a_real_query()
    {
        var app = App();
        await _db.OpenAsync(_db.AppRole, app);
        var skip = _cli.Events().Count;
        var r = Run($"Get-PgActivity -Service production/fastapi -ApplicationName '{app}' -ConfigPath $cfg").AssertNoErrors();
        Assert.Single(r.Objects<PgActivity>());
        var start = Assert.Single(_cli.StartsSince(skip, "bastion.example.com"));
        Assert.Equal("ssh", start.Tool);
        AssertArgv(["-N", "-o", "ExitOnForwardFailure=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "BatchMode=yes", "-i", "/keys/bastion_ed25519", "-p", "2222", "-l", "deploy",
            @"-L", @"127\.0\.0\.1:\d+:pg\.akaind\.internal:5432", "--", @"bastion\.example\.com"], start.Argv);
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid));
    }

    [Fact]
    public void Redis_cmdlets_go_through_the_redis_tunnel_and_name_the_configured_endpoint()
    {
        var skip = _cli.Events().Count;
        var r = Run("Get-RedisInfo -Service production/marketing -Section Server -TimeoutSec 30 -ConfigPath $cfg").AssertNoErrors();
        var info = r.Single<RedisServerInfo>();
        Assert.Equal("redis.akaind.internal:6379", info.Endpoint);
        Assert.False(string.IsNullOrEmpty(info.Version));
        var start = Assert.Single(_cli.StartsSince(skip, "svc/redis"));
        AssertArgv(["--context", "production", "--namespace", "akaind-platform", "port-forward", "--address", "127\\.0\\.0\\.1", "--", "svc/redis", ":6379"], start.Argv);
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid));
    }

    [Fact]
    public async Task A_two_cmdlet_pipeline_opens_one_tunnel_and_the_timeline_says_the_change_went_through_it()
    {
        var store = new FileIncidentStore(_store);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "connections exhausted (seed 003)", Severity = "P1" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        try
        {
            var app = App();
            var a = await _db.OpenAsync(_db.AppRole, app);
            var b = await _db.OpenAsync(_db.AppRole, app);
            var skip = _cli.Events().Count;

            var r = Run($"Get-PgActivity -Service production/marketing -State idle -ApplicationName '{app}' -ConfigPath $cfg | Stop-PgBackend -Service production/marketing -Force -ConfigPath $cfg").AssertNoErrors();

            Assert.All(r.Objects<PgTerminationResult>(), x => Assert.True(x.Succeeded, x.Reason));
            Assert.Equal(2, r.Objects<PgTerminationResult>().Count());
            Assert.False(_db.Exists(a.ProcessID));
            Assert.False(_db.Exists(b.ProcessID));
            var start = Assert.Single(_cli.StartsSince(skip, "svc/postgres"));
            Assert.True(TunnelStandIns.GoneWithin15s(start.Pid), "the pipeline's tunnel is closed when the pipeline ends");
            var entries = (await store.ReadTimelineAsync(incident.Id, CancellationToken.None)).Where(e => e.Cmdlet == "Stop-PgBackend").ToList();
            Assert.Equal(2, entries.Count);
            Assert.All(entries, e =>
            {
                Assert.Equal(TimelineOutcome.Succeeded, e.Outcome);
                Assert.Contains("via kubectl port-forward svc/postgres -n akaind-platform --context production", e.Result);
            });
        }
        finally
        {
            await store.SetActiveIdAsync(null, CancellationToken.None);
        }
    }

    [Fact]
    public async Task WhatIf_shows_the_tunnel_that_would_be_opened_leaves_none_running_and_changes_nothing()
    {
        var app = App();
        var s = await _db.OpenAsync(_db.AppRole, app);
        var skip = _cli.Events().Count;
        var r = Run($"Stop-PgBackend -Service production/marketing -Pid {s.ProcessID} -WhatIf -ConfigPath $cfg").AssertNoErrors();
        Assert.Contains("What if:", r.HostText);
        Assert.Contains($"pg_terminate_backend(a.pid)", r.HostText);
        Assert.Contains("through the tunnel kubectl --context production --namespace akaind-platform port-forward --address 127.0.0.1 -- svc/postgres :5432", r.HostText);
        // A typed pid is read (through the tunnel) so that -WhatIf names its session; the tunnel ends with the command.
        Assert.Contains($"backend {s.ProcessID} (user {_db.AppRole}, database {_db.Database}, application '{app}'", r.HostText);
        Assert.All(_cli.StartsSince(skip, "svc/postgres"), start => Assert.False(TunnelStandIns.IsRunning(start.Pid)));
        Assert.True(_db.Exists(s.ProcessID));
    }

    [Fact]
    public void A_tunnel_that_cannot_open_is_TunnelOpenFailed_with_the_CLIs_stderr_and_leaves_no_process()
    {
        var skip = _cli.Events().Count;
        var r = Run("Get-PgActivity -Service production/broken -ConfigPath $cfg");
        var e = Assert.Single(r.Errors);
        Assert.Equal("TunnelOpenFailed,IncidentOps.Commands.GetPgActivityCommand", e.FullyQualifiedErrorId);
        Assert.Contains("services \"missing\" not found", e.ToString());
        Assert.Contains("kubectl --namespace akaind-platform port-forward --address 127.0.0.1 -- svc/missing", e.ToString());
        var start = Assert.Single(_cli.StartsSince(skip, "svc/missing"));
        Assert.False(TunnelStandIns.IsRunning(start.Pid));
    }

    [Fact]
    public void The_CLIs_stderr_in_a_tunnel_error_has_its_secrets_masked()
    {
        var r = Run("Get-PgActivity -Service production/leaky -Verbose -ConfigPath $cfg");
        var e = Assert.Single(r.Errors);
        Assert.Equal("TunnelOpenFailed,IncidentOps.Commands.GetPgActivityCommand", e.FullyQualifiedErrorId);
        Assert.Contains("Authorization: Bearer ********", e.ToString());
        Assert.DoesNotContain(TunnelStandIns.Canary, r.AllText());
    }

    [Fact]
    public void A_port_another_process_takes_before_ssh_binds_it_is_TunnelPortTaken_and_nothing_reaches_that_process()
    {
        // The race: IncidentOps picks a free port for ssh -L, another process listens on it while ssh still logs in, and
        // ssh then cannot bind it. Before the fix, the readiness probe reached the other process and the PostgreSQL
        // startup message (user, database) followed it there.
        var skip = _cli.Events().Count;
        using var squatter = _cli.StartSquatter(skip, "squat.example.com");

        var r = Run("Get-PgActivity -Service production/squatted -TimeoutSec 20 -ConfigPath $cfg");

        var e = Assert.Single(r.Errors);
        Assert.Equal("TunnelPortTaken,IncidentOps.Commands.GetPgActivityCommand", e.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.ResourceBusy, e.CategoryInfo.Category);
        var bound = Assert.Single(_cli.Events().Skip(skip), x => x.Kind == "squatter-bound");
        var message = e.ToString();
        Assert.Contains($"127.0.0.1:{bound.Port}", message);
        Assert.Contains("another process", message);
        Assert.Contains("nothing was sent", message);
        Assert.Contains("Run the command again", message);
        Assert.Empty(r.Objects<PgActivity>());
        Assert.DoesNotContain(_cli.Events().Skip(skip), x => x.Kind is "squatter-accept" or "squatter-bytes");
        var start = Assert.Single(_cli.StartsSince(skip, "squat.example.com"));
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid), "ssh is stopped");
    }

    [Fact]
    public void Ssh_that_exits_because_its_port_is_in_use_is_TunnelPortTaken_with_how_to_retry()
    {
        // ExitOnForwardFailure=yes: ssh exits when the bind fails instead of staying up and forwarding nothing.
        var skip = _cli.Events().Count;
        var r = Run("Get-PgActivity -Service production/inuse -TimeoutSec 20 -ConfigPath $cfg");
        var e = Assert.Single(r.Errors);
        Assert.Equal("TunnelPortTaken,IncidentOps.Commands.GetPgActivityCommand", e.FullyQualifiedErrorId);
        var start = Assert.Single(_cli.StartsSince(skip, "inuse.example.com"));
        var port = start.Argv[Array.IndexOf(start.Argv, "-L") + 1].Split(':')[1];
        Assert.Contains($"127.0.0.1:{port}", e.ToString());
        Assert.Contains("ssh could not listen on it and exited with code 255", e.ToString());
        Assert.Contains("Run the command again", e.ToString());
        Assert.False(TunnelStandIns.IsRunning(start.Pid));
    }

    [Fact]
    public void Kubectl_and_flyctl_choose_their_own_port_and_only_the_port_they_printed_is_used()
    {
        var skip = _cli.Events().Count;
        var r = Run("Get-PgConnectionSummary -Service production/marketing -Verbose -ConfigPath $cfg; Get-PgConnectionSummary -Service production/api -Verbose -ConfigPath $cfg").AssertNoErrors();
        Assert.Equal(2, r.Objects<PgConnectionSummary>().Count());
        foreach (var (target, tool) in new[] { ("svc/postgres", "kubectl"), ("ai-affiliate-empire-db", "flyctl") })
        {
            var start = Assert.Single(_cli.StartsSince(skip, target));
            Assert.Equal(tool, start.Tool);
            var port = Regex.Match(string.Join("\n", r.Verbose), @"Tunnel open: 127\.0\.0\.1:(\d+) forwards to " + (tool == "kubectl" ? "kubectl" : "flyctl")).Groups[1].Value;
            Assert.NotEqual("", port);
            Assert.NotEqual("0", port);
            Assert.Contains(_cli.Events(), x => x.Kind == "forwarded" && x.Pid == start.Pid);
        }
    }

    [Fact]
    public void A_tunnel_whose_port_never_accepts_is_TunnelOpenTimedOut_within_the_deadline_and_is_killed()
    {
        var skip = _cli.Events().Count;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        // -TimeoutSec 10 leaves the stand-in (a python3 process) time to start and say why it is not ready on a loaded
        // machine: the open wait ends about 8 s in. The stand-in never listens, so without the deadline this never returns.
        var r = Run("Get-RedisInfo -Service production/slow -TimeoutSec 10 -ConfigPath $cfg");
        sw.Stop();
        var e = Assert.Single(r.Errors);
        Assert.True(e.FullyQualifiedErrorId == "TunnelOpenTimedOut,IncidentOps.Commands.GetRedisInfoCommand", e.FullyQualifiedErrorId + ": " + e);
        Assert.Contains("waiting for svc/slow (never ready)", e.ToString());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(25), $"took {sw.Elapsed}");
        var start = Assert.Single(_cli.StartsSince(skip, "svc/slow"));
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid));
    }

    [Fact]
    public void The_tunnel_is_closed_after_a_command_that_fails_on_the_server()
    {
        var skip = _cli.Events().Count;
        var r = Run("Invoke-PgMaintenance -Service production/marketing -Table no_such_table_q -Operation Analyze -Force -ConfigPath $cfg");
        Assert.Equal("PgTableNotFound,IncidentOps.Commands.InvokePgMaintenanceCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        var start = Assert.Single(_cli.StartsSince(skip, "svc/postgres"));
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid));
    }

    [Fact]
    public async Task Ctrl_C_mid_command_kills_the_tunnel()
    {
        var (pid, _) = await _db.StartAsync(_db.AppRole, App(), PgTestDatabase.IgnoresCancel);
        var skip = _cli.Events().Count;
        _fx.Session.Runspace.SessionStateProxy.SetVariable("cfg", _config);
        var (_, result) = _fx.Session.RunAndStopWhen($"Stop-PgBackend -Service production/marketing -Pid {pid} -Mode Cancel -EscalateAfter 10m -Force -ConfigPath $cfg", () => _db.WaitingForCancelOf(pid));
        Assert.True(result.Stopped, "the command was still running at Ctrl+C: " + string.Join(" | ", result.Errors));
        var start = Assert.Single(_cli.StartsSince(skip, "svc/postgres"));
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid), "Ctrl+C kills the tunnel");
    }

    [Fact]
    public void Ctrl_C_while_the_tunnel_is_still_opening_stops_at_once_and_kills_the_CLI()
    {
        var skip = _cli.Events().Count;
        _fx.Session.Runspace.SessionStateProxy.SetVariable("cfg", _config);
        var (latency, result) = _fx.Session.RunAndStopWhen("Get-RedisInfo -Service production/slow -TimeoutSec 120 -ConfigPath $cfg", () => _cli.StartsSince(skip, "svc/slow").Count >= 1);
        Assert.True(result.Stopped, "the command was still running at Ctrl+C: " + string.Join(" | ", result.Errors));
        Assert.True(latency < TimeSpan.FromSeconds(15), $"stopping took {latency}");   // "does not hang" (-TimeoutSec 120), not a timing goal
        var start = Assert.Single(_cli.StartsSince(skip, "svc/slow"));
        Assert.True(TunnelStandIns.GoneWithin15s(start.Pid), "Ctrl+C kills the tunnel that was opening");
    }

    [Fact]
    public async Task Evidence_sources_read_the_databases_through_their_tunnels()
    {
        var store = new FileIncidentStore(_store);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "evidence through tunnels", Severity = "P2" }, CancellationToken.None);
        var skip = _cli.Events().Count;

        var r = Run($"Save-IncidentEvidence -Incident {incident.Id} -Source pg-activity, redis-info -Service production/marketing -ConfigPath $cfg").AssertNoErrors();

        var captures = r.Objects<EvidenceCapture>().ToList();
        Assert.Equal(2, captures.Count);
        Assert.All(captures, c => Assert.True(c.Succeeded, c.Error));
        var starts = _cli.Events().Skip(skip).Where(e => e.Kind == "start").ToList();
        Assert.Contains(starts, e => e.Argv.Contains("svc/postgres"));
        Assert.Contains(starts, e => e.Argv.Contains("svc/redis"));
        Assert.All(starts, e => Assert.True(TunnelStandIns.GoneWithin15s(e.Pid)));
    }

    [Fact]
    public void Names_are_checked_before_any_CLI_runs()
    {
        var spec = new TunnelSpec(IncidentOps.Config.TunnelKind.Kubectl, "--server=http://evil", "akaind-platform", null, null, "db", 5432, null, null, null, null);
        var ex = Assert.Throws<IncidentOpsException>(() => TunnelCommand.Arguments(spec, 1234));
        Assert.Equal("AppTargetInvalidName", ex.ErrorId);
        Assert.Contains("kubectl port-forward target", ex.Message);
        foreach (var bad in new[]
        {
            spec with { Target = "svc/postgres", Namespace = "-n=kube-system" },
            spec with { Kind = IncidentOps.Config.TunnelKind.Ssh, Target = "-oProxyCommand=touch /tmp/x" },
            spec with { Kind = IncidentOps.Config.TunnelKind.Ssh, Target = "bastion", RemoteHost = "db:1:evil" },
            spec with { Kind = IncidentOps.Config.TunnelKind.Ssh, Target = "bastion", Identity = "-oProxyCommand=x" },
            spec with { Kind = IncidentOps.Config.TunnelKind.Fly, Target = "--app=other" },
            spec with { Target = "secret/db-password" },
        })
            Assert.Equal("AppTargetInvalidName", Assert.Throws<IncidentOpsException>(() => TunnelCommand.Arguments(bad, 1234)).ErrorId);
    }
}
