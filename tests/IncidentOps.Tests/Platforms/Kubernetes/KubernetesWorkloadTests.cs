using System.Text.Json.Nodes;
using IncidentOps.Incidents;
using IncidentOps.Platforms;
using Xunit;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// Kubernetes depth (seed 003) through the REAL kubectl against the loopback API stub (KubeApiStub with its
/// StatefulSet, DaemonSet, ControllerRevisions and Events): why a pod died, the events of a workload, and
/// StatefulSets and DaemonSets for status, restart, scale and rollback. Each test asserts the HTTP requests kubectl
/// really sent and what the cmdlet made of the answers.
/// </summary>
public class KubernetesWorkloadTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Apps = KubeApiStub.AppsPath;
    private const string Core = KubeApiStub.CorePath;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static (KubeApiStub Api, string Common) Stub()
    {
        var api = new KubeApiStub(KubeApiStub.FindRealKubectl());
        return (api, $"-Platform Kubernetes -Context {KubeApiStub.Context} -Namespace {KubeApiStub.Namespace} -KubectlPath '{api.KubectlPath}' -TimeoutSec 60");
    }

    private static string[] Resources(KubeApiStub api) => api.ResourceRequests();

    [Fact]
    public void GetAppStatus_shows_why_the_pod_died_OOMKilled_exit_code_137_restarts_and_its_last_events()
    {
        var (api, c) = Stub();
        using (api)
        {
            var s = fx.Session.Run($"Get-AppStatus {c} -Deployment marketing", timeout: Bound).AssertNoErrors().Single<AppStatus>();
            var pod = Assert.Single(s.Instances, i => i.Id == "marketing-7d9f8b6c5d-xyz12");
            Assert.Equal(("CrashLoopBackOff", 7, "OOMKilled", 137), (pod.State, pod.Restarts, pod.LastExitReason, pod.ExitCode));
            Assert.NotNull(pod.LastExitAt);
            // Newest first, at most three: the BackOff (12 times), then the image pulls.
            Assert.Equal(2, pod.Events.Length);
            Assert.Contains("Warning BackOff x12: Back-off restarting failed container web", pod.Events[0]);
            Assert.Contains("Normal Pulled x8:", pod.Events[1]);
            Assert.Equal("(last exit: OOMKilled, code 137)", pod.ToString()[(pod.ToString().IndexOf('(', StringComparison.Ordinal))..]);
            Assert.Contains($"GET {Core}/events?fieldSelector=involvedObject.kind%3DPod&limit=500", Resources(api));
            Assert.Empty(api.Mutations);
        }
    }

    [Fact]
    public void GetAppEvent_returns_the_events_of_the_deployment_its_replicasets_and_pods_oldest_first_and_none_of_other_workloads()
    {
        var (api, c) = Stub();
        using (api)
        {
            var events = fx.Session.Run($"Get-AppEvent {c} -Deployment marketing", timeout: Bound).AssertNoErrors().Objects<AppEvent>().ToList();
            Assert.Equal([$"GET {Apps}/deployments/marketing", $"GET {Core}/events?limit=500"], Resources(api));
            Assert.Equal([
                "Pod/marketing-7d9f8b6c5d-q8w7e", // a pod already replaced: kept by its name
                "Deployment/marketing", "ReplicaSet/marketing-7d9f8b6c5d",
                "Pod/marketing-6c5b4a3f2e-abcde", "Pod/marketing-7d9f8b6c5d-xyz12", "Pod/marketing-7d9f8b6c5d-xyz12"], events.Select(e => e.Object));
            Assert.DoesNotContain(events, e => e.Object.StartsWith("Pod/marketing-api", StringComparison.Ordinal) || e.Object.StartsWith("Pod/postgres", StringComparison.Ordinal));
            Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp), "not oldest first");
            var backOff = events[^1];
            Assert.Equal(("Warning", "BackOff", 12, "kubelet, pool-a-2"), (backOff.Type, backOff.Reason, backOff.Count, backOff.Source));
            Assert.Equal(("marketing", IncidentOps.Config.PlatformKind.Kubernetes, "marketing", "akaind-platform"), (backOff.Name, backOff.Platform, backOff.Deployment, backOff.Namespace));
            // An events.k8s.io event: no lastTimestamp, its series says when it was last seen and how often.
            var series = Assert.Single(events, e => e.Object == "Pod/marketing-6c5b4a3f2e-abcde");
            Assert.Equal((4, "kubelet, pool-a-1"), (series.Count, series.Source));
            Assert.True(series.Timestamp > series.FirstSeen, $"{series.Timestamp} should be the series' last observation, after {series.FirstSeen}");
            Assert.Empty(api.Mutations);
        }
    }

    [Fact]
    public void GetAppEvent_Type_is_a_field_selector_for_the_API_server_and_Since_keeps_only_recent_events()
    {
        var (api, c) = Stub();
        using (api)
        {
            var warnings = fx.Session.Run($"Get-AppEvent {c} -Deployment marketing -Type warning", timeout: Bound).AssertNoErrors().Objects<AppEvent>().ToList();
            Assert.Contains($"GET {Core}/events?fieldSelector=type%3DWarning&limit=500", Resources(api));
            Assert.Equal(["Unhealthy", "Unhealthy", "BackOff"], warnings.Select(e => e.Reason));
            Assert.All(warnings, e => Assert.Equal("Warning", e.Type));

            // The stub's newest event (postgres-0's) is a minute old; marketing's last were seen 14 to 16 minutes before it.
            var recent = fx.Session.Run($"Get-AppEvent {c} -Deployment marketing -Since 20m", timeout: Bound).AssertNoErrors().Objects<AppEvent>().ToList();
            Assert.Equal(["Pod/marketing-6c5b4a3f2e-abcde", "Pod/marketing-7d9f8b6c5d-xyz12", "Pod/marketing-7d9f8b6c5d-xyz12"], recent.Select(e => e.Object));
            Assert.All(recent, e => Assert.True(e.Timestamp >= DateTimeOffset.UtcNow.AddMinutes(-20)));
            Assert.Empty(fx.Session.Run($"Get-AppEvent {c} -Deployment marketing -Since 5m", timeout: Bound).AssertNoErrors().Objects<AppEvent>());
        }
    }

    [Fact]
    public void GetAppEvent_of_a_StatefulSet_keeps_its_ordinal_pods_and_not_a_pod_of_another_set_with_a_longer_name()
    {
        var (api, c) = Stub();
        using (api)
        {
            var events = fx.Session.Run($"Get-AppEvent {c} -StatefulSet postgres", timeout: Bound).AssertNoErrors().Objects<AppEvent>().ToList();
            Assert.Equal([$"GET {Apps}/statefulsets/postgres", $"GET {Core}/events?limit=500"], Resources(api));
            Assert.Equal(["StatefulSet/postgres", "Pod/postgres-0"], events.Select(e => e.Object));
            Assert.All(events, e => Assert.Equal("postgres", e.StatefulSet));
        }
    }

    [Fact]
    public void StatefulSet_status_reads_the_set_and_its_pods_and_shows_the_OOMKilled_restart()
    {
        var (api, c) = Stub();
        using (api)
        {
            var s = fx.Session.Run($"Get-AppStatus {c} -StatefulSet postgres", timeout: Bound).AssertNoErrors().Single<AppStatus>();
            Assert.Equal([$"GET {Apps}/statefulsets/postgres", $"GET {Core}/pods?labelSelector=app%3Dpostgres&limit=500", $"GET {Core}/events?fieldSelector=involvedObject.kind%3DPod&limit=500"], Resources(api));
            Assert.Equal(("postgres", AppState.Healthy, 1, 1, "postgres:15.5"), (s.Name, s.State, s.DesiredInstances, s.ReadyInstances, s.Image));
            Assert.Equal(("postgres", null), (s.StatefulSet, s.Deployment));
            var pod = Assert.Single(s.Instances);
            Assert.Equal(("postgres-0", 1, "OOMKilled", 137, "postgres-6f7b8c9d4"), (pod.Id, pod.Restarts, pod.LastExitReason, pod.ExitCode, pod.Version));
            Assert.Contains("Warning Unhealthy x3: Readiness probe failed", Assert.Single(pod.Events));
        }
    }

    [Fact]
    public void StatefulSet_restart_and_scale_send_exact_requests_and_WhatIf_sends_none()
    {
        var (api, c) = Stub();
        using (api)
        {
            var t = $"{c} -StatefulSet postgres";
            Assert.Contains("rollout restart statefulset/postgres", fx.Session.Run($"Restart-App {t} -WhatIf", timeout: Bound).AssertNoErrors().HostText);
            Assert.Contains("from 1 to 3 instances: kubectl", fx.Session.Run($"Set-AppScale {t} -Count 3 -WhatIf", timeout: Bound).AssertNoErrors().HostText);
            // -WhatIf read the StatefulSet (the count it scales from) and sent nothing else.
            Assert.Equal([$"GET {Apps}/statefulsets/postgres"], Resources(api));
            Assert.Empty(api.Mutations);

            var restart = fx.Session.Run($"Restart-App {t} -Wait -Force", timeout: Bound).AssertNoErrors().Single<AppActionResult>();
            Assert.Equal(("Restart", true, AppState.Healthy), (restart.Action, restart.Succeeded, restart.StateAfter));
            var patch = Assert.Single(api.Mutations);
            Assert.Equal(("PATCH", $"{Apps}/statefulsets/postgres", "application/strategic-merge-patch+json"), (patch.Method, patch.Path, patch.ContentType));
            Assert.Contains("fieldManager=kubectl-rollout", patch.Query);
            var restartedAt = (string?)patch.Json!["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"];
            Assert.True(DateTimeOffset.TryParse(restartedAt, out _), $"restartedAt is not a timestamp: {restartedAt}");
            // -Wait ran kubectl rollout status statefulset/postgres: it listed the StatefulSet by name after the patch.
            Assert.Contains(api.Requests, r => r.Method == "GET" && r.Path == $"{Apps}/statefulsets" && r.Query.Contains("fieldSelector=metadata.name%3Dpostgres", StringComparison.Ordinal));
            Assert.Contains("restartedAt", api.StatefulSet["spec"]!["template"]!["metadata"]!["annotations"]!.ToJsonString());

            fx.Session.Run($"Set-AppScale {t} -Count 3 -Force", timeout: Bound).AssertNoErrors();
            var scale = api.Mutations.Last();
            Assert.Equal(("PATCH", $"{Apps}/statefulsets/postgres/scale", "application/merge-patch+json"), (scale.Method, scale.Path, scale.ContentType));
            Assert.Equal("""{"spec":{"replicas":3}}""", scale.Json!.ToJsonString());
            Assert.Equal(3, (int)api.StatefulSet["spec"]!["replicas"]!);
        }
    }

    [Fact]
    public void StatefulSet_history_is_its_ControllerRevisions_and_rollback_patches_the_earlier_revisions_template()
    {
        var (api, c) = Stub();
        using (api)
        {
            var t = $"{c} -StatefulSet postgres";
            var history = fx.Session.Run($"Get-AppDeployment {t}", timeout: Bound).AssertNoErrors().Objects<AppDeployment>().ToList();
            Assert.Equal([$"GET {Apps}/statefulsets/postgres", $"GET {Apps}/controllerrevisions?labelSelector=app%3Dpostgres&limit=500"], Resources(api));
            Assert.Equal([("2", "Current", "postgres:15.5", true, false), ("1", "Superseded", "postgres:15.4", false, true)],
                history.Select(d => (d.Version, d.Status!, d.Image!, d.IsCurrent, d.IsLastGood)));

            var whatIf = fx.Session.Run($"Invoke-Rollback {t} -WhatIf", timeout: Bound).AssertNoErrors();
            Assert.Contains("2 -> 1 (postgres:15.4)", whatIf.HostText);
            Assert.Contains("patch statefulset/postgres --type=json --field-manager=kubectl-rollout -p '[{\"op\":\"test\",\"path\":\"/metadata/generation\",\"value\":2}", whatIf.HostText.Replace("\n", "", StringComparison.Ordinal));
            Assert.Empty(api.Mutations);

            var r = fx.Session.Run($"Invoke-Rollback {t} -Force", timeout: Bound).AssertNoErrors().Single<RollbackResult>();
            Assert.Equal(("2", "1", true), (r.From, r.To, r.Succeeded));
            var patch = Assert.Single(api.Mutations);
            Assert.Equal(("PATCH", $"{Apps}/statefulsets/postgres", "application/json-patch+json"), (patch.Method, patch.Path, patch.ContentType));
            // The revision's data.spec.template (without its "$patch": "replace", which a JSON patch's replace does), on
            // condition that the StatefulSet's spec is still at the generation the plan read.
            var template = api.Revision("postgres-5c4d3b2a1")["data"]!["spec"]!["template"]!.DeepClone().AsObject();
            template.Remove("$patch");
            var expected = new JsonArray(
                new JsonObject { ["op"] = "test", ["path"] = "/metadata/generation", ["value"] = 2 },
                new JsonObject { ["op"] = "test", ["path"] = "/metadata/uid", ["value"] = "6f1c2e0a-0000-4000-8000-000000000101" },
                new JsonObject { ["op"] = "replace", ["path"] = "/spec/template", ["value"] = template });
            Assert.True(JsonNode.DeepEquals(expected, patch.Json), $"sent {patch.Json!.ToJsonString()}");
            Assert.Equal("postgres:15.4", (string?)api.StatefulSet["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        }
    }

    [Fact]
    public void A_StatefulSet_changed_just_before_the_rollbacks_patch_keeps_its_change_and_the_rollback_is_RollbackTargetMoved()
    {
        var (api, c) = Stub();
        using (api)
        {
            api.BeforeWorkloadPatch = d => KubeApiStub.Deploy(d, "postgres:15.6");
            var r = fx.Session.Run($"Invoke-Rollback {c} -StatefulSet postgres -Force", timeout: Bound);
            var e = Assert.Single(r.Errors);
            Assert.Equal("RollbackTargetMoved,IncidentOps.Commands.InvokeRollbackCommand", e.FullyQualifiedErrorId);
            Assert.Contains("its spec is now at generation 3 (it was 2 when the rollback was planned from revision 2)", e.Exception.Message);
            Assert.Equal("postgres:15.6", (string?)api.StatefulSet["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
            Assert.Single(api.Mutations);
        }
    }

    [Fact]
    public void DaemonSet_status_and_restart_work_scale_is_refused_and_a_rollback_without_an_earlier_revision_is_refused()
    {
        var (api, c) = Stub();
        using (api)
        {
            var t = $"{c} -DaemonSet node-exporter";
            var s = fx.Session.Run($"Get-AppStatus {t}", timeout: Bound).AssertNoErrors().Single<AppStatus>();
            Assert.Equal([$"GET {Apps}/daemonsets/node-exporter", $"GET {Core}/pods?labelSelector=app%3Dnode-exporter&limit=500", $"GET {Core}/events?fieldSelector=involvedObject.kind%3DPod&limit=500"], Resources(api));
            Assert.Equal((AppState.Degraded, "CrashLoopBackOff (exit code 1)", 2, 1), (s.State, s.Reason, s.DesiredInstances, s.ReadyInstances));
            Assert.Equal(["node-exporter-x7k2p", "node-exporter-m3n4b"], s.Instances.Select(i => i.Id));

            var scale = fx.Session.Run($"Set-AppScale {t} -Count 3 -Force", timeout: Bound);
            var e = Assert.Single(scale.Errors);
            Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.SetAppScaleCommand", e.FullyQualifiedErrorId);
            Assert.Contains("daemonset/node-exporter is a DaemonSet", e.Exception.Message);
            Assert.Contains("Nothing was run.", e.Exception.Message);

            var rollback = fx.Session.Run($"Invoke-Rollback {t} -Force", timeout: Bound);
            var re = Assert.Single(rollback.Errors);
            Assert.Equal("RollbackNoEarlierRevision,IncidentOps.Commands.InvokeRollbackCommand", re.FullyQualifiedErrorId);
            Assert.Contains("has no earlier revision to roll back to: its history holds only the current release 1", re.Exception.Message);
            Assert.Empty(api.Mutations);

            fx.Session.Run($"Restart-App {t} -Force", timeout: Bound).AssertNoErrors();
            var patch = Assert.Single(api.Mutations);
            Assert.Equal(("PATCH", $"{Apps}/daemonsets/node-exporter", "application/strategic-merge-patch+json"), (patch.Method, patch.Path, patch.ContentType));
            Assert.NotNull(patch.Json!["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"]);
        }
    }

    [Fact]
    public async Task StatefulSet_restart_and_scale_land_on_the_active_incidents_timeline_and_WhatIf_is_recorded_as_such()
    {
        var (api, c) = Stub();
        using (api)
        {
            var dir = Paths.TempDir();
            var store = new IncidentOps.Engine.Incidents.FileIncidentStore(dir);
            var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "database stuck", Severity = "P1" }, CancellationToken.None);
            await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
            var config = Path.Combine(dir, "incidentops.yml");
            File.WriteAllText(config, $"store: {{ path: {dir} }}\n");
            var t = $"{c} -StatefulSet postgres -ConfigPath '{config}'";
            fx.Session.Run($"Restart-App {t} -WhatIf", timeout: Bound).AssertNoErrors();
            fx.Session.Run($"Restart-App {t} -Force", timeout: Bound).AssertNoErrors();
            fx.Session.Run($"Set-AppScale {t} -Count 2 -Force", timeout: Bound).AssertNoErrors();
            var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
            var restarts = timeline.Where(e => e.Action == "Restart").ToList();
            Assert.Equal([TimelineOutcome.WhatIf, TimelineOutcome.Succeeded], restarts.Select(e => e.Outcome));
            Assert.All(restarts, e => Assert.Equal("Kubernetes statefulset/postgres in akaind-platform (production)", e.Target));
            Assert.Contains("kubectl --context production -n akaind-platform rollout restart statefulset/postgres", restarts[1].Result);
            var scale = Assert.Single(timeline, e => e.Action == "Scale");
            Assert.Contains("scaled from 1 to 2 instances: kubectl --context production -n akaind-platform scale statefulset/postgres --replicas=2", scale.Result);
        }
    }

    [Fact]
    public void Configured_StatefulSet_service_is_addressed_by_its_kind_and_events_are_captured_as_evidence()
    {
        var (api, _) = Stub();
        using (api)
        {
            var dir = Paths.TempDir("io-k8s-evidence");
            var config = Path.Combine(dir, "incidentops.yml");
            File.WriteAllText(config, $"""
                version: 1
                environments:
                  production:
                    services:
                      postgres:
                        platform: kubernetes
                        context: {KubeApiStub.Context}
                        namespace: {KubeApiStub.Namespace}
                        statefulSet: postgres
                      marketing:
                        platform: kubernetes
                        context: {KubeApiStub.Context}
                        namespace: {KubeApiStub.Namespace}
                        deployment: marketing
                tools:
                  kubectl: '{api.KubectlPath}'
                store:
                  path: '{Path.Combine(dir, "store")}'
                """);
            var s = fx.Session.Run($"Get-AppStatus -Service production/postgres -ConfigPath '{config}'", timeout: Bound).AssertNoErrors().Single<AppStatus>();
            Assert.Equal(("postgres", "production/postgres"), (s.StatefulSet, s.Service));
            // The status object pipes into a restart of the same StatefulSet.
            Assert.Contains("rollout restart statefulset/postgres", fx.Session.Run($"Get-AppStatus -Service production/postgres -ConfigPath '{config}' | Restart-App -ConfigPath '{config}' -KubectlPath '{api.KubectlPath}' -WhatIf", timeout: Bound).AssertNoErrors().HostText);

            var r = fx.Session.Run($$"""
                $c = '{{config}}'
                New-Incident -Title 'marketing OOM' -Severity P1 -Service production/marketing, production/postgres -ConfigPath $c | Out-Null
                Save-IncidentEvidence -Source app-events -TimeoutSec 60 -ConfigPath $c
                """, timeout: Bound).AssertNoErrors();
            var captures = r.Objects<EvidenceCapture>().OrderBy(x => x.Service, StringComparer.Ordinal).ToList();
            Assert.Equal([("production/marketing", true), ("production/postgres", true)], captures.Select(x => (x.Service!, x.Succeeded)));
            var marketing = File.ReadAllText(captures[0].Path!);
            Assert.Contains("Back-off restarting failed container web", marketing);
            Assert.DoesNotContain("marketing-api", marketing);
            Assert.Contains("Readiness probe failed: 127.0.0.1:5432", File.ReadAllText(captures[1].Path!));
            Assert.Empty(api.Mutations);
        }
    }
}

public class AppEventPlatformTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Theory]
    [InlineData("-Platform Fly -App ai-affiliate-empire", "Fly app ai-affiliate-empire has no event stream")]
    [InlineData("-Platform Systemd -Unit fastapi", "systemd unit fastapi has no event stream")]
    public void GetAppEvent_on_a_platform_without_events_is_PlatformOperationNotSupported_and_runs_no_cli(string target, string message)
    {
        var cli = new FakeCli();
        var r = fx.Run($"Get-AppEvent {target} -FlyctlPath '{cli.Tool("flyctl", new FakeCli.Reply("", Text: "SHOULD NOT RUN"))}' -SystemctlPath '{cli.Tool("systemctl", new FakeCli.Reply("", Text: "SHOULD NOT RUN"))}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.GetAppEventCommand", e.FullyQualifiedErrorId);
        Assert.Contains(message, e.Exception.Message);
        Assert.Contains("Get-AppStatus shows each instance's state and last exit", e.Exception.Message);
        Assert.Empty(cli.Calls);
    }
}
