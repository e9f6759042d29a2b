using System.Text.Json.Nodes;
using IncidentOps.Platforms;
using Xunit;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// The Kubernetes cmdlets through the REAL kubectl on PATH (here google-cloud-sdk's kubectl dispatcher, which asks
/// the server's /version and runs its bundled kubectl 1.32) against a loopback stub API server (KubeApiStub). The
/// module gets the stub's wrapper as -KubectlPath, which adds --kubeconfig and a private --cache-dir, so each test
/// has its own server, kubeconfig and discovery cache and nothing process-wide is changed. The tests assert the
/// HTTP requests kubectl really sent for each cmdlet and the objects the cmdlet made of kubectl's output.
/// </summary>
public class KubernetesRealKubectlTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Apps = KubeApiStub.AppsPath;
    private const string Core = KubeApiStub.CorePath;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static (KubeApiStub Api, string Target) Stub()
    {
        var api = new KubeApiStub(KubeApiStub.FindRealKubectl());
        return (api, $"-Platform Kubernetes -Context {KubeApiStub.Context} -Namespace {KubeApiStub.Namespace} -Deployment marketing -KubectlPath '{api.KubectlPath}' -TimeoutSec 60");
    }

    private static string[] Resources(KubeApiStub api) => api.ResourceRequests();

    [Fact]
    public void GetAppStatus_reads_the_deployment_and_its_pods_through_real_kubectl()
    {
        var (api, t) = Stub();
        using (api)
        {
            var s = fx.Session.Run($"Get-AppStatus {t}", timeout: Bound).AssertNoErrors().Single<AppStatus>();
            // The pod in trouble has its events read too: one list of the namespace's pod events.
            Assert.Equal([$"GET {Apps}/deployments/marketing", $"GET {Core}/pods?labelSelector=app%3Dmarketing&limit=500", $"GET {Core}/events?fieldSelector=involvedObject.kind%3DPod&limit=500"], Resources(api));
            Assert.Contains(api.Requests, r => r.Path == "/version");
            Assert.Equal((AppState.Degraded, "rollout stalled; CrashLoopBackOff (OOMKilled)", 3, 2, "4"), (s.State, s.Reason, s.DesiredInstances, s.ReadyInstances, s.Version));
            Assert.Equal("registry.example.com/marketing:1.4.0", s.Image);
            var bad = Assert.Single(s.Instances, i => !i.Ready);
            Assert.Equal(("CrashLoopBackOff", 7, "OOMKilled", 137, "pool-a-2"), (bad.State, bad.Restarts, bad.LastExitReason, bad.ExitCode, bad.Region));
            Assert.Contains("Warning BackOff x12: Back-off restarting failed container web", bad.Events[0]);
            Assert.Empty(api.Mutations);
        }
    }

    [Fact]
    public void GetAppDeployment_and_GetAppSetting_read_replicasets_and_env_through_real_kubectl()
    {
        var (api, t) = Stub();
        using (api)
        {
            var list = fx.Session.Run($"Get-AppDeployment {t}", timeout: Bound).AssertNoErrors().Objects<AppDeployment>().ToList();
            Assert.Equal([$"GET {Apps}/deployments/marketing", $"GET {Apps}/replicasets?labelSelector=app%3Dmarketing&limit=500"], Resources(api));
            Assert.Equal(["4", "3", "2"], list.Select(d => d.Version));
            Assert.Equal(("Failed", true), (list[0].Status, list[0].IsCurrent));
            Assert.True(list[1].IsLastGood);
            Assert.Equal("registry.example.com/marketing:1.3.2", list[1].Image);

            var settings = fx.Session.Run($"Get-AppSetting {t}", timeout: Bound).AssertNoErrors().Objects<AppSetting>().ToList();
            Assert.Equal(("PAYMENT_PROVIDER", "primary", false), (settings[0].Key, settings[0].Value, settings[0].IsSecret));
            Assert.Equal(("STRIPE_KEY", true), (settings[1].Key, settings[1].IsSecret));
            Assert.Null(settings[1].Value);
            Assert.Empty(api.Mutations);
        }
    }

    [Fact]
    public void GetAppLog_reads_one_pods_log_with_the_tail_and_parses_kubectls_prefix()
    {
        var (api, t) = Stub();
        using (api)
        {
            var logs = fx.Session.Run($"Get-AppLog {t} -Tail 50", timeout: Bound).AssertNoErrors().Objects<AppLogEntry>().ToList();
            var logRequest = Assert.Single(api.Requests, r => r.Path.EndsWith("/log", StringComparison.Ordinal));
            var pod = logRequest.Path[$"{Core}/pods/".Length..^"/log".Length];
            Assert.Contains("tailLines=50", logRequest.Query);
            Assert.Contains("timestamps=true", logRequest.Query);
            Assert.Contains("container=web", logRequest.Query);
            Assert.NotEmpty(logs);
            Assert.All(logs, l => Assert.Equal($"pod/{pod}/web", l.Instance));
            Assert.All(logs, l => Assert.NotNull(l.Timestamp));
            var expected = File.ReadAllLines(FakeCli.Fixture("k8s-logs.txt")).Count(l => l.StartsWith($"[pod/{pod}/web] ", StringComparison.Ordinal));
            Assert.Equal(expected, logs.Count);
            Assert.Empty(api.Mutations);
        }
    }

    [Fact]
    public void RestartApp_patches_restartedAt_waits_for_the_rollout_and_Pod_deletes_that_pod()
    {
        var (api, t) = Stub();
        using (api)
        {
            Assert.Contains("What if:", fx.Session.Run($"Restart-App {t} -WhatIf", timeout: Bound).AssertNoErrors().HostText);
            Assert.Contains("delete pod marketing-7d9f8b6c5d-xyz12", fx.Session.Run($"Restart-App {t} -Pod marketing-7d9f8b6c5d-xyz12 -WhatIf", timeout: Bound).AssertNoErrors().HostText);
            Assert.Empty(api.Mutations);

            var restart = fx.Session.Run($"Restart-App {t} -Wait -Force", timeout: Bound).AssertNoErrors().Single<AppActionResult>();
            Assert.Equal(("Restart", true, AppState.Healthy), (restart.Action, restart.Succeeded, restart.StateAfter));
            var patch = Assert.Single(api.Mutations);
            Assert.Equal(("PATCH", $"{Apps}/deployments/marketing", "application/strategic-merge-patch+json"), (patch.Method, patch.Path, patch.ContentType));
            Assert.Contains("fieldManager=kubectl-rollout", patch.Query);
            var restartedAt = (string?)patch.Json!["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"];
            Assert.True(DateTimeOffset.TryParse(restartedAt, out _), $"restartedAt is not a timestamp: {restartedAt}");
            // -Wait ran kubectl rollout status: it listed the deployment by name after the patch.
            Assert.Contains(api.Requests, r => r.Method == "GET" && r.Path == $"{Apps}/deployments" && r.Query.Contains("fieldSelector=metadata.name%3Dmarketing", StringComparison.Ordinal));

            fx.Session.Run($"Restart-App {t} -Pod marketing-7d9f8b6c5d-xyz12 -Force", timeout: Bound).AssertNoErrors();
            var delete = api.Mutations.Last();
            Assert.Equal(("DELETE", $"{Core}/pods/marketing-7d9f8b6c5d-xyz12"), (delete.Method, delete.Path));
            Assert.Equal("Background", (string?)delete.Json!["propagationPolicy"]);
        }
    }

    [Fact]
    public void SetAppScale_patches_the_scale_subresource_and_SetAppSetting_patches_the_container_env()
    {
        var (api, t) = Stub();
        using (api)
        {
            Assert.Contains("scale deployment/marketing --replicas=5", fx.Session.Run($"Set-AppScale {t} -Count 5 -WhatIf", timeout: Bound).AssertNoErrors().HostText);
            Assert.Contains("What if:", fx.Session.Run($"Set-AppSetting {t} -Setting @{{ PAYMENT_PROVIDER = 'backup' }} -WhatIf", timeout: Bound).AssertNoErrors().HostText);
            Assert.Empty(api.Mutations);

            fx.Session.Run($"Set-AppScale {t} -Count 5 -Force", timeout: Bound).AssertNoErrors();
            var scale = Assert.Single(api.Mutations);
            Assert.Equal(("PATCH", $"{Apps}/deployments/marketing/scale", "application/merge-patch+json"), (scale.Method, scale.Path, scale.ContentType));
            Assert.Equal(5, (int)scale.Json!["spec"]!["replicas"]!);

            fx.Session.Run($"Set-AppSetting {t} -Setting @{{ PAYMENT_PROVIDER = 'backup' }} -Force", timeout: Bound).AssertNoErrors();
            var env = api.Mutations.Last();
            Assert.Equal(("PATCH", $"{Apps}/deployments/marketing", "application/strategic-merge-patch+json"), (env.Method, env.Path, env.ContentType));
            Assert.Contains("fieldManager=kubectl-set", env.Query);
            var container = Assert.Single(env.Json!["spec"]!["template"]!["spec"]!["containers"]!.AsArray())!;
            Assert.Equal("web", (string?)container["name"]);
            var set = Assert.Single(container["env"]!.AsArray())!;
            Assert.Equal(("PAYMENT_PROVIDER", "backup"), ((string?)set["name"], (string?)set["value"]));
        }
    }

    [Fact]
    public void InvokeRollback_patches_the_template_of_the_last_good_revision_and_WhatIf_patches_nothing()
    {
        var (api, t) = Stub();
        using (api)
        {
            var whatIf = fx.Session.Run($"Invoke-Rollback {t} -WhatIf", timeout: Bound).AssertNoErrors();
            Assert.Contains("4 -> 3", whatIf.HostText);
            Assert.Empty(api.Mutations);

            var r = fx.Session.Run($"Invoke-Rollback {t} -VerifyHealth -Force", timeout: Bound).AssertNoErrors().Single<RollbackResult>();
            Assert.Equal(("4", "3", true, true), (r.From, r.To, r.Succeeded, r.HealthyAfter));
            var patch = Assert.Single(api.Mutations);
            Assert.Equal(("PATCH", $"{Apps}/deployments/marketing", "application/json-patch+json"), (patch.Method, patch.Path, patch.ContentType));
            var template = Assert.Single(patch.Json!.AsArray(), op => (string?)op!["path"] == "/spec/template")!;
            Assert.Equal("replace", (string?)template["op"]);
            // kubectl sends revision 3's pod template (without the pod-template-hash label, with Go's zero values added).
            var expected = api.ReplicaSet("3")["spec"]!["template"]!.DeepClone();
            (expected["metadata"]?["labels"] as JsonObject)?.Remove("pod-template-hash");
            AssertSubset(expected, template["value"]!, "template");
            Assert.Equal("registry.example.com/marketing:1.3.2", (string?)template["value"]!["spec"]!["containers"]![0]!["image"]);
            // ... on condition that the deployment's spec is still the one the plan read (generation 4) ...
            Assert.Equal("""{"op":"test","path":"/metadata/generation","value":4}""", patch.Json!.AsArray()[0]!.ToJsonString());
            // ... and revision 3's change-cause, as kubectl's rollback takes the ReplicaSet's annotations.
            var annotation = Assert.Single(patch.Json!.AsArray(), op => (string?)op!["path"] == "/metadata/annotations/kubernetes.io~1change-cause")!;
            Assert.Equal((string?)api.ReplicaSet("3")["metadata"]!["annotations"]!["kubernetes.io/change-cause"], (string?)annotation["value"]);
            Assert.Equal((string?)api.ReplicaSet("3")["metadata"]!["annotations"]!["kubernetes.io/change-cause"], (string?)api.Deployment["metadata"]!["annotations"]!["kubernetes.io/change-cause"]);
            Assert.Equal("4", (string?)api.Deployment["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
            // The history read the ReplicaSets, and rollout status then listed the deployment it patched.
            Assert.Contains(api.Requests, q => q.Method == "GET" && q.Path == $"{Apps}/replicasets");
            Assert.Contains(api.Requests, q => q.Method == "GET" && q.Path == $"{Apps}/deployments" && q.Query.Contains("fieldSelector=metadata.name%3Dmarketing", StringComparison.Ordinal));
            Assert.Contains(r.Steps, s => s.Contains("successfully rolled out", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_deploy_landing_just_before_the_rollbacks_patch_is_kept_and_the_rollback_is_RollbackTargetMoved()
    {
        // The window: a teammate's deploy of 1.5.0 lands after Invoke-Rollback's last re-check of the history, right
        // before its change reaches the API server. kubectl rollout undo (the old way) read the deployment again and
        // patched it with no precondition, so the deploy was silently replaced by revision 3. The patch's test of
        // metadata.generation makes the API server refuse it instead, and nothing is changed.
        var (api, t) = Stub();
        using (api)
        {
            api.BeforeWorkloadPatch = d => KubeApiStub.Deploy(d, "registry.example.com/marketing:1.5.0", revision: "5");
            var r = fx.Session.Run($"Invoke-Rollback {t} -Force", timeout: Bound);

            var e = Assert.Single(r.Errors);
            Assert.Equal("RollbackTargetMoved,IncidentOps.Commands.InvokeRollbackCommand", e.FullyQualifiedErrorId);
            Assert.Contains("deployment/marketing of", e.Exception.Message);
            Assert.Contains("changed after the rollback to revision 3 was planned: its spec is now at generation 5 (it was 4 when the rollback was planned from revision 4), its current revision is 5, it runs registry.example.com/marketing:1.5.0", e.Exception.Message);
            Assert.Contains("nothing was changed", e.Exception.Message);
            Assert.Empty(r.Objects<RollbackResult>());
            // The teammate's release is what runs: the rollback did not replace it.
            Assert.Equal("registry.example.com/marketing:1.5.0", (string?)api.Deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
            Assert.Equal("5", (string?)api.Deployment["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
            // One refused PATCH, no retry, and no rollout status wait after it.
            var patch = Assert.Single(api.Mutations);
            Assert.Equal(("PATCH", $"{Apps}/deployments/marketing", "application/json-patch+json"), (patch.Method, patch.Path, patch.ContentType));
            Assert.DoesNotContain(api.Requests, q => q.Method == "GET" && q.Path == $"{Apps}/deployments" && q.Query.Contains("watch", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_deployment_recreated_under_its_name_before_the_patch_is_not_rolled_back_RollbackTargetMoved_says_it_is_another_object()
    {
        // Deleted and created again (or kubectl's default context moved to another cluster with a deployment of that
        // name): the generation can be the same, the uid is not, so the patch's uid test refuses it.
        var (api, t) = Stub();
        using (api)
        {
            api.BeforeWorkloadPatch = d => d["metadata"]!["uid"] = "9a9a9a9a-0000-4000-8000-000000000009";
            var r = fx.Session.Run($"Invoke-Rollback {t} -Force", timeout: Bound);
            var e = Assert.Single(r.Errors);
            Assert.Equal("RollbackTargetMoved,IncidentOps.Commands.InvokeRollbackCommand", e.FullyQualifiedErrorId);
            Assert.Contains("it is another object now (uid 9a9a9a9a-0000-4000-8000-000000000009, not 6f1c2e0a-0000-4000-8000-000000000001", e.Exception.Message);
            Assert.Contains("nothing was changed", e.Exception.Message);
            Assert.Equal("registry.example.com/marketing:1.4.0", (string?)api.Deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
            Assert.Single(api.Mutations);
        }
    }

    [Fact]
    public void InvokeRollback_ToVersion_2_sends_revision_2s_template()
    {
        var (api, t) = Stub();
        using (api)
        {
            var r = fx.Session.Run($"Invoke-Rollback {t} -ToVersion 2 -Force", timeout: Bound).AssertNoErrors().Single<RollbackResult>();
            Assert.Equal(("4", "2", true), (r.From, r.To, r.Succeeded));
            var patch = Assert.Single(api.Mutations);
            var template = Assert.Single(patch.Json!.AsArray(), op => (string?)op!["path"] == "/spec/template")!;
            var expected = api.ReplicaSet("2")["spec"]!["template"]!.DeepClone();
            (expected["metadata"]?["labels"] as JsonObject)?.Remove("pod-template-hash");
            AssertSubset(expected, template["value"]!, "template");
            Assert.Equal((string?)expected["spec"]!["containers"]![0]!["image"], (string?)api.Deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        }
    }

    [Fact]
    public void GetAppStatus_of_a_missing_deployment_reports_kubectls_NotFound()
    {
        var (api, _) = Stub();
        using (api)
        {
            var r = fx.Session.Run($"Get-AppStatus -Platform Kubernetes -Context {KubeApiStub.Context} -Namespace {KubeApiStub.Namespace} -Deployment nosuch -KubectlPath '{api.KubectlPath}' -TimeoutSec 60", timeout: Bound);
            var e = Assert.Single(r.Errors);
            Assert.Equal("PlatformCommandFailed,IncidentOps.Commands.GetAppStatusCommand", e.FullyQualifiedErrorId);
            Assert.Contains("kubectl --context production -n akaind-platform get deployment nosuch -o json", e.Exception.Message);
            Assert.Contains("Error from server (NotFound)", e.Exception.Message);
            Assert.Contains(api.Requests, q => q.Method == "GET" && q.Path == $"{Apps}/deployments/nosuch");
        }
    }

    [Fact]
    public void CtrlC_while_real_kubectl_waits_for_the_rollout_stops_and_leaves_no_kubectl_running()
    {
        var (api, t) = Stub();
        using (api)
        {
            api.CompleteRollouts = false;
            var (_, result) = fx.Session.RunAndStopWhen($"Invoke-Rollback {t} -Force",
                () => api.Mutations.Length >= 1 && api.Requests.Any(q => q.Path == $"{Apps}/deployments" && q.Query.Contains("watch=true", StringComparison.Ordinal)));
            Assert.True(result.Stopped || result.Errors.Count == 0, $"not stopped: {result.ErrorText}; {string.Join(", ", result.Objects<RollbackResult>().Select(x => x.Steps.LastOrDefault()))}");
            Assert.Empty(result.Objects<RollbackResult>());
            // It was stopped inside kubectl rollout status (the undo was sent and the watch was open) ...
            Assert.Single(api.Mutations);
            Assert.Contains(api.Requests, q => q.Path == $"{Apps}/deployments" && q.Query.Contains("watch=true", StringComparison.Ordinal));
            // ... and no kubectl process for this stub is left.
            Assert.All(api.KubectlProcesses(), pid => Assert.True(ProcessRunnerTests.Gone(pid), $"kubectl (pid {pid}) still running after Ctrl+C"));
        }
    }

    /// <summary>Every value in expected is in actual at the same place (arrays element by element, same length).</summary>
    private static void AssertSubset(JsonNode expected, JsonNode? actual, string where)
    {
        switch (expected)
        {
            case JsonObject o:
                var a = Assert.IsType<JsonObject>(actual);
                foreach (var (key, value) in o)
                    if (value is not null) AssertSubset(value, a[key], $"{where}.{key}");
                break;
            case JsonArray arr:
                var b = Assert.IsType<JsonArray>(actual);
                Assert.True(arr.Count == b.Count, $"{where}: {arr.Count} elements expected, {b.Count} sent");
                for (var i = 0; i < arr.Count; i++) AssertSubset(arr[i]!, b[i], $"{where}[{i}]");
                break;
            default:
                Assert.True(actual is not null && JsonNode.DeepEquals(expected, actual), $"{where}: expected {expected.ToJsonString()}, sent {actual?.ToJsonString() ?? "nothing"}");
                break;
        }
    }
}
