using System.Diagnostics;
using System.Text;
using System.Text.Json;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>A real 1 MiB tmpfs (the machines run the tests as root): fills up for real, and remounts read-only.</summary>
internal sealed class Tmpfs : IDisposable
{
    public Tmpfs(string size = "1m")
    {
        Path = Paths.TempDir("io-tmpfs");
        Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", Path);
    }

    public string Path { get; }

    public void ReadOnly() => Run("mount", "-o", "remount,ro", Path);
    public void ReadWrite() => Run("mount", "-o", "remount,rw", Path);

    /// <summary>Writes a filler file until the file system says it is full; returns its path.</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        using var fs = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        var block = new byte[512];
        try { while (true) fs.Write(block); }
        catch (IOException) { }
        return filler;
    }

    private static void Run(params string[] argv)
    {
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', argv)} failed ({p.ExitCode}): {err}. These store fault tests need root to mount a tmpfs.");
    }

    public void Dispose()
    {
        try { Run("umount", "-l", Path); } catch (InvalidOperationException) { }
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}

public class StoreFaultTests
{
    /// <summary>
    /// "Fails at once": a generous "does not hang" bound for a loaded machine, half the 30 s a write waits for the store's
    /// lock (what a fault mistaken for a busy store would take).
    /// </summary>
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(15);

    private static async Task<T> Within<T>(TimeSpan limit, Func<Task<T>> work)
    {
        var task = work();
        var done = await Task.WhenAny(task, Task.Delay(limit));
        Assert.True(ReferenceEquals(done, task), $"did not return within {limit.TotalSeconds} s");
        return await task;
    }

    private static async Task<IncidentOpsException> ThrowsWithin(TimeSpan limit, Func<Task> work) =>
        await Within(limit, () => Assert.ThrowsAsync<IncidentOpsException>(work));

    [Fact]
    public async Task Disk_full_append_fails_as_StoreDiskFull_leaves_no_torn_line_and_later_notes_are_kept()
    {
        using var fs = new Tmpfs();
        var (engine, config, sink) = IncidentStoreTests.NewEngine(Path.Combine(fs.Path, "store"));
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "disk", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        await engine.Incidents.AddNoteAsync(config, incident.Id, "before the disk filled", ChangeContext.Engine, CancellationToken.None);
        var file = Path.Combine(config.Store.Path!, "incidents", incident.Id, "timeline.jsonl");
        var before = File.ReadAllBytes(file);

        var filler = fs.Fill();
        // Larger than what is left in the timeline file's last page, so the write is cut part-way.
        var ex = await ThrowsWithin(AtOnce, () => engine.Incidents.AddNoteAsync(config, incident.Id, "lost? " + new string('x', 9000), ChangeContext.Engine, CancellationToken.None));
        Assert.Equal("StoreDiskFull", ex.ErrorId);
        Assert.Contains("full", ex.Message);
        Assert.Contains(config.Store.Path!, ex.Message);
        Assert.Equal(before, File.ReadAllBytes(file)); // no torn bytes left behind

        File.Delete(filler);
        await engine.Incidents.AddNoteAsync(config, incident.Id, "after space was freed", ChangeContext.Engine, CancellationToken.None);
        var timeline = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
        Assert.Equal(["Declare incident", "Note", "Note"], timeline.Select(e => e.Action));
        Assert.Equal("after space was freed", timeline[^1].Result);
        Assert.DoesNotContain(sink.Warnings, w => w.Contains("corrupt", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Disk_full_on_a_record_change_or_a_declaration_is_StoreDiskFull_and_the_record_stays_whole()
    {
        using var fs = new Tmpfs();
        var (engine, config, _) = IncidentStoreTests.NewEngine(Path.Combine(fs.Path, "store"));
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "disk", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var filler = fs.Fill();
        var change = await ThrowsWithin(AtOnce, () => engine.Incidents.UpdateAsync(config, incident.Id, new IncidentChanges { Summary = new string('s', 20_000) }, ChangeContext.Engine, CancellationToken.None));
        Assert.Equal("StoreDiskFull", change.ErrorId);
        var declare = await ThrowsWithin(AtOnce, () => engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "second " + new string('t', 20_000), Severity = "P1", Activate = false }, ChangeContext.Engine, CancellationToken.None));
        Assert.Equal("StoreDiskFull", declare.ErrorId);
        File.Delete(filler);
        Assert.Equal("disk", (await engine.Incidents.GetAsync(config, incident.Id, CancellationToken.None)).Title);
        Assert.Equal([incident.Id], (await engine.Incidents.ListAsync(config, new IncidentQuery(), CancellationToken.None)).Select(i => i.Id));
        Assert.Empty(Directory.EnumerateFiles(config.Store.Path!, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task An_entry_appended_after_a_torn_line_is_never_swallowed()
    {
        var (engine, config, sink) = IncidentStoreTests.NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "torn", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var file = Path.Combine(config.Store.Path!, "incidents", incident.Id, "timeline.jsonl");
        // A writer killed (or out of space) part-way through a line, with no newline at the end.
        File.AppendAllText(file, "{\"timestamp\":\"2026-11-29T10:00:00+00:00\",\"kind\":\"note\",\"resu");
        await engine.Incidents.AddNoteAsync(config, incident.Id, "written after the torn line", ChangeContext.Engine, CancellationToken.None);
        var timeline = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
        Assert.Equal("written after the torn line", timeline[^1].Result);
        Assert.Contains(sink.Warnings, w => w.Contains($"{file}:2"));

        // A file written by an older version, where the next entry went onto the torn line itself.
        var legacy = JsonSerializer.Serialize(new TimelineEntry { Kind = "note", Action = "Note", Result = "legacy entry after a torn fragment" }, FileIncidentStore.Json);
        File.AppendAllText(file, "{\"timestamp\":\"2026-11-29T10:00:01+00:00\",\"ki" + legacy + "\n");
        timeline = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
        Assert.Contains(timeline, e => e.Result == "legacy entry after a torn fragment");
    }

    [Fact]
    public async Task Evidence_rewritten_under_its_name_on_a_disk_that_fills_is_never_listed_with_a_hash_its_content_does_not_have()
    {
        // The alerting round's samples are a ring: slot names are written again. A rewrite that stops between the content
        // and its hash (the disk fills, the round is killed) must not leave the old hash beside the new content, or every
        // archive of the incident is refused by Import-Incident.
        using var fs = new Tmpfs();
        var store = new FileIncidentStore(Path.Combine(fs.Path, "store"));
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "ring", Severity = "P2", StartedAt = DateTimeOffset.UtcNow, DeclaredAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        await store.PutEvidenceAsync(incident.Id, "health-rounds-slot-0001.json", "", DateTimeOffset.UtcNow, CancellationToken.None);
        var spacer = Path.Combine(fs.Path, "spacer");
        File.WriteAllBytes(spacer, new byte[4096]);
        var filler = fs.Fill();
        File.Delete(spacer); // one page free: room for the new content, none left for a new hash file beside the old one
        try { await store.PutEvidenceAsync(incident.Id, "health-rounds-slot-0001.json", "{\"round\":2}", DateTimeOffset.UtcNow, CancellationToken.None); }
        catch (IncidentOpsException ex) { Assert.Equal("StoreDiskFull", ex.ErrorId); }
        File.Delete(filler);

        foreach (var e in await store.ListEvidenceAsync(incident.Id, CancellationToken.None))
            Assert.Equal(e.Sha256, IncidentStores.Sha256((await store.ReadEvidenceAsync(incident.Id, e.Name, CancellationToken.None))!));
        var sink = new IncidentOps.Engine.CollectingSink();
        var service = new IncidentService(_ => store, sink, new TimelineWriter(_ => store, sink));
        var archive = Path.Combine(Paths.TempDir("io-ring-zip"), "ring.zip");
        await service.ExportAsync(null, [incident.Id], archive, false, CancellationToken.None);
        var target = new FileIncidentStore(Paths.TempDir("io-ring-target"));
        var imported = new IncidentService(_ => target, sink, new TimelineWriter(_ => target, sink));
        Assert.Equal("Imported", Assert.Single(await imported.ImportAsync(null, archive, null, false, CancellationToken.None)).Action);
    }

    [Fact]
    public async Task Read_only_store_fails_at_once_with_StoreReadOnly_for_every_write()
    {
        using var fs = new Tmpfs();
        var (engine, config, _) = IncidentStoreTests.NewEngine(Path.Combine(fs.Path, "store"));
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "ro", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var lockless = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "never locked", Severity = "P3", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        foreach (var l in Directory.EnumerateFiles(Path.Combine(config.Store.Path!, "incidents", lockless.Id), ".*lock")) File.Delete(l);
        fs.ReadOnly();
        var writes = new (string Name, Func<Task> Work)[]
        {
            ("note", () => engine.Incidents.AddNoteAsync(config, incident.Id, "n", ChangeContext.Engine, CancellationToken.None)),
            ("note on an incident without lock files", () => engine.Incidents.AddNoteAsync(config, lockless.Id, "n", ChangeContext.Engine, CancellationToken.None)),
            ("change", () => engine.Incidents.UpdateAsync(config, incident.Id, new IncidentChanges { Title = "t" }, ChangeContext.Engine, CancellationToken.None)),
            ("action item", () => engine.Incidents.AddActionItemAsync(config, incident.Id, "a", null, null, null, ChangeContext.Engine, CancellationToken.None)),
            ("declare", () => engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "x", Severity = "P2" }, ChangeContext.Engine, CancellationToken.None)),
            ("activate", () => engine.Incidents.SetActiveAsync(config, incident.Id, CancellationToken.None)),
        };
        foreach (var (name, work) in writes)
        {
            var ex = await ThrowsWithin(AtOnce, work);
            Assert.True(ex.ErrorId == "StoreReadOnly", $"{name}: {ex.ErrorId}: {ex.Message}");
            Assert.Contains("read-only", ex.Message);
            Assert.DoesNotContain("another process", ex.Message, StringComparison.OrdinalIgnoreCase);
        }
        // Reads still work.
        Assert.Single(await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Readers_see_one_total_order_by_time_then_sequence_under_concurrent_writers()
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "order", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        const int processes = 6, appends = 150;
        var writers = Enumerable.Range(0, processes).Select(n => StoreWriterProcess.Start("append", config.Store.Path!, incident.Id, $"{appends}", $"w{n}", "3")).ToList();
        foreach (var w in writers)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await w.WaitForExitAsync(cts.Token);
            Assert.True(w.ExitCode == 0, await w.StandardError.ReadToEndAsync());
        }
        var first = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
        var second = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
        Assert.Equal(1 + processes * appends, first.Count);
        var outOfOrder = first.Zip(first.Skip(1)).Count(p => p.Second.Timestamp < p.First.Timestamp);
        Assert.Equal(0, outOfOrder);
        Assert.Equal(first.Count, first.Select(e => e.Sequence).Distinct().Count()); // every entry has its own sequence
        Assert.All(first, e => Assert.True(e.Sequence > 0));
        Assert.True(first.Zip(first.Skip(1)).All(p => p.Second.Timestamp > p.First.Timestamp || p.Second.Sequence > p.First.Sequence), "ties are broken by sequence");
        Assert.Equal(first.Select(e => e.Sequence), second.Select(e => e.Sequence)); // every reader, the same order
        for (var w = 0; w < processes; w++)
            Assert.Equal(appends, first.Count(e => e.Target == $"w{w}"));
    }

    [Fact]
    public async Task Stale_temp_files_of_killed_writers_are_removed_by_the_next_write_and_no_acknowledged_item_is_lost()
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "tmp", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var dir = Path.Combine(config.Store.Path!, "incidents", incident.Id);
        // What a kill -9 between the temp write and the rename leaves on this machine (a pid that cannot be running).
        File.WriteAllText(Path.Combine(dir, $"actions.json.999999999@{StoreFaults.MachineTag}.{Guid.NewGuid():N}.tmp"), "[");
        File.WriteAllText(Path.Combine(dir, $"incident.json.999999999@{StoreFaults.MachineTag}.{Guid.NewGuid():N}.tmp"), "{");
        var acknowledged = new List<string>();
        for (var round = 0; round < 4; round++)
        {
            using var writer = StoreWriterProcess.Start("actions", config.Store.Path!, incident.Id, $"k{round}");
            using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
                for (var n = 0; n < 3 + round; n++)
                    acknowledged.Add((await writer.StandardOutput.ReadLineAsync(cts.Token))!);
            writer.Kill(entireProcessTree: true);
            await writer.WaitForExitAsync();
            // Lines it printed before the kill were acknowledged too.
            while (await writer.StandardOutput.ReadLineAsync() is { Length: > 0 } line) acknowledged.Add(line);
        }
        var last = await engine.Incidents.AddActionItemAsync(config, incident.Id, "after the kills", null, null, null, ChangeContext.Engine, CancellationToken.None);
        await engine.Incidents.UpdateAsync(config, incident.Id, new IncidentChanges { Title = "tmp after" }, ChangeContext.Engine, CancellationToken.None);
        Assert.Empty(Directory.EnumerateFiles(dir, "*.tmp"));
        var items = await engine.Incidents.ListActionItemsAsync(config, incident.Id, CancellationToken.None);
        Assert.Empty(acknowledged.Except(items.Select(i => i.Id)));
        Assert.Contains(items, i => i.Id == last.Id);
    }
}

/// <summary>
/// A file store on a shared folder (NFS, SMB) is written by several machines at once. Before, the temp file of a write in
/// flight on another machine (name.PID.GUID.tmp) was removed by the next write here whenever no process of that pid ran
/// here, and that writer's rename then failed: its acknowledged change was lost. Temp names now carry the machine, and
/// only this machine's are removed by pid; any other one only once it is an hour old.
/// </summary>
public class SharedStoreTempFileTests
{
    [Fact]
    public async Task A_write_keeps_another_machines_temp_file_and_removes_a_dead_writers_temp_file_of_this_machine()
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "shared", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var dir = Path.Combine(config.Store.Path!, "incidents", incident.Id);
        const int notRunningHere = 999999999;
        var otherMachine = Path.Combine(dir, $"incident.json.{notRunningHere}@ops-host-2.example.{Guid.NewGuid():N}.tmp");
        var earlierVersion = Path.Combine(dir, $"incident.json.{notRunningHere}.{Guid.NewGuid():N}.tmp");
        var thisMachineDead = Path.Combine(dir, $"incident.json.{notRunningHere}@{StoreFaults.MachineTag}.{Guid.NewGuid():N}.tmp");
        var otherMachineOld = Path.Combine(dir, $"actions.json.{notRunningHere}@ops-host-3.{Guid.NewGuid():N}.tmp");
        foreach (var f in new[] { otherMachine, earlierVersion, thisMachineDead, otherMachineOld }) File.WriteAllText(f, "{\"in\":\"flight\"}");
        File.SetLastWriteTimeUtc(otherMachineOld, DateTime.UtcNow.AddHours(-2));

        await engine.Incidents.UpdateAsync(config, incident.Id, new IncidentChanges { Title = "shared, changed here" }, ChangeContext.Engine, CancellationToken.None);

        Assert.True(File.Exists(otherMachine), "the temp file of a write in flight on another machine was removed");
        Assert.True(File.Exists(earlierVersion), "a temp file that does not say its machine was removed by a pid checked on this one");
        Assert.False(File.Exists(thisMachineDead));
        Assert.False(File.Exists(otherMachineOld));
        // What this machine writes says whose it is.
        Assert.Matches(@"^x\.\d+@[A-Za-z0-9.-]+\.[0-9a-f]{32}\.tmp$", Path.GetFileName(StoreFaults.TempPath("x")));
        Assert.Contains("@" + StoreFaults.MachineTag + ".", StoreFaults.TempPath("x"));
    }
}

/// <summary>Writers killed (kill -9) or refused (disk full) in the middle of appends: no acknowledged entry is lost.</summary>
public class StoreFaultLoadTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class Writer : IDisposable
    {
        private readonly Process _process;
        private readonly Task _reader;
        private readonly object _gate = new();
        public List<int> Acknowledged { get; } = [];
        public int Refused { get; private set; }
        public string Tag { get; }

        public Writer(string root, string id, string tag)
        {
            Tag = tag;
            _process = StoreWriterProcess.Start("notes", root, id, tag);
            _reader = Task.Run(async () =>
            {
                while (await _process.StandardOutput.ReadLineAsync() is { } line)
                {
                    var parts = line.Split(' ');
                    lock (_gate)
                    {
                        if (parts[0] == "ok") Acknowledged.Add(int.Parse(parts[1]));
                        else if (parts[0] == "fail" && parts[2] == "StoreDiskFull") Refused++;
                        else throw new InvalidOperationException($"writer {tag}: {line}");
                    }
                }
            });
        }

        public int Count { get { lock (_gate) return Acknowledged.Count; } }

        public async Task WaitForAsync(int acknowledged)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (Count < acknowledged)
            {
                if (_process.HasExited) Assert.Fail($"writer {Tag} exited: {_process.StandardError.ReadToEnd()}");
                if (_reader.IsFaulted) await _reader;
                await Task.Delay(10, cts.Token);
            }
        }

        /// <summary>kill -9, then every line it printed before dying has been read.</summary>
        public async Task KillAsync()
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            await _reader;
        }

        public void Dispose()
        {
            try { if (!_process.HasExited) _process.Kill(true); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }

    /// <summary>(writer tag, n) of every writer entry in the timeline.</summary>
    private static IEnumerable<(string? Tag, int N)> Written(IReadOnlyList<TimelineEntry> timeline) =>
        timeline.Where(e => e.Target is not null && e.Result!.StartsWith(e.Target + ":", StringComparison.Ordinal))
            .Select(e => (e.Target, int.Parse(e.Result!.Split(':')[1])));

    private static void AssertAllAcknowledgedPresent(IReadOnlyList<TimelineEntry> timeline, IEnumerable<Writer> writers)
    {
        var present = Written(timeline).ToHashSet();
        foreach (var w in writers)
        {
            var lost = w.Acknowledged.Where(n => !present.Contains((w.Tag, n))).ToList();
            Assert.True(lost.Count == 0, $"writer {w.Tag} lost {lost.Count} acknowledged entries: {string.Join(",", lost.Take(10))}");
        }
        Assert.Equal(timeline.Count, timeline.Select(e => e.Sequence).Distinct().Count());
    }

    [Fact]
    public async Task Writers_killed_mid_append_lose_no_acknowledged_entry_and_never_swallow_a_later_one()
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "kill", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var all = new List<Writer>();
        try
        {
            for (var round = 0; round < 4; round++)
            {
                var writers = Enumerable.Range(0, 3).Select(n => new Writer(config.Store.Path!, incident.Id, $"r{round}w{n}")).ToList();
                all.AddRange(writers);
                foreach (var w in writers) await w.WaitForAsync(25 + 10 * round);
                foreach (var w in writers) await w.KillAsync();
                await engine.Incidents.AddNoteAsync(config, incident.Id, $"after kill round {round}", ChangeContext.Engine, CancellationToken.None);
            }
            var timeline = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
            AssertAllAcknowledgedPresent(timeline, all);
            for (var round = 0; round < 4; round++) Assert.Contains(timeline, e => e.Result == $"after kill round {round}");
            output.WriteLine($"kill -9: {all.Count} writer processes, {all.Sum(w => w.Acknowledged.Count)} acknowledged entries, 0 lost; {timeline.Count} entries read");
            Assert.True(all.Sum(w => w.Acknowledged.Count) >= 12 * 25);
        }
        finally { foreach (var w in all) w.Dispose(); }
    }

    [Fact]
    public async Task Concurrent_writers_on_a_disk_that_fills_and_frees_lose_no_acknowledged_entry()
    {
        // 16 MiB: room for the writers' own entries on a slow machine; Fill() takes what is left either way.
        using var fs = new Tmpfs("16m");
        var (engine, config, sink) = IncidentStoreTests.NewEngine(Path.Combine(fs.Path, "store"));
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "full", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var writers = Enumerable.Range(0, 3).Select(n => new Writer(config.Store.Path!, incident.Id, $"w{n}")).ToList();
        try
        {
            foreach (var w in writers) await w.WaitForAsync(5);
            for (var cycle = 0; cycle < 3; cycle++)
            {
                var filler = fs.Fill();
                var refusedBefore = writers.Sum(w => w.Refused);
                using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
                    while (writers.Sum(w => w.Refused) < refusedBefore + 10) await Task.Delay(10, cts.Token);
                File.Delete(filler);
                var counts = writers.Select(w => w.Count).ToList();
                for (var k = 0; k < writers.Count; k++) await writers[k].WaitForAsync(counts[k] + 5);
            }
            foreach (var w in writers) await w.KillAsync();
            var timeline = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
            AssertAllAcknowledgedPresent(timeline, writers);
            Assert.True(writers.Sum(w => w.Refused) >= 30);
            output.WriteLine($"disk full x3: {writers.Count} writer processes, {writers.Sum(w => w.Acknowledged.Count)} acknowledged entries, 0 lost, {writers.Sum(w => w.Refused)} appends refused with StoreDiskFull");
            // Refused appends left nothing: the only damaged lines can be the kills' unfinished ones at the end.
            Assert.True(sink.Warnings.Count(w => w.Contains("corrupt", StringComparison.OrdinalIgnoreCase)) <= writers.Count, string.Join("\n", sink.Warnings));
            // Entries never acknowledged: at most the one each writer had in flight when it was killed (no refused one).
            Assert.True(Written(timeline).Count(e => !writers.Any(w => w.Tag == e.Tag && w.Acknowledged.Contains(e.N))) <= writers.Count);
        }
        finally { foreach (var w in writers) w.Dispose(); }
    }
}
