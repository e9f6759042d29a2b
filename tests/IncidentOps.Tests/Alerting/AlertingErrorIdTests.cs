using IncidentOps.Engine.Alerting;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// What Invoke-ServiceAlert refuses: a service it cannot probe, a health result that names no service, and a store
/// that has no alerting state yet (postgres). Each against the scenario's loopback health endpoint and config.
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
    public async Task A_round_on_a_postgres_store_is_AlertingStateStoreNotAvailable()
    {
        using var s = new AlertingScenario();
        var variable = "IO_ALERT_STORE_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, TestServers.PostgresConnectionString);
        File.WriteAllText(s.ConfigPath, File.ReadAllText(s.ConfigPath).Replace($"store: {{ path: '{s.StorePath}' }}",
            $"store: {{ kind: postgres, connectionString: 'env:{variable}', path: '{s.StorePath}' }}", StringComparison.Ordinal));
        var (engine, config) = s.NewEngine();
        Assert.Equal(IncidentOps.Config.StoreKind.Postgres, config.Store.Kind);
        s.Healthy = false;
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => AlertingScenario.RoundAsync(engine, config));
        Assert.Equal(AlertingErrorIds.StateStoreNotAvailable, ex.ErrorId);
        Assert.Contains("incident store has no alerting state store in this version. Use store.kind: file for scheduled alerting.", ex.Message);
        Assert.Empty(s.HookPosts);
    }
}
