using IncidentOps.Actions;
using IncidentOps.Engine;
using IncidentOps.Engine.Actions;
using IncidentOps.Engine.Config;
using Xunit;

namespace IncidentOps.Tests.Actions;

/// <summary>An HTTP action whose service is down: the connection is refused on loopback (nothing listens on the port).</summary>
public class ActionErrorIdTests
{
    [Fact]
    public async Task Http_action_to_a_service_that_refuses_the_connection_is_ActionHttpUnreachable()
    {
        var port = TestServers.FreePort();
        var dir = Paths.TempDir("actions-unreachable");
        var yaml = $"environments:\n  production:\n    services:\n      api:\n        baseUrl: http://127.0.0.1:{port}\n        actions:\n          stop: {{ url: /api/stop }}\n";
        var file = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(file, yaml);
        var parsed = ConfigParser.Parse(yaml, file);
        Assert.True(parsed.Config is not null && parsed.Findings.Count == 0, string.Join(" | ", parsed.Findings));
        var svc = parsed.Config!.Services.Single();
        var engine = new ServiceActionService(new CollectingSink(), new ReferenceResolver(NoSecretProvider.Instance));
        var plan = engine.Plan(svc, ServiceActionService.Find(svc, "stop"), null);

        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.RunAsync(svc, plan, null, null, TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal(ActionErrorIds.HttpUnreachable, ex.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.ConnectionError, ex.Category);
        Assert.Contains("The action 'stop' could not reach", ex.Message);
        Assert.Contains($"127.0.0.1:{port}/api/stop", ex.Message);
        Assert.Contains("Check the service's baseUrl and that it is up.", ex.Message);
    }
}
