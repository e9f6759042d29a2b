using System.Diagnostics;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

public class IncidentStoreTests
{
    internal static (IncidentOpsEngine Engine, IncidentOpsConfig Config, CollectingSink Sink) NewEngine(string? root = null)
    {
        var sink = new CollectingSink();
        var config = new IncidentOpsConfig { Severities = DefaultSeverities.Levels, Store = new StoreConfig { Path = root ?? Paths.TempDir("io-store") } };
        return (new IncidentOpsEngine(sink, NoSecretProvider.Instance), config, sink);
    }

    [Fact]
    public async Task A_store_folder_that_has_gone_is_refused_and_never_quietly_made_again()
    {
        // An unmounted share: the outbox, its claims and evidence must not be written to a fresh, empty folder on the
        // local disk, where nobody reading the real store would ever see them.
        var (engine, config, _) = NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "gone", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var store = new FileIncidentStore(config.Store.Path!);
        var away = config.Store.Path + ".unmounted";
        Directory.Move(config.Store.Path!, away);
        try
        {
            var update = new IncidentOps.Notifications.IncidentUpdate { UpdateId = "UPD-1", IncidentId = incident.Id };
            var write = await Assert.ThrowsAsync<IncidentOpsException>(() => store.WriteOutboxEntryAsync(update, CancellationToken.None));
            Assert.Equal(IncidentErrorIds.StoreUnavailable, write.ErrorId);
            Assert.Contains(config.Store.Path!, write.Message);
            var claim = await Assert.ThrowsAsync<IncidentOpsException>(() => store.ClaimOutboxAsync(incident.Id, "channel-ops", TimeSpan.FromSeconds(1), CancellationToken.None));
            Assert.Equal(IncidentErrorIds.StoreUnavailable, claim.ErrorId);
            var evidence = await Assert.ThrowsAsync<IncidentOpsException>(() => store.PutEvidenceAsync(incident.Id, "health.txt", "x", DateTimeOffset.UtcNow, CancellationToken.None));
            Assert.Equal(IncidentErrorIds.StoreUnavailable, evidence.ErrorId);
            Assert.False(Directory.Exists(Path.Combine(config.Store.Path!, "incidents", incident.Id)), "the incident folder was made again");
        }
        finally
        {
            if (Directory.Exists(config.Store.Path!)) Directory.Delete(config.Store.Path!, true);
            Directory.Move(away, config.Store.Path!);
        }
        // An incident that does not exist in a store that does is still IncidentNotFound.
        var missing = await Assert.ThrowsAsync<IncidentOpsException>(() => store.PutEvidenceAsync("INC-20000101-001", "health.txt", "x", DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Equal("IncidentNotFound", missing.ErrorId);
    }

    [Fact]
    public async Task Four_processes_appending_500_entries_each_give_2000_intact_entries()
    {
        var (engine, config, _) = NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "load", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var writers = Enumerable.Range(0, 4).Select(n => StoreWriterProcess.Start("append", config.Store.Path!, incident.Id, "500", $"w{n}")).ToList();
        foreach (var w in writers)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await w.WaitForExitAsync(cts.Token);
            Assert.True(w.ExitCode == 0, await w.StandardError.ReadToEndAsync());
        }
        var lines = File.ReadAllLines(Path.Combine(config.Store.Path!, "incidents", incident.Id, "timeline.jsonl"));
        Assert.Equal(2001, lines.Length); // the declaration + 2,000 appends
        var entries = lines.Select(l => JsonSerializer.Deserialize<TimelineEntry>(l, FileIncidentStore.Json)!).ToList();
        var appended = entries.Where(e => e.Action == "Concurrent append").ToList();
        Assert.Equal(2000, appended.Count);
        for (var w = 0; w < 4; w++)
        {
            var mine = appended.Where(e => e.Target == $"w{w}").Select(e => int.Parse(e.Result!.Split(':')[1])).ToList();
            Assert.Equal(Enumerable.Range(0, 500), mine); // each writer's entries intact and in its order
        }
        Assert.Equal(2001, (await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Incident_json_always_parses_while_a_writer_is_killed_mid_rewrite()
    {
        var (engine, config, _) = NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "atomic", Severity = "P1", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var file = Path.Combine(config.Store.Path!, "incidents", incident.Id, "incident.json");
        for (var round = 0; round < 3; round++)
        {
            using var writer = StoreWriterProcess.Start("rewrite", config.Store.Path!, incident.Id);
            using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
                Assert.Equal("ready", await writer.StandardOutput.ReadLineAsync(cts.Token));
            for (var n = 0; n < 200; n++)
            {
                var parsed = JsonSerializer.Deserialize<Incident>(File.ReadAllText(file), FileIncidentStore.Json);
                Assert.Equal(incident.Id, parsed!.Id);
            }
            writer.Kill(entireProcessTree: true);
            await writer.WaitForExitAsync();
            var after = await engine.Incidents.GetAsync(config, incident.Id, CancellationToken.None);
            Assert.StartsWith("rewrite ", after.Title);
        }
        // The store still works after the kills (no stale lock held).
        var changed = await engine.Incidents.UpdateAsync(config, incident.Id, new IncidentChanges { Title = "after kills" }, ChangeContext.Engine, CancellationToken.None);
        Assert.Equal("after kills", changed.Title);
    }

    [Fact]
    public async Task Truncated_timeline_line_is_skipped_with_a_warning_naming_file_and_line()
    {
        var (engine, config, sink) = NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "t", Severity = "P3" }, ChangeContext.Engine, CancellationToken.None);
        await engine.Incidents.AddNoteAsync(config, incident.Id, "one", ChangeContext.Engine, CancellationToken.None);
        var file = Path.Combine(config.Store.Path!, "incidents", incident.Id, "timeline.jsonl");
        File.AppendAllText(file, "{\"timestamp\":\"2026-11-22T10:00:00Z\",\"kind\":\"no");   // a writer died mid-line
        var entries = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
        Assert.Equal(2, entries.Count);
        Assert.Contains(sink.Warnings, w => w.Contains($"{file}:3"));
    }

    [Fact]
    public async Task Severity_changes_set_history_deadlines_and_unknown_severities_list_the_valid_ones()
    {
        var (engine, config, _) = NewEngine();
        var started = DateTimeOffset.UtcNow.AddMinutes(-30);
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "s", Severity = "p0", StartedAt = started }, ChangeContext.Engine, CancellationToken.None);
        Assert.Equal("P0", incident.Severity);
        Assert.Equal("Critical", incident.SeverityName);
        Assert.Equal(TimeSpan.FromMinutes(5), incident.ResponseDue - incident.DeclaredAt);
        Assert.Equal(TimeSpan.FromMinutes(15), incident.NextUpdateDue - incident.DeclaredAt);
        Assert.Equal(started, incident.StartedAt);
        var changed = await engine.Incidents.UpdateAsync(config, incident.Id, new IncidentChanges { Severity = "P3" }, ChangeContext.Engine, CancellationToken.None);
        Assert.Equal(["P0", "P3"], changed.SeverityHistory.Select(h => h.Severity));
        Assert.Null(changed.NextUpdateDue); // P3 has no update cadence
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Incidents.UpdateAsync(config, incident.Id, new IncidentChanges { Severity = "SEV1" }, ChangeContext.Engine, CancellationToken.None));
        Assert.Equal("SeverityUnknown", ex.ErrorId);
        Assert.Contains("P0 (Critical), P1 (High), P2 (Medium), P3 (Low)", ex.Message);
        Assert.Equal(incident.Id, await engine.Incidents.GetActiveIdAsync(config, CancellationToken.None));
        await engine.Incidents.CloseAsync(config, incident.Id, "fixed", null, null, ChangeContext.Engine, CancellationToken.None);
        Assert.Null(await engine.Incidents.GetActiveIdAsync(config, CancellationToken.None));
    }

    [Fact]
    public async Task Timeline_recorder_writes_base_cmdlet_changes_to_the_active_incident_only()
    {
        var (engine, config, _) = NewEngine();
        Assert.Null(await engine.Timeline.RecordAsync(new TimelineEntry { Action = "Flush" }, null, config, CancellationToken.None));
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "r", Severity = "P1" }, ChangeContext.Engine, CancellationToken.None);
        var written = await engine.Timeline.RecordAsync(new TimelineEntry { Cmdlet = "Clear-RedisCache", Action = "Flush", Target = "production/api", Outcome = TimelineOutcome.Succeeded }, null, config, CancellationToken.None);
        Assert.Equal(incident.Id, written);
        var last = (await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None))[^1];
        Assert.Equal(("Clear-RedisCache", "Flush", TimelineOutcome.Succeeded), (last.Cmdlet, last.Action, last.Outcome));
    }
}
