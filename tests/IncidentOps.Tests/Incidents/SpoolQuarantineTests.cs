using System.Text;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// The team store's local spool holds timeline entries the user was told were kept ("spooled") while PostgreSQL was down.
/// Before, a spool line that could not be read was dropped in silence when the spool was written to the store, and the
/// spool deleted: with it went an acknowledged entry that an earlier version had appended onto a torn line, and the torn
/// bytes themselves, with nothing left to inspect. Now every readable entry is written (also one that follows torn bytes
/// on its line), and the bytes that are no entry are kept in a quarantine file beside the spool, named in a warning.
/// Real spool files, written by the store while a PostgreSQL of the test's own is stopped.
/// </summary>
public sealed class SpoolQuarantineTests : IDisposable
{
    private readonly PrivatePostgres _pg = new();
    private readonly string _local = Paths.TempDir("io-spool-quarantine");

    public void Dispose()
    {
        _pg.Dispose();
        Paths.DeleteTree(_local);
    }

    [Fact]
    public async Task Unreadable_spool_lines_are_quarantined_beside_the_spool_and_every_readable_entry_is_written()
    {
        var cs = _pg.ConnectionString + ";Timeout=2";
        var store = new PostgresIncidentStore(cs, "team", _local);
        await store.InitializeAsync(CancellationToken.None);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "db down", Severity = "P1" }, CancellationToken.None);

        _pg.Stop();
        var down = new PostgresIncidentStore(cs, "team", _local);
        await Assert.ThrowsAsync<IncidentOpsException>(() => down.GetAsync(incident.Id, CancellationToken.None));
        foreach (var target in new[] { "api-1", "api-2", "api-3" })
            await down.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "action", Action = "Restart app", Target = target, Outcome = TimelineOutcome.Succeeded }, CancellationToken.None);
        var lines = File.ReadAllLines(down.SpoolPath);
        Assert.Equal(3, lines.Length);
        // What an earlier version left: a writer killed mid-append (torn bytes, no newline), then the next entry appended
        // onto them; a line damaged on disk (not UTF-8); and a last append cut short.
        var torn = "{\"key\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",\"incidentId\":\"" + incident.Id + "\",\"entry\":{\"kind\":\"act";
        var damaged = new byte[] { 0x7b, 0x22, 0xff, 0xfe, 0x00, 0x41 };
        var tail = "{\"key\":\"aa\",\"inci";
        var spool = new List<byte>();
        spool.AddRange(Encoding.UTF8.GetBytes(lines[0] + "\n"));
        spool.AddRange(Encoding.UTF8.GetBytes(torn + lines[1] + "\n"));
        spool.AddRange(damaged);
        spool.AddRange(Encoding.UTF8.GetBytes("\n" + lines[2] + "\n" + tail));
        File.WriteAllBytes(down.SpoolPath, spool.ToArray());

        _pg.Start();
        var warnings = new List<string>();
        var back = new PostgresIncidentStore(cs, "team", _local) { Warning = warnings.Add };
        var timeline = await back.ReadTimelineAsync(incident.Id, CancellationToken.None);

        Assert.Equal(["api-1", "api-2", "api-3"], timeline.Where(e => e.Action == "Restart app").Select(e => e.Target));
        Assert.False(File.Exists(back.SpoolPath));
        var quarantine = back.SpoolPath + ".quarantine";
        Assert.True(File.Exists(quarantine), "the unreadable bytes were not kept");
        var expected = Encoding.UTF8.GetBytes(torn + "\n").Concat(damaged).Concat(Encoding.UTF8.GetBytes("\n" + tail + "\n")).ToArray();
        Assert.Equal(expected, File.ReadAllBytes(quarantine));
        var warning = Assert.Single(warnings, w => w.Contains(quarantine));
        // Two lines held no entry (the damaged one, the cut-short tail); the torn bytes before api-2's entry are kept, but
        // api-2 was recovered, so that line is not counted as unreadable (before, the warning said 3).
        Assert.Contains("had 2 unreadable line(s) and torn bytes before 1 entry that was recovered", warning);
        Assert.Contains("Get-Content", warning);
        // Nothing is written twice by the next call.
        await back.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "note", Action = "back" }, CancellationToken.None);
        Assert.Equal(3, (await back.ReadTimelineAsync(incident.Id, CancellationToken.None)).Count(e => e.Action == "Restart app"));
    }
}
