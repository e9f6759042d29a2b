using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Platforms;
using IncidentOps.Tests.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Issue 16 item 6: right after 8 -> 7, a second Invoke-Rollback went 9 -> 8, the release that failed. A release the
/// user rolled back from is never a default target on any platform; choosing it takes -ToVersion and the result
/// says so. Fake flyctl/doctl/kubectl replay the history each platform records after such a rollback.
/// </summary>
public sealed class RollbackTargetTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static string Json(object o) => JsonSerializer.Serialize(o);

    // Fly: the rollback 8 -> 7 redeployed 7's image as release 9.
    private static readonly string FlyReleases = Json(new object[]
    {
        new { Version = 9, Status = "complete", CreatedAt = "2026-11-23T10:00:00Z", ImageRef = "registry.fly.io/api:1.7.0", Description = "Release" },
        new { Version = 8, Status = "complete", CreatedAt = "2026-11-23T09:00:00Z", ImageRef = "registry.fly.io/api:1.9.0", Description = "Release" },
        new { Version = 7, Status = "complete", CreatedAt = "2026-11-22T09:00:00Z", ImageRef = "registry.fly.io/api:1.7.0", Description = "Release" },
        new { Version = 6, Status = "complete", CreatedAt = "2026-11-21T09:00:00Z", ImageRef = "registry.fly.io/api:1.6.0", Description = "Release" },
    });

    [Fact]
    public void Fly_second_rollback_passes_over_the_release_rolled_back_from()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("releases -a api --json --image", Text: FlyReleases), new Reply("deploy -a api --image", Text: "deployed\n"));
        var r = fx.Run($"Invoke-Rollback -Platform Fly -App api -FlyctlPath '{path}' -Force").AssertNoErrors();
        var result = r.Single<RollbackResult>();
        Assert.Equal(("v9", "v6"), (result.From, result.To));
        Assert.Contains("flyctl deploy -a api --image registry.fly.io/api:1.6.0 --yes", cli.Calls);
        Assert.DoesNotContain(cli.Calls, c => c.Contains("1.9.0"));
        Assert.Contains(result.Warnings, w => w.Contains("v8") && w.Contains("rolled back from"));
        Assert.Contains(r.Warnings, w => w.Contains("v8"));

        var list = fx.Run($"Get-AppDeployment -Platform Fly -App api -FlyctlPath '{path}'").AssertNoErrors().Objects<AppDeployment>().ToList();
        Assert.True(list.Single(d => d.Version == "v8").RolledBack);
        Assert.True(list.Single(d => d.Version == "v6").IsLastGood);
    }

    [Fact]
    public void Choosing_the_rolled_back_release_takes_ToVersion_and_says_so()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("releases -a api --json --image", Text: FlyReleases), new Reply("deploy -a api --image", Text: "deployed\n"));
        var result = fx.Run($"Invoke-Rollback -Platform Fly -App api -ToVersion 8 -FlyctlPath '{path}' -Force").AssertNoErrors().Single<RollbackResult>();
        Assert.Equal("v8", result.To);
        Assert.Contains(result.Warnings, w => w.Contains("-ToVersion asked for it"));
    }

    [Fact]
    public void DigitalOcean_second_rollback_passes_over_the_deployment_rolled_back_from()
    {
        var deployments = Json(new object[]
        {
            new { id = "dep-9", phase = "ACTIVE", created_at = "2026-11-23T10:00:00Z", cause = "rollback", services = new[] { new { name = "web", source_commit_hash = "aaa7" } } },
            new { id = "dep-8", phase = "SUPERSEDED", created_at = "2026-11-23T09:00:00Z", cause = "commit", services = new[] { new { name = "web", source_commit_hash = "bbb9" } } },
            new { id = "dep-7", phase = "SUPERSEDED", created_at = "2026-11-22T09:00:00Z", cause = "commit", services = new[] { new { name = "web", source_commit_hash = "aaa7" } } },
            new { id = "dep-6", phase = "SUPERSEDED", created_at = "2026-11-21T09:00:00Z", cause = "commit", services = new[] { new { name = "web", source_commit_hash = "ccc6" } } },
        });
        const string id = "f1e2d3c4-0000-4000-8000-00000000a001";
        var cli = new FakeCli();
        var path = cli.Tool("doctl", new Reply($"apps list-deployments {id} -o json", Text: deployments));
        var r = fx.Run($"Invoke-Rollback -Platform DigitalOcean -AppId {id} -DoctlPath '{path}' -WhatIf").AssertNoErrors();
        Assert.Contains("dep-9 -> dep-6", r.HostText);
        Assert.DoesNotContain("\"deployment_id\":\"dep-8\"", r.HostText);
    }

    [Fact]
    public void Kubernetes_second_rollback_passes_over_the_revision_rolled_back_from()
    {
        var dir = Paths.TempDir("io-rb-kube");
        var deployment = JsonNode.Parse(File.ReadAllText(Fixture("k8s-deployment.json")))!;
        deployment["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"] = "9";
        var rs = JsonNode.Parse(File.ReadAllText(Fixture("k8s-replicasets.json")))!;
        var template = rs["items"]![0]!.ToJsonString();
        JsonNode Rs(string revision, string image, string? history = null)
        {
            var n = JsonNode.Parse(template)!;
            n["metadata"]!["name"] = "marketing-" + revision;
            n["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"] = revision;
            if (history is not null) n["metadata"]!["annotations"]!["deployment.kubernetes.io/revision-history"] = history;
            n["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = image;
            return n;
        }
        // rollout undo to 7 turned ReplicaSet 7 into revision 9 (revision-history 7).
        var items = new JsonArray(Rs("9", "registry.example.com/marketing:1.7.0", "7"), Rs("8", "registry.example.com/marketing:1.9.0"), Rs("6", "registry.example.com/marketing:1.6.0"));
        var list = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = items };
        var cli = new FakeCli();
        var path = cli.Tool("kubectl",
            new Reply("--context production -n akaind-platform get deployment marketing -o json", Text: deployment.ToJsonString()),
            new Reply("--context production -n akaind-platform get replicasets -l app=marketing -o json", Text: list.ToJsonString()));
        var r = fx.Run($"Invoke-Rollback -Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}' -WhatIf").AssertNoErrors();
        Assert.Contains("9 -> 6 (registry.example.com/marketing:1.6.0)", r.HostText);
        var text = r.HostText.Replace("\n", "", StringComparison.Ordinal);
        Assert.Contains("patch deployment/marketing --type=json", text);
        Assert.Contains("\"image\":\"registry.example.com/marketing:1.6.0\"", text);
        Assert.DoesNotContain("marketing:1.9.0", text);
        Assert.Empty(cli.Calls.Where(c => c.Contains(" patch ") || c.Contains(" rollout ")));
    }
}
