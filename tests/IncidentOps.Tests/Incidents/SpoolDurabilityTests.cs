using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A spool entry is acknowledged as kept ("the timeline entry ... was kept in the local spool"), and the spool is deleted
/// once its unreadable bytes are in the quarantine file. Flushing a new file's bytes does not put its name on disk: on
/// Linux a crash right after can leave no file at all, until the directory itself is fsynced. Before, neither the spool's
/// nor the quarantine file's folder was. Observed for real: the store writer (a separate process) runs under strace,
/// and the trace must show the folder opened and fsynced on that descriptor before it is closed.
/// </summary>
public sealed class SpoolDurabilityTests : IDisposable
{
    private readonly PrivatePostgres _pg = new();
    private readonly string _local = Paths.TempDir("io-spool-sync");
    private readonly string _traces = Paths.TempDir("io-spool-trace");

    public void Dispose()
    {
        _pg.Dispose();
        Paths.DeleteTree(_local);
        Paths.DeleteTree(_traces);
    }

    [Fact]
    public async Task A_new_spool_file_and_a_new_quarantine_file_have_their_folder_fsynced()
    {
        var cs = _pg.ConnectionString + ";Timeout=3";
        var store = new PostgresIncidentStore(cs, "team", _local);
        await store.InitializeAsync(CancellationToken.None);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "db down", Severity = "P1" }, CancellationToken.None);

        _pg.Stop();
        var spool = RunTraced("spool", incident.Id, cs, "spooled");
        Assert.True(File.Exists(spool), "the entry was not spooled");
        AssertFolderSynced("spooled", Path.GetDirectoryName(spool)!);

        File.AppendAllText(spool, "{\"key\":\"torn-by-a-crash\n");
        _pg.Start();
        RunTraced("flush", incident.Id, cs, "flushed");
        Assert.False(File.Exists(spool));
        Assert.True(File.Exists(spool + ".quarantine"));
        AssertFolderSynced("flushed", Path.GetDirectoryName(spool)!);
        Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), e => e.Action == "Restart app");
    }

    private string RunTraced(string mode, string id, string cs, string name) => StoreWriterProcess.RunTraced(_traces, name, mode, _local, id, cs);

    private void AssertFolderSynced(string name, string folder) => StoreWriterProcess.AssertFolderSynced(_traces, name, folder);
}
