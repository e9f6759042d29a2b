using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using IncidentOps.Config;
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
    public async Task Adding_a_record_stores_it_once_and_never_replaces_an_incident_already_there()
    {
        var store = NewStore();
        var declared = await store.CreateAsync(id => Build(id, "declared here"), CancellationToken.None);
        Assert.False(await store.AddAsync(Build(declared.Id, "imported"), CancellationToken.None));
        Assert.Equal("declared here", (await store.GetAsync(declared.Id, CancellationToken.None))!.Title);

        // Twenty importers race for one free id: exactly one stores its record, and a later declaration never takes the id.
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(n => Task.Run(() => store.AddAsync(Build("INC-20200101-007", $"import {n}"), CancellationToken.None))));
        Assert.Single(results, r => r);
        var kept = await store.GetAsync("INC-20200101-007", CancellationToken.None);
        Assert.Matches("^import \\d+$", kept!.Title);
        var next = await store.CreateAsync(id => Build(id, "after"), CancellationToken.None);
        Assert.NotEqual(declared.Id, next.Id);
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
    public async Task An_append_with_the_record_returns_the_record_as_it_stood_and_appends_once_with_the_next_sequence()
    {
        var store = NewStore();
        var incident = await store.CreateAsync(id => Build(id, "with record"), CancellationToken.None);
        await store.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "note", Action = "Note", Result = "first" }, CancellationToken.None);
        var resolvedAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        await store.UpdateAsync(incident.Id, i => { i.Status = IncidentStatus.Resolved; i.ResolvedAt = resolvedAt; }, CancellationToken.None);
        var entry = new TimelineEntry { Kind = "note", Action = "Note", Result = "after the resolution" };
        var record = await store.AppendTimelineWithRecordAsync(incident.Id, entry, CancellationToken.None);
        Assert.Equal(incident.Id, record.Id);
        Assert.Equal(IncidentStatus.Resolved, record.Status);
        Assert.Equal(resolvedAt.UtcTicks / 10, record.ResolvedAt!.Value.UtcTicks / 10);
        Assert.Equal(store.Identity, record.IncidentStore);
        Assert.Equal(2, entry.Sequence);
        Assert.Equal(incident.Id, entry.IncidentId);
        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.Equal(["first", "after the resolution"], timeline.Select(e => e.Result));
        Assert.Equal([1L, 2L], timeline.Select(e => e.Sequence));
        var missing = await Assert.ThrowsAsync<IncidentOpsException>(() => store.AppendTimelineWithRecordAsync("INC-20000101-001", new TimelineEntry(), CancellationToken.None));
        Assert.Equal("IncidentNotFound", missing.ErrorId);
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

    [Fact]
    public async Task Concurrent_action_item_changes_are_all_kept_in_order()
    {
        var store = NewStore();
        var incident = await store.CreateAsync(id => Build(id, "actions"), CancellationToken.None);
        Assert.Empty(await store.ReadActionItemsAsync(incident.Id, CancellationToken.None));
        await Task.WhenAll(Enumerable.Range(0, 12).Select(n => Task.Run(() => store.ChangeActionItemsAsync(incident.Id,
            list => list.Add(new ActionItem { Id = $"{incident.Id}-A{list.Count + 1:00}", IncidentId = incident.Id, Action = $"a{n}" }), CancellationToken.None))));
        var items = await store.ReadActionItemsAsync(incident.Id, CancellationToken.None);
        Assert.Equal(12, items.Select(a => a.Action).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, 12).Select(n => $"{incident.Id}-A{n:00}"), items.Select(a => a.Id));
        await store.ChangeActionItemsAsync(incident.Id, list => list[0].Status = "Done", CancellationToken.None);
        Assert.Equal("Done", (await store.ReadActionItemsAsync(incident.Id, CancellationToken.None))[0].Status);
    }

    [Fact]
    public async Task Outbox_entries_are_written_replaced_and_read_back_oldest_first()
    {
        var store = NewStore();
        var incident = await store.CreateAsync(id => Build(id, "outbox"), CancellationToken.None);
        Assert.Empty(await store.ReadOutboxAsync(incident.Id, CancellationToken.None));
        Assert.Null(await store.ReadOutboxEntryAsync(incident.Id, "UPD-20000101000000000-0001", CancellationToken.None));
        IncidentUpdate Update(string id) => new()
        {
            UpdateId = id, IncidentId = incident.Id, Kind = NotificationKind.Update, Status = IncidentStatus.Investigating, CreatedAt = DateTimeOffset.UtcNow,
            Deliveries = [new ChannelDelivery { Channel = "ops", ChannelType = ChannelType.Webhook }],
        };
        await store.WriteOutboxEntryAsync(Update("UPD-20261130000002000-0002"), CancellationToken.None);
        var first = Update("UPD-20261130000001000-0001");
        await store.WriteOutboxEntryAsync(first, CancellationToken.None);
        first.Deliveries[0].State = DeliveryState.Delivered;
        first.Deliveries[0].Attempts = 1;
        await store.WriteOutboxEntryAsync(first, CancellationToken.None);
        var all = await store.ReadOutboxAsync(incident.Id, CancellationToken.None);
        Assert.Equal(["UPD-20261130000001000-0001", "UPD-20261130000002000-0002"], all.Select(u => u.UpdateId));
        Assert.Equal(DeliveryState.Delivered, all[0].Deliveries[0].State);
        Assert.True(all[1].Pending);
        var one = await store.ReadOutboxEntryAsync(incident.Id, first.UpdateId, CancellationToken.None);
        Assert.Equal(1, one!.Deliveries[0].Attempts);
    }

    [Fact]
    public async Task Every_incidents_action_items_are_read_in_one_call()
    {
        var store = NewStore();
        var a = await store.CreateAsync(id => Build(id, "items a"), CancellationToken.None);
        var b = await store.CreateAsync(id => Build(id, "items b"), CancellationToken.None);
        await store.CreateAsync(id => Build(id, "no items"), CancellationToken.None);
        await store.ChangeActionItemsAsync(a.Id, l => l.Add(new ActionItem { Id = a.Id + "-A01", IncidentId = a.Id, Action = "one", Owner = "alice" }), CancellationToken.None);
        await store.ChangeActionItemsAsync(b.Id, l => l.AddRange([new ActionItem { Id = b.Id + "-A01", IncidentId = b.Id, Action = "two" }, new ActionItem { Id = b.Id + "-A02", IncidentId = b.Id, Action = "three", Status = "Done" }]), CancellationToken.None);
        var all = await store.ReadAllActionItemsAsync(CancellationToken.None);
        Assert.Equal([a.Id, b.Id], all.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["one"], all[a.Id].Select(i => i.Action));
        Assert.Equal(["two", "three"], all[b.Id].Select(i => i.Action));
        Assert.Equal((await store.ReadActionItemsAsync(b.Id, CancellationToken.None)).Select(i => (i.Id, i.Status)), all[b.Id].Select(i => (i.Id, i.Status)));
    }

    [Fact]
    public async Task An_outbox_claim_is_held_by_one_holder_at_a_time()
    {
        var store = NewStore();
        var other = NewStoreOnSameData(store);
        var incident = await store.CreateAsync(id => Build(id, "claim"), CancellationToken.None);
        var claim = await store.ClaimOutboxAsync(incident.Id, "UPD-20261130000001000-0001", TimeSpan.FromSeconds(5), CancellationToken.None);
        var busy = await Assert.ThrowsAsync<IncidentOpsException>(() => other.ClaimOutboxAsync(incident.Id, "UPD-20261130000001000-0001", TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.Equal("StoreLockTimeout", busy.ErrorId);
        // Another name is a different claim.
        await using (await other.ClaimOutboxAsync(incident.Id, IncidentStores.ChannelLockName("ops"), TimeSpan.FromSeconds(5), CancellationToken.None)) { }
        await claim.DisposeAsync();
        await using (await other.ClaimOutboxAsync(incident.Id, "UPD-20261130000001000-0001", TimeSpan.FromSeconds(5), CancellationToken.None)) { }
    }

    [Fact]
    public async Task Evidence_is_stored_with_its_sha256_listed_and_read_back()
    {
        var store = NewStore();
        var incident = await store.CreateAsync(id => Build(id, "evidence"), CancellationToken.None);
        Assert.Empty(await store.ListEvidenceAsync(incident.Id, CancellationToken.None));
        var at = DateTimeOffset.UtcNow;
        var put = await store.PutEvidenceAsync(incident.Id, "20261130T000000Z-pg-activity-db.txt", "pid 42 idle\nü", at, CancellationToken.None);
        Assert.Equal(IncidentStores.Sha256("pid 42 idle\nü"), put.Sha256);
        Assert.Equal(14, put.Bytes);
        var listed = Assert.Single(await store.ListEvidenceAsync(incident.Id, CancellationToken.None));
        Assert.Equal(("20261130T000000Z-pg-activity-db.txt", put.Sha256, 14L), (listed.Name, listed.Sha256, listed.Bytes));
        Assert.Equal(at.ToUnixTimeMilliseconds(), listed.CapturedAt.ToUnixTimeMilliseconds());
        Assert.Equal("pid 42 idle\nü", await store.ReadEvidenceAsync(incident.Id, listed.Name, CancellationToken.None));
        Assert.Null(await store.ReadEvidenceAsync(incident.Id, "missing.txt", CancellationToken.None));
    }

    [Fact]
    public async Task Evidence_is_read_in_bulk_as_it_is_listed_and_read_one_by_one()
    {
        var store = NewStore();
        var incident = await store.CreateAsync(id => Build(id, "bulk evidence"), CancellationToken.None);
        var other = await store.CreateAsync(id => Build(id, "other evidence"), CancellationToken.None);
        Assert.Empty(await store.ReadEvidenceManyAsync(incident.Id, _ => true, CancellationToken.None));
        var at = DateTimeOffset.UtcNow;
        // Put out of name order; a large document the filter leaves out; another incident's evidence of the same name.
        await store.PutEvidenceAsync(incident.Id, "health-rounds-production-api-0001.json", "[{\"r\":1}]", at, CancellationToken.None);
        await store.PutEvidenceAsync(incident.Id, "20261130T000000Z-health-production-api.json", "[{\"h\":\"ü\"}]", at, CancellationToken.None);
        await store.PutEvidenceAsync(incident.Id, "20261130T000000Z-app-logs-production-api.json", new string('x', 100_000), at, CancellationToken.None);
        await store.PutEvidenceAsync(incident.Id, "health-rounds-production-api-0000.json", "[{\"r\":0}]", at, CancellationToken.None);
        await store.PutEvidenceAsync(incident.Id, "health-rounds-production-api-0000.json", "[{\"r\":1440}]", at, CancellationToken.None); // the ring's next lap
        await store.PutEvidenceAsync(other.Id, "health-rounds-production-api-0002.json", "[{\"r\":2}]", at, CancellationToken.None);

        var asked = new List<string>();
        var read = await store.ReadEvidenceManyAsync(incident.Id, name => { lock (asked) asked.Add(name); return !name.Contains("app-logs", StringComparison.Ordinal); }, CancellationToken.None);

        Assert.Equal((await store.ListEvidenceAsync(incident.Id, CancellationToken.None)).Select(e => e.Name).Order(StringComparer.Ordinal), asked.Order(StringComparer.Ordinal));
        Assert.Equal(["20261130T000000Z-health-production-api.json", "health-rounds-production-api-0000.json", "health-rounds-production-api-0001.json"], read.Select(e => e.Name));
        foreach (var e in read) Assert.Equal(await store.ReadEvidenceAsync(incident.Id, e.Name, CancellationToken.None), e.Content);
        Assert.Equal("[{\"r\":1440}]", read[1].Content);
        Assert.Empty(await store.ReadEvidenceManyAsync(incident.Id, _ => false, CancellationToken.None));
    }

    [Fact]
    public async Task Following_the_timeline_yields_what_is_there_then_each_entry_another_writer_appends()
    {
        var store = NewStore();
        var other = NewStoreOnSameData(store);
        var incident = await store.CreateAsync(id => Build(id, "follow"), CancellationToken.None);
        await store.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "note", Action = "Note", Result = "before" }, CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var follow = store.FollowTimelineAsync(incident.Id, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await follow.MoveNextAsync());
        Assert.Equal("before", follow.Current.Result);
        var next = follow.MoveNextAsync();
        await other.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "note", Action = "Note", Result = "after" }, CancellationToken.None);
        Assert.True(await next);
        Assert.Equal(("after", 2L), (follow.Current.Result, follow.Current.Sequence));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await follow.MoveNextAsync());
    }

    /// <summary>A second store object on the same data (another process or machine would open one).</summary>
    protected abstract IIncidentStore NewStoreOnSameData(IIncidentStore store);
}

public sealed class FileIncidentStoreContractTests : IncidentStoreContract
{
    protected override IIncidentStore NewStore() => new FileIncidentStore(Paths.TempDir("io-contract"));
    protected override IIncidentStore NewStoreOnSameData(IIncidentStore store) => new FileIncidentStore(((FileIncidentStore)store).Root);

    /// <summary>A put that died before its hash file (and a writer's leftover temp file) is not stored evidence: neither listed nor read in bulk.</summary>
    [Fact]
    public async Task Bulk_evidence_reads_leave_out_a_document_without_its_hash_file_as_the_listing_does()
    {
        var store = (FileIncidentStore)NewStore();
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "torn put", Severity = "P2", SeverityName = "Medium", StartedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        await store.PutEvidenceAsync(incident.Id, "a-health-x.json", "[]", DateTimeOffset.UtcNow, CancellationToken.None);
        var evidence = Path.Combine(store.GetIncidentDirectory(incident.Id), "evidence");
        File.WriteAllText(Path.Combine(evidence, "b-health-torn.json"), "[]");
        File.WriteAllText(Path.Combine(evidence, "c-health-y.json.123.0123456789abcdef.tmp"), "[]");

        var read = await store.ReadEvidenceManyAsync(incident.Id, _ => true, CancellationToken.None);

        Assert.Equal(["a-health-x.json"], (await store.ListEvidenceAsync(incident.Id, CancellationToken.None)).Select(e => e.Name));
        Assert.Equal(["a-health-x.json"], read.Select(e => e.Name));
    }
}

/// <summary>
/// The same contract against the real PostgreSQL (INCIDENTOPS_TEST_PG; under CI it must be there). Every store this
/// class opens lives in a schema of its own, dropped after the test.
/// </summary>
public sealed class PostgresIncidentStoreContractTests : IncidentStoreContract, IDisposable
{
    private readonly List<PostgresIncidentStore> _opened = [];
    private readonly string _local = Paths.TempDir("io-pg-contract");

    protected override IIncidentStore NewStore()
    {
        var store = PgStores.NewSchema(_local);
        _opened.Add(store);
        return store;
    }

    protected override IIncidentStore NewStoreOnSameData(IIncidentStore store) =>
        new PostgresIncidentStore(TestServers.PostgresConnectionString, ((PostgresIncidentStore)store).Schema, Paths.TempDir("io-pg-contract-other"));

    public void Dispose()
    {
        foreach (var s in _opened) PgStores.Drop(s.Schema);
    }
}

/// <summary>Team stores in schemas of their own on the test PostgreSQL.</summary>
public static class PgStores
{
    /// <summary>A new, initialised store in a fresh schema (store_xxxxxxxx).</summary>
    public static PostgresIncidentStore NewSchema(string localFolder, string prefix = "store")
    {
        var store = new PostgresIncidentStore(TestServers.PostgresConnectionString, $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)], localFolder);
        store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        return store;
    }

    public static void Drop(string schema)
    {
        using var c = new Npgsql.NpgsqlConnection(TestServers.PostgresConnectionString);
        c.Open();
        using var cmd = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", c);
        cmd.ExecuteNonQuery();
    }
}
