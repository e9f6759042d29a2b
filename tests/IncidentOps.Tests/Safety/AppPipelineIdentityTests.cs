using IncidentOps.Config;
using IncidentOps.Platforms;
using IncidentOps.Tests.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Issue 16 item 2 for the App and AppDatabase pairs: what Get-AppStatus/Get-AppDeployment write carries the whole
/// identity of the app (kubeconfig and context included), so a piped change reaches that app on that cluster; and
/// a piped object from another app than an explicit parameter names is refused. Fake kubectl/flyctl log their argv.
/// </summary>
public sealed class AppPipelineIdentityTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void A_piped_AppStatus_restarts_on_the_cluster_of_its_kubeconfig()
    {
        var dir = Paths.TempDir("io-ident-kube");
        var kubeconfig = Path.Combine(dir, "prod.yaml");
        var cli = new FakeCli();
        var prefix = $"--kubeconfig {kubeconfig} --context production -n akaind-platform";
        var path = cli.Tool("kubectl",
            new Reply($"{prefix} get deployment marketing -o json", "k8s-deployment.json"),
            new Reply($"{prefix} get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply($"{prefix} rollout restart", Text: "deployment.apps/marketing restarted\n"));
        var status = fx.Run($"Get-AppStatus -Platform Kubernetes -Kubeconfig '{kubeconfig}' -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}'")
            .AssertNoErrors().Single<AppStatus>();
        Assert.Equal(kubeconfig, status.Kubeconfig);
        fx.Run($"Get-AppStatus -Platform Kubernetes -Kubeconfig '{kubeconfig}' -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}' | Restart-App -KubectlPath '{path}' -Force")
            .AssertNoErrors();
        Assert.Contains($"kubectl {prefix} rollout restart deployment/marketing", cli.Calls);
        Assert.DoesNotContain(cli.Calls, c => c.Contains("rollout") && !c.Contains(kubeconfig));
    }

    /// <summary>A kubeconfig with two clusters' contexts, the current one given (what kubectl config use-context rewrites).</summary>
    private static string TwoContexts(string current) => $$"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: prod-cluster
          cluster: { server: "https://127.0.0.1:1" }
        - name: staging-cluster
          cluster: { server: "https://127.0.0.1:2" }
        users:
        - name: me
          user: { token: not-a-secret }
        contexts:
        - name: production
          context: { cluster: prod-cluster, user: me, namespace: akaind-platform }
        - name: staging
          context: { cluster: staging-cluster, user: me, namespace: staging-platform }
        current-context: {{current}}
        """;

    [Fact]
    public void A_piped_AppStatus_read_on_the_current_context_restarts_on_that_cluster_after_someone_switches_the_context()
    {
        var dir = Paths.TempDir("io-ident-current");
        var kubeconfig = Path.Combine(dir, "config");
        File.WriteAllText(kubeconfig, TwoContexts("production"));
        var cli = new FakeCli();
        var pinned = $"--kubeconfig {kubeconfig} --context production -n akaind-platform";
        var path = cli.Tool("kubectl",
            new Reply($"{pinned} get deployment marketing -o json", "k8s-deployment.json"),
            new Reply($"{pinned} get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply($"{pinned} rollout restart", Text: "deployment.apps/marketing restarted\n"),
            // Without a context, kubectl takes the kubeconfig's current context: whichever cluster that is by then.
            new Reply($"--kubeconfig {kubeconfig} get deployment marketing -o json", "k8s-deployment.json"),
            new Reply($"--kubeconfig {kubeconfig} get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply($"--kubeconfig {kubeconfig} rollout restart", Text: "deployment.apps/marketing restarted\n"));
        var result = fx.Run($$"""
            $s = Get-AppStatus -Platform Kubernetes -Kubeconfig '{{kubeconfig}}' -Deployment marketing -KubectlPath '{{path}}'
            [IO.File]::WriteAllText('{{kubeconfig}}', $staging)
            $s | Restart-App -KubectlPath '{{path}}' -Force
            """, new Dictionary<string, object?> { ["staging"] = TwoContexts("staging") }).AssertNoErrors().Single<AppActionResult>();
        Assert.Equal(("production", "akaind-platform"), (result.Context, result.Namespace));
        Assert.Contains($"kubectl {pinned} rollout restart deployment/marketing", cli.Calls);
        Assert.DoesNotContain(cli.Calls, c => !c.Contains("--context production"));
    }

    [Fact]
    public void A_piped_AppDeployment_carries_its_app_into_a_change()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl",
            new Reply("releases -a app-a --json --image", "fly-releases.json"),
            new Reply("apps restart app-a", Text: "restarted\n"),
            new Reply("status -a app-a --json", "fly-status.json"));
        var d = fx.Run($"(Get-AppDeployment -Platform Fly -App app-a -FlyctlPath '{path}')[0]").AssertNoErrors().Single<AppDeployment>();
        Assert.Equal(("app-a", PlatformKind.Fly), (d.App, d.Platform));
        fx.Run($"(Get-AppDeployment -Platform Fly -App app-a -FlyctlPath '{path}')[0] | Restart-App -FlyctlPath '{path}' -Force").AssertNoErrors();
        Assert.Contains("flyctl apps restart app-a", cli.Calls);
    }

    [Theory]
    [InlineData("Restart-App -App app-b -Force")]
    [InlineData("Set-AppScale -App app-b -Count 3 -Force")]
    [InlineData("Invoke-Rollback -App app-b -Force")]
    [InlineData("Restart-App -Platform Kubernetes -Deployment web -Force")]
    public void A_piped_app_from_another_target_than_the_explicit_one_is_refused(string change)
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("status -a app-a --json", "fly-status.json"), new Reply("", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Get-AppStatus -Platform Fly -App app-a -FlyctlPath '{path}' | {change} -FlyctlPath '{path}' -KubectlPath '{path}'");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("PipelineTargetMismatch,", e.FullyQualifiedErrorId);
        Assert.Contains("was given", e.ToString());
        Assert.Equal(["flyctl status -a app-a --json"], cli.Calls);
    }

    [Fact]
    public void An_object_that_carries_only_its_platform_and_options_restarts_the_app_it_came_from()
    {
        // A platform whose identity keys have no named property: the object has Platform and its options (GetOptions()), nothing else.
        var cli = new FakeCli();
        var prefix = "--context production -n akaind-platform";
        var path = cli.Tool("kubectl",
            new Reply($"{prefix} get deployment marketing -o json", "k8s-deployment.json"),
            new Reply($"{prefix} get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply($"{prefix} rollout restart", Text: "deployment.apps/marketing restarted\n"));
        var read = $"Get-AppStatus -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}' | ForEach-Object {{ [pscustomobject]@{{ Platform = $_.Platform; Options = $_.GetOptions() }} }}";
        var result = fx.Run($"{read} | Restart-App -KubectlPath '{path}' -Force").AssertNoErrors().Single<AppActionResult>();
        Assert.Equal(("marketing", "akaind-platform", "production"), (result.Deployment, result.Namespace, result.Context));
        Assert.Contains($"kubectl {prefix} rollout restart deployment/marketing", cli.Calls);

        // An explicit parameter naming another app than the piped options is refused, as it is against a named property.
        var r = fx.Run($"{read} | Restart-App -Namespace staging -KubectlPath '{path}' -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.RestartAppCommand", e.FullyQualifiedErrorId);
        Assert.Single(cli.Calls, c => c.Contains("rollout restart")); // the first restart only
        Assert.DoesNotContain(cli.Calls, c => c.Contains("staging"));
    }

    [Fact]
    public void A_piped_database_backup_from_another_database_than_the_explicit_one_is_refused()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"[pscustomobject]@{{ Platform = 'Fly'; DatabaseApp = 'db-a'; BackupId = 'b1' }} | Restore-AppDatabaseBackup -DatabaseApp db-b -FlyctlPath '{path}' -Force");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("PipelineTargetMismatch,", e.FullyQualifiedErrorId);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void Redis_objects_do_not_bind_into_a_flush()
    {
        // Get-RedisInfo objects carry an endpoint but no service: Clear-RedisDatabase must not take them as input
        // (it would flush whatever -ConnectionString or REDIS_URL names). PowerShell refuses the binding.
        var r = fx.Run("[pscustomobject]@{ Endpoint = '127.0.0.1:1'; Database = 0; Section = 'Keyspace' } | Clear-RedisDatabase -ConnectionString '127.0.0.1:1' -Force -TimeoutSec 1");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("InputObjectNotBound", e.FullyQualifiedErrorId);
    }
}
