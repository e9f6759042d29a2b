using System.Globalization;
using System.Text;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// systemd logs: 'journalctl -u UNIT -o json --no-pager -n N' (one JSON object per line), locally or over ssh, and with
/// -Follow also '-f' (journalctl(1): show the most recent entries, then print new entries as they are appended).
/// Over ssh, stopping the follow kills the local ssh; the remote journalctl then exits too, because since systemd 240
/// 'journalctl -f' watches its stdout and exits when it is closed (systemd/systemd#9374, fixed by #10511).
/// </summary>
public sealed partial class SystemdAdapter
{
    private CliCommand LogCommand(LogQuery q, bool follow)
    {
        var args = new List<string> { "-u", Unit, "-o", "json", "--no-pager", "-n", q.Tail.ToString(CultureInfo.InvariantCulture) };
        if (q.Since is { } s) args.AddRange(["--since", "@" + (DateTimeOffset.UtcNow - s).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)]);
        if (follow) args.Add("-f");
        return Cmd("journalctl", [.. args]);
    }

    public async Task<IReadOnlyList<AppLogEntry>> GetLogsAsync(LogQuery q, CancellationToken ct)
    {
        var cmd = LogCommand(q, follow: false);
        var text = await RunTextAsync(cmd, ct).ConfigureAwait(false);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => ParseJournalEntry(cmd, Unit, ParseJson(cmd, line))).ToList();
    }

    public Task FollowLogsAsync(LogQuery q, Func<AppLogEntry, CancellationToken, ValueTask> onEntry, CancellationToken ct)
    {
        var cmd = LogCommand(q, follow: true);
        return Runner.StreamLinesAsync(cmd, (line, token) =>
            line.Trim().Length > 0 ? onEntry(ParseJournalEntry(cmd, Unit, ParseJson(cmd, line)), token) : ValueTask.CompletedTask, ct);
    }

    private static readonly string[] Priorities = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"];

    /// <summary>One journalctl -o json record: values are strings, null (over 4 KiB), arrays (repeated fields) or byte arrays (non-UTF-8).</summary>
    public static AppLogEntry ParseJournalEntry(CliCommand cmd, string unit, JsonElement e)
    {
        var message = JournalValue(e, "MESSAGE");
        var ts = JournalValue(e, "__REALTIME_TIMESTAMP") is { } us && long.TryParse(us, out var micro) ? DateTimeOffset.FromUnixTimeMilliseconds(micro / 1000) : (DateTimeOffset?)null;
        var prio = JournalValue(e, "PRIORITY") is { } pr && int.TryParse(pr, out var pi) && pi is >= 0 and < 8 ? Priorities[pi] : null;
        if (e.ValueKind != JsonValueKind.Object) throw Invalid(cmd, "(record)", "is not an object");
        return new AppLogEntry
        {
            Platform = PlatformKind.Systemd, Name = unit, Timestamp = ts, Level = prio,
            Instance = JournalValue(e, "_PID") is { } pid ? $"{JournalValue(e, "_HOSTNAME")}[{pid}]" : JournalValue(e, "_HOSTNAME"),
            Message = message ?? (Prop(e, "MESSAGE") is { ValueKind: JsonValueKind.Null } ? "(message over 4 KiB not shown; run journalctl --all)" : ""),
        };
    }

    private static string? JournalValue(JsonElement e, string field)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(field, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Array when v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number) => Bytes(v),
            // A field repeated in one record: its values, one per line.
            JsonValueKind.Array => string.Join("\n", v.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : x.ValueKind == JsonValueKind.Array ? Bytes(x) : null).Where(x => x is not null)),
            _ => null,
        };
    }

    private static string Bytes(JsonElement array)
    {
        var bytes = array.EnumerateArray().Select(x => x.TryGetByte(out var b) ? b : (byte)'?').ToArray();
        // journald sends a byte array exactly when the value is not valid UTF-8; Latin-1 shows every byte.
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { return Encoding.Latin1.GetString(bytes); }
    }
}
