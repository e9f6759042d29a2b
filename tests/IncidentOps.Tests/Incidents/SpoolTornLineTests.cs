using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// The team store's local spool while PostgreSQL is down: a line that a killed writer (or a disk that filled up mid-write)
/// left unfinished never swallows the next entry. Before, the next spooled entry, acknowledged with a warning that named
/// the spool, was appended onto the torn line; the flush could not parse the joined line and dropped both, so a timeline
/// entry of a change that had happened was lost. On a PostgreSQL of the test's own, stopped and started again.
/// </summary>
public sealed class SpoolTornLineTests : IDisposable
{
    private readonly PrivatePostgres _pg = new();

    public void Dispose() => _pg.Dispose();

    [Fact]
    public async Task An_entry_spooled_after_a_torn_spool_line_is_written_once_when_the_store_is_back()
    {
        var warnings = new List<string>();
        var local = Paths.TempDir("io-spool-torn");
        var store = new PostgresIncidentStore(_pg.ConnectionString + ";Timeout=2", "team", local);
        await store.InitializeAsync(CancellationToken.None);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "db down", Severity = "P1" }, CancellationToken.None);

        _pg.Stop();
        // The next command finds the store down (its first call drops the pool's dead connections).
        var down = new PostgresIncidentStore(_pg.ConnectionString + ";Timeout=2", "team", local) { Warning = warnings.Add };
        Assert.Equal(IncidentErrorIds.StoreUnavailable, (await Assert.ThrowsAsync<IncidentOpsException>(() => down.GetAsync(incident.Id, CancellationToken.None))).ErrorId);
        // What a writer killed in the middle of its append leaves: part of a line, no newline.
        Directory.CreateDirectory(Path.GetDirectoryName(store.SpoolPath)!);
        await File.WriteAllTextAsync(store.SpoolPath, "{\"key\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",\"incidentId\":\"" + incident.Id + "\",\"entry\":{\"kind\":\"act");
        await down.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "action", Action = "Restart app", Target = "api-1", Outcome = TimelineOutcome.Succeeded }, CancellationToken.None);
        Assert.Contains(warnings, w => w.Contains(down.SpoolPath) && w.Contains("Restart app api-1"));

        _pg.Start();
        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.Equal(["api-1"], timeline.Where(e => e.Action == "Restart app").Select(e => e.Target));
        Assert.False(File.Exists(store.SpoolPath));
        // Another call: nothing is written twice.
        await store.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "note", Action = "back" }, CancellationToken.None);
        Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), e => e.Action == "Restart app");
    }
}
