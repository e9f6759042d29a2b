using IncidentOps.Actions;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms.Kubernetes;

/// <summary>
/// Two kubeconfig files that kubectl merges from $KUBECONFIG: prod.yaml sets current-context production and defines it
/// (prod-cluster, prod-admin, akaind-platform); team.yaml defines another context of the same name (staging-cluster,
/// staging-admin) and staging. kubectl takes the first file's definition, so the order of the list decides the cluster.
/// </summary>
internal static class KubeconfigList
{
    public static (string Prod, string Team) Write(string dir, string current = "production")
    {
        var prod = Path.Combine(dir, "prod.yaml");
        var team = Path.Combine(dir, "team.yaml");
        File.WriteAllText(prod, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: prod-cluster
              cluster: { server: "https://127.0.0.1:1" }
            users:
            - name: prod-admin
              user: { token: not-a-secret }
            contexts:
            - name: production
              context: { cluster: prod-cluster, user: prod-admin, namespace: akaind-platform }
            current-context: {{current}}
            """);
        File.WriteAllText(team, """
            apiVersion: v1
            kind: Config
            clusters:
            - name: staging-cluster
              cluster: { server: "https://127.0.0.1:2" }
            users:
            - name: staging-admin
              user: { token: not-a-secret }
            contexts:
            - name: production
              context: { cluster: staging-cluster, user: staging-admin, namespace: staging-platform }
            - name: staging
              context: { cluster: staging-cluster, user: staging-admin, namespace: staging-platform }
            current-context: staging
            """);
        return (prod, team);
    }

    public static string Join(params string[] files) => string.Join(Path.PathSeparator, files);
}

/// <summary>Issue 16: a $KUBECONFIG list is pinned as kubectl merges it (engine only; no process environment is touched).</summary>
public sealed class KubeconfigListPinTests
{
    private static AppTarget Deployment(params (string Key, string Value)[] more) => new()
    {
        Platform = PlatformKind.Kubernetes,
        Options = new Dictionary<string, string>(more.ToDictionary(m => m.Key, m => m.Value)) { ["Deployment"] = "marketing" },
    };

    [Fact]
    public void A_list_pins_the_merged_current_context_with_its_cluster_user_namespace_and_the_files()
    {
        var (prod, team) = KubeconfigList.Write(Paths.TempDir("io-kubelist"));
        var o = KubernetesOptions.Of(KubeconfigDefaults.Pin(Deployment(), KubeconfigList.Join(prod, team)));
        Assert.Equal(("production", "prod-cluster", "prod-admin", "akaind-platform", KubeconfigList.Join(prod, team), (string?)null),
            (o.Context, o.Cluster, o.User, o.Namespace, o.KubeconfigFiles, o.Kubeconfig));
        Assert.Equal(["--context", "production", "--cluster", "prod-cluster", "--user", "prod-admin"], o.ClusterArguments());
        var cmd = o.Command(["get", "nodes"]);
        Assert.Equal(KubeconfigList.Join(prod, team), cmd.Environment!["KUBECONFIG"]);
        Assert.Equal($"KUBECONFIG={KubeconfigList.Join(prod, team)} kubectl --context production --cluster prod-cluster --user prod-admin get nodes", cmd.CommandLine);
    }

    [Fact]
    public void The_first_file_that_sets_current_context_or_defines_a_context_wins_and_a_missing_file_is_left_out()
    {
        var dir = Paths.TempDir("io-kubelist-order");
        var (prod, team) = KubeconfigList.Write(dir);
        var missing = Path.Combine(dir, "later.yaml");
        // team.yaml first: its current-context (staging) and its definition of production win.
        var o = KubernetesOptions.Of(KubeconfigDefaults.Pin(Deployment(), KubeconfigList.Join(missing, team, prod)));
        Assert.Equal(("staging", "staging-cluster", "staging-admin", KubeconfigList.Join(team, prod)), (o.Context, o.Cluster, o.User, o.KubeconfigFiles));
        var named = KubernetesOptions.Of(KubeconfigDefaults.Pin(Deployment(("Context", "production")), KubeconfigList.Join(team, prod)));
        Assert.Equal(("production", "staging-cluster", "staging-platform"), (named.Context, named.Cluster, named.Namespace));
    }

    [Fact]
    public void A_target_pinned_to_a_list_keeps_its_pin_whatever_KUBECONFIG_says_later()
    {
        var (prod, team) = KubeconfigList.Write(Paths.TempDir("io-kubelist-keep"));
        var pinned = KubeconfigDefaults.Pin(Deployment(), KubeconfigList.Join(prod, team));
        // The same identity piped later, after $KUBECONFIG was reversed: the object's files, cluster and user stay.
        var again = KubernetesOptions.Of(KubeconfigDefaults.Pin(new AppTarget { Platform = PlatformKind.Kubernetes, Options = pinned.Options }, KubeconfigList.Join(team, prod)));
        Assert.Equal(("production", "prod-cluster", "prod-admin", KubeconfigList.Join(prod, team)), (again.Context, again.Cluster, again.User, again.KubeconfigFiles));
    }

    [Fact]
    public void A_single_file_is_still_pinned_by_kubeconfig_and_context_alone()
    {
        var (prod, _) = KubeconfigList.Write(Paths.TempDir("io-kubelist-one"));
        var o = KubernetesOptions.Of(KubeconfigDefaults.Pin(Deployment(), prod));
        Assert.Equal(["--kubeconfig", prod, "--context", "production"], o.ClusterArguments());
        Assert.Null(o.Environment);
    }
}

[CollectionDefinition(nameof(KubeconfigEnvironment), DisableParallelization = true)]
public sealed class KubeconfigEnvironment;

/// <summary>
/// Issue 16 in a hosted pwsh with $KUBECONFIG set to a list (a process-wide variable, so these run alone): App commands,
/// piped objects and Invoke-ServiceAction run kubectl with the merged context pinned, and nothing reaches the other cluster.
/// </summary>
[Collection(nameof(KubeconfigEnvironment))]
public sealed class KubeconfigListCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static T WithKubeconfig<T>(string value, Func<T> run)
    {
        var saved = Environment.GetEnvironmentVariable("KUBECONFIG");
        Environment.SetEnvironmentVariable("KUBECONFIG", value);
        try { return run(); }
        finally { Environment.SetEnvironmentVariable("KUBECONFIG", saved); }
    }

    [Fact]
    public void WhatIf_names_the_pinned_cluster_and_runs_nothing()
    {
        var (prod, team) = KubeconfigList.Write(Paths.TempDir("io-kubelist-whatif"));
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new Reply("", Text: "SHOULD NOT RUN"));
        var r = WithKubeconfig(KubeconfigList.Join(prod, team), () => fx.Run($"Restart-App -Platform Kubernetes -Deployment marketing -KubectlPath '{path}' -WhatIf")).AssertNoErrors();
        Assert.Contains($"KUBECONFIG={KubeconfigList.Join(prod, team)} kubectl --context production --cluster prod-cluster --user prod-admin -n akaind-platform rollout restart deployment/marketing", r.HostText);
        Assert.Contains("(production, cluster prod-cluster)", r.HostText);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void A_piped_status_restarts_on_the_cluster_it_was_read_from_after_KUBECONFIG_and_current_context_change()
    {
        var dir = Paths.TempDir("io-kubelist-pipe");
        var (prod, team) = KubeconfigList.Write(dir);
        var pinned = "--context production --cluster prod-cluster --user prod-admin -n akaind-platform";
        var cli = new FakeCli();
        var path = cli.Tool("kubectl",
            new Reply($"{pinned} get deployment marketing -o json", "k8s-deployment.json"),
            new Reply($"{pinned} get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply($"{pinned} get events", "k8s-events.json"),
            new Reply($"{pinned} rollout restart", Text: "deployment.apps/marketing restarted\n"));
        var result = WithKubeconfig(KubeconfigList.Join(prod, team), () => fx.Run($$"""
            $s = Get-AppStatus -Platform Kubernetes -Deployment marketing -KubectlPath '{{path}}'
            $env:KUBECONFIG = '{{KubeconfigList.Join(team, prod)}}'     # another terminal's order: team.yaml's production wins
            [IO.File]::WriteAllText('{{prod}}', [IO.File]::ReadAllText('{{prod}}').Replace('current-context: production', 'current-context: staging'))
            $s | Restart-App -KubectlPath '{{path}}' -Force
            """)).AssertNoErrors().Single<AppActionResult>();
        Assert.Equal(("production", "akaind-platform"), (result.Context, result.Namespace));
        Assert.Equal($"kubectl {pinned} rollout restart deployment/marketing", cli.Calls[^1]);
        Assert.All(cli.Calls, c => Assert.StartsWith($"kubectl {pinned} ", c));
        Assert.All(cli.KubeconfigSeen, k => Assert.Equal($"kubectl KUBECONFIG={KubeconfigList.Join(prod, team)}", k));
        Assert.DoesNotContain(cli.Calls, c => c.Contains("staging"));
    }

    private static (string Config, FakeCli Cli, string Manifest) ActionService(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "k8s"));
        var manifest = Path.Combine(dir, "k8s", "rate-limit-strict.yaml");
        File.WriteAllText(manifest, "kind: ConfigMap\n");
        var cli = new FakeCli();
        var kubectl = cli.Tool("kubectl", new Reply("--", Text: "done\n"));
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $$"""
            environments:
              production:
                services:
                  marketing:
                    platform: kubernetes
                    deployment: marketing
                    namespace: akaind-platform
                    actions:
                      rate-limit-strict:
                        apply: k8s/rate-limit-strict.yaml
                        confirmImpact: Low
                      restart:
                        command: [kubectl, rollout, restart, deployment/marketing]
                        confirmImpact: Low
                      staging-nodes:
                        command: [kubectl, --context, staging, get, nodes]
                        confirmImpact: Low
            tools:
              kubectl: {{kubectl}}
            store: { path: {{dir}}/store }
            """);
        return (config, cli, manifest);
    }

    [Fact]
    public void Invoke_ServiceAction_runs_kubectl_on_the_merged_context_pinned_when_it_starts()
    {
        var dir = Paths.TempDir("io-kubelist-action");
        var (prod, team) = KubeconfigList.Write(dir);
        var (config, cli, manifest) = ActionService(dir);
        var list = KubeconfigList.Join(prod, team);
        var pinned = "--context production --cluster prod-cluster --user prod-admin --namespace akaind-platform";
        var whatIf = WithKubeconfig(list, () => fx.Run($"Invoke-ServiceAction production/marketing rate-limit-strict -WhatIf -ConfigPath '{config}'")).AssertNoErrors();
        Assert.Contains($"KUBECONFIG={list} kubectl {pinned} apply -f {manifest}", whatIf.HostText);
        Assert.Empty(cli.Calls);

        var r = WithKubeconfig(list, () => fx.Run($"""
            Invoke-ServiceAction production/marketing rate-limit-strict -Force -ConfigPath '{config}'
            Invoke-ServiceAction production/marketing restart -Force -ConfigPath '{config}'
            Invoke-ServiceAction production/marketing staging-nodes -Force -ConfigPath '{config}'
            """)).AssertNoErrors();
        Assert.All(r.Objects<ServiceActionResult>(), a => Assert.True(a.Succeeded, a.Outcome));
        Assert.Equal([$"kubectl {pinned} apply -f {manifest}", $"kubectl {pinned} rollout restart deployment/marketing",
            // An action that chooses its own context gets nothing pinned that could mix with it (no --cluster/--user of production).
            "kubectl --namespace akaind-platform --context staging get nodes"], cli.Calls);
        Assert.Equal([$"kubectl KUBECONFIG={list}", $"kubectl KUBECONFIG={list}", $"kubectl KUBECONFIG={list}"], cli.KubeconfigSeen);
    }

    [Fact]
    public void Invoke_ServiceAction_pins_a_single_kubeconfig_and_its_current_context()
    {
        var dir = Paths.TempDir("io-kubeone-action");
        var (prod, _) = KubeconfigList.Write(dir);
        var (config, cli, manifest) = ActionService(dir);
        var r = WithKubeconfig(prod, () => fx.Run($"Invoke-ServiceAction production/marketing rate-limit-strict -Force -ConfigPath '{config}'")).AssertNoErrors();
        Assert.True(r.Single<ServiceActionResult>().Succeeded);
        Assert.Equal([$"kubectl --kubeconfig {prod} --context production --namespace akaind-platform apply -f {manifest}"], cli.Calls);
    }
}
