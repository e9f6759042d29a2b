using System.Diagnostics;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using IncidentOps.Platforms;
using IncidentOps.Tests.Health;
using IncidentOps.Tests.Notifications;
using IncidentOps.Tests.Platforms;
using IncidentOps.Tests.Redis;
using Npgsql;
using Xunit;
using Xunit.Abstractions;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Deadlines;

/// <summary>
/// -TimeoutSec is one deadline for the whole operation on one target, counted from its start: against servers that
/// stall or never answer, each command returns shortly after it (the bound below is generous: "does not hang"),
/// with OperationTimeout when the command's deadline passed and a call-level id when one call hit its own limit.
/// </summary>
public class DeadlineTests(ModuleFixture fx, ITestOutputHelper output) : IClassFixture<ModuleFixture>
{
    /// <summary>
    /// How far past -TimeoutSec a command may return: a generous "does not hang" bound for a loaded machine (CI on 2 busy
    /// cores once took more than 1 s past a 2 s deadline). Before the fix these took 2 to 7 times -TimeoutSec, so every
    /// test here uses a -TimeoutSec above this slack: the bound stays below twice the deadline and still tells the one
    /// deadline from a deadline per call. The measured figures are written to the test output.
    /// </summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);

    /// <summary>The -TimeoutSec of the tests that time a deadline: above <see cref="Slack"/> (see there).</summary>
    private const int T = 4;

    /// <summary>
    /// A "does not hang" bound for Ctrl+C: far below what each interrupted command would otherwise wait (a 120 s
    /// -TimeoutSec, a 120 s interval), with room for a loaded machine. The measured figure is written to the test output.
    /// </summary>
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(15);

    private (PwshResult Result, TimeSpan Elapsed) Timed(string script, double timeoutSec)
    {
        _ = fx.Session; // the first runspace of a class takes seconds to open: not part of what is measured
        var sw = Stopwatch.StartNew();
        var r = fx.Run(script);
        sw.Stop();
        output.WriteLine($"FIGURE returned {sw.Elapsed.TotalSeconds:0.000} s with -TimeoutSec {timeoutSec} (past it: {(sw.Elapsed.TotalSeconds - timeoutSec):0.000} s): {script}");
        return (r, sw.Elapsed);
    }

    private static string PgThrough(int port) =>
        new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Host = "127.0.0.1", Port = port, Pooling = false }.ConnectionString;

    [Fact]
    public void ResolveServiceDns_against_a_silent_server_stops_at_one_deadline_for_all_record_types()
    {
        using var dns = new SilentUdpServer();
        var (r, elapsed) = Timed($"Resolve-ServiceDns api.example.test -Type A, AAAA -Server 127.0.0.1:{dns.Port} -TimeoutSec {T}", T);
        Assert.True(elapsed < TimeSpan.FromSeconds(T) + Slack, $"returned after {elapsed.TotalSeconds:0.00} s");
        var e = Assert.Single(r.Errors);
        // One lookup did not answer within the deadline (its own id, reported just before it); the next type was not tried.
        Assert.Equal("DnsQueryFailed,IncidentOps.Commands.ResolveServiceDnsCommand", e.FullyQualifiedErrorId);
        Assert.Contains("api.example.test", e.ErrorDetails.Message);
        Assert.Contains($"The A lookup of 'api.example.test' via 127.0.0.1:{dns.Port} failed", e.ErrorDetails.Message);
        // The evidence of one deadline, whatever the machine's load: the server saw A queries only, never the AAAA one.
        var types = dns.QueryTypes;
        Assert.NotEmpty(types);
        Assert.All(types, t => Assert.Equal(1, t));
    }

    [Fact]
    public void GetRedisInfo_against_a_server_that_stalls_mid_reply_stops_at_the_deadline_with_OperationTimeout()
    {
        var (host, port) = RedisCli.Shared;
        using var proxy = new StallingProxy(host, port, "used_memory:");
        var (r, elapsed) = Timed($"Get-RedisInfo -ConnectionString '127.0.0.1:{proxy.Port}' -Section Memory -TimeoutSec {T}", T);
        Assert.True(elapsed < TimeSpan.FromSeconds(T) + Slack, $"returned after {elapsed.TotalSeconds:0.00} s");
        Assert.True(proxy.Stalls >= 1, "the reply was never stalled: " + r.ErrorText);
        Assert.True(r.Errors.Count == 1 && r.Errors[0].FullyQualifiedErrorId == "OperationTimeout,IncidentOps.Commands.GetRedisInfoCommand", r.ErrorText);
    }

    [Fact]
    public void GetPgActivity_against_a_server_that_stalls_mid_reply_is_PgServerNotResponding_within_the_deadline()
    {
        using var proxy = new StallingProxy("127.0.0.1", int.Parse(Environment.GetEnvironmentVariable("INCIDENTOPS_TEST_PG_PORT") ?? new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString).Port.ToString()), "a.datname");
        var (r, elapsed) = Timed($"Get-PgActivity -ConnectionString '{PgThrough(proxy.Port)}' -TimeoutSec {T}", T);
        Assert.True(elapsed < TimeSpan.FromSeconds(T) + Slack, $"returned after {elapsed.TotalSeconds:0.00} s");
        Assert.True(proxy.Stalls >= 1, "the reply was never stalled: " + r.ErrorText);
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgServerNotResponding,IncidentOps.Commands.GetPgActivityCommand", e.FullyQualifiedErrorId);
        Assert.Contains("stopped answering", e.ErrorDetails.Message);
        Assert.DoesNotContain("Exception while reading from stream", e.ErrorDetails.Message);
    }

    [Fact]
    public void GetPgActivity_against_a_server_silent_during_connect_is_PgHostUnreachable_within_the_deadline()
    {
        using var silent = new IncidentOps.Tests.Redis.SilentServer();
        var (r, elapsed) = Timed($"Get-PgActivity -ConnectionString '{PgThrough(silent.Port)}' -TimeoutSec {T}", T);
        Assert.True(elapsed < TimeSpan.FromSeconds(T) + Slack, $"returned after {elapsed.TotalSeconds:0.00} s");
        Assert.Equal("PgHostUnreachable,IncidentOps.Commands.GetPgActivityCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Ctrl_C_stops_GetPgActivity_on_a_stalled_reply_at_once()
    {
        using var proxy = new StallingProxy("127.0.0.1", new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString).Port, "a.datname");
        var (latency, result) = fx.Session.RunAndStopWhen($"Get-PgActivity -ConnectionString '{PgThrough(proxy.Port)}' -TimeoutSec 120", () => proxy.Stalls >= 1);
        output.WriteLine($"FIGURE Ctrl+C returned after {latency.TotalMilliseconds:0} ms (Get-PgActivity, stalled reply)");
        Assert.True(proxy.Stalls >= 1);
        Assert.True(result.Stopped);
        Assert.True(latency < StopBound, $"Stop took {latency.TotalMilliseconds:0} ms");   // "does not hang" (the figure above is the measurement)
    }

    [Fact]
    public async Task SendIncidentUpdate_to_a_PagerDuty_that_never_answers_ends_at_the_deadline_and_stays_pending()
    {
        using var s = new NotificationScenario();
        for (var i = 0; i < 6; i++) s.PagerDuty.ThenHang();
        await s.CreateIncidentAsync("P1");
        var (r, elapsed) = Timed($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Message 'Investigating' -TimeoutSec {T}", T);
        Assert.True(elapsed < TimeSpan.FromSeconds(T) + Slack, $"returned after {elapsed.TotalSeconds:0.00} s");
        var pager = Assert.Single(r.Objects<NotificationResult>(), x => x.Channel == "pager");
        Assert.False(pager.Delivered);
        Assert.True(pager.Pending);
        Assert.Contains("-TimeoutSec", pager.Error);
        Assert.True(Assert.Single(r.Objects<NotificationResult>(), x => x.Channel == "incidents").Delivered);
    }

    private static (FakeCli Cli, string Target) Fly(params Reply[] replies)
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", replies);
        return (cli, $"-Platform Fly -App ai-affiliate-empire -FlyctlPath '{path}'");
    }

    private const string Deploy = "deploy -a ai-affiliate-empire --image registry.fly.io/ai-affiliate-empire:deployment-01HQ11 --yes";

    [Fact]
    public void InvokeRollback_VerifyHealth_against_a_status_that_hangs_returns_within_the_deadline_with_the_rollback_result()
    {
        var (cli, t) = Fly(new Reply("releases -a ai-affiliate-empire --json --image", "fly-releases.json"),
            new Reply(Deploy, Text: "deployed\n"), new Reply("status", Sleep: true));
        var (r, elapsed) = Timed($"Invoke-Rollback {t} -VerifyHealth -TimeoutSec 5 -Force", 5);
        Assert.True(elapsed < TimeSpan.FromSeconds(5) + Slack, $"returned after {elapsed.TotalSeconds:0.00} s");
        var result = r.AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(("v13", "v11"), (result.From, result.To));
        Assert.False(result.HealthyAfter);
        Assert.False(result.Succeeded);
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.child")), "the hanging flyctl status is still running");
    }

    [Fact]
    public void InvokeRollback_VerifyHealth_whose_deploy_hangs_stops_at_the_deadline_with_OperationTimeout()
    {
        var (cli, t) = Fly(new Reply("releases -a ai-affiliate-empire --json --image", "fly-releases.json"), new Reply(Deploy, Sleep: true));
        var (r, elapsed) = Timed($"Invoke-Rollback {t} -VerifyHealth -TimeoutSec 5 -Force", 5);
        // Run alone it returns in 5.1-5.5 s (the issue's bound); the whole suite in parallel on 2 loaded cores adds
        // up to ~0.7 s of scheduling, so the assertion keeps the generous "does not hang" bound (before: 5-7 x T).
        Assert.True(elapsed < TimeSpan.FromSeconds(5) + Slack, $"returned after {elapsed.TotalSeconds:0.00} s");
        Assert.Equal("OperationTimeout,IncidentOps.Commands.InvokeRollbackCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.child")), "the hanging flyctl deploy is still running");
    }

    [Fact]
    public void Kubectl_rollout_status_gets_what_is_left_of_the_deadline_less_a_second_so_it_never_races_the_kill()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl",
            new Reply("--context production -n akaind-platform get replicasets -l app=marketing -o json", "k8s-replicasets.json"),
            new Reply("--context production -n akaind-platform get deployment marketing -o json", "k8s-deployment.json"),
            new Reply("--context production -n akaind-platform get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply("--context production -n akaind-platform patch deployment/marketing", Text: "deployment.apps/marketing patched\n"),
            new Reply("--context production -n akaind-platform rollout status", Text: "deployment \"marketing\" successfully rolled out\n"));
        var r = fx.Run($"Invoke-Rollback -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}' -TimeoutSec 5 -Force");
        r.AssertNoErrors();
        var status = Assert.Single(cli.Calls, c => c.Contains("rollout status", StringComparison.Ordinal));
        var seconds = int.Parse(System.Text.RegularExpressions.Regex.Match(status, @"--timeout=(\d+)s").Groups[1].Value);
        Assert.InRange(seconds, 1, 4);
    }

    [Fact]
    public void GetAppLog_from_a_cli_that_never_stops_printing_is_cut_at_64_MB_with_PlatformOutputTooLarge()
    {
        // 1.1 GB of CLI output once ended the session out of memory; now the read stops at the cap and the CLI is killed.
        var cli = new FakeCli();
        var path = Path.Combine(cli.Dir, "flyctl");
        ExecutableFile.Write(path, $"#!/bin/bash\necho $$ > '{cli.Dir}/flyctl.pid'\nexec yes '{{\"message\":\"a log line that never ends\"}}'\n");
        var r = fx.Run($"Get-AppLog -Platform Fly -App ai-affiliate-empire -FlyctlPath '{path}' -TimeoutSec 120");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PlatformOutputTooLarge,IncidentOps.Commands.GetAppLogCommand", e.FullyQualifiedErrorId);
        Assert.Contains("64 MB", e.ErrorDetails.Message);
        Assert.Contains("cut", e.ErrorDetails.Message);
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.pid")), "the CLI is still running");
    }

    [Fact]
    public void WatchServiceHealth_stops_probing_when_writing_to_the_pipeline_throws()
    {
        // The hosted runspace has no Select-Object (the Pester test uses it): a downstream command that stops the
        // pipeline makes the watch's WriteObject throw in the same way.
        using var http = new HealthTestServer();
        var r = fx.Run($"$n = 0; Watch-ServiceHealth '{http.Url("/ok")}' -IntervalSec 0.1 | ForEach-Object {{ $n++; if ($n -gt 2) {{ throw 'enough' }}; $_ }}");
        Assert.NotNull(r.Terminating);
        Assert.True(http.Requests >= 3);
        var atReturn = http.Requests;
        Thread.Sleep(1500);
        Assert.Equal(atReturn, http.Requests);
    }

    [Fact]
    public async Task SendIncidentUpdate_with_WarningAction_Stop_stops_retrying_when_it_returns_and_records_the_send()
    {
        using var s = new NotificationScenario();
        s.Slack.DefaultStatus = 400;          // refused at once: the warning that -WarningAction Stop turns into a stop
        s.PagerDuty.DefaultStatus = 500;      // retried with back-off (PagerDuty's dedup_key makes retries safe)
        var inc = await s.CreateIncidentAsync("P1");
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Message 'Investigating' -WarningAction Stop");
        Assert.NotNull(r.Terminating);
        var atReturn = s.PagerDuty.Requests.Count;
        Thread.Sleep(3000);
        Assert.Equal(atReturn, s.PagerDuty.Requests.Count);
        Assert.DoesNotContain("   at ", r.AllText());
        // The attempts made are on the record, and the update stays pending for -Pending.
        var outbox = fx.Run($"Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id}").AssertNoErrors();
        var pager = Assert.Single(Assert.Single(outbox.Objects<IncidentUpdate>()).Deliveries, d => d.Channel == "pager");
        // Every request PagerDuty got is an attempt on the record. One more may be there: a request that had left when the
        // stop came and was cut on its way (a loaded CI run met it: 1 attempt, none received); the provider may have it,
        // so that one is Unknown.
        Assert.InRange(pager.Attempts, atReturn, atReturn + 1);
        if (pager.Attempts > atReturn) Assert.Equal(DeliveryState.Unknown, pager.State);
        // Pending when the stop came between two attempts; Unknown when an attempt's request had left and its answer had
        // not come (the README's rule: the provider may have it). Which one depends on where the back-off was when the
        // Slack warning stopped the command; both stay to be delivered by -Pending, never Failed or Delivered.
        Assert.Contains(pager.State, new[] { DeliveryState.Pending, DeliveryState.Unknown });
        Assert.Contains(await s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Kind == "update");

        // And -Pending delivers it once PagerDuty answers again.
        s.PagerDuty.DefaultStatus = 202;
        fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending").AssertNoErrors();
        var after = fx.Run($"Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id}").AssertNoErrors();
        Assert.Equal(DeliveryState.Delivered, Assert.Single(Assert.Single(after.Objects<IncidentUpdate>()).Deliveries, d => d.Channel == "pager").State);
    }

    [Fact]
    public void Ctrl_C_in_the_middle_of_a_Watch_interval_returns_at_once()
    {
        using var http = new HealthTestServer();
        using var session = new PwshSession();
        // Ctrl+C once the first round's result is out: the watch is then in its 120 s interval.
        using var firstResult = new ManualResetEventSlim();
        session.Runspace.SessionStateProxy.SetVariable("firstResult", firstResult);
        var (latency, result) = session.RunAndStopWhen($"Watch-ServiceHealth '{http.Url("/ok")}' -IntervalSec 120 | ForEach-Object {{ $firstResult.Set(); $_ }}", () => firstResult.IsSet);
        output.WriteLine($"FIGURE Ctrl+C returned after {latency.TotalMilliseconds:0} ms (Watch-ServiceHealth, mid-interval)");
        Assert.True(result.Stopped);
        Assert.True(latency < StopBound, $"Stop took {latency.TotalMilliseconds:0} ms");   // "does not hang" (the figure above is the measurement)
        var atStop = http.Requests;
        Thread.Sleep(500);
        Assert.Equal(atStop, http.Requests);
    }
}
