using IncidentOps.Engine.Incidents;
using IncidentOps.Tests.Actions;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// On the team store the active incident is per person: a teammate's Close-Incident resolves the record, and this
/// person's pointer still names it. A change this person makes next is recorded on no timeline (a resolved incident is
/// never the active one), and that must be said, not left silent: the user set an active incident to have it recorded.
/// Real PostgreSQL; two people are two local folders on one schema.
/// </summary>
public sealed class ActiveResolvedByTeammateTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public async Task A_change_after_a_teammate_closed_the_active_incident_says_it_was_recorded_nowhere()
    {
        using var stub = new ActionHttpStub();
        var dir = Paths.TempDir("io-teamclose");
        var schema = $"tclose_{Guid.NewGuid():N}"[..15];
        var variable = "IO_TEAMCLOSE_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, TestServers.PostgresConnectionString);
        try
        {
            string Config(string who)
            {
                var path = Path.Combine(dir, who + ".yml");
                File.WriteAllText(path, $$"""
                    store: { kind: postgres, connectionString: 'env:{{variable}}', schema: {{schema}}, path: '{{Path.Combine(dir, who)}}' }
                    environments:
                      production:
                        services:
                          api:
                            baseUrl: {{stub.BaseUrl}}
                            actions:
                              emergency-stop: { url: /api/workflows/emergency-stop }
                    """);
                return path;
            }
            var me = Config("me");
            var mate = Config("mate");
            fx.Run($"Initialize-IncidentStore -ConfigPath '{me}' -Confirm:$false").AssertNoErrors();
            var id = fx.Run($"New-Incident -ConfigPath '{me}' -Title 'Checkout errors' -Severity P2").AssertNoErrors().Single<IncidentOps.Incidents.Incident>().Id;
            fx.Run($"Close-Incident -ConfigPath '{mate}' -Incident {id} -Resolution 'Rolled back'").AssertNoErrors();

            var r = fx.Run($"Invoke-ServiceAction -ConfigPath '{me}' -Service production/api -Name emergency-stop -Force").AssertNoErrors();
            Assert.True(r.Single<IncidentOps.Actions.ServiceActionResult>().Succeeded);
            var warning = Assert.Single(r.Warnings, w => w.Contains(id, StringComparison.Ordinal));
            Assert.Contains("was resolved", warning);
            Assert.Contains("was not recorded on any timeline", warning);
            Assert.Contains($"Add-IncidentNote -Incident {id}", warning);
            // The resolved incident did not get it either: nothing is recorded behind the user's back.
            var store = new PostgresIncidentStore(TestServers.PostgresConnectionString, schema, Path.Combine(dir, "check"));
            Assert.DoesNotContain(await store.ReadTimelineAsync(id, CancellationToken.None), e => e.Cmdlet == "Invoke-ServiceAction");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
            PgStores.Drop(schema);
            Paths.DeleteTree(dir);
        }
    }
}
