using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using IncidentOps.Incidents;

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
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public FileIncidentStore(string root)
    {
        Root = root;
        Directory.CreateDirectory(IncidentsRoot);
    }

    public string Root { get; }
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

    public string GetIncidentDirectory(string id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id.Contains(".."))
            throw new IncidentOpsException("IncidentIdInvalid", IncidentOpsErrorCategory.InvalidArgument, $"'{id}' is not an incident id (expected INC-yyyyMMdd-NNN).");
        return Path.Combine(IncidentsRoot, id);
    }

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
        Directory.CreateDirectory(GetIncidentDirectory(id));
        await WriteAtomicAsync(Path.Combine(GetIncidentDirectory(id), "incident.json"), JsonSerializer.Serialize(incident, Json), cancellationToken).ConfigureAwait(false);
        return incident;
    }

    public async Task<Incident?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var file = Path.Combine(GetIncidentDirectory(id), "incident.json");
        if (!File.Exists(file)) return null;
        return await ReadIncidentAsync(file, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Incident> ReadIncidentAsync(string file, CancellationToken cancellationToken)
    {
        var text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<Incident>(text, Json) ?? throw new JsonException("empty document");
        }
        catch (JsonException ex)
        {
            throw new IncidentOpsException("IncidentRecordCorrupt", IncidentOpsErrorCategory.InvalidData,
                $"The incident record '{file}' is not valid JSON (line {ex.LineNumber + 1}): {ex.Message}. Restore it from backup or remove the folder.") { TargetObject = file };
        }
    }

    public async Task<IReadOnlyList<Incident>> ListAsync(CancellationToken cancellationToken)
    {
        var list = new List<Incident>();
        foreach (var dir in Directory.EnumerateDirectories(IncidentsRoot).OrderBy(d => d, StringComparer.Ordinal))
        {
            var file = Path.Combine(dir, "incident.json");
            if (!File.Exists(file)) continue;
            try
            {
                list.Add(await ReadIncidentAsync(file, cancellationToken).ConfigureAwait(false));
            }
            catch (IncidentOpsException ex) when (ex.ErrorId == "IncidentRecordCorrupt")
            {
                // One damaged record must never hide the other incidents: report it and go on.
                CorruptLines.Add(ex.Message);
            }
        }
        return list;
    }

    public async Task SaveAsync(Incident incident, CancellationToken cancellationToken)
    {
        var dir = GetIncidentDirectory(incident.Id);
        Directory.CreateDirectory(dir);
        await using var _ = await FileLock.AcquireAsync(Path.Combine(dir, ".lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        await WriteAtomicAsync(Path.Combine(dir, "incident.json"), JsonSerializer.Serialize(incident, Json), cancellationToken).ConfigureAwait(false);
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

    public async Task AppendTimelineAsync(string id, TimelineEntry entry, CancellationToken cancellationToken)
    {
        var dir = GetIncidentDirectory(id);
        if (!Directory.Exists(dir)) throw NotFound(id);
        entry.IncidentId = id;
        var line = JsonSerializer.Serialize(entry, Json) + "\n";
        var bytes = Encoding.UTF8.GetBytes(line);
        await using var _ = await FileLock.AcquireAsync(Path.Combine(dir, ".timeline.lock"), LockTimeout, cancellationToken).ConfigureAwait(false);
        await using var fs = new FileStream(Path.Combine(dir, "timeline.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.None);
        await fs.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        fs.Flush(flushToDisk: true);
    }

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
            if (line.Length == 0) continue;
            try
            {
                var e = JsonSerializer.Deserialize<TimelineEntry>(line, Json);
                if (e is not null) list.Add(e);
            }
            catch (JsonException ex)
            {
                CorruptLines.Add($"{file}:{lineNumber}: {ex.Message}");
            }
        }
        return list;
    }

    /// <summary>Lines skipped as corrupt by reads of this store (file:line: reason), for warnings.</summary>
    public List<string> CorruptLines { get; } = [];

    public async Task<string?> GetActiveIdAsync(CancellationToken cancellationToken)
    {
        var file = Path.Combine(Root, "active");
        if (!File.Exists(file)) return null;
        var id = (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim();
        return id.Length == 0 || !File.Exists(Path.Combine(GetIncidentDirectory(id), "incident.json")) ? null : id;
    }

    public async Task SetActiveIdAsync(string? id, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Root, "active");
        if (id is null) { if (File.Exists(file)) File.Delete(file); return; }
        await WriteAtomicAsync(file, id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a temp file, flushes it to disk, then renames it over the target.</summary>
    public static async Task WriteAtomicAsync(string path, string content, CancellationToken cancellationToken)
    {
        var temp = $"{path}.{System.Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await fs.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken).ConfigureAwait(false);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static IncidentOpsException NotFound(string id) =>
        new("IncidentNotFound", IncidentOpsErrorCategory.ObjectNotFound, $"No incident '{id}' in the incident store. List incidents with Get-Incident.") { TargetObject = id };
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
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 20);
            }
            catch (IOException ex)
            {
                throw new IncidentOpsException("StoreLockTimeout", IncidentOpsErrorCategory.ResourceBusy,
                    $"Could not lock '{path}' within {timeout.TotalSeconds:0} s: {ex.Message}. Another process may be stuck holding it.") { TargetObject = path };
            }
        }
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
