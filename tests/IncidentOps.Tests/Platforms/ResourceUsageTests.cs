using System.Net;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>Kubernetes quantities as the pod specs and the metrics API write them.</summary>
public class QuantityTests
{
    [Theory]
    [InlineData("250m", 0.25)]
    [InlineData("1", 1.0)]
    [InlineData("2.5", 2.5)]
    [InlineData("250123456n", 0.250123456)]
    [InlineData("1500u", 0.0015)]
    [InlineData("1e3", 1000.0)]
    public void Cores_reads_cpu_quantities(string text, double cores) => Assert.Equal(cores, Quantity.Cores(text)!.Value, 9);

    [Theory]
    [InlineData("128Mi", 134217728L)]
    [InlineData("131072Ki", 134217728L)]
    [InlineData("1Gi", 1073741824L)]
    [InlineData("1G", 1000000000L)]
    [InlineData("500M", 500000000L)]
    [InlineData("12345", 12345L)]
    public void Bytes_reads_memory_quantities(string text, long bytes) => Assert.Equal(bytes, Quantity.Bytes(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("12Qi")]
    public void A_missing_or_unreadable_quantity_is_null(string? text) => Assert.Null(Quantity.Parse(text));

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("2s", 2.0)]
    [InlineData("1s 500ms", 1.5)]
    public void CPUQuotaPerSecUSec_is_read_as_cores(string text, double cores) => Assert.Equal(cores, SystemdAdapter.SecondsPerSecond(text));

    [Theory]
    [InlineData("infinity")]
    [InlineData("")]
    public void An_unlimited_CPUQuota_is_null(string text) => Assert.Null(SystemdAdapter.SecondsPerSecond(text));

    [Theory]
    [InlineData("[not set]")]
    [InlineData("[no data]")]
    [InlineData("infinity")]
    [InlineData("18446744073709551615")]
    public void Systemctl_values_without_a_figure_are_null(string text) => Assert.Null(SystemdAdapter.Number(text));
}

/// <summary>Get-AppResourceUsage on Kubernetes (fake kubectl replaying the metrics API and pods), systemd (fake systemctl, fake and real-shell ssh) and DigitalOcean.</summary>
public class ResourceUsageCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Metrics = "--context production get --raw /apis/metrics.k8s.io/v1beta1/namespaces/akaind-platform/pods?labelSelector=app%3Dmarketing";
    private const string K8sTarget = "-Platform Kubernetes -Deployment marketing -Namespace akaind-platform -Context production";

    private static (FakeCli Cli, string Target) Kube(params Reply[] metrics)
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl",
            [new Reply("--context production -n akaind-platform get deployment marketing -o json", "k8s-deployment.json"),
             new Reply("--context production -n akaind-platform get pods -l app=marketing -o json", "k8s-usage-pods.json"),
             new Reply("--context production get nodes pool-a-1 pool-a-2 -o json", "k8s-nodes.json"),
             new Reply("--context production get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-1", "k8s-node-metrics-pool-a-1.json"),
             new Reply("--context production get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-2", "k8s-node-metrics-pool-a-2.json"), .. metrics]);
        return (cli, $"{K8sTarget} -KubectlPath '{path}'");
    }

    [Fact]
    public void Kubernetes_reads_the_metrics_api_and_the_pods_requests_limits_and_restarts()
    {
        var (cli, t) = Kube(new Reply(Metrics, "k8s-pod-metrics.json"));
        var rows = fx.Run($"Get-AppResourceUsage {t}").AssertNoErrors().Objects<AppResourceUsage>().ToList();
        Assert.Equal(
            ["kubectl --context production -n akaind-platform get deployment marketing -o json",
             "kubectl --context production -n akaind-platform get pods -l app=marketing -o json",
             "kubectl " + Metrics,
             "kubectl --context production get nodes pool-a-1 pool-a-2 -o json",
             "kubectl --context production get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-1",
             "kubectl --context production get --raw /apis/metrics.k8s.io/v1beta1/nodes/pool-a-2"], cli.Calls);
        Assert.Equal(["marketing-6c5b4a3f2e-abcde", "marketing-7d9f8b6c5d-xyz12"], rows.Select(r => r.Instance));

        var ok = rows[0];
        // web 250123456n + log-shipper 1500u; 131072Ki + 20Mi; requests 250m+50m, 128Mi+32Mi; limits 500m+100m, 256Mi+64Mi.
        Assert.Equal(0.251623456, ok.CpuCores!.Value, 9);
        Assert.Equal((0.3, 0.6), (Math.Round(ok.CpuRequestCores!.Value, 9), Math.Round(ok.CpuLimitCores!.Value, 9)));
        Assert.Equal((155189248L, 167772160L, 335544320L), (ok.MemoryBytes, ok.MemoryRequestBytes, ok.MemoryLimitBytes));
        Assert.Equal(41.9, ok.CpuPercent);
        Assert.Equal(46.2, ok.MemoryPercent!.Value, 0.11);
        Assert.Equal((1, "pool-a-1", "Running"), (ok.Restarts, ok.Node, ok.State));
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T09:29:51Z"), ok.Timestamp);
        Assert.Equal((PlatformKind.Kubernetes, "marketing", "akaind-platform"), (ok.Platform, ok.Deployment, ok.Namespace));
        Assert.Null(ok.NetworkInBytes);
        Assert.Empty(ok.Disks);
        Assert.Contains(ok.NotAvailable, n => n.StartsWith("Disk and network", StringComparison.Ordinal));
        // kubectl top nodes: the node's usage against its allocatable CPU and memory.
        Assert.Equal((1.510234567, 3.92), (ok.HostCpuCores, ok.HostCpuTotalCores));
        Assert.Equal((15225320L * 1024, (15225320L - 11834568L) * 1024), (ok.HostMemoryTotalBytes, ok.HostMemoryAvailableBytes));
        Assert.Equal((15225320L - 14912512L) * 1024, rows[1].HostMemoryAvailableBytes);

        // The crash-looping pod has no sample yet and no CPU limit: those figures are empty and say why.
        var bad = rows[1];
        Assert.Equal((7, "CrashLoopBackOff"), (bad.Restarts, bad.State));
        Assert.Null(bad.CpuCores);
        Assert.Null(bad.MemoryBytes);
        Assert.Null(bad.CpuLimitCores);
        Assert.Equal((0.25, 268435456L), (bad.CpuRequestCores, bad.MemoryLimitBytes));
        Assert.Contains(bad.NotAvailable, n => n.Contains("no sample", StringComparison.Ordinal));
        Assert.Contains(bad.NotAvailable, n => n.StartsWith("CPU limit", StringComparison.Ordinal));
    }

    [Fact]
    public void Kubernetes_without_metrics_server_still_gives_limits_and_restarts_and_says_what_is_missing()
    {
        var (_, t) = Kube(new Reply(Metrics, Exit: 1, Stderr: "Error from server (NotFound): the server could not find the requested resource"));
        var r = fx.Run($"Get-AppResourceUsage {t}").AssertNoErrors();
        var rows = r.Objects<AppResourceUsage>().ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, u => Assert.Null(u.CpuCores));
        Assert.Equal(0.6, Math.Round(rows[0].CpuLimitCores!.Value, 9));
        Assert.Equal([1, 7], rows.Select(u => u.Restarts!.Value));
        Assert.All(rows, u => Assert.Contains(u.NotAvailable, n => n.Contains("metrics-server", StringComparison.Ordinal)));
        Assert.Contains(r.Warnings, w => w.Contains("metrics-server", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Kubernetes_nodes_that_cannot_be_read_cost_only_the_node_figures(bool forbidden)
    {
        var cli = new FakeCli();
        var nodes = forbidden
            ? new Reply("--context production get nodes ", Exit: 1, Stderr: "Error from server (Forbidden): nodes \"pool-a-1\" is forbidden: User \"oncall\" cannot get resource \"nodes\" in API group \"\" at the cluster scope")
            : new Reply("--context production get nodes ", Text: "<html>proxy error</html>");
        var path = cli.Tool("kubectl",
            new Reply("--context production -n akaind-platform get deployment marketing -o json", "k8s-deployment.json"),
            new Reply("--context production -n akaind-platform get pods -l app=marketing -o json", "k8s-usage-pods.json"),
            new Reply(Metrics, "k8s-pod-metrics.json"), nodes);
        var r = fx.Run($"Get-AppResourceUsage {K8sTarget} -KubectlPath '{path}'").AssertNoErrors();
        var rows = r.Objects<AppResourceUsage>().ToList();
        Assert.Equal(0.251623456, rows[0].CpuCores!.Value, 9);
        Assert.All(rows, u => Assert.Null(u.HostCpuCores));
        Assert.All(rows, u => Assert.Contains(u.NotAvailable, n => n.StartsWith("Node usage", StringComparison.Ordinal)));
        Assert.Contains(r.Warnings, w => w.Contains(forbidden ? "Forbidden" : "could not be read", StringComparison.Ordinal));
    }

    [Fact]
    public void Systemd_over_ssh_is_one_remote_command_and_reads_unit_host_and_filesystems()
    {
        var cli = new FakeCli();
        var ssh = cli.Tool("ssh", new Reply("-o BatchMode=yes -- deploy@api-1 ", "systemd-usage.txt"));
        var u = fx.Run($"Get-AppResourceUsage -Platform Systemd -Unit fastapi -ComputerName deploy@api-1 -SshPath '{ssh}'").AssertNoErrors().Single<AppResourceUsage>();
        Assert.Single(cli.Calls);
        Assert.StartsWith("ssh -o BatchMode=yes -- deploy@api-1 systemctl show fastapi --property=MainPID,", cli.Calls[0]);
        Assert.Equal(("4242", "deploy@api-1", "running"), (u.Instance, u.Node, u.State));
        Assert.Equal((241172480L, 268435456L, 89.8), (u.MemoryBytes, u.MemoryLimitBytes, u.MemoryPercent));
        // CPUUsageNSec grew by 0.7 s in the 1 s between the two samples, under a CPUQuota of 2 cores.
        Assert.Equal((0.7, 2.0, 35.0), (u.CpuCores, u.CpuLimitCores, u.CpuPercent));
        Assert.Equal(TimeSpan.FromTicks(8123456789), u.CpuTime);
        Assert.Equal((17L, 3), (u.Tasks, u.Restarts));
        Assert.Equal([14.08, 7.86, 4.86], u.LoadAverage);
        Assert.Equal((24683652L * 1024, 23201004L * 1024), (u.HostMemoryTotalBytes, u.HostMemoryAvailableBytes));
        // tmpfs and devtmpfs are left out; a mount point with a space is kept whole.
        Assert.Equal(["/", "/srv/data volume"], u.Disks.Select(d => d.Mount));
        Assert.Equal(("/dev/vdb", 53687091200L, 51539607552L, 2147483648L, 97.0), (u.Disks[1].Filesystem, u.Disks[1].SizeBytes, u.Disks[1].UsedBytes, u.Disks[1].AvailableBytes, u.Disks[1].UsedPercent));
        Assert.Null(u.NetworkInBytes);
        Assert.Contains(u.NotAvailable, n => n.Contains("IPAccounting=yes", StringComparison.Ordinal));
    }

    [Fact]
    public void Systemd_remote_command_runs_in_a_real_shell_with_exact_argv()
    {
        var cli = new FakeCli();
        cli.Tool("systemctl",
            new Reply("show fastapi --property=CPUUsageNSec --value", Text: "813045678901\n"),
            new Reply($"show fastapi --property={SystemdAdapter.UsageProperties} --no-pager", "systemctl-show-usage.txt"));
        var ssh = cli.Ssh();
        var u = fx.Run($"Get-AppResourceUsage -Platform Systemd -Unit fastapi -ComputerName deploy@api-1 -SshPath '{ssh}'").AssertNoErrors().Single<AppResourceUsage>();
        var argv = Assert.Single(cli.ArgvCalls);
        Assert.StartsWith($"<-o><BatchMode=yes><--><deploy@api-1><systemctl show fastapi --property={SystemdAdapter.UsageProperties} --no-pager; ", argv);
        Assert.EndsWith("echo @@df; df -PB1 || true>", argv);
        Assert.Equal((241172480L, 3), (u.MemoryBytes, u.Restarts));
        Assert.InRange(u.CpuCores!.Value, 0.5, 0.7);
        // The host figures are this machine's, read by the script the remote shell ran.
        Assert.True(u.HostMemoryTotalBytes > 0);
        Assert.Equal(3, u.LoadAverage!.Length);
        Assert.Contains(u.Disks, d => d.Mount == "/");
    }

    [Fact]
    public void Systemd_on_this_machine_reads_systemctl_then_proc_and_df()
    {
        var cli = new FakeCli();
        var text = File.ReadAllText(Fixture("systemctl-show-usage.txt")).Replace("MemoryCurrent=241172480", "MemoryCurrent=[not set]").Replace("MemoryMax=268435456", "MemoryMax=infinity");
        var path = cli.Tool("systemctl",
            new Reply("show fastapi --property=CPUUsageNSec --value", Text: "812345678901\n"),
            new Reply($"show fastapi --property={SystemdAdapter.UsageProperties} --no-pager", Text: text));
        var u = fx.Run($"Get-AppResourceUsage -Platform Systemd -Unit fastapi -SystemctlPath '{path}'").AssertNoErrors().Single<AppResourceUsage>();
        Assert.Equal(
            [$"systemctl show fastapi --property={SystemdAdapter.UsageProperties} --no-pager", "systemctl show fastapi --property=CPUUsageNSec --value --no-pager"], cli.Calls);
        Assert.Equal(0.0, u.CpuCores);
        Assert.Null(u.MemoryBytes);
        Assert.Null(u.MemoryLimitBytes);
        Assert.Contains(u.NotAvailable, n => n.Contains("MemoryAccounting=yes", StringComparison.Ordinal));
        Assert.Contains(u.NotAvailable, n => n.Contains("MemoryMax=infinity", StringComparison.Ordinal));
        var memTotal = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        Assert.Equal(long.Parse(memTotal.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024, u.HostMemoryTotalBytes);
        Assert.Contains(u.Disks, d => d.Mount == "/");
        Assert.Equal(System.Environment.MachineName, u.Node);
    }

    [Fact]
    public void Record_notes_each_instances_figures_on_the_active_incident_and_nothing_without_it()
    {
        var cli = new FakeCli();
        var ssh = cli.Tool("ssh", new Reply("-o BatchMode=yes -- deploy@api-1 ", "systemd-usage.txt"));
        var (cfg, _) = IncidentOps.Tests.Incidents.IncidentCmdletTests.TempConfig();
        var id = fx.Run($"(New-Incident -Title slow -Severity P2 -ConfigPath '{cfg}').Id").AssertNoErrors().Output.Single().ToString();
        var read = $"Get-AppResourceUsage -Platform Systemd -Unit fastapi -ComputerName deploy@api-1 -SshPath '{ssh}' -ConfigPath '{cfg}'";
        fx.Run(read).AssertNoErrors();
        Assert.Empty(fx.Run($"Get-IncidentTimeline -Id {id} -Kind read -ConfigPath '{cfg}'").AssertNoErrors().Output);
        fx.Run(read + " -Record").AssertNoErrors();
        var entry = fx.Run($"Get-IncidentTimeline -Id {id} -Kind read -ConfigPath '{cfg}'").AssertNoErrors().Single<IncidentOps.Incidents.TimelineEntry>();
        Assert.Equal("Get-AppResourceUsage", entry.Cmdlet);
        Assert.Contains("fastapi", entry.Target);
        Assert.Equal("4242: cpu 0.7/2 cores, memory 230 MiB of 256 MiB, 3 restarts", entry.Result);
    }

    [Fact]
    public void SaveIncidentEvidence_captures_the_resource_usage_of_a_service_before_a_change()
    {
        var cli = new FakeCli();
        var ssh = cli.Tool("ssh", new Reply("-o BatchMode=yes -- deploy@api-1 ", "systemd-usage.txt"));
        var dir = Paths.TempDir("io-usage-evidence");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"""
            version: 1
            environments:
              production:
                services:
                  fastapi:
                    platform: systemd
                    unit: fastapi
                    host: deploy@api-1
            tools:
              ssh: '{ssh}'
            store:
              path: '{Path.Combine(dir, "store")}'
            """);
        var r = fx.Run($$"""
            $c = '{{config}}'
            New-Incident -Title 'fastapi slow' -Severity P2 -Service production/fastapi -ConfigPath $c | Out-Null
            Save-IncidentEvidence -Source app-resource-usage -ConfigPath $c
            """).AssertNoErrors();
        var capture = Assert.Single(r.Objects<IncidentOps.Incidents.EvidenceCapture>());
        Assert.True(capture.Succeeded, capture.Error);
        Assert.Equal(("app-resource-usage", "production/fastapi"), (capture.Source, capture.Service));
        var saved = File.ReadAllText(capture.Path!);
        Assert.Contains("241172480", saved);
        Assert.Contains("/srv/data volume", saved);
        Assert.Single(cli.Calls);
    }

    [Fact]
    public void A_DigitalOcean_static_site_is_PlatformOperationNotSupported_saying_where_to_look()
    {
        var cli = new FakeCli();
        var doctl = cli.Tool("doctl", new Reply("apps get f1e2d3c4-0000-4000-8000-00000000a001 -o json", "do-app-usage.json"));
        var r = fx.Run($"Get-AppResourceUsage -Platform DigitalOcean -AppId f1e2d3c4-0000-4000-8000-00000000a001 -Component docs -DoctlPath '{doctl}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.GetAppResourceUsageCommand", e.FullyQualifiedErrorId);
        Assert.Contains("static site 'docs'", e.ToString());
        Assert.Contains("Insights", e.ToString());
        Assert.Empty(r.Objects<AppResourceUsage>());
    }
}

/// <summary>The Fly tests set FLY_PROMETHEUS_URL and FLY_API_TOKEN for the process, so they run alone.</summary>
[CollectionDefinition(nameof(FlyEnvironment), DisableParallelization = true)]
public sealed class FlyEnvironment;

/// <summary>Fly.io: flyctl status for the limits and Fly's Prometheus (a loopback stand-in through FLY_PROMETHEUS_URL) for what is in use.</summary>
[Collection(nameof(FlyEnvironment))]
public class FlyResourceUsageTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string App = "ai-affiliate-empire";
    private const string Token = "canary-fly-token-7781";

    private static (HttpListener Listener, List<string> Seen, Task Loop) Prometheus(CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = TestServers.FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try { listener.Start(); }
            catch (HttpListenerException) when (attempt < 20) { listener.Close(); continue; }
            var seen = new List<string>();
            var loop = Task.Run(async () =>
            {
                while (!ct.IsCancellationRequested)
                {
                    HttpListenerContext ctx;
                    try { ctx = await listener.GetContextAsync().WaitAsync(ct); }
                    catch (Exception ex) when (ex is OperationCanceledException or HttpListenerException or ObjectDisposedException) { return; }
                    var query = ctx.Request.QueryString["query"] ?? "";
                    lock (seen) seen.Add($"{ctx.Request.Url!.AbsolutePath} {ctx.Request.Headers["Authorization"]} {query}");
                    var file = query.Contains("fly_instance_cpu", StringComparison.Ordinal) ? "cpu" : query.Contains("memory", StringComparison.Ordinal) ? "memory" : query.Contains("recv", StringComparison.Ordinal) ? "in" : "out";
                    var bytes = File.ReadAllBytes(Fixture($"fly-prometheus-{file}.json"));
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.OutputStream.WriteAsync(bytes, ct);
                    ctx.Response.Close();
                }
            }, ct);
            return (listener, seen, loop);
        }
    }

    [Fact]
    public void Fly_reads_the_machines_limits_from_flyctl_and_what_is_in_use_from_Prometheus()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (listener, seen, _) = Prometheus(cts.Token);
        var cli = new FakeCli();
        var flyctl = cli.Tool("flyctl", new Reply($"status -a {App} --json", "fly-status-usage.json"));
        System.Environment.SetEnvironmentVariable("FLY_PROMETHEUS_URL", listener.Prefixes.Single() + "prometheus");
        System.Environment.SetEnvironmentVariable("FLY_API_TOKEN", Token);
        try
        {
            var r = fx.Run($"Get-AppResourceUsage -Platform Fly -App {App} -FlyctlPath '{flyctl}' -Verbose").AssertNoErrors();
            var rows = r.Objects<AppResourceUsage>().ToList();
            Assert.Equal([$"flyctl status -a {App} --json"], cli.Calls);
            Assert.Equal(4, seen.Count);
            Assert.All(seen, s => Assert.StartsWith($"/prometheus/personal/api/v1/query Bearer {Token} sum by (instance) (", s));
            Assert.Contains(seen, s => s.EndsWith($"(rate(fly_instance_cpu{{app=\"{App}\",mode!=\"idle\"}}[1m])) / sum by (instance) (rate(fly_instance_cpu{{app=\"{App}\"}}[1m]))", StringComparison.Ordinal));

            var running = rows.Single(u => u.Instance == "148ed726c03918");
            Assert.Equal((0.42, 1.0, 42.0), (running.CpuCores, running.CpuLimitCores, running.CpuPercent));
            Assert.Equal((440401920L, 536870912L, 82.0), (running.MemoryBytes, running.MemoryLimitBytes, running.MemoryPercent));
            Assert.Equal((123456789L, 98765432L), (running.NetworkInBytes, running.NetworkOutBytes));
            Assert.Equal((0, "iad", "started"), (running.Restarts, running.Node, running.State));
            Assert.Contains(running.NotAvailable, n => n.StartsWith("Disk:", StringComparison.Ordinal));

            // The stopped machine (OOM-killed once) has its limits and restarts but nothing in use.
            var stopped = rows.Single(u => u.Instance == "3d8d9e1a2b3c47");
            Assert.Equal((1, 536870912L), (stopped.Restarts, stopped.MemoryLimitBytes));
            Assert.Null(stopped.CpuCores);
            Assert.Contains(stopped.NotAvailable, n => n.Contains("no recent sample", StringComparison.Ordinal));
            Assert.DoesNotContain(Token, r.AllText() + string.Join("\n", rows.Select(u => u.Source)));
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("FLY_PROMETHEUS_URL", null);
            System.Environment.SetEnvironmentVariable("FLY_API_TOKEN", null);
            cts.Cancel();
            listener.Close();
        }
    }

    [Fact]
    public void Fly_queries_Prometheus_with_the_token_flyctl_uses_when_both_token_variables_are_set()
    {
        // flyctl takes FLY_ACCESS_TOKEN before FLY_API_TOKEN; with two accounts' tokens set, the query took the other one.
        const string AccessToken = "canary-fly-access-2291";
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (listener, seen, _) = Prometheus(cts.Token);
        var cli = new FakeCli();
        var flyctl = cli.Tool("flyctl", new Reply($"status -a {App} --json", "fly-status-usage.json"));
        System.Environment.SetEnvironmentVariable("FLY_PROMETHEUS_URL", listener.Prefixes.Single() + "prometheus");
        System.Environment.SetEnvironmentVariable("FLY_API_TOKEN", Token);
        System.Environment.SetEnvironmentVariable("FLY_ACCESS_TOKEN", AccessToken);
        try
        {
            var r = fx.Run($"Get-AppResourceUsage -Platform Fly -App {App} -FlyctlPath '{flyctl}' -Verbose").AssertNoErrors();
            Assert.Equal([$"flyctl status -a {App} --json"], cli.Calls);
            Assert.Equal(4, seen.Count);
            Assert.All(seen, s => Assert.StartsWith($"/prometheus/personal/api/v1/query Bearer {AccessToken} ", s));
            Assert.DoesNotContain(AccessToken, r.AllText());
            Assert.DoesNotContain(Token, r.AllText());
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("FLY_PROMETHEUS_URL", null);
            System.Environment.SetEnvironmentVariable("FLY_API_TOKEN", null);
            System.Environment.SetEnvironmentVariable("FLY_ACCESS_TOKEN", null);
            cts.Cancel();
            listener.Close();
        }
    }

    [Fact]
    public void Fly_without_a_token_gives_the_limits_and_says_where_the_rest_is()
    {
        var cli = new FakeCli();
        var flyctl = cli.Tool("flyctl",
            new Reply($"status -a {App} --json", "fly-status-usage.json"),
            new Reply("auth token --json", Exit: 1, Stderr: "Error: no access token available. Please login with 'flyctl auth login'"));
        var r = fx.Run($"Get-AppResourceUsage -Platform Fly -App {App} -FlyctlPath '{flyctl}'").AssertNoErrors();
        Assert.Equal([$"flyctl status -a {App} --json", "flyctl auth token --json"], cli.Calls);
        var rows = r.Objects<AppResourceUsage>().ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, u => Assert.Equal((1.0, 536870912L), (u.CpuLimitCores!.Value, u.MemoryLimitBytes!.Value)));
        Assert.All(rows, u => Assert.Null(u.MemoryBytes));
        Assert.All(rows, u => Assert.Contains(u.NotAvailable, n => n.Contains("FLY_API_TOKEN", StringComparison.Ordinal)));
        Assert.Contains(r.Warnings, w => w.Contains("Prometheus", StringComparison.Ordinal));
    }
}

/// <summary>DigitalOcean: doctl apps get for the components, the App Platform API (loopback) for health and instance sizes.</summary>
public class DigitalOceanResourceUsageTests
{
    private const string Id = "f1e2d3c4-0000-4000-8000-00000000a001";

    [Fact]
    public async Task DigitalOcean_gives_cpu_and_memory_per_component_from_the_health_api_with_the_instance_size()
    {
        var (started, port) = TestServers.StartHttpListener();
        using var listener = started;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        var server = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync().WaitAsync(cts.Token); }
                catch (Exception ex) when (ex is OperationCanceledException or HttpListenerException or ObjectDisposedException) { return; }
                var path = ctx.Request.Url!.AbsolutePath;
                lock (seen) seen.Add($"{ctx.Request.HttpMethod} {path} {ctx.Request.Headers["Authorization"]}");
                var file = path.EndsWith("/health", StringComparison.Ordinal) ? "do-app-health.json" : $"do-instance-size-{path[(path.LastIndexOf('/') + 1)..]}.json";
                var bytes = File.ReadAllBytes(Fixture(file));
                ctx.Response.ContentType = "application/json";
                await ctx.Response.OutputStream.WriteAsync(bytes, cts.Token);
                ctx.Response.Close();
            }
        });
        var cli = new FakeCli();
        var doctl = cli.Tool("doctl", new Reply($"apps get {Id} -o json", "do-app-usage.json"));
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(new ToolPaths { Doctl = doctl }, null));
        var adapter = new DigitalOceanAdapter(new AppTarget { Platform = PlatformKind.DigitalOcean, Options = new Dictionary<string, string> { ["AppId"] = Id } }, runner, TimeSpan.FromSeconds(30),
            NullSink.Instance, new Uri($"http://127.0.0.1:{port}/"), "canary-do-token-4410");
        var rows = await new ResourceUsageService().GetAsync(adapter, cts.Token);
        cts.Cancel();

        Assert.Equal([$"doctl apps get {Id} -o json"], cli.Calls);
        Assert.Equal(
            [$"GET /v2/apps/{Id}/health Bearer canary-do-token-4410", "GET /v2/apps/tiers/instance_sizes/apps-s-1vcpu-1gb Bearer canary-do-token-4410", "GET /v2/apps/tiers/instance_sizes/apps-s-1vcpu-0.5gb Bearer canary-do-token-4410"],
            seen);
        // Services and workers only: the static site 'docs' has no instances.
        Assert.Equal(["portfolio-web", "image-worker"], rows.Select(r => r.Instance));
        var web = rows[0];
        Assert.Equal((37.5, 1.0, 0.375), (web.CpuPercent, web.CpuLimitCores, web.CpuCores));
        Assert.Equal((81.25, 1073741824L, 872415232L), (web.MemoryPercent, web.MemoryLimitBytes, web.MemoryBytes));
        Assert.Equal(("HEALTHY", "nyc", "portfolio-web"), (web.State, web.Node, web.Component));
        Assert.Null(web.Restarts);
        Assert.Contains(web.NotAvailable, n => n.StartsWith("Restarts", StringComparison.Ordinal));
        var worker = rows[1];
        Assert.Equal((99.1, 536870912L, "UNHEALTHY"), (worker.MemoryPercent, worker.MemoryLimitBytes, worker.State));
    }
}
