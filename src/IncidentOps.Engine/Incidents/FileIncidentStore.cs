using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// The default store: one folder per incident under the user's data directory.
/// incident.json is replaced atomically (temp file, flush to disk, rename); timeline.jsonl is
/// append-only, one entry per line, flushed to disk before the call returns. A lock file per incident
/// serialises writers across processes (a person and a scheduled script).
/// </summary>
public sealed class FileIncidentStore : IIncidentStore
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // An outcome a newer version added reads as Info (on an action entry the review then lists it as unconfirmed)
        // instead of making the whole entry unreadable: teams on one store upgrade at different times.
        Converters = { new TolerantTimelineOutcomeConverter(), new JsonStringEnumConverter() },
    };

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public FileIncidentStore(string root)
    {
        Root = root;
        CreateDirectoryDurably(IncidentsRoot);
    }

    public string Root { get; }

    /// <summary>
    /// Which store this is, as records read from it carry it (Incident.IncidentStore): the real path of its folder (symbolic
    /// links resolved, no trailing separator), so every spelling of one folder compares equal: relative or absolute, through a
    /// link or not. Its locks and its active pointer are files inside the folder, so they are one for every spelling already.
    /// </summary>
    public string Identity => _identity ??= RealPath(Root);

    /// <summary>
    /// The full path of <paramref name="path"/> with every symbolic link along it resolved (what realpath(3) gives), without a
    /// trailing separator; a part that does not exist or cannot be read is kept as written.
    /// </summary>
    public static string RealPath(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        for (var hops = 0; hops < 40; hops++)
        {
            var root = Path.GetPathRoot(full) ?? "";
            var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
            var current = root;
            string? relinked = null;
            for (var i = 0; i < parts.Length && relinked is null; i++)
            {
                var next = Path.Combine(current, parts[i]);
                string? target;
                try { target = new FileInfo(next).LinkTarget; }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { target = null; }
                if (target is null) { current = next; continue; }
                // A link's relative target is relative to the folder that holds the link.
                relinked = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine([Path.GetFullPath(target, current), .. parts[(i + 1)..]])));
            }
            if (relinked is null) return Path.TrimEndingDirectorySeparator(current);
            full = relinked;
        }
        return full; // a loop of links: as far as it resolved
    }

    private string? _identity;
    private string IncidentsRoot => Path.Combine(Root, "incidents");

    /// <summary>$XDG_DATA_HOME/IncidentOps (or ~/.local/share/IncidentOps); %LOCALAPPDATA%\IncidentOps on Windows.</summary>
    public static string DefaultRoot()
    {
        var overridden = System.Environment.GetEnvironmentVariable("INCIDENTOPS_DATA");
        if (!string.IsNullOrEmpty(overridden)) return overridden;
        if (OperatingSystem.IsWindows())
            return Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.LocalApplicationData), "IncidentOps");
        var xdg = System.Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(xdg)) xdg = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(xdg, "IncidentOps");
    }

    /// <summary>The incident's folder (incident.json, timeline.jsonl, actions.json, outbox/, evidence/): this store's layout only.</summary>
    public string GetIncidentDirectory(string id) => Path.Combine(IncidentsRoot, IncidentStores.CheckId(id));

    /// <summary>Where warnings of this store go (corrupt outbox entries moved aside); set by the engine to its sink.</summary>
    public Action<string>? Warning { get; set; }

    public async Task<Incident> CreateAsync(Func<string, Incident> build, CancellationToken cancellationToken)
    {
        await using var _ = await FileLock.AcquireAsync(Path.Combine(Root, ".create.lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        var day = DateTimeOffset.UtcNow.ToString("yyyyMMdd");
        var prefix = $"INC-{day}-";
        var next = Directory.EnumerateDirectories(IncidentsRoot, prefix + "*")
            .Select(d => int.TryParse(Path.GetFileName(d)[prefix.Length..], out var n) ? n : 0)
            .DefaultIfEmpty(0).Max() + 1;
        var id = $"{prefix}{next:000}";
        var incident = build(id);
        incident.IncidentStore = Identity;
        var dir = GetIncidentDirectory(id);
        try
        {
            CreateDirectoryDurably(dir);
            await WriteAtomicAsync(Path.Combine(dir, "incident.json"), JsonSerializer.Serialize(incident, Json), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IncidentOpsException)
        {
            // A declaration that could not be written leaves no half-made folder (and no used-up id).
            try { if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            if (StoreFaults.Translate(ex, dir) is { } fault) throw fault;
            throw;
        }
        return incident;
    }

    public async Task<Incident?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var file = Path.Combine(GetIncidentDirectory(id), "incident.json");
        if (!File.Exists(file)) return null;
        return await ReadIncidentAsync(file, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Incident> ReadIncidentAsync(string file, CancellationToken cancellationToken) =>
        ParseIncident(file, await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false));

    private Incident ParseIncident(string file, string text)
    {
        try
        {
            var incident = JsonSerializer.Deserialize<Incident>(text, Json) ?? throw new JsonException("empty document");
            incident.IncidentStore = Identity;
            return incident;
        }
        catch (JsonException ex)
        {
            throw new IncidentOpsException(IncidentErrorIds.RecordCorrupt, IncidentOpsErrorCategory.InvalidData,
                $"The incident record '{file}' is not valid JSON (line {ex.LineNumber + 1}): {ex.Message.TrimEnd('.')}. Restore it from backup or remove the folder.") { TargetObject = file };
        }
    }

    public async Task<IReadOnlyList<Incident>> ListAsync(CancellationToken cancellationToken)
    {
        var dirs = Directory.EnumerateDirectories(IncidentsRoot).OrderBy(d => d, StringComparer.Ordinal).ToArray();
        // Read and parse the records on every core (thousands of small files); keep the folders' order for the result.
        var read = new (Incident? Incident, string? Corrupt)[dirs.Length];
        try
        {
            await Task.Run(() => Parallel.For(0, dirs.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                var file = Path.Combine(dirs[i], "incident.json");
                string text;
                try { text = File.ReadAllText(file); }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return; } // not a record (yet)
                try
                {
                    read[i] = (ParseIncident(file, text), null);
                }
                catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.RecordCorrupt)
                {
                    // One damaged record must never hide the other incidents: report it and go on.
                    read[i] = (null, ex.Message);
                }
            }), cancellationToken).ConfigureAwait(false);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }
        var list = new List<Incident>(dirs.Length);
        foreach (var (incident, corrupt) in read)
        {
            if (incident is not null) list.Add(incident);
            else if (corrupt is not null) CorruptLines.Add(corrupt);
        }
        return list;
    }

    public async Task SaveAsync(Incident incident, CancellationToken cancellationToken)
    {
        var dir = GetIncidentDirectory(incident.Id);
        CreateDirectoryDurably(dir);
        await using var _ = await FileLock.AcquireAsync(Path.Combine(dir, ".lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        await WriteAtomicAsync(Path.Combine(dir, "incident.json"), JsonSerializer.Serialize(incident, Json), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Under the declaration lock (the one CreateAsync allocates ids under): the record is written only when there is none.</summary>
    public async Task<bool> AddAsync(Incident incident, CancellationToken cancellationToken)
    {
        var dir = GetIncidentDirectory(incident.Id);
        await using var _ = await FileLock.AcquireAsync(Path.Combine(Root, ".create.lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        var file = Path.Combine(dir, "incident.json");
        if (File.Exists(file)) return false;
        try { CreateDirectoryDurably(dir); }
        catch (Exception ex) when (StoreFaults.Translate(ex, dir) is { } fault) { throw fault; }
        await using var __ = await FileLock.AcquireAsync(Path.Combine(dir, ".lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        if (File.Exists(file)) return false;
        await WriteAtomicAsync(file, JsonSerializer.Serialize(incident, Json), cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<Incident> UpdateAsync(string id, Action<Incident> change, CancellationToken cancellationToken)
    {
        var dir = GetIncidentDirectory(id);
        if (!File.Exists(Path.Combine(dir, "incident.json"))) throw NotFound(id);
        await using var _ = await FileLock.AcquireAsync(Path.Combine(dir, ".lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        var incident = await ReadIncidentAsync(Path.Combine(dir, "incident.json"), cancellationToken).ConfigureAwait(false);
        change(incident);
        await WriteAtomicAsync(Path.Combine(dir, "incident.json"), JsonSerializer.Serialize(incident, Json), cancellationToken).ConfigureAwait(false);
        return incident;
    }

    /// <summary>
    /// Appends one line under the timeline lock and assigns the entry its sequence (the last entry's + 1). An append
    /// that fails part-way (disk full) is cut back to where it began, so it leaves no torn bytes; and a line left
    /// unfinished by a killed writer is closed first, so it can never swallow this entry.
    /// </summary>
    /// <summary>Reads the record, then appends (two file operations; the file store has no round trip to save).</summary>
    public async Task<Incident> AppendTimelineWithRecordAsync(string id, TimelineEntry entry, CancellationToken cancellationToken)
    {
        var incident = await GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw NotFound(id);
        await AppendTimelineAsync(id, entry, cancellationToken).ConfigureAwait(false);
        return incident;
    }

    public async Task AppendTimelineAsync(string id, TimelineEntry entry, CancellationToken cancellationToken)
    {
        var dir = GetIncidentDirectory(id);
        if (!Directory.Exists(dir)) throw NotFound(id);
        entry.IncidentId = id;
        var file = Path.Combine(dir, "timeline.jsonl");
        await using var _ = await FileLock.AcquireAsync(Path.Combine(dir, ".timeline.lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        FileStream fs;
        var created = !File.Exists(file);
        // bufferSize 0: every write goes straight to the file, so a failure surfaces here and nothing is left in a buffer.
        try { fs = new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 0, FileOptions.None); }
        catch (Exception ex) when (StoreFaults.Translate(ex, file) is { } fault) { throw fault; }
        await using (fs)
        {
            var length = fs.Length;
            // One entry per delivery: checked under the timeline lock, so the check and the append are one step.
            if (entry.DeliveryKeys is { Count: > 0 } && length > 0)
            {
                fs.Position = 0;
                var existing = new List<TimelineEntry>();
                using (var reader = new StreamReader(fs, Encoding.UTF8, false, 64 * 1024, leaveOpen: true))
                    while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
                        if (text.Contains("\"deliveryKeys\"", StringComparison.Ordinal)) existing.AddRange(ParseLine(text, out var _));
                if (IncidentStores.AlreadyTold(entry, existing) is { Count: > 0 } told) throw IncidentStores.DeliveryAlreadyTold(id, told);
            }
            var (lastSequence, endsWithNewline) = ReadTail(fs, length);
            entry.Sequence = lastSequence + 1;
            var line = JsonSerializer.Serialize(entry, Json) + "\n";
            if (!endsWithNewline) line = "\n" + line;
            var bytes = Encoding.UTF8.GetBytes(line);
            try
            {
                fs.Position = length;
                await fs.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                fs.Flush(flushToDisk: true);
                if (created) DirectorySync.Sync(dir);   // the first entry: the file's name must be on disk too
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
            {
                entry.Sequence = 0;
                try
                {
                    fs.SetLength(length);
                    fs.Flush(flushToDisk: true);
                }
                catch (IOException) { /* the next append starts on a new line instead */ }
                if (StoreFaults.Translate(ex, file) is { } fault) throw fault;
                throw;
            }
        }
    }

    /// <summary>The sequence of the last entry in the file, and whether the file ends with a complete line.</summary>
    private static (long LastSequence, bool EndsWithNewline) ReadTail(FileStream fs, long length)
    {
        if (length == 0) return (0, true);
        var size = (int)Math.Min(length, 64 * 1024);
        var buffer = new byte[size];
        fs.Position = length - size;
        fs.ReadExactly(buffer);
        var endsWithNewline = buffer[^1] == (byte)'\n';
        // Walk complete lines backwards to the last one that parses (a torn tail is skipped).
        var end = buffer.Length - 1;
        if (!endsWithNewline) end = Array.LastIndexOf(buffer, (byte)'\n');
        while (end > 0)
        {
            var start = Array.LastIndexOf(buffer, (byte)'\n', end - 1) + 1;
            if (start == 0 && size < length) break; // the line began before the tail we read
            if (TryParse(buffer.AsSpan(start, end - start), out var e) && e.Sequence > 0) return (e.Sequence, endsWithNewline);
            if (e is not null) break; // an entry without a sequence: written by an older version
            end = start - 1;
        }
        // Older files (no sequences) or very long lines: count the entries once; sequences then continue from there.
        fs.Position = 0;
        long count = 0, max = 0;
        using (var reader = new StreamReader(fs, Encoding.UTF8, false, 64 * 1024, leaveOpen: true))
            while (reader.ReadLine() is { } text)
                foreach (var parsed in ParseLine(text, out var _))
                {
                    count++;
                    max = Math.Max(max, parsed.Sequence);
                }
        return (Math.Max(count, max), endsWithNewline);
    }

    private static bool TryParse(ReadOnlySpan<byte> utf8, out TimelineEntry? entry)
    {
        try { entry = JsonSerializer.Deserialize<TimelineEntry>(utf8, Json); return entry is not null; }
        catch (JsonException) { entry = null; return false; }
    }

    /// <summary>
    /// The entries on one line: normally one. A line where an older version appended an entry straight after a
    /// torn one yields the entry that follows the fragment; <paramref name="error"/> says what was skipped.
    /// </summary>
    private static List<TimelineEntry> ParseLine(string line, out string? error)
    {
        error = null;
        if (line.Length == 0) return [];
        try
        {
            var e = JsonSerializer.Deserialize<TimelineEntry>(line, Json);
            return e is null ? [] : [e];
        }
        catch (JsonException ex)
        {
            error = ex.Message;
        }
        for (var at = line.IndexOf("{\"timestamp\":", 1, StringComparison.Ordinal); at > 0; at = line.IndexOf("{\"timestamp\":", at + 1, StringComparison.Ordinal))
        {
            try
            {
                if (JsonSerializer.Deserialize<TimelineEntry>(line.AsSpan(at), Json) is { } recovered)
                {
                    error += $" (an incomplete entry of {at} characters was skipped; the entry after it was kept)";
                    return [recovered];
                }
            }
            catch (JsonException) { }
        }
        return [];
    }

    /// <summary>
    /// Every entry, in one total order: by time, then by sequence (entries of older files, which have no sequence,
    /// take their position in the file). Corrupt lines are skipped and listed in <see cref="CorruptLines"/>.
    /// </summary>
    public async Task<IReadOnlyList<TimelineEntry>> ReadTimelineAsync(string id, CancellationToken cancellationToken)
    {
        var file = Path.Combine(GetIncidentDirectory(id), "timeline.jsonl");
        if (!File.Exists(file)) return [];
        var list = new List<TimelineEntry>();
        var lineNumber = 0;
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(fs, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            var entries = ParseLine(line, out var error);
            foreach (var e in entries)
            {
                if (e.Sequence <= 0) e.Sequence = list.Count + 1;
                list.Add(e);
            }
            if (error is not null) CorruptLines.Add($"{file}:{lineNumber}: {error}");
        }
        return list.OrderBy(e => e.Timestamp).ThenBy(e => e.Sequence).ToList();
    }

    /// <summary>How often <see cref="FollowTimelineAsync"/> looks at the timeline file.</summary>
    public static TimeSpan FollowInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Watches the timeline file (its length, checked every <see cref="FollowInterval"/>) and yields entries with a higher sequence.</summary>
    public async IAsyncEnumerable<TimelineEntry> FollowTimelineAsync(string id, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var file = Path.Combine(GetIncidentDirectory(id), "timeline.jsonl");
        long last = 0, length = -1;
        while (true)
        {
            var now = File.Exists(file) ? new FileInfo(file).Length : 0;
            if (now != length)
            {
                length = now;
                foreach (var e in (await ReadTimelineAsync(id, cancellationToken).ConfigureAwait(false)).Where(e => e.Sequence > last).OrderBy(e => last == 0 ? 0 : e.Sequence))
                {
                    last = Math.Max(last, e.Sequence);
                    yield return e;
                }
            }
            await Task.Delay(FollowInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Lines skipped as corrupt by reads of this store (file:line: reason), for warnings.</summary>
    public List<string> CorruptLines { get; } = [];

    public Task<string?> GetActiveIdAsync(CancellationToken cancellationToken) => ReadActiveAsync(Path.Combine(Root, "active"), cancellationToken);

    /// <summary>The pointer as this store reads it: an id whose incident is not in the store counts as none.</summary>
    private async Task<string?> ReadActiveAsync(string file, CancellationToken cancellationToken)
    {
        var id = await ActivePointer.ReadAsync(file, cancellationToken).ConfigureAwait(false);
        return id is null || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id.Contains("..") || !File.Exists(Path.Combine(GetIncidentDirectory(id), "incident.json")) ? null : id;
    }

    public Task SetActiveIdAsync(string? id, CancellationToken cancellationToken) =>
        ActivePointer.WriteAsync(Path.Combine(Root, "active"), id, cancellationToken);

    /// <summary>Store (real path) -> the active pointer's stamp this process last acted on: "this session" of the switch warning.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> SeenStamps = new(StringComparer.Ordinal);

    /// <summary>
    /// A change is about to be recorded on the active incident <paramref name="activeId"/>. The file store's pointer is one
    /// for everyone who shares the folder (a team folder, a cron job of another account): when another user or machine made
    /// it active since this session last acted on it (or before this session's first change), this warns once, naming who
    /// and when and the incident the change is recorded on. The meaning of the pointer is unchanged.
    /// </summary>
    public void NoticeActiveSwitch(string activeId)
    {
        if (ActivePointer.ReadStamp(Path.Combine(Root, "active")) is not { Id: { } stampedId, By: { } by } stamp
            || !string.Equals(stampedId, activeId, StringComparison.OrdinalIgnoreCase))
            return; // no stamp (made active by an older version), or one being rewritten: nothing known to say
        var current = $"{stampedId}|{by}|{stamp.At.UtcTicks}";
        var seen = SeenStamps.TryGetValue(Identity, out var s) ? s : null;
        SeenStamps[Identity] = current;
        if (current == seen || string.Equals(by, ActivePointer.Me, StringComparison.OrdinalIgnoreCase)) return;
        var before = seen?.Split('|')[0];
        Warning?.Invoke($"The active incident of the shared store '{Identity}' was switched by {by} at {stamp.At.ToUniversalTime():u}" +
            (before is not null && !string.Equals(before, activeId, StringComparison.OrdinalIgnoreCase) ? $", from {before}, which this session last used," : "") +
            $" to {activeId}: this change is recorded on {activeId}. If it belongs to another incident, name that one with -Incident (or make it active again with Set-Incident -Incident <id> -Activate).");
    }

    public Task<bool> ChangeActiveIdAsync(string? expected, string? id, CancellationToken cancellationToken) =>
        ActivePointer.ChangeAsync(Path.Combine(Root, "active"), expected, id, ReadActiveAsync, cancellationToken);

    // ------------------------------------------------------------ action items (actions.json)

    public async Task<IReadOnlyList<ActionItem>> ReadActionItemsAsync(string id, CancellationToken cancellationToken) =>
        await ReadActionsAsync(Path.Combine(GetIncidentDirectory(id), "actions.json"), cancellationToken).ConfigureAwait(false);

    public async Task ChangeActionItemsAsync(string id, Action<List<ActionItem>> change, CancellationToken cancellationToken)
    {
        var dir = GetIncidentDirectory(id);
        if (!Directory.Exists(dir)) throw NotFound(id);
        await using var _ = await FileLock.AcquireAsync(Path.Combine(dir, ".actions.lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        var file = Path.Combine(dir, "actions.json");
        var list = await ReadActionsAsync(file, cancellationToken).ConfigureAwait(false);
        change(list);
        await WriteAtomicAsync(file, JsonSerializer.Serialize(list, Json), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every incident's actions.json, read on every core; a damaged file is reported (CorruptLines) and skipped alone.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<ActionItem>>> ReadAllActionItemsAsync(CancellationToken cancellationToken)
    {
        var dirs = Directory.EnumerateDirectories(IncidentsRoot).ToArray();
        var read = new (List<ActionItem>? Items, string? Corrupt)[dirs.Length];
        await Task.Run(() => Parallel.For(0, dirs.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var file = Path.Combine(dirs[i], "actions.json");
            // Most incidents have no action items: a stat is far cheaper than a FileNotFoundException each.
            if (!File.Exists(file)) return;
            string text;
            try { text = File.ReadAllText(file); }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return; }
            try { read[i] = (JsonSerializer.Deserialize<List<ActionItem>>(text, Json) ?? [], null); }
            catch (JsonException ex) { read[i] = (null, $"{file}: not valid JSON (line {ex.LineNumber + 1}): {ex.Message}"); }
        }), cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, IReadOnlyList<ActionItem>>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < dirs.Length; i++)
        {
            if (read[i].Items is { Count: > 0 } items) result[Path.GetFileName(dirs[i])] = items;
            else if (read[i].Corrupt is { } corrupt) CorruptLines.Add(corrupt);
        }
        return result;
    }

    private static async Task<List<ActionItem>> ReadActionsAsync(string file, CancellationToken cancellationToken)
    {
        if (!File.Exists(file)) return [];
        var text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
        try { return JsonSerializer.Deserialize<List<ActionItem>>(text, Json) ?? []; }
        catch (JsonException ex)
        {
            throw new IncidentOpsException(IncidentErrorIds.ActionItemsCorrupt, IncidentOpsErrorCategory.InvalidData,
                $"The action items file '{file}' is not valid JSON (line {ex.LineNumber + 1}): {ex.Message.TrimEnd('.')}. Restore it from backup or fix it by hand.") { TargetObject = file };
        }
    }

    // ------------------------------------------------------------ notification outbox (outbox/UPD-*.json)

    /// <summary>The outbox folder of an incident (this store's layout).</summary>
    public string OutboxDirectory(string id) => Path.Combine(GetIncidentDirectory(id), "outbox");

    /// <summary>
    /// A folder of the incident's, created on first use, but only inside an incident folder that exists: a store whose
    /// folder has gone (an unmounted share, a deleted incident) fails here rather than being quietly made again, empty,
    /// on the local disk, where the entry would be written and then never seen by anyone reading the real store.
    /// </summary>
    private string IncidentSubdirectory(string id, string name)
    {
        var incidentDir = GetIncidentDirectory(id);
        if (!Directory.Exists(incidentDir))
            throw Directory.Exists(IncidentsRoot) ? NotFound(id) : new IncidentOpsException(IncidentErrorIds.StoreUnavailable, IncidentOpsErrorCategory.ResourceUnavailable,
                $"The incident store folder '{Root}' is not there any more (an unmounted share, or a folder deleted?). Nothing was written. Mount or restore it, then run the command again.") { TargetObject = Root };
        var dir = Path.Combine(incidentDir, name);
        CreateDirectoryDurably(dir);
        return dir;
    }

    public async Task<IReadOnlyList<IncidentUpdate>> ReadOutboxAsync(string id, CancellationToken cancellationToken)
    {
        var dir = OutboxDirectory(id);
        var list = new List<IncidentUpdate>();
        if (!Directory.Exists(dir)) return list;
        foreach (var f in Directory.GetFiles(dir, "UPD-*.json").Where(f => f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            if (await ReadOutboxFileAsync(f, cancellationToken).ConfigureAwait(false) is { } u) list.Add(u);
        return list;
    }

    public Task<IncidentUpdate?> ReadOutboxEntryAsync(string id, string updateId, CancellationToken cancellationToken) =>
        ReadOutboxFileAsync(Path.Combine(OutboxDirectory(id), IncidentStores.CheckId(updateId) + ".json"), cancellationToken);

    public Task WriteOutboxEntryAsync(IncidentUpdate update, CancellationToken cancellationToken)
    {
        var dir = IncidentSubdirectory(update.IncidentId, "outbox");
        return WriteAtomicAsync(Path.Combine(dir, IncidentStores.CheckId(update.UpdateId) + ".json"), JsonSerializer.Serialize(update, Json), cancellationToken);
    }

    public async Task<IncidentUpdate?> ChangeOutboxEntryAsync(string id, string updateId, Func<IncidentUpdate?, IncidentUpdate?> change, CancellationToken cancellationToken)
    {
        var dir = IncidentSubdirectory(id, "outbox");
        var path = Path.Combine(dir, IncidentStores.CheckId(updateId) + ".json");
        // Its own lock (not the update's claim, which a sender holds for the whole delivery): held only for this read and write.
        await using var _ = await FileLock.AcquireAsync(Path.Combine(dir, IncidentStores.CheckId(updateId) + ".write.lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        var changed = change(await ReadOutboxFileAsync(path, cancellationToken).ConfigureAwait(false));
        if (changed is null) return await ReadOutboxFileAsync(path, cancellationToken).ConfigureAwait(false);
        await WriteAtomicAsync(path, JsonSerializer.Serialize(changed, Json), cancellationToken).ConfigureAwait(false);
        return changed;
    }

    public async Task<IAsyncDisposable> ClaimOutboxAsync(string id, string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        var dir = IncidentSubdirectory(id, "outbox");
        return await FileLock.AcquireAsync(Path.Combine(dir, IncidentStores.CheckId(name) + ".lock"), wait, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One outbox entry; null when it is gone, or when it is corrupt (then it is reported and quarantined).</summary>
    private async Task<IncidentUpdate?> ReadOutboxFileAsync(string path, CancellationToken cancellationToken)
    {
        string text;
        try { text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return null; }
        try
        {
            var update = JsonSerializer.Deserialize<IncidentUpdate>(text, Json);
            if (update is not null && !string.IsNullOrEmpty(update.UpdateId) && !string.IsNullOrEmpty(update.IncidentId)) return update;
            Quarantine(path, "it holds no update");
        }
        catch (JsonException ex) { Quarantine(path, ex.Message); }
        return null;
    }

    /// <summary>
    /// A corrupt entry (a truncated write, a bad disk) must not hide every other update: it is renamed aside to
    /// *.corrupt-yyyyMMddHHmmss (so it is kept for inspection) and reported with its path.
    /// </summary>
    private void Quarantine(string path, string why)
    {
        var aside = $"{path}.corrupt-{DateTime.UtcNow:yyyyMMddHHmmss}";
        try { File.Move(path, aside); }
        catch (IOException) when (!File.Exists(path)) { return; } // another process moved it first
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Warning?.Invoke($"The outbox entry '{path}' is corrupt ({why}) and could not be moved aside ({ex.Message}); it was skipped. Move it away by hand.");
            return;
        }
        Warning?.Invoke($"The outbox entry '{path}' is corrupt ({why}); it was moved aside to '{aside}' and skipped. The other updates are not affected.");
    }

    // ------------------------------------------------------------ evidence (evidence/NAME and NAME.sha256)

    public async Task<StoredEvidence> PutEvidenceAsync(string id, string name, string content, DateTimeOffset capturedAt, CancellationToken cancellationToken)
    {
        var dir = IncidentSubdirectory(id, "evidence");
        var path = Path.Combine(dir, IncidentStores.CheckId(name));
        // Evidence is written again under its name (the alerting round's ring of samples). Its old hash goes once the new
        // content is safely on disk and before it replaces the old, so a rewrite that stops half-way (a full disk, a
        // killed round) leaves the old piece whole, or the new content unlisted: never a hash beside content it is not of.
        await WriteAtomicAsync(path, content, cancellationToken, beforeReplace: () => File.Delete(path + ".sha256")).ConfigureAwait(false);
        var sha = IncidentStores.Sha256(content);
        await WriteAtomicAsync(path + ".sha256", $"{sha}  {name}\n{capturedAt:O}\n", cancellationToken).ConfigureAwait(false);
        return new StoredEvidence(id, name, sha, Encoding.UTF8.GetByteCount(content), capturedAt, path);
    }

    public async Task<IReadOnlyList<StoredEvidence>> ListEvidenceAsync(string id, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(GetIncidentDirectory(id), "evidence");
        var list = new List<StoredEvidence>();
        if (!Directory.Exists(dir)) return list;
        foreach (var hashFile in Directory.GetFiles(dir, "*.sha256").Order(StringComparer.Ordinal))
        {
            var path = hashFile[..^".sha256".Length];
            if (!File.Exists(path)) continue;
            var lines = (await File.ReadAllTextAsync(hashFile, cancellationToken).ConfigureAwait(false)).Split('\n');
            var sha = lines[0].Split(' ', 2)[0];
            var at = lines.Length > 1 && DateTimeOffset.TryParse(lines[1], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var t)
                ? t : new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
            list.Add(new StoredEvidence(id, Path.GetFileName(path), sha, new FileInfo(path).Length, at, path));
        }
        return list;
    }

    public async Task<string?> ReadEvidenceAsync(string id, string name, CancellationToken cancellationToken)
    {
        var path = Path.Combine(GetIncidentDirectory(id), "evidence", IncidentStores.CheckId(name));
        return File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false) : null;
    }

    public async Task<IReadOnlyList<EvidenceText>> ReadEvidenceManyAsync(string id, Func<string, bool> include, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(GetIncidentDirectory(id), "evidence");
        if (!Directory.Exists(dir)) return [];
        // Stored evidence is a file with its NAME.sha256 beside it (written second), as ListEvidenceAsync counts it;
        // the names come from one listing, so no hash file is opened.
        var files = Directory.GetFiles(dir).Select(f => Path.GetFileName(f)!).ToHashSet(StringComparer.Ordinal);
        var names = files.Where(f => f.EndsWith(".sha256", StringComparison.Ordinal)).Select(f => f[..^".sha256".Length])
            .Where(n => files.Contains(n) && include(n)).Order(StringComparer.Ordinal).ToArray();
        var texts = new string?[names.Length];
        await Parallel.ForAsync(0, names.Length, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = System.Environment.ProcessorCount },
            async (i, ct) =>
            {
                try { texts[i] = await File.ReadAllTextAsync(Path.Combine(dir, names[i]), ct).ConfigureAwait(false); }
                catch (FileNotFoundException) { } // removed since the listing: as ReadEvidenceAsync, there is none by that name
            }).ConfigureAwait(false);
        return names.Select((n, i) => texts[i] is { } text ? new EvidenceText(n, text) : null).OfType<EvidenceText>().ToList();
    }

    /// <summary>
    /// Writes a temp file, flushes it to disk, then renames it over the target. Temp files that killed writers left
    /// beside it are removed first. Disk full and read-only stores fail as StoreDiskFull / StoreReadOnly.
    /// </summary>
    /// <param name="beforeReplace">Runs once the new content is on disk, just before it replaces the file (a failure there leaves the file as it was).</param>
    public static async Task WriteAtomicAsync(string path, string content, CancellationToken cancellationToken, Action? beforeReplace = null)
    {
        StoreFaults.RemoveStaleTempFiles(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = StoreFaults.TempPath(path);
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await fs.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken).ConfigureAwait(false);
                fs.Flush(flushToDisk: true);
            }
            beforeReplace?.Invoke();
            File.Move(temp, path, overwrite: true);
            // The rename is what makes the new content the file's: without the folder on disk a crash can bring back the
            // old content (or, for a new file, none) although the write was reported done.
            DirectorySync.SyncParentOf(path);
        }
        catch (Exception ex) when (StoreFaults.Translate(ex, path) is { } fault)
        {
            throw fault;
        }
        finally
        {
            try { if (File.Exists(temp)) File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Creates <paramref name="dir"/> when it is not there, and puts its name on disk (its parent fsynced) when it was made now.</summary>
    private static void CreateDirectoryDurably(string dir)
    {
        if (Directory.Exists(dir)) return;
        Directory.CreateDirectory(dir);
        DirectorySync.SyncParentOf(dir);
    }

    public static IncidentOpsException NotFound(string id) =>
        new(IncidentErrorIds.NotFound, IncidentOpsErrorCategory.ObjectNotFound, $"No incident '{id}' in the incident store. List incidents with Get-Incident.") { TargetObject = id };
}

/// <summary>A cross-process lock: an exclusively opened lock file, retried until a timeout.</summary>
public sealed class FileLock : IAsyncDisposable
{
    private readonly FileStream _stream;
    private FileLock(FileStream stream) => _stream = stream;

    public static async Task<FileLock> AcquireAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = 1;
        while (true)
        {
            try
            {
                return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (Exception ex) when (StoreFaults.Translate(ex, path) is { } fault)
            {
                // A read-only or full store is not a busy lock: say so now instead of retrying until the timeout.
                throw fault;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 20);
            }
            catch (IOException ex)
            {
                throw new IncidentOpsException(IncidentErrorIds.StoreLockTimeout, IncidentOpsErrorCategory.ResourceBusy,
                    $"Could not lock '{path}' within {timeout.TotalSeconds:0} s: {ex.Message}. Another process may be stuck holding it.") { TargetObject = path };
            }
        }
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
