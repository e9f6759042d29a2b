using System.Globalization;
using System.Text.Json;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>Filters of Get-AppLog. Level is the least severe level shown; Instance is a wildcard pattern (see LogFilter).</summary>
public sealed record LogQuery(int Tail = 100, TimeSpan? Since = null, string? Pattern = null, string? Type = null, string? Component = null, string? Level = null, string? Instance = null);

/// <summary>A state change described before it runs: the exact commands (what -WhatIf prints) and how to run them.</summary>
public sealed record PlannedChange(IReadOnlyList<string> Commands, Func<CancellationToken, Task<string>> Execute);

/// <summary>A rollback whose target is chosen; Execute performs it and returns the steps taken.</summary>
public sealed record PreparedRollback(RollbackPlan Plan, Func<CancellationToken, Task<IReadOnlyList<string>>> Execute)
{
    /// <summary>
    /// Read-only checks the platform wants before the change (DigitalOcean's rollback/validate). They run before the last
    /// re-check of the history, so that re-check is as close to the change as it can be on a platform that offers no
    /// precondition of its own.
    /// </summary>
    public Func<CancellationToken, Task>? CheckFirst { get; init; }
}

/// <summary>One platform behind the common vocabulary. Reads run at once; changes are planned first (for -WhatIf).</summary>
public interface IPlatformAdapter
{
    AppTarget Target { get; }
    Task<AppStatus> GetStatusAsync(CancellationToken cancellationToken);
    Task<IReadOnlyList<AppDeployment>> GetDeploymentsAsync(CancellationToken cancellationToken);
    Task<IReadOnlyList<AppLogEntry>> GetLogsAsync(LogQuery query, CancellationToken cancellationToken);
    /// <summary>
    /// Follows the log (Get-AppLog -Follow): each entry goes to onEntry as the CLI prints it, until the CLI ends its
    /// stream or the token is cancelled; the CLI is killed with its child processes on every way out. The next line is
    /// read only once onEntry has completed, so a slow consumer holds the CLI back (backpressure, see LogHandoff).
    /// </summary>
    Task FollowLogsAsync(LogQuery query, Func<AppLogEntry, CancellationToken, ValueTask> onEntry, CancellationToken cancellationToken);
    Task<IReadOnlyList<AppSetting>> GetSettingsAsync(CancellationToken cancellationToken);
    PlannedChange PlanRestart(string? instance, bool wait);
    PlannedChange PlanScale(int? count, string? size);
    /// <summary>
    /// How many instances the app runs now, counted as <see cref="PlanScale"/> -Count sets them: the count Set-AppScale
    /// scales from, shown in its prompt, -WhatIf and timeline. By default the status's desired count; an adapter whose
    /// scale sets something else (each component of a DigitalOcean app) or can read it more cheaply says so itself.
    /// </summary>
    async Task<int> GetInstanceCountAsync(CancellationToken cancellationToken) => (await GetStatusAsync(cancellationToken).ConfigureAwait(false)).DesiredInstances;
    PlannedChange PlanSetSettings(IReadOnlyDictionary<string, string> values, bool secret);
    /// <summary>
    /// The platform's part of a rollback: the commands that take the app from one release to another. Which release
    /// is the target is chosen once for every platform (RollbackChoice, through PlatformsService.PrepareRollbackAsync).
    /// </summary>
    PreparedRollback PlanRollback(AppDeployment? from, AppDeployment to);
    /// <summary>Commits (keeps) or reverts a pinned rollback; only DigitalOcean pins one, the others refuse.</summary>
    PlannedChange PlanFinishRollback(bool commit);
}

/// <summary>What every adapter shares: the runner, the timeout, JSON parsing that names the command and field.</summary>
public abstract class PlatformAdapterBase(AppTarget target, ProcessRunner runner, TimeSpan timeout, IOperationSink sink)
{
    /// <summary>The target, named and described by its platform's provider (also when a test builds the adapter directly).</summary>
    public AppTarget Target { get; } = PlatformRegistry.Describe(target);
    protected ProcessRunner Runner { get; } = runner;
    protected TimeSpan Timeout { get; } = timeout;
    protected IOperationSink Sink { get; } = sink;

    protected Task<ProcessResult> RunAsync(CliCommand command, CancellationToken ct)
    {
        var own = command.Arguments.FirstOrDefault(a => a.StartsWith("--timeout=", StringComparison.Ordinal) && a.EndsWith('s'));
        if (own is null) return Runner.RunAsync(command, Timeout, ct);
        // A CLI that waits with a limit of its own (kubectl rollout status --timeout): its limit ends a second before
        // what is left of the deadline, so it reports its own timeout instead of racing the runner's kill.
        var wait = OperationDeadline.Cap(Timeout, TimeSpan.FromSeconds(1));
        var seconds = Math.Max(1, (int)wait.TotalSeconds);
        var args = command.Arguments.Select(a => ReferenceEquals(a, own) ? $"--timeout={seconds}s" : a).ToList();
        return Runner.RunAsync(command with { Arguments = args }, TimeSpan.FromSeconds(seconds) + TimeSpan.FromSeconds(5), ct);
    }

    protected async Task<string> RunTextAsync(CliCommand command, CancellationToken ct) => (await RunAsync(command, ct).ConfigureAwait(false)).StandardOutput;

    protected async Task<JsonElement> RunJsonAsync(CliCommand command, CancellationToken ct)
    {
        var text = await RunTextAsync(command, ct).ConfigureAwait(false);
        return ParseJson(command, text);
    }

    protected static JsonElement ParseJson(CliCommand command, string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw Invalid(command, "(document)", $"not JSON ({ex.Message})");
        }
    }

    /// <summary>
    /// Splits a stream of JSON values: one per line (JSON Lines) or pretty-printed one after another, as flyctl's
    /// render.JSON writes each log entry (json.Encoder with a 4-space indent). Text outside a value becomes its own
    /// chunk so that parsing it fails with the command's name.
    /// </summary>
    protected static IEnumerable<string> JsonValues(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) yield break;
            var start = i;
            if (text[i] is not ('{' or '['))
            {
                var nl = text.IndexOf('\n', i);
                i = nl < 0 ? text.Length : nl;
                yield return text[start..i];
                continue;
            }
            int depth = 0; var inString = false; var escaped = false;
            for (; i < text.Length; i++)
            {
                var c = text[i];
                if (inString)
                {
                    if (escaped) escaped = false;
                    else if (c == '\\') escaped = true;
                    else if (c == '"') inString = false;
                    continue;
                }
                if (c == '"') inString = true;
                else if (c is '{' or '[') depth++;
                else if (c is '}' or ']' && --depth == 0) { i++; break; }
            }
            yield return text[start..i];
        }
    }

    protected static IncidentOpsException Invalid(CliCommand command, string field, string problem) =>
        new(PlatformErrorIds.PlatformOutputInvalid, IncidentOpsErrorCategory.InvalidResult,
            $"The output of '{command.CommandLine}' could not be read: field '{field}' {problem}. Check the {command.Tool} version (its JSON output may have changed).")
        { TargetObject = command.CommandLine };

    /// <summary>For platforms whose rollback takes effect at once: there is nothing to commit or revert.</summary>
    public virtual PlannedChange PlanFinishRollback(bool commit) =>
        NotSupported($"Invoke-Rollback -{(commit ? "Commit" : "Revert")} is only for DigitalOcean, whose rollback pins the app until it is committed or reverted. A {Target.Platform} rollback takes effect at once: to undo it, run Invoke-Rollback -ToVersion with the release you want.");

    protected static PlannedChange NotSupported(string what) => throw new IncidentOpsException(PlatformErrorIds.PlatformOperationNotSupported, IncidentOpsErrorCategory.NotImplemented, what);

    protected PlannedChange Change(params CliCommand[] commands) => new(commands.Select(c => c.CommandLine).ToList(), async ct =>
    {
        var output = new List<string>();
        foreach (var c in commands) output.Add((await RunAsync(c, ct).ConfigureAwait(false)).StandardOutput.Trim());
        return string.Join(Environment.NewLine, output.Where(o => o.Length > 0));
    });

    /// <summary>
    /// Marks the current and the last good release; the list must be newest first. A release between the current one
    /// and an older release with the same image (the current one redeployed it: Fly's rollback redeploy, DigitalOcean's
    /// rollback deployment) was rolled back from, and never counts as good.
    /// </summary>
    protected static IReadOnlyList<AppDeployment> MarkLastGood(List<AppDeployment> list)
    {
        var current = list.FindIndex(d => d.IsCurrent);
        if (current >= 0 && list[current].Image is { Length: > 0 } image)
        {
            var same = list.FindIndex(current + 1, d => string.Equals(d.Image, image, StringComparison.Ordinal));
            for (var i = current + 1; i < same; i++) list[i].RolledBack = true;
        }
        var good = list.Skip(current < 0 ? 0 : current + 1).FirstOrDefault(d => d.Succeeded && !d.RolledBack && !RollbackChoice.SameContent(d, current < 0 ? null : list[current]));
        if (good is not null) good.IsLastGood = true;
        return list;
    }

    // ---------------------------------------------------------------- JSON helpers (case-insensitive, tolerant)

    protected static JsonElement? Prop(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        if (e.TryGetProperty(name, out var v)) return v;
        foreach (var p in e.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    protected static JsonElement? Path(JsonElement e, params string[] names)
    {
        JsonElement? cur = e;
        foreach (var n in names)
        {
            if (cur is null) return null;
            cur = Prop(cur.Value, n);
        }
        return cur is { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } ? null : cur;
    }

    protected static string? Str(JsonElement e, params string[] path)
    {
        var v = Path(e, path);
        return v?.ValueKind switch
        {
            JsonValueKind.String => v.Value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.Value.GetRawText(),
            _ => null,
        };
    }

    protected static int Int(JsonElement e, params string[] path)
    {
        var v = Path(e, path);
        if (v is { ValueKind: JsonValueKind.Number } && v.Value.TryGetInt32(out var i)) return i;
        return v is { ValueKind: JsonValueKind.String } && int.TryParse(v.Value.GetString(), out i) ? i : 0;
    }

    protected static bool Bool(JsonElement e, params string[] path) => Path(e, path) is { ValueKind: JsonValueKind.True };

    protected static IEnumerable<JsonElement> Arr(JsonElement e, params string[] path)
    {
        var v = path.Length == 0 ? e : Path(e, path);
        return v is { ValueKind: JsonValueKind.Array } ? v.Value.EnumerateArray().ToList() : [];
    }

    protected static DateTimeOffset? Time(JsonElement e, params string[] path)
    {
        var s = Str(e, path);
        return s is not null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && t.Year > 1 ? t : null;
    }

    protected static JsonElement RequireArray(CliCommand command, JsonElement root, string field)
    {
        if (root.ValueKind != JsonValueKind.Array) throw Invalid(command, field, $"is {root.ValueKind}, expected an array");
        return root;
    }

    protected static string RequireStr(CliCommand command, JsonElement e, string field, params string[] path) =>
        Str(e, path) ?? throw Invalid(command, field, "is missing");

    protected static IReadOnlyList<AppLogEntry> Filter(IEnumerable<AppLogEntry> entries, LogQuery q)
    {
        var list = entries.ToList();
        if (q.Since is { } since) { var from = DateTimeOffset.UtcNow - since; list = list.Where(e => e.Timestamp is null || e.Timestamp >= from).ToList(); }
        if (q.Tail > 0 && list.Count > q.Tail) list = list.Skip(list.Count - q.Tail).ToList();
        return list;
    }
}
