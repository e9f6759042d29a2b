using IncidentOps.Engine.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

[CollectionDefinition(nameof(DefaultStoreEnvironment), DisableParallelization = true)]
public sealed class DefaultStoreEnvironment;

/// <summary>
/// A change made while the configuration the command was given cannot be loaded (a typo in the team's incidentops.yml)
/// does not know which incident store that configuration names. Its timeline entry must never land on whatever incident
/// the default store happens to have active (an old incident on this laptop): that is another incident than the one
/// the responder works on. $env:INCIDENTOPS_DATA (the default store) is process-wide, so these run alone.
/// </summary>
[Collection(nameof(DefaultStoreEnvironment))]
public sealed class UnloadableConfigTimelineTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public async Task A_change_made_while_the_named_configuration_cannot_be_loaded_is_never_recorded_on_the_default_stores_active_incident()
    {
        var dir = Paths.TempDir("io-cfgbad");
        try
        {
            var data = Path.Combine(dir, "data");
            var local = Path.Combine(dir, "local.yml");
            File.WriteAllText(local, $"store: {{ path: '{data}' }}\n");
            // The team's configuration, broken by an edit (an unknown key): it names a team store nobody can see now.
            var team = Path.Combine(dir, "team.yml");
            File.WriteAllText(team, "store: { kind: postgres, connectionString: 'Host=db.team.example;Database=incidents' }\nalertng: {}\n");
            // An old incident, still open and active in the default store of this machine.
            var old = fx.Run($"New-Incident -ConfigPath '{local}' -Title 'Old laptop incident' -Severity P3").AssertNoErrors().Single<IncidentOps.Incidents.Incident>().Id;

            // A real session to stop, so the change happens and has an entry to record.
            await using var victim = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Pooling = false, ApplicationName = "io-cfgbad" }.ConnectionString);
            await victim.OpenAsync();
            var r = fx.Run($$"""
                $env:INCIDENTOPS_DATA = '{{data}}'
                try { Stop-PgBackend -ConnectionString $cs -Pid {{victim.ProcessID}} -ConfigPath '{{team}}' -IncludeSuperuser -Force }
                finally { [Environment]::SetEnvironmentVariable('INCIDENTOPS_DATA', $null) }
                """, new Dictionary<string, object?> { ["cs"] = TestServers.PostgresConnectionString });

            var stopped = r.Single<IncidentOps.Postgres.PgTerminationResult>();
            Assert.True(stopped.Succeeded, $"{stopped.Reason} {r.ErrorText} {string.Join(" | ", r.Warnings)}");
            var timeline = await new FileIncidentStore(data).ReadTimelineAsync(old, CancellationToken.None);
            Assert.DoesNotContain(timeline, e => e.Cmdlet == "Stop-PgBackend");
            // The user is told the entry was not recorded, why, and how to record it once the configuration is fixed.
            var warning = Assert.Single(r.Warnings, w => w.Contains("timeline entry", StringComparison.Ordinal));
            Assert.Contains("was not recorded", warning);
            Assert.Contains("ConfigInvalid", warning);
            Assert.Contains("Add-IncidentNote", warning);
            Assert.DoesNotContain(old, warning);
        }
        finally { Paths.DeleteTree(dir); }
    }
}
