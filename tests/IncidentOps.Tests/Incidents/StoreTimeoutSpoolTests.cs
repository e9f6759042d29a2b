using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A change that already happened (a restart, a terminated session) while the team store is too busy to answer (a
/// stuck transaction holding the incident's row, an overloaded server) keeps its timeline entry: it is spooled as when
/// the store is down, under the key its first attempt used, and written once when the store answers again. Before, the
/// append failed with StoreTimeout and the entry was recorded nowhere. Real PostgreSQL, a real row lock.
/// </summary>
public sealed class StoreTimeoutSpoolTests : IDisposable
{
    private readonly string _schema = $"tmo_{Guid.NewGuid():N}"[..16];
    private readonly string _local = Paths.TempDir("io-store-timeout");

    public void Dispose()
    {
        PgStores.Drop(_schema);
        Paths.DeleteTree(_local);
    }

    [Fact]
    public async Task A_change_recorded_while_the_incident_row_is_locked_past_the_call_timeout_is_spooled_and_written_once_later()
    {
        var warnings = new List<string>();
        var store = new PostgresIncidentStore(TestServers.PostgresConnectionString, _schema, _local) { Warning = warnings.Add };
        await store.InitializeAsync(CancellationToken.None);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "busy store", Severity = "P1" }, CancellationToken.None);
        var writer = new TimelineWriter(_ => store, new CollectingSink());

        await using (var holder = new NpgsqlConnection(TestServers.PostgresConnectionString))
        {
            await holder.OpenAsync();
            await using (var hold = new NpgsqlCommand($"BEGIN; SELECT 1 FROM \"{_schema}\".incidents WHERE id = '{incident.Id}' FOR UPDATE;", holder))
                await hold.ExecuteNonQueryAsync();
            var recorded = await writer.RecordAsync(new TimelineEntry { Kind = "action", Action = "Restart app", Target = "api-1", Outcome = TimelineOutcome.Succeeded }, incident.Id, null, CancellationToken.None);
            Assert.Equal(incident.Id, recorded);
            Assert.Contains(warnings, w => w.Contains("did not answer within") && w.Contains(store.SpoolPath) && w.Contains("Restart app api-1"));
            await using var release = new NpgsqlCommand("ROLLBACK", holder);
            await release.ExecuteNonQueryAsync();
        }

        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.Single(timeline, e => e.Action == "Restart app" && e.Target == "api-1");
        Assert.False(File.Exists(store.SpoolPath));
    }
}
