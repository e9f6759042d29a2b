using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A PostgreSQL of the test's own, restarted (pg_ctl stop -m fast, start) between two commands of one process. The
/// sessions left idle in the pool died with the old server. Before, the first command after the restart took one,
/// failed with StoreUnavailable ("terminating connection due to administrator command"), and its timeline entry went to
/// the local spool with a warning that the store could not be reached, though it could. Now that call runs once more on
/// a fresh session: the server provably restarted before the call began, so none of its statements reached it.
/// </summary>
public sealed class StoreRestartTests : IDisposable
{
    private readonly PrivatePostgres _pg = new();
    private readonly string _local = Paths.TempDir("io-store-restart");

    public void Dispose()
    {
        _pg.Dispose();
        Paths.DeleteTree(_local);
    }

    [Fact]
    public async Task The_first_command_after_a_server_restart_succeeds_on_a_fresh_session_and_spools_nothing()
    {
        var warnings = new List<string>();
        // Its own pool (an Application Name of its own), so that the sessions idle in it are this test's only.
        var store = new PostgresIncidentStore(_pg.ConnectionString + ";Application Name=io-restart-test", "team", _local) { Warning = warnings.Add };
        await store.InitializeAsync(CancellationToken.None);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "db restarted", Severity = "P1" }, CancellationToken.None);
        await store.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "action", Action = "Before restart" }, CancellationToken.None);

        _pg.Stop();
        _pg.Start();

        var entry = new TimelineEntry { Kind = "action", Action = "Restart app", Target = "api-1", Outcome = TimelineOutcome.Succeeded };
        await store.AppendTimelineAsync(incident.Id, entry, CancellationToken.None);

        Assert.False(File.Exists(store.SpoolPath), "the entry was spooled: " + string.Join(" | ", warnings));
        Assert.Empty(warnings);
        Assert.True(entry.Sequence > 0);
        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.Single(timeline, e => e.Action == "Restart app");
        // Reads after a restart are retried the same way.
        _pg.Stop();
        _pg.Start();
        Assert.Equal(incident.Id, (await store.GetAsync(incident.Id, CancellationToken.None))!.Id);
    }
}
