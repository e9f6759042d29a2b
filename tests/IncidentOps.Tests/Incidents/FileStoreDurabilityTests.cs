using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// The file store reports a declaration, a changed record or a first timeline entry as done once its bytes are flushed. On
/// Linux the new name (the incident's folder, incident.json after its atomic rename, a new timeline.jsonl) is on disk only
/// once its folder is fsynced too: before, a crash right after could bring back the old incident.json, or no incident at
/// all, for a change the person was told was saved. Observed for real: the store writer (a separate process) runs under
/// strace, and each folder must be opened and fsynced.
/// </summary>
public sealed class FileStoreDurabilityTests : IDisposable
{
    private readonly string _root = Paths.TempDir("io-file-sync");
    private readonly string _traces = Paths.TempDir("io-file-trace");

    public void Dispose()
    {
        Paths.DeleteTree(_root);
        Paths.DeleteTree(_traces);
    }

    [Fact]
    public void A_declared_incident_has_its_folder_and_its_record_on_disk_by_name()
    {
        var store = Path.Combine(_root, "store");
        var id = StoreWriterProcess.RunTraced(_traces, "declared", "declare", store, "-");
        Assert.Matches("^INC-[0-9]{8}-001$", id);
        var incidentDir = Path.Combine(store, "incidents", id);
        Assert.True(File.Exists(Path.Combine(incidentDir, "incident.json")));
        StoreWriterProcess.AssertFolderSynced(_traces, "declared", store);                          // the new incidents/ folder
        StoreWriterProcess.AssertFolderSynced(_traces, "declared", Path.Combine(store, "incidents")); // the incident's folder
        StoreWriterProcess.AssertFolderSynced(_traces, "declared", incidentDir);                     // incident.json, renamed into place
    }

    [Fact]
    public async Task The_first_timeline_entry_of_an_incident_has_its_file_on_disk_by_name()
    {
        var store = new FileIncidentStore(_root);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "api down", Severity = "P1" }, CancellationToken.None);
        var incidentDir = Path.Combine(_root, "incidents", incident.Id);
        Assert.False(File.Exists(Path.Combine(incidentDir, "timeline.jsonl")));

        StoreWriterProcess.RunTraced(_traces, "first-entry", "append", _root, incident.Id, "1", "writer");

        Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None));
        StoreWriterProcess.AssertFolderSynced(_traces, "first-entry", incidentDir);
    }

    [Fact]
    public async Task An_exported_archive_is_on_disk_by_name_before_Export_Incident_reports_it()
    {
        var store = new FileIncidentStore(_root);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "api down", Severity = "P1" }, CancellationToken.None);
        var outDir = Paths.TempDir("io-file-export");
        try
        {
            var archive = Path.Combine(outDir, "incident.zip");
            StoreWriterProcess.RunTraced(_traces, "exported", "export", _root, incident.Id, archive);
            Assert.True(File.Exists(archive));
            StoreWriterProcess.AssertFolderSynced(_traces, "exported", outDir);
        }
        finally { Paths.DeleteTree(outDir); }
    }
}
