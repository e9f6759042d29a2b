using System.Diagnostics;
using IncidentOps.Config;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// Get-AppLog -Follow on every platform: the exact argv of the following CLI, entries written as they arrive (the fake
/// CLIs print their recorded lines a little apart and then never exit, so a result proves streaming), the filters,
/// -TimeoutSec ending the follow without an error, and the CLI (and its child) gone after every way out.
/// </summary>
public class AppLogFollowTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string App = "ai-affiliate-empire";
    private const string DoId = "f1e2d3c4-0000-4000-8000-00000000a001";
    private const string K = "kubectl --context production -n akaind-platform";
    internal static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The pipeline stops after n entries, the way Select-Object -First stops it (writing to the pipeline throws in
    /// Get-AppLog), with core cmdlets only (the hosted runspace has no Select-Object; the Pester tests use it for real).
    /// </summary>
    internal static string First(string command, int n) => $"$n = 0; do {{ {command} | ForEach-Object {{ $_; if (++$n -ge {n}) {{ break }} }} }} while ($false)";

    internal static void AssertKilled(FakeCli cli, string tool)
    {
        Assert.True(ProcessRunnerTests.Gone(cli.Pid($"{tool}.pid")), $"{tool} still running");
        // The sleeping child exists only when the CLI had written all its lines before it was stopped.
        if (cli.Pid($"{tool}.child") is { } child) Assert.True(ProcessRunnerTests.Gone(child), $"{tool}'s child still running");
    }

    // ---------------------------------------------------------------- Fly

    [Fact]
    public void Fly_follow_runs_flyctl_logs_without_no_tail_and_streams_entries_in_order_until_the_pipeline_has_enough()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply($"logs -a {App} --json", "fly-logs.json", Stream: true, LineDelay: 0.005));
        var sw = Stopwatch.StartNew();
        var logs = fx.Session.Run(First($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{path}' -Follow", 3), timeout: Bound)
            .AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal([$"flyctl logs -a {App} --json"], cli.Calls);
        var expected = fx.Run($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{cli.Tool("flyctl", new Reply($"logs -a {App} --no-tail --json", "fly-logs.json"))}'")
            .AssertNoErrors().Objects<AppLogEntry>().Select(e => e.Message).ToList();
        Assert.Equal(expected, logs.Select(e => e.Message));
        Assert.All(logs, l => Assert.Equal(PlatformKind.Fly, l.Platform));
        AssertKilled(cli, "flyctl");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "returned after the third entry, long before the CLI would end");
    }

    [Fact]
    public void Fly_follow_ends_cleanly_at_TimeoutSec_saying_so_in_verbose_and_kills_flyctl()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply($"logs -a {App} --json", "fly-logs.json", Stream: true, LineDelay: 0));
        var sw = Stopwatch.StartNew();
        var r = fx.Session.Run($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{path}' -Follow -TimeoutSec 5 -Pattern 'memory' -Verbose", timeout: Bound);
        r.AssertNoErrors();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Equal(2, r.Objects<AppLogEntry>().Count());
        Assert.All(r.Objects<AppLogEntry>(), l => Assert.Contains("memory", l.Message, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(r.Verbose, v => v.Contains("-TimeoutSec", StringComparison.Ordinal) && v.Contains("as asked", StringComparison.Ordinal));
        AssertKilled(cli, "flyctl");
    }

    [Fact]
    public void Fly_instance_and_level_narrow_a_read_and_the_exact_instance_goes_to_flyctl()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply($"logs -a {App} --no-tail --json --instance 3d8d9e1a2b3c47", "fly-logs.json"));
        var logs = fx.Run($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{path}' -Instance 3d8d9e1a2b3c47 -Level error").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal([$"flyctl logs -a {App} --no-tail --json --instance 3d8d9e1a2b3c47"], cli.Calls);
        Assert.NotEmpty(logs);
        Assert.All(logs, l => Assert.Equal(("3d8d9e1a2b3c47", "error"), (l.Instance, l.Level)));
        // A wildcard stays on this side: flyctl gets no --instance, the entries are matched here.
        var cli2 = new FakeCli();
        var path2 = cli2.Tool("flyctl", new Reply($"logs -a {App} --no-tail --json", "fly-logs.json"));
        var all = fx.Run($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{path2}'").AssertNoErrors().Objects<AppLogEntry>().ToList();
        var some = fx.Run($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{path2}' -Instance '148ed*'").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal(all.Where(l => l.Instance!.StartsWith("148ed", StringComparison.Ordinal)).Select(l => l.Message), some.Select(l => l.Message));
        Assert.True(some.Count < all.Count);
        Assert.All(cli2.Calls, c => Assert.Equal($"flyctl logs -a {App} --no-tail --json", c));
    }

    [Fact]
    public void A_follow_whose_cli_fails_is_PlatformCommandFailed_with_its_stderr()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply($"logs -a {App} --json", Text: "", Stream: true, StreamEnds: true, Exit: 1, Stderr: "Error: app not found"));
        var r = fx.Session.Run($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{path}' -Follow -TimeoutSec 30", timeout: Bound);
        var e = Assert.Single(r.Errors);
        Assert.Equal("PlatformCommandFailed,IncidentOps.Commands.GetAppLogCommand", e.FullyQualifiedErrorId);
        Assert.Contains("app not found", e.ToString());
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.pid")));
    }

    [Fact]
    public void A_follow_with_a_bad_pattern_stops_before_any_cli_runs()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("logs", "fly-logs.json", Stream: true));
        var r = fx.Session.Run($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{path}' -Follow -Pattern '(['", timeout: Bound);
        Assert.Equal("InvalidPattern,IncidentOps.Commands.GetAppLogCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void A_slow_consumer_slows_a_noisy_cli_down_instead_of_buffering_its_log_and_every_entry_arrives_in_order()
    {
        // doctl floods 1 KB lines; the consumer takes 20 ms per entry. What waits between them (the written count of the
        // stand-in minus the entries consumed) is bounded by the hand-off (LogHandoff) plus what the OS pipe and the
        // reader's buffer hold (64 KiB + 16 KiB, under 100 of these lines); unbounded, it is everything doctl wrote.
        var cli = new FakeCli();
        var path = cli.Noisy("doctl", "noisy-web 2026-11-23T09:00:00.000000000Z seq=%d %s");
        var written = Path.Combine(cli.Dir, "doctl.written");
        const int Take = 200;
        var r = fx.Session.Run($$"""
            $n = 0; $lag = 0; $seqs = [System.Collections.Generic.List[int]]::new()
            do { Get-AppLog -Platform DigitalOcean -AppId {{DoId}} -DoctlPath '{{path}}' -Follow | ForEach-Object {
                [System.Threading.Thread]::Sleep(20)
                $seqs.Add([int]($_.Message -replace '^seq=(\d+) .*$', '$1'))
                $w = 0
                if ([System.IO.File]::Exists('{{written}}') -and [int]::TryParse([System.IO.File]::ReadAllText('{{written}}').Trim(), [ref]$w)) { $lag = [Math]::Max($lag, $w - $seqs[-1]) }
                if (++$n -ge {{Take}}) { break }
            } } while ($false)
            [pscustomobject]@{ Lag = $lag; Seqs = $seqs.ToArray() }
            """, timeout: Bound).AssertNoErrors();
        var result = Assert.Single(r.Output);
        var lag = (int)result.Properties["Lag"].Value;
        var seqs = (int[])result.Properties["Seqs"].Value;
        Assert.Equal(Enumerable.Range(1, Take), seqs);
        Assert.True(lag <= IncidentOps.Engine.Platforms.LogHandoff.DefaultCapacity + 200,
            $"doctl was {lag} lines ahead of the consumer (it wrote {cli.Written("doctl")} in all); the hand-off holds at most {IncidentOps.Engine.Platforms.LogHandoff.DefaultCapacity}");
        AssertKilled(cli, "doctl");
    }

    [Fact]
    public void A_slow_consumer_behind_a_full_handoff_still_stops_at_once_on_CtrlC_and_the_cli_is_killed()
    {
        var cli = new FakeCli();
        var path = cli.Noisy("doctl", "noisy-web 2026-11-23T09:00:00.000000000Z seq=%d %s");
        // Ctrl+C once the CLI has written more than the hand-off holds (the consumer takes 4 lines a second), so the
        // hand-off is full when it comes, however slowly a loaded machine starts the CLI. Draining it would take 16 s.
        var (latency, result) = fx.Session.RunAndStopWhen(
            $"Get-AppLog -Platform DigitalOcean -AppId {DoId} -DoctlPath '{path}' -Follow | ForEach-Object {{ [System.Threading.Thread]::Sleep(250); $_ }}",
            () => cli.Written("doctl") > IncidentOps.Engine.Platforms.LogHandoff.DefaultCapacity + 200);
        Assert.True(result.Stopped, "Ctrl+C stopped the follow");
        Assert.True(latency < TimeSpan.FromSeconds(10), $"stopping took {latency.TotalSeconds:0.0} s");   // "does not hang": well below the 16 s drain
        Assert.True(cli.Written("doctl") > 0);
        AssertKilled(cli, "doctl");
    }

    [Fact]
    public void A_slow_consumer_at_TimeoutSec_gets_every_entry_read_so_far_in_order_and_the_cli_is_killed()
    {
        var cli = new FakeCli();
        var path = cli.Noisy("doctl", "noisy-web 2026-11-23T09:00:00.000000000Z seq=%d %s");
        var sw = Stopwatch.StartNew();
        var r = fx.Session.Run($$"""
            Get-AppLog -Platform DigitalOcean -AppId {{DoId}} -DoctlPath '{{path}}' -Follow -TimeoutSec 5 -Verbose |
                ForEach-Object { [System.Threading.Thread]::Sleep(20); [int]($_.Message -replace '^seq=(\d+) .*$', '$1') }
            """, timeout: Bound).AssertNoErrors();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "returned soon after -TimeoutSec");
        var seqs = r.Objects<int>().ToList();
        Assert.NotEmpty(seqs);
        Assert.Equal(Enumerable.Range(1, seqs.Count), seqs);
        Assert.True(r.Verbose.Any(v => v.Contains($"{seqs.Count} entries shown", StringComparison.Ordinal)), string.Join(" | ", r.Verbose));
        Assert.True(cli.Written("doctl") - seqs.Count <= IncidentOps.Engine.Platforms.LogHandoff.DefaultCapacity + 200, "the CLI was held back");
        AssertKilled(cli, "doctl");
    }

    // ---------------------------------------------------------------- Kubernetes (fake kubectl)

    [Fact]
    public void Kubernetes_follow_runs_kubectl_logs_follow_with_prefix_and_timestamps()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new Reply("--context production -n akaind-platform logs", "k8s-logs.txt", Stream: true));
        var logs = fx.Session.Run(First($"Get-AppLog -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}' -Follow", 2), timeout: Bound)
            .AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal([$"{K} logs deployment/marketing --timestamps=true --prefix=true --tail=10 --all-containers=true --follow=true"], cli.Calls);
        Assert.Equal(["pod/marketing-7d9f8b6c5d-xyz12/web", "pod/marketing-6c5b4a3f2e-abcde/web"], logs.Select(l => l.Instance));
        Assert.All(logs, l => Assert.NotNull(l.Timestamp));
        AssertKilled(cli, "kubectl");
    }

    [Fact]
    public void Kubernetes_instance_follows_that_pod_and_filters_the_rest()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new Reply("--context production -n akaind-platform logs", "k8s-logs.txt", Stream: true, LineDelay: 0));
        var r = fx.Session.Run($"Get-AppLog -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}' -Follow -Instance pod/marketing-7d9f8b6c5d-xyz12/web -Component web -TimeoutSec 5", timeout: Bound);
        var logs = r.AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal([$"{K} logs pod/marketing-7d9f8b6c5d-xyz12 --timestamps=true --prefix=true --tail=10 --container=web --follow=true"], cli.Calls);
        // The fake replays both pods' lines; only the one asked for passes.
        var only = Assert.Single(logs);
        Assert.Equal("pod/marketing-7d9f8b6c5d-xyz12/web", only.Instance);
        AssertKilled(cli, "kubectl");
    }

    [Fact]
    public void Kubernetes_read_with_an_exact_instance_reads_that_pod_and_a_wildcard_filters_here()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new Reply("--context production -n akaind-platform logs", "k8s-logs.txt"));
        var t = $"-Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}'";
        var one = fx.Run($"Get-AppLog {t} -Instance marketing-6c5b4a3f2e-abcde -Tail 20").AssertNoErrors().Objects<AppLogEntry>().ToList();
        var some = fx.Run($"Get-AppLog {t} -Instance '*-xyz12' -Tail 20 -Level error").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal([$"{K} logs pod/marketing-6c5b4a3f2e-abcde --timestamps=true --prefix=true --tail=20 --all-containers=true",
            $"{K} logs deployment/marketing --timestamps=true --prefix=true --tail=20 --all-containers=true"], cli.Calls);
        Assert.Equal(["pod/marketing-6c5b4a3f2e-abcde/web"], one.Select(l => l.Instance));
        Assert.Equal([("pod/marketing-7d9f8b6c5d-xyz12/web", "error")], some.Select(l => (l.Instance!, l.Level!)));
    }

    [Fact]
    public void Kubernetes_instance_that_is_not_a_pod_name_is_refused_before_kubectl_runs()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new Reply("--context", "k8s-logs.txt", Stream: true));
        var r = fx.Session.Run($"Get-AppLog -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}' -Follow -Instance '--kubeconfig=evil'", timeout: Bound);
        Assert.Equal("AppTargetInvalidName,IncidentOps.Commands.GetAppLogCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Empty(cli.Calls);
    }

    // ---------------------------------------------------------------- systemd

    [Fact]
    public void Systemd_follow_runs_journalctl_f_and_filters_by_level_and_instance()
    {
        var cli = new FakeCli();
        var path = cli.Tool("journalctl", new Reply("-u fastapi -o json --no-pager -n 10 -f", "journal.jsonl", Stream: true));
        var logs = fx.Session.Run(First($"Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath '{path}' -Follow -Level error -Instance api-1", 1), timeout: Bound)
            .AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal(["journalctl -u fastapi -o json --no-pager -n 10 -f"], cli.Calls);
        var e = Assert.Single(logs);
        Assert.Equal(("error", "api-1[4242]"), (e.Level, e.Instance));
        AssertKilled(cli, "journalctl");
    }

    [Fact]
    public void Systemd_follow_over_ssh_sends_one_remote_command_and_kills_ssh_at_the_timeout()
    {
        var cli = new FakeCli();
        cli.Tool("journalctl", new Reply("-u fastapi -o json --no-pager -n 3 -f", "journal.jsonl", Stream: true, LineDelay: 0));
        var ssh = cli.Ssh();
        var r = fx.Session.Run($"Get-AppLog -Platform Systemd -Unit fastapi -ComputerName deploy@api-1.example.com -SshPath '{ssh}' -Follow -Tail 3 -TimeoutSec 5", timeout: Bound);
        var logs = r.AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal(["<-o><BatchMode=yes><--><deploy@api-1.example.com><journalctl -u fastapi -o json --no-pager -n 3 -f>"], cli.ArgvCalls);
        Assert.Equal(5, logs.Count);
        Assert.Equal("café bytes", logs[4].Message);
        AssertKilled(cli, "journalctl");
    }

    [Fact]
    public void Systemd_follow_is_killed_on_CtrlC()
    {
        var cli = new FakeCli();
        var path = cli.Tool("journalctl", new Reply("-u fastapi", "journal.jsonl", Stream: true));
        var (latency, result) = fx.Session.RunAndStopWhen($"Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath '{path}' -Follow", () => cli.Pid("journalctl.child") is not null);
        Assert.True(result.Stopped);
        Assert.True(latency < TimeSpan.FromSeconds(15), $"Ctrl+C took {latency}");   // "does not hang": -Follow never ends by itself
        AssertKilled(cli, "journalctl");
    }

    [Fact]
    public async Task Record_puts_what_the_follow_showed_on_the_active_incidents_timeline()
    {
        var dir = Paths.TempDir();
        var store = new IncidentOps.Engine.Incidents.FileIncidentStore(dir);
        var incident = await store.CreateAsync(id => new IncidentOps.Incidents.Incident { Id = id, Title = "api out of memory", Severity = "P1" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"store: {{ path: {dir} }}\n");
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply($"logs -a {App} --json", "fly-logs.json", Stream: true, LineDelay: 0));
        fx.Session.Run($"Get-AppLog -Platform Fly -App {App} -FlyctlPath '{path}' -ConfigPath '{config}' -Follow -Pattern memory -TimeoutSec 5 -Record", timeout: Bound).AssertNoErrors();
        var entry = Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), e => e.Action == "Followed logs");
        Assert.Equal("read", entry.Kind);
        Assert.StartsWith("2 log lines matching 'memory' in ", entry.Result);
        Assert.EndsWith("(-TimeoutSec)", entry.Result);
        AssertKilled(cli, "flyctl");
    }

    // ---------------------------------------------------------------- several services side by side

    [Fact]
    public void Two_services_are_followed_at_once_and_a_failing_one_does_not_stop_the_other()
    {
        var cli = new FakeCli();
        var fly = cli.Tool("flyctl", new Reply("logs -a good --json", "fly-logs.json", Stream: true, LineDelay: 0), new Reply("logs -a bad --json", Text: "", Stream: true, StreamEnds: true, Exit: 2, Stderr: "Error: unauthorized"));
        var r = fx.Session.Run($"'good','bad' | ForEach-Object {{ [pscustomobject]@{{ Platform = 'Fly'; App = $_ }} }} | Get-AppLog -FlyctlPath '{fly}' -Follow -TimeoutSec 5", timeout: Bound);
        Assert.Equal("PlatformCommandFailed,IncidentOps.Commands.GetAppLogCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Equal(3, r.Objects<AppLogEntry>().Count(l => l.Name == "good"));
        Assert.Contains("flyctl logs -a good --json", cli.Calls);
        Assert.Contains("flyctl logs -a bad --json", cli.Calls);
        AssertKilled(cli, "flyctl");
    }
}

/// <summary>Get-AppLog -Follow through the REAL kubectl against the loopback API stub, whose pods/log?follow=true streams.</summary>
public class AppLogFollowRealKubectlTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void Real_kubectl_follows_the_pods_log_stream_and_is_gone_when_the_pipeline_has_enough()
    {
        using var api = new KubeApiStub(KubeApiStub.FindRealKubectl());
        var t = $"-Platform Kubernetes -Context {KubeApiStub.Context} -Namespace {KubeApiStub.Namespace} -Deployment marketing -KubectlPath '{api.KubectlPath}'";
        var logs = fx.Session.Run(AppLogFollowTests.First($"Get-AppLog {t} -Follow -Tail 5", 1), timeout: TimeSpan.FromSeconds(90)).AssertNoErrors().Objects<AppLogEntry>().ToList();
        var request = Assert.Single(api.Requests, r => r.Path.EndsWith("/log", StringComparison.Ordinal));
        Assert.Contains("follow=true", request.Query);
        Assert.Contains("tailLines=5", request.Query);
        Assert.Contains("timestamps=true", request.Query);
        Assert.Equal(1, api.FollowedLogs);
        var pod = request.Path.Split('/')[^2];
        var entry = Assert.Single(logs);
        Assert.Equal($"pod/{pod}/web", entry.Instance);
        Assert.NotNull(entry.Timestamp);
        for (var i = 0; i < 50 && api.KubectlProcesses().Length > 0; i++) Thread.Sleep(100);
        Assert.Empty(api.KubectlProcesses());
        Assert.Empty(api.Mutations);
    }

    [Fact]
    public void Real_kubectl_follow_ends_cleanly_at_TimeoutSec()
    {
        using var api = new KubeApiStub(KubeApiStub.FindRealKubectl());
        var t = $"-Platform Kubernetes -Context {KubeApiStub.Context} -Namespace {KubeApiStub.Namespace} -Deployment marketing -KubectlPath '{api.KubectlPath}'";
        var r = fx.Session.Run($"Get-AppLog {t} -Follow -TimeoutSec 15 -Verbose", timeout: TimeSpan.FromSeconds(90)).AssertNoErrors();
        Assert.NotEmpty(r.Objects<AppLogEntry>());
        Assert.Contains(r.Verbose, v => v.Contains("-TimeoutSec", StringComparison.Ordinal));
        for (var i = 0; i < 50 && api.KubectlProcesses().Length > 0; i++) Thread.Sleep(100);
        Assert.Empty(api.KubectlProcesses());
    }
}

/// <summary>Get-AppLog -Follow on DigitalOcean, with a test-own doctl home (DoctlHome), so these run in the DoctlEnvironment collection.</summary>
[Collection(nameof(DoctlEnvironment))]
public class DigitalOceanLogFollowTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private const string DoId = "f1e2d3c4-0000-4000-8000-00000000a001";
    private static readonly TimeSpan Bound = AppLogFollowTests.Bound;
    private readonly DoctlHome _home = new();
    public void Dispose() => _home.Dispose();
    private static string First(string command, int n) => AppLogFollowTests.First(command, n);
    private static void AssertKilled(FakeCli cli, string tool) => AppLogFollowTests.AssertKilled(cli, tool);

    // ---------------------------------------------------------------- DigitalOcean

    [Fact]
    public void DigitalOcean_follow_runs_doctl_apps_logs_follow_with_ten_recent_lines_and_filters_by_level()
    {
        var cli = new FakeCli();
        var more = "image-worker 2026-11-23T09:02:00.000000000Z WARN queue is backing up\nimage-worker 2026-11-23T09:02:01.000000000Z job 42 done\n";
        var path = cli.Tool("doctl", new Reply($"apps logs {DoId} --type run --tail 10 --follow", "do-logs.txt", Text: more, Stream: true));
        var logs = fx.Session.Run(First($"Get-AppLog -Platform DigitalOcean -AppId {DoId} -DoctlPath '{path}' -Follow -Level warning", 2), timeout: Bound)
            .AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal([$"doctl apps logs {DoId} --type run --tail 10 --follow{_home.Pins}"], cli.Calls);
        Assert.Equal([("portfolio-web", "error"), ("image-worker", "warning")], logs.Select(l => (l.Instance!, l.Level!)));
        Assert.StartsWith("Error: Redis", logs[0].Message);
        AssertKilled(cli, "doctl");
    }

    [Fact]
    public void DigitalOcean_follow_passes_component_and_tail_and_is_killed_on_CtrlC()
    {
        var cli = new FakeCli();
        var path = cli.Tool("doctl", new Reply($"apps logs {DoId} portfolio-web --type deploy --tail 50 --follow", "do-logs.txt", Stream: true));
        var (_, result) = fx.Session.RunAndStopWhen($"Get-AppLog -Platform DigitalOcean -AppId {DoId} -DoctlPath '{path}' -Follow -Component portfolio-web -Type deploy -Tail 50", () => cli.Pid("doctl.child") is not null);
        Assert.True(result.Stopped, "Ctrl+C stopped the follow");
        Assert.Equal([$"doctl apps logs {DoId} portfolio-web --type deploy --tail 50 --follow{_home.Pins}"], cli.Calls);
        AssertKilled(cli, "doctl");
    }

}
