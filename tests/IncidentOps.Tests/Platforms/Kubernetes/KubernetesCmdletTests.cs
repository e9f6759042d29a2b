using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

public class KubernetesCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string K = "kubectl --context production -n akaind-platform";

    private static (FakeCli Cli, string Target) Kube(params Reply[] replies)
    {
        var cli = new FakeCli();
        var all = new[]
        {
            new Reply("--context production -n akaind-platform get deployment marketing -o json", "k8s-deployment.json"),
            new Reply("--context production -n akaind-platform get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply("--context production -n akaind-platform get replicasets -l app=marketing -o json", "k8s-replicasets.json"),
            new Reply("--context production -n akaind-platform get events --field-selector=involvedObject.kind=Pod -o json", "k8s-events.json"),
        }.Concat(replies).ToArray();
        var path = cli.Tool("kubectl", all);
        return (cli, $"-Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}'");
    }

    [Fact]
    public void GetAppStatus_reads_the_deployment_and_its_pods()
    {
        var (cli, t) = Kube();
        var s = fx.Run($"Get-AppStatus {t}").AssertNoErrors().Single<AppStatus>();
        // A pod in trouble: its events are read too (one call for all pods, as kubectl describe reads them per pod).
        Assert.Equal([$"{K} get deployment marketing -o json", $"{K} get pods -l app=marketing -o json", $"{K} get events --field-selector=involvedObject.kind=Pod -o json"], cli.Calls);
        Assert.Equal((AppState.Degraded, "rollout stalled; CrashLoopBackOff (OOMKilled)", 3, 2, "4"), (s.State, s.Reason, s.DesiredInstances, s.ReadyInstances, s.Version));
        var bad = Assert.Single(s.Instances, i => !i.Ready);
        // The pod waits in CrashLoopBackOff because the out-of-memory killer ended its last run (exit code 137).
        Assert.Equal(("CrashLoopBackOff", 7, "OOMKilled", 137, "pool-a-2"), (bad.State, bad.Restarts, bad.LastExitReason, bad.ExitCode, bad.Region));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 9, 5, 30, TimeSpan.Zero), bad.LastExitAt);
        Assert.Equal(2, bad.Events.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ Warning BackOff x12: Back-off restarting failed container web", bad.Events[0]);
        Assert.Contains("Normal Pulled x8:", bad.Events[1]);
        var good = Assert.Single(s.Instances, i => i.Ready);
        Assert.Equal((null, null, 0), (good.LastExitReason, good.ExitCode, good.Events.Length));
    }

    [Fact]
    public void Kubeconfig_from_the_service_or_the_parameter_goes_to_kubectl_first()
    {
        var dir = Paths.TempDir("io-kubeconfig");
        var cli = new FakeCli();
        var fromConfig = Path.Combine(dir, "clusters", "prod.yaml");
        var given = Path.Combine(dir, "other.yaml");
        var path = cli.Tool("kubectl",
            new Reply($"--kubeconfig {fromConfig} --context production -n akaind-platform get deployment marketing -o json", "k8s-deployment.json"),
            new Reply($"--kubeconfig {fromConfig} --context production -n akaind-platform get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply($"--kubeconfig {given} --context production -n akaind-platform get deployment marketing -o json", "k8s-deployment.json"),
            new Reply($"--kubeconfig {given} --context production -n akaind-platform get pods -l app=marketing -o json", "k8s-pods.json"),
            new Reply($"--kubeconfig {fromConfig} --context production -n akaind-platform get events", "k8s-events.json"),
            new Reply($"--kubeconfig {given} --context production -n akaind-platform get events", "k8s-events.json"));
        var config = Path.Combine(dir, "incidentops.yml");
        // A relative kubeconfig is relative to the configuration file, like every other path in it.
        File.WriteAllText(config, $"version: 1\nenvironments:\n  production:\n    services:\n      marketing:\n        platform: kubernetes\n        context: production\n        kubeconfig: clusters/prod.yaml\n        namespace: akaind-platform\n        deployment: marketing\ntools:\n  kubectl: '{path}'\nstore:\n  path: {dir}\n");

        Assert.Equal(fromConfig, fx.Run($"(Get-IncidentOpsService -Path '{config}' -Name marketing).Kubeconfig").AssertNoErrors().Output.Single().ToString());
        fx.Run($"Get-AppStatus -Service production/marketing -ConfigPath '{config}'").AssertNoErrors().Single<AppStatus>();
        fx.Run($"Get-AppStatus -Service production/marketing -ConfigPath '{config}' -Kubeconfig '{given}'").AssertNoErrors().Single<AppStatus>();
        Assert.Equal([
            $"kubectl --kubeconfig {fromConfig} --context production -n akaind-platform get deployment marketing -o json",
            $"kubectl --kubeconfig {fromConfig} --context production -n akaind-platform get pods -l app=marketing -o json",
            $"kubectl --kubeconfig {fromConfig} --context production -n akaind-platform get events --field-selector=involvedObject.kind=Pod -o json",
            $"kubectl --kubeconfig {given} --context production -n akaind-platform get deployment marketing -o json",
            $"kubectl --kubeconfig {given} --context production -n akaind-platform get pods -l app=marketing -o json",
            $"kubectl --kubeconfig {given} --context production -n akaind-platform get events --field-selector=involvedObject.kind=Pod -o json"], cli.Calls);
    }

    [Fact]
    public void GetAppDeployment_reads_replicaset_revisions_newest_first()
    {
        var (cli, t) = Kube();
        var list = fx.Run($"Get-AppDeployment {t}").AssertNoErrors().Objects<AppDeployment>().ToList();
        Assert.Equal(["4", "3", "2"], list.Select(d => d.Version));
        Assert.Equal(("Failed", true), (list[0].Status, list[0].IsCurrent));
        Assert.True(list[1].IsLastGood);
        Assert.Equal("registry.example.com/marketing:1.3.2", list[1].Image);
        Assert.Equal($"{K} get replicasets -l app=marketing -o json", cli.Calls.Last());
    }

    /// <summary>
    /// The JSON patch a rollback of deployment/marketing (generation 4) to revision 3 sends: the test of the generation
    /// read when it was planned, revision 3's ReplicaSet template (no pod-template-hash label there) and its change-cause.
    /// </summary>
    private const string PatchTo3 = """[{"op":"test","path":"/metadata/generation","value":4},{"op":"test","path":"/metadata/uid","value":"6f1c2e0a-0000-4000-8000-000000000001"},{"op":"replace","path":"/spec/template","value":{"spec":{"containers":[{"name":"web","image":"registry.example.com/marketing:1.3.2"}]}}},{"op":"add","path":"/metadata/annotations/kubernetes.io~1change-cause","value":"kubectl set image deployment/marketing web=registry.example.com/marketing:1.3.2"}]""";

    [Fact]
    public void InvokeRollback_patches_the_last_good_revisions_template_on_condition_of_the_generation_then_waits_for_the_rollout()
    {
        var (cli, t) = Kube(new Reply("--context production -n akaind-platform patch deployment/marketing", Text: "deployment.apps/marketing patched\n"),
            new Reply("--context production -n akaind-platform rollout status", Text: "deployment \"marketing\" successfully rolled out\n"));
        var r = fx.Run($"Invoke-Rollback {t} -Force -TimeoutSec 120").AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(("4", "3", true), (r.From, r.To, r.Succeeded));
        Assert.Equal($"{K} patch deployment/marketing --type=json --field-manager=kubectl-rollout -p {PatchTo3}", cli.Calls[^2]);
        Assert.Equal($"{K} patch deployment/marketing --type=json --field-manager=kubectl-rollout -p '{PatchTo3}'", r.Steps[0]);
        Assert.DoesNotContain(cli.Calls, c => c.Contains("rollout undo", StringComparison.Ordinal));
        // kubectl gets what is left of the one deadline, less a second, so its own timeout ends first.
        Assert.Matches($@"^{K} rollout status deployment/marketing --timeout=11[0-9]s$", cli.Calls[^1]);
    }

    [Fact]
    public void A_rollback_whose_rollout_wait_fails_is_RollbackFailed_saying_the_patch_was_applied()
    {
        // Before, a failed 'rollout status' surfaced as a bare PlatformCommandFailed, as if nothing had changed, while the
        // Deployment's template had already been set back to revision 3.
        var (cli, t) = Kube(new Reply("--context production -n akaind-platform patch deployment/marketing", Text: "deployment.apps/marketing patched\n"),
            new Reply("--context production -n akaind-platform rollout status", Exit: 1, Stderr: "error: deployment \"marketing\" exceeded its progress deadline"));
        var r = fx.Run($"Invoke-Rollback {t} -Force -TimeoutSec 120");

        var e = Assert.Single(r.Errors);
        Assert.Equal("RollbackFailed,IncidentOps.Commands.InvokeRollbackCommand", e.FullyQualifiedErrorId);
        Assert.Contains("to 3 was applied (deployment/marketing patched to the template of revision 3), but waiting for the rollout failed, so it is half done", e.ToString());
        Assert.Contains("exceeded its progress deadline", e.ToString());
        Assert.Contains("Invoke-Rollback -ToVersion 4", e.ToString());
        Assert.Empty(r.Objects<RollbackResult>());
        Assert.Equal($"{K} patch deployment/marketing --type=json --field-manager=kubectl-rollout -p {PatchTo3}", cli.Calls[^2]);
    }

    [Fact]
    public void A_rollback_the_API_server_refuses_because_the_deployment_moved_is_RollbackTargetMoved_and_nothing_more_runs()
    {
        // A teammate's deploy (revision 5, generation 5) landed after the last re-check: the API server refuses the patch
        // (422, its generation test failed) and kubectl says so as below. The rollback stops there: no retry, no rollout wait.
        var moved = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixture("k8s-deployment.json")))!;
        moved["metadata"]!["generation"] = 5;
        moved["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"] = "5";
        moved["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "registry.example.com/marketing:1.5.0";
        var cli = new FakeCli();
        const string P = "--context production -n akaind-platform ";
        var path = cli.Tool("kubectl",
            new Reply(P + "get deployment marketing -o json", "k8s-deployment.json", Times: 2), // the plan and the re-check
            new Reply(P + "get deployment marketing -o json", Text: moved.ToJsonString()),    // read again after the refusal
            new Reply(P + "get replicasets -l app=marketing -o json", "k8s-replicasets.json"),
            new Reply(P + "patch deployment/marketing", Exit: 1, Stderr: "The request is invalid: the server rejected our request due to an error in our request"),
            new Reply(P + "rollout", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Invoke-Rollback -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}' -Force -TimeoutSec 120");

        var e = Assert.Single(r.Errors);
        Assert.Equal("RollbackTargetMoved,IncidentOps.Commands.InvokeRollbackCommand", e.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidOperation, e.CategoryInfo.Category);
        var m = e.Exception.Message;
        Assert.Contains("changed after the rollback to revision 3 was planned: its spec is now at generation 5 (it was 4 when the rollback was planned from revision 4), its current revision is 5, it runs registry.example.com/marketing:1.5.0", m);
        Assert.Contains("so nothing was changed", m);
        Assert.Contains("the server rejected our request", m);
        Assert.Contains("Run Get-AppDeployment", m);
        Assert.Empty(r.Objects<RollbackResult>());
        Assert.Single(cli.Calls, c => c.Contains(" patch ", StringComparison.Ordinal));
        Assert.Equal($"{K} patch deployment/marketing --type=json --field-manager=kubectl-rollout -p {PatchTo3}", cli.Calls.Single(c => c.Contains(" patch ", StringComparison.Ordinal)));
        Assert.DoesNotContain(cli.Calls, c => c.Contains(" rollout ", StringComparison.Ordinal));
        Assert.Equal($"{K} get deployment marketing -o json", cli.Calls[^1]);
    }

    [Fact]
    public void InvokeRollback_ToVersion_picks_that_revision_and_WhatIf_shows_the_exact_patch_and_runs_nothing()
    {
        var (cli, t) = Kube(new Reply("--context production -n akaind-platform rollout", Text: "SHOULD NOT RUN"),
            new Reply("--context production -n akaind-platform patch", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Invoke-Rollback {t} -ToVersion 2 -WhatIf").AssertNoErrors();
        Assert.Contains("4 -> 2", r.HostText);
        const string patch = """[{"op":"test","path":"/metadata/generation","value":4},{"op":"test","path":"/metadata/uid","value":"6f1c2e0a-0000-4000-8000-000000000001"},{"op":"replace","path":"/spec/template","value":{"spec":{"containers":[{"name":"web","image":"registry.example.com/marketing:1.3.1"}]}}},{"op":"add","path":"/metadata/annotations/kubernetes.io~1change-cause","value":"kubectl set image deployment/marketing web=registry.example.com/marketing:1.3.1"}]""";
        Assert.Contains($"{K} patch deployment/marketing --type=json --field-manager=kubectl-rollout -p '{patch}'", r.HostText.Replace("\n", "", StringComparison.Ordinal));
        Assert.DoesNotContain(cli.Calls, c => c.Contains("rollout", StringComparison.Ordinal) || c.Contains(" patch ", StringComparison.Ordinal));
    }

    [Fact]
    public void RestartApp_rolls_out_or_deletes_one_pod()
    {
        var (cli, t) = Kube(new Reply("--context production -n akaind-platform rollout restart", Text: "restarted\n"),
            new Reply("--context production -n akaind-platform delete pod", Text: "deleted\n"));
        fx.Run($"Restart-App {t} -Pod marketing-7d9f8b6c5d-xyz12 -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        fx.Run($"Restart-App {t} -Force").AssertNoErrors();
        fx.Run($"Restart-App {t} -Pod marketing-7d9f8b6c5d-xyz12 -Force").AssertNoErrors();
        Assert.Equal([$"{K} rollout restart deployment/marketing", $"{K} delete pod marketing-7d9f8b6c5d-xyz12"], cli.Calls);
    }

    [Fact]
    public void SetAppScale_and_SetAppSetting_send_the_seed_commands()
    {
        var (cli, t) = Kube(new Reply("--context production -n akaind-platform get deployment marketing -o json", "k8s-deployment.json"),
            new Reply("--context production -n akaind-platform scale", Text: "scaled\n"),
            new Reply("--context production -n akaind-platform set env", Text: "updated\n"));
        fx.Run($"Set-AppScale {t} -Count 5 -Force").AssertNoErrors();
        fx.Run($"Set-AppSetting {t} -Setting @{{ PAYMENT_PROVIDER = 'backup' }} -Force").AssertNoErrors();
        Assert.Equal([$"{K} get deployment marketing -o json", $"{K} scale deployment/marketing --replicas=5", $"{K} set env deployment/marketing PAYMENT_PROVIDER=backup"], cli.Calls);
        var e = Assert.Single(fx.Run($"Set-AppScale {t} -Size large -Force").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.SetAppScaleCommand", e.FullyQualifiedErrorId);
    }

    [Fact]
    public void GetAppLog_parses_prefixed_timestamped_lines_and_GetAppSetting_hides_secret_refs()
    {
        var (cli, t) = Kube(new Reply("--context production -n akaind-platform logs", "k8s-logs.txt"));
        var logs = fx.Run($"Get-AppLog {t} -Tail 50 -Pattern error").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal($"{K} logs deployment/marketing --timestamps=true --prefix=true --tail=50 --all-containers=true", cli.Calls.Single());
        var l = Assert.Single(logs);
        Assert.Equal("pod/marketing-7d9f8b6c5d-xyz12/web", l.Instance);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 9, 5, 29, TimeSpan.Zero), l.Timestamp!.Value.AddTicks(-(l.Timestamp.Value.Ticks % TimeSpan.TicksPerSecond)));
        var settings = fx.Run($"Get-AppSetting {t}").AssertNoErrors().Objects<AppSetting>().ToList();
        Assert.Equal(("PAYMENT_PROVIDER", "primary"), (settings[0].Key, settings[0].Value));
        Assert.True(settings[1].IsSecret);
        Assert.Null(settings[1].Value);
    }
}

public class KubernetesPodExitTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Pods = """
        {"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"1"},"items":[
          {"metadata":{"name":"marketing-7d9f8b6c5d-aaaaa","labels":{"app":"marketing"}},"spec":{"nodeName":"pool-a-1"},
           "status":{"phase":"Running",
             "initContainerStatuses":[{"name":"migrate","ready":true,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed","finishedAt":"2026-11-23T09:00:10Z"}}}],
             "containerStatuses":[{"name":"web","ready":true,"restartCount":0,"state":{"running":{"startedAt":"2026-11-23T09:00:11Z"}}}]}},
          {"metadata":{"name":"marketing-7d9f8b6c5d-bbbbb","labels":{"app":"marketing"}},"spec":{"nodeName":"pool-a-2"},
           "status":{"phase":"Pending",
             "initContainerStatuses":[{"name":"migrate","ready":false,"restartCount":4,
               "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 1m20s restarting failed container"}},
               "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"2026-11-23T09:04:00Z"}}}],
             "containerStatuses":[{"name":"web","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]}}]}
        """;

    [Fact]
    public void A_completed_init_container_is_no_exit_reason_and_a_failing_one_shows_as_Init_CrashLoopBackOff()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl",
            new FakeCli.Reply("get deployment marketing -o json", "k8s-deployment.json"),
            new FakeCli.Reply("get pods -l app=marketing -o json", Text: Pods),
            new FakeCli.Reply("get events", Text: """{"apiVersion":"v1","kind":"EventList","items":[]}"""));
        var s = fx.Run($"Get-AppStatus -Platform Kubernetes -Deployment marketing -KubectlPath '{path}'").AssertNoErrors().Single<AppStatus>();
        var healthy = s.Instances[0];
        Assert.Equal(("Running", null, null, 0, true), (healthy.State, healthy.LastExitReason, healthy.ExitCode, healthy.Restarts, healthy.Ready));
        var blocked = s.Instances[1];
        Assert.Equal(("Init:CrashLoopBackOff", "Error", 1, 4, false), (blocked.State, blocked.LastExitReason, blocked.ExitCode, blocked.Restarts, blocked.Ready));
        Assert.Equal("rollout stalled; Init:CrashLoopBackOff (exit code 1)", s.Reason);
    }
}
