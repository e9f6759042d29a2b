using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// What every incident store must do (issue 13: one contract suite, run unchanged against each store). A new
/// store passes by adding a subclass that opens a fresh, empty store.
/// </summary>
public abstract class IncidentStoreContract
{
    /// <summary>A fresh, empty store.</summary>
    protected abstract IIncidentStore NewStore();

    private static Incident Build(string id, string title) => new()
    {
        Id = id, Title = title, Severity = "P2", SeverityName = "Medium",
        StartedAt = DateTimeOffset.UtcNow, DeclaredAt = DateTimeOffset.UtcNow, DetectedAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public async Task Concurrent_declarations_get_distinct_ids_of_the_day()
    {
        var store = NewStore();
        var created = await Task.WhenAll(Enumerable.Range(0, 20).Select(n => Task.Run(() => store.CreateAsync(id => Build(id, $"t{n}"), CancellationToken.None))));
        var ids = created.Select(i => i.Id).ToList();
        Assert.Equal(20, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches($@"^INC-{DateTimeOffset.UtcNow:yyyyMMdd}-\d{{3}}$", id));
        Assert.Equal(ids.Order(StringComparer.Ordinal), (await store.ListAsync(CancellationToken.None)).Select(i => i.Id));
    }

    [Fact]
    public async Task Concurrent_record_changes_never_overwrite_each_other()
    {
        var store = NewStore();
        var incident = await store.CreateAsync(id => Build(id, "changes"), CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(n => Task.Run(() =>
            store.UpdateAsync(incident.Id, i => i.Services = [.. i.Services, $"svc{n}"], CancellationToken.None))));
        var after = await store.GetAsync(incident.Id, CancellationToken.None);
        Assert.Equal(20, after!.Services.Distinct().Count());
    }

    [Fact]
    public async Task Appends_get_a_sequence_and_every_reader_sees_one_order_by_time_then_sequence()
    {
        var store = NewStore();
        var incident = await store.CreateAsync(id => Build(id, "timeline"), CancellationToken.None);
        var early = DateTimeOffset.UtcNow.AddMinutes(-5);
        // Built early, appended last (a writer that waited): it still reads back in its time's place.
        var late = new TimelineEntry { Kind = "note", Action = "Note", Result = "waited", Timestamp = early };
        await Task.WhenAll(Enumerable.Range(0, 40).Select(n => Task.Run(() =>
            store.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "note", Action = "Note", Result = $"n{n}" }, CancellationToken.None))));
        await store.AppendTimelineAsync(incident.Id, late, CancellationToken.None);
        Assert.Equal(41, late.Sequence);
        var first = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        var second = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.Equal(41, first.Count);
        Assert.Equal(Enumerable.Range(1, 41).Select(n => (long)n), first.Select(e => e.Sequence).Order());
        Assert.Equal("waited", first[0].Result);
        Assert.True(first.Zip(first.Skip(1)).All(p => p.First.Timestamp < p.Second.Timestamp || (p.First.Timestamp == p.Second.Timestamp && p.First.Sequence < p.Second.Sequence)));
        Assert.Equal(first.Select(e => e.Sequence), second.Select(e => e.Sequence));
        Assert.All(first, e => Assert.Equal(incident.Id, e.IncidentId));
    }

    [Fact]
    public async Task Unknown_incidents_are_null_on_read_and_IncidentNotFound_on_append()
    {
        var store = NewStore();
        Assert.Null(await store.GetAsync("INC-20000101-001", CancellationToken.None));
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => store.AppendTimelineAsync("INC-20000101-001", new TimelineEntry(), CancellationToken.None));
        Assert.Equal("IncidentNotFound", ex.ErrorId);
        var bad = await Assert.ThrowsAsync<IncidentOpsException>(() => store.GetAsync("../etc", CancellationToken.None));
        Assert.Equal("IncidentIdInvalid", bad.ErrorId);
    }

    [Fact]
    public async Task The_active_incident_is_set_read_and_cleared()
    {
        var store = NewStore();
        Assert.Null(await store.GetActiveIdAsync(CancellationToken.None));
        var incident = await store.CreateAsync(id => Build(id, "active"), CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        Assert.Equal(incident.Id, await store.GetActiveIdAsync(CancellationToken.None));
        await store.SetActiveIdAsync(null, CancellationToken.None);
        Assert.Null(await store.GetActiveIdAsync(CancellationToken.None));
    }
}

public sealed class FileIncidentStoreContractTests : IncidentStoreContract
{
    protected override IIncidentStore NewStore() => new FileIncidentStore(Paths.TempDir("io-contract"));
}
