using System.Reflection;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// Export-Incident / Import-Incident through the engine, against every store (the target store is the one under test;
/// the source is always a file store, as a laptop's): an import never drops an archived entry and never writes over
/// another incident's record.
/// </summary>
public abstract class IncidentTransferContract
{
    /// <summary>A fresh, empty store.</summary>
    protected abstract IIncidentStore NewStore();

    private static readonly ChangeContext Context = new("Test-Transfer");

    protected static (IncidentService Service, IIncidentStore Store, CollectingSink Sink) Service(IIncidentStore store)
    {
        var sink = new CollectingSink();
        return (new IncidentService(_ => store, sink, new TimelineWriter(_ => store, sink)), store, sink);
    }

    private static Incident Build(string id, string title) => new()
    {
        Id = id, Title = title, Severity = "P2", SeverityName = "Medium",
        StartedAt = DateTimeOffset.UtcNow, DeclaredAt = DateTimeOffset.UtcNow, DetectedAt = DateTimeOffset.UtcNow,
    };

    private static Task Note(IncidentService service, string id, string text) =>
        service.AddNoteAsync(null, id, text, Context, CancellationToken.None);

    private static async Task<List<string?>> Notes(IIncidentStore store, string id) =>
        (await store.ReadTimelineAsync(id, CancellationToken.None)).Where(e => e.Kind == "note").Select(e => e.Result).ToList();

    [Fact]
    public async Task Importing_a_newer_archive_of_an_incident_that_also_moved_on_in_the_target_adds_every_archived_entry_it_lacks()
    {
        var source = Service(new FileIncidentStore(Paths.TempDir("io-transfer-src")));
        var target = Service(NewStore());
        var incident = await source.Store.CreateAsync(id => Build(id, "Checkout errors"), CancellationToken.None);
        await Note(source.Service, incident.Id, "before the move");
        var dir = Paths.TempDir("io-transfer-zip");
        var first = Path.Combine(dir, "first.zip");
        await source.Service.ExportAsync(null, [incident.Id], first, false, CancellationToken.None);
        Assert.Equal("Imported", Assert.Single(await target.Service.ImportAsync(null, first, null, false, CancellationToken.None)).Action);

        // Both copies move on: two notes on the laptop, three in the team store.
        await Note(source.Service, incident.Id, "laptop 1");
        await Note(source.Service, incident.Id, "laptop 2");
        foreach (var n in new[] { "team 1", "team 2", "team 3" }) await Note(target.Service, incident.Id, n);
        var second = Path.Combine(dir, "second.zip");
        await source.Service.ExportAsync(null, [incident.Id], second, false, CancellationToken.None);

        var plan = Assert.Single(await target.Service.ImportAsync(null, second, null, planOnly: true, CancellationToken.None));
        Assert.Equal(("Complete", 2), (plan.Action, plan.TimelineEntries));
        var done = Assert.Single(await target.Service.ImportAsync(null, second, null, false, CancellationToken.None));
        Assert.Equal(("Completed", 2), (done.Action, done.TimelineEntries));
        Assert.Equal(["before the move", "laptop 1", "laptop 2", "team 1", "team 2", "team 3"], (await Notes(target.Store, incident.Id)).Order(StringComparer.Ordinal));

        // And once more: nothing is added twice.
        Assert.Equal("Unchanged", Assert.Single(await target.Service.ImportAsync(null, second, null, false, CancellationToken.None)).Action);
        Assert.Equal(6, (await Notes(target.Store, incident.Id)).Count);
    }

    [Fact]
    public async Task Importing_update_entries_whose_slack_delivery_the_target_already_tells_adds_them_without_slack_and_keeps_the_rest()
    {
        var source = Service(new FileIncidentStore(Paths.TempDir("io-transfer-src")));
        var target = Service(NewStore());
        var incident = await source.Store.CreateAsync(id => Build(id, "Checkout errors"), CancellationToken.None);
        var dir = Paths.TempDir("io-transfer-zip");
        var first = Path.Combine(dir, "first.zip");
        await source.Service.ExportAsync(null, [incident.Id], first, false, CancellationToken.None);
        Assert.Equal("Imported", Assert.Single(await target.Service.ImportAsync(null, first, null, false, CancellationToken.None)).Action);

        // The laptop tells three sends; meanwhile the team's senders told each Slack delivery in the target.
        var sends = new[]
        {
            SpoolToldDeliveryTests.UpdateEntry("UPD-20261201-0001", ("slack", null), ("teams", null), ("statuspage", "HTTP 500: upstream timeout; retry later")),
            SpoolToldDeliveryTests.UpdateEntry("UPD-20261201-0002", ("slack", null), ("teams", null)),
            SpoolToldDeliveryTests.UpdateEntry("UPD-20261201-0003", ("slack", null)),
        };
        foreach (var e in sends) await source.Store.AppendTimelineAsync(incident.Id, e, CancellationToken.None);
        foreach (var u in new[] { "UPD-20261201-0001", "UPD-20261201-0002", "UPD-20261201-0003" })
            await target.Store.AppendTimelineAsync(incident.Id, SpoolToldDeliveryTests.AdoptedEntry(u, "slack"), CancellationToken.None);
        var second = Path.Combine(dir, "second.zip");
        await source.Service.ExportAsync(null, [incident.Id], second, false, CancellationToken.None);

        var done = Assert.Single(await target.Service.ImportAsync(null, second, null, false, CancellationToken.None));
        Assert.Equal("Completed", done.Action);
        var timeline = await target.Store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        List<TimelineEntry> Of(string u) => timeline.Where(e => e.Kind == "update" && e.Parameters["UpdateId"] == u).ToList();
        var one = Of("UPD-20261201-0001");
        Assert.Equal(["slack", "teams,statuspage"], one.Select(e => e.Target).Order(StringComparer.Ordinal));
        var rest = Assert.Single(one, e => e.Target == "teams,statuspage");
        Assert.Equal("teams: delivered (200, 1 attempt(s)); statuspage: NOT delivered, Failed (HTTP 500: upstream timeout; retry later) (slack: told by another entry)", rest.Result);
        Assert.Equal(TimelineOutcome.Failed, rest.Outcome);
        Assert.Equal([IncidentStores.DeliveryKey("UPD-20261201-0001", "teams")], rest.DeliveryKeys);
        var teams = Assert.Single(Of("UPD-20261201-0002"), e => e.Target == "teams");
        Assert.Equal("teams: delivered (200, 1 attempt(s)) (slack: told by another entry)", teams.Result);
        Assert.Equal(TimelineOutcome.Succeeded, teams.Outcome);
        Assert.Equal(["slack"], Of("UPD-20261201-0003").Select(e => e.Target));
        Assert.Contains(target.Sink.Warnings, w => w.StartsWith($"{incident.Id}: the archived timeline entry 'Status update (Investigating)' of ", StringComparison.Ordinal)
            && w.EndsWith($" was added for teams, statuspage only: another entry on the timeline in {target.Store.Identity} already tells the delivery to slack.", StringComparison.Ordinal));
        // The third tells nothing the target's timeline does not: it is not missing there (not counted, not added, no warning).
        Assert.Equal(2, done.TimelineEntries);
        Assert.Equal(2, target.Sink.Warnings.Count(w => w.Contains("the archived timeline entry", StringComparison.Ordinal)));

        // And once more: what is there, as far as it can be, is not added again.
        Assert.Equal("Unchanged", Assert.Single(await target.Service.ImportAsync(null, second, null, false, CancellationToken.None)).Action);
        Assert.Equal(timeline.Count, (await target.Store.ReadTimelineAsync(incident.Id, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task An_incident_declared_in_the_target_while_the_import_runs_is_never_written_over()
    {
        var source = Service(new FileIncidentStore(Paths.TempDir("io-transfer-src")));
        var incident = await source.Store.CreateAsync(id => Build(id, "Imported one"), CancellationToken.None);
        await Note(source.Service, incident.Id, "archived note");
        var archive = Path.Combine(Paths.TempDir("io-transfer-zip"), "race.zip");
        await source.Service.ExportAsync(null, [incident.Id], archive, false, CancellationToken.None);

        // A teammate declares an incident in the target store just after the import looked for the id and found none:
        // both stores allocate the first id of the day, so the new incident has the archived incident's id.
        var inner = NewStore();
        Incident? declared = null;
        var racing = RacingStore.Wrap(inner, async () =>
        {
            declared = await inner.CreateAsync(id => Build(id, "Teammate's incident"), CancellationToken.None);
            await inner.AppendTimelineAsync(declared.Id, new TimelineEntry { Kind = "note", Action = "Note", Result = "teammate's note" }, CancellationToken.None);
        });
        var target = Service(racing);

        var result = Assert.Single(await target.Service.ImportAsync(null, archive, null, false, CancellationToken.None));

        Assert.NotNull(declared);
        Assert.Equal(incident.Id, declared!.Id);
        Assert.Equal("Conflict", result.Action);
        var kept = await inner.GetAsync(declared.Id, CancellationToken.None);
        Assert.Equal("Teammate's incident", kept!.Title);
        Assert.Equal(["teammate's note"], await Notes(inner, declared.Id));
        Assert.Contains(target.Sink.Warnings, w => w.Contains("is another incident", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Export_writes_every_piece_of_evidence_with_its_content_and_the_import_checks_each_hash()
    {
        var source = Service(NewStore());
        var incident = await source.Store.CreateAsync(id => Build(id, "Evidence"), CancellationToken.None);
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < 30; i++)
            await source.Store.PutEvidenceAsync(incident.Id, $"sample-{i:000}.json", $"{{\"n\":{i},\"text\":\"é {i}\"}}", at.AddSeconds(i), CancellationToken.None);
        var archive = Path.Combine(Paths.TempDir("io-transfer-zip"), "evidence.zip");
        var exported = Assert.Single(await source.Service.ExportAsync(null, [incident.Id], archive, false, CancellationToken.None));
        Assert.Equal(30, exported.Evidence);

        var target = Service(new FileIncidentStore(Paths.TempDir("io-transfer-dst")));
        Assert.Equal("Imported", Assert.Single(await target.Service.ImportAsync(null, archive, null, false, CancellationToken.None)).Action);
        var listed = await target.Store.ListEvidenceAsync(incident.Id, CancellationToken.None);
        Assert.Equal(30, listed.Count);
        for (var i = 0; i < 30; i++)
            Assert.Equal($"{{\"n\":{i},\"text\":\"é {i}\"}}", await target.Store.ReadEvidenceAsync(incident.Id, $"sample-{i:000}.json", CancellationToken.None));
        Assert.Equal(
            (await source.Store.ListEvidenceAsync(incident.Id, CancellationToken.None)).Select(e => (e.Name, e.Sha256, e.CapturedAt.UtcTicks)),
            listed.Select(e => (e.Name, e.Sha256, e.CapturedAt.UtcTicks)));
    }
}

/// <summary>
/// A store that runs <c>race</c> once, right after the first lookup of an incident that found none: another writer
/// acting between an import's check and its write.
/// </summary>
public class RacingStore : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private Func<Task>? _race;

    public static IIncidentStore Wrap(IIncidentStore inner, Func<Task> race)
    {
        var proxy = Create<IIncidentStore, RacingStore>();
        var self = (RacingStore)(object)proxy;
        self._inner = inner;
        self._race = race;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = targetMethod!.Invoke(_inner, args);
        if (targetMethod.Name == nameof(IIncidentStore.GetAsync) && _race is { } race && result is Task<Incident?> lookup)
        {
            return Raced(lookup, race);
        }
        return result;
    }

    private async Task<Incident?> Raced(Task<Incident?> lookup, Func<Task> race)
    {
        var found = await lookup.ConfigureAwait(false);
        if (found is null && _race is not null)
        {
            _race = null;
            await race().ConfigureAwait(false);
        }
        return found;
    }
}

public sealed class FileStoreIncidentTransferTests : IncidentTransferContract
{
    protected override IIncidentStore NewStore() => new FileIncidentStore(Paths.TempDir("io-transfer"));
}

/// <summary>The same against the real PostgreSQL team store (INCIDENTOPS_TEST_PG), a schema per test.</summary>
public sealed class PostgresStoreIncidentTransferTests : IncidentTransferContract, IDisposable
{
    private readonly List<string> _schemas = [];

    protected override IIncidentStore NewStore()
    {
        var store = PgStores.NewSchema(Paths.TempDir("io-transfer-pg"), "transfer");
        _schemas.Add(store.Schema);
        return store;
    }

    public void Dispose()
    {
        foreach (var s in _schemas) PgStores.Drop(s);
    }
}
