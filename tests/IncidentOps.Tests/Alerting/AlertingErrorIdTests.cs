using IncidentOps.Engine.Alerting;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// What Invoke-ServiceAlert refuses: a service it cannot probe, a health result that names no service, and, on the team
/// store, a round that works as on the file store. Each against the scenario's loopback health endpoint and config.
/// </summary>
public class AlertingErrorIdTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void A_service_without_health_endpoints_is_AlertingNoHealthEndpoint_and_the_round_declares_nothing()
    {
        using var s = new AlertingScenario();
        File.WriteAllText(s.ConfigPath, File.ReadAllText(s.ConfigPath).Replace("    services:\n", "    services:\n      worker: { platform: fly, app: worker-app }\n", StringComparison.Ordinal));
        Assert.Contains("worker: { platform: fly", File.ReadAllText(s.ConfigPath));
        s.Healthy = false;
        var r = fx.Run($"Invoke-ServiceAlert -ConfigPath '{s.ConfigPath}' -Service production/worker");
        var e = Assert.Single(r.Errors);
        Assert.Equal("AlertingNoHealthEndpoint,IncidentOps.Commands.InvokeServiceAlertCommand", e.FullyQualifiedErrorId);
        Assert.Contains("The service 'production/worker' has no health endpoints, so alerting cannot check it. Add 'health: [https://.../health]' under it", e.ToString());
        Assert.Empty(s.Health.Requests);
        Assert.Empty(s.HookPosts);
    }

    [Fact]
    public void A_health_result_of_a_bare_uri_is_AlertingResultWithoutService()
    {
        using var s = new AlertingScenario();
        var r = fx.Run($"Test-ServiceHealth -Uri '{s.Health.BaseUrl}/health' | Invoke-ServiceAlert -ConfigPath '{s.ConfigPath}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("AlertingResultWithoutService,IncidentOps.Commands.InvokeServiceAlertCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"The health result of {s.Health.BaseUrl}/health names no service, so no alerting rules apply to it.", e.ToString());
        Assert.Empty(s.HookPosts);
    }

    [Fact]
    public void Invoke_ServiceAlert_on_the_team_store_declares_once_and_keeps_its_state_in_the_store_schema()
    {
        // Was AlertingStateStoreNotAvailable: the team store now has its alerting state (table alert_state).
        using var s = AlertingScenario.OnTeamStore();
        s.Healthy = false;
        var decisions = Enumerable.Range(0, 4)
            .Select(_ => fx.Run($"Invoke-ServiceAlert -ConfigPath '{s.ConfigPath}' -Service production/api").AssertNoErrors().Single<IncidentOps.Alerting.AlertDecision>())
            .ToList();
        Assert.Equal(["Failing 1/3, waiting", "Failing 2/3, waiting"], decisions.Take(2).Select(d => d.Decision));
        Assert.Matches(@"^Declared INC-\d{8}-\d{3} P1, paged$", decisions[2].Decision);
        Assert.Equal(decisions[2].IncidentId, decisions[3].IncidentId);
        Assert.Single(s.Pages("trigger"));
        using var c = new Npgsql.NpgsqlConnection(TestServers.PostgresConnectionString);
        c.Open();
        using var cmd = new Npgsql.NpgsqlCommand($"SELECT state->>'incidentId' FROM \"{s.TeamSchema}\".alert_state WHERE service = 'production/api'", c);
        Assert.Equal(decisions[2].IncidentId, cmd.ExecuteScalar());
        Assert.False(Directory.Exists(Path.Combine(s.StorePath, "alerting")));
    }
}
