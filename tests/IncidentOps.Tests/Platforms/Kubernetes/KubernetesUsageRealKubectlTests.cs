using System.Text.Json.Nodes;
using IncidentOps.Platforms;
using Xunit;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// Get-AppResourceUsage through the REAL kubectl against the loopback API stub, which here also serves the metrics API
/// (metrics.k8s.io/v1beta1 PodMetricsList, as metrics-server does) and pods with requests and limits.
/// </summary>
public class KubernetesUsageRealKubectlTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Core = KubeApiStub.CorePath;
    private const string MetricsPath = "/apis/metrics.k8s.io/v1beta1/namespaces/akaind-platform/pods";

    private static string PodList() =>
        new JsonObject
        {
            ["kind"] = "PodList", ["apiVersion"] = "v1", ["metadata"] = new JsonObject { ["resourceVersion"] = "1000" },
            ["items"] = JsonNode.Parse(File.ReadAllText(FakeCli.Fixture("k8s-usage-pods.json")))!["items"]!.DeepClone(),
        }.ToJsonString();

    private static string Node(string name) =>
        JsonNode.Parse(File.ReadAllText(FakeCli.Fixture("k8s-nodes.json")))!["items"]!.AsArray().Single(n => (string?)n!["metadata"]!["name"] == name)!
            .DeepClone().ToJsonString();

    [Fact]
    public void GetAppResourceUsage_reads_the_metrics_api_as_raw_json_through_real_kubectl()
    {
        using var api = new KubeApiStub(KubeApiStub.FindRealKubectl());
        api.ExtraRoute = r => (r.Method, r.Path) switch
        {
            ("GET", MetricsPath) => (200, File.ReadAllText(FakeCli.Fixture("k8s-pod-metrics.json")), "application/json"),
            ("GET", $"{Core}/pods") => (200, PodList(), "application/json"),
            // Discovery with nodes, so that kubectl can resolve 'get nodes'.
            ("GET", "/api/v1") => (200, """{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list","watch"],"shortNames":["po"]},{"name":"nodes","singularName":"node","namespaced":false,"kind":"Node","verbs":["get","list","watch"],"shortNames":["no"]}]}""", "application/json"),
            ("GET", var p) when p.StartsWith("/api/v1/nodes/", StringComparison.Ordinal) => (200, Node(p["/api/v1/nodes/".Length..]), "application/json"),
            ("GET", var p) when p.StartsWith("/apis/metrics.k8s.io/v1beta1/nodes/", StringComparison.Ordinal) =>
                (200, File.ReadAllText(FakeCli.Fixture($"k8s-node-metrics-{p[(p.LastIndexOf('/') + 1)..]}.json")), "application/json"),
            _ => null,
        };
        var t = $"-Platform Kubernetes -Context {KubeApiStub.Context} -Namespace {KubeApiStub.Namespace} -Deployment marketing -KubectlPath '{api.KubectlPath}' -TimeoutSec 60";
        var rows = fx.Session.Run($"Get-AppResourceUsage {t}", timeout: TimeSpan.FromSeconds(90)).AssertNoErrors().Objects<AppResourceUsage>().ToList();

        var metrics = Assert.Single(api.Requests, r => r.Path == MetricsPath);
        // The wrapper adds --request-timeout, which kubectl sends as timeout=.
        Assert.StartsWith("?labelSelector=app%3Dmarketing", metrics.Query);
        Assert.Empty(api.Mutations);
        Assert.Equal(["marketing-6c5b4a3f2e-abcde", "marketing-7d9f8b6c5d-xyz12"], rows.Select(r => r.Instance));
        Assert.Equal(0.251623456, rows[0].CpuCores!.Value, 9);
        Assert.Equal((155189248L, 335544320L, 1), (rows[0].MemoryBytes, rows[0].MemoryLimitBytes, rows[0].Restarts));
        Assert.Null(rows[1].CpuCores);
        Assert.Equal(7, rows[1].Restarts);
        // kubectl top nodes through the same real kubectl: NodeMetrics and the node's allocatable.
        Assert.Contains(api.Requests, r => r.Path == "/apis/metrics.k8s.io/v1beta1/nodes/pool-a-2");
        Assert.Equal((3.801234567, 3.92), (rows[1].HostCpuCores, rows[1].HostCpuTotalCores));
    }
}
