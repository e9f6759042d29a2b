using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Fly logs: 'flyctl logs -a APP --json' streams until it is stopped (fly.io/docs/flyctl/logs: "By default logs are
/// continually streamed until the command is aborted. Use --no-tail to only fetch the logs in the buffer"), so a read
/// adds --no-tail and -Follow leaves it off. Either way each entry is written with render.JSON: pretty-printed
/// objects one after another. -Instance without wildcards narrows with '--instance ID' (Filter by instance ID).
/// </summary>
public sealed partial class FlyAdapter
{
    private CliCommand LogCommand(LogQuery q, bool follow)
    {
        var args = new List<string> { "logs", "-a", App };
        if (!follow) args.Add("--no-tail");
        args.Add("--json");
        if (q.Component is not null)
        {
            // -Component is no part of a Fly target (FlyOptions): checked here, so it can never be read as an option.
            TargetNames.Check("-Component", q.Component, TargetNames.Token);
            args.AddRange(["--machine", q.Component]);
        }
        if (LogFilter.IsExact(q.Instance))
        {
            TargetNames.Check("-Instance", q.Instance, TargetNames.Token);
            args.AddRange(["--instance", q.Instance!]);
        }
        return Fly([.. args]);
    }

    public async Task<IReadOnlyList<AppLogEntry>> GetLogsAsync(LogQuery q, CancellationToken ct)
    {
        var cmd = LogCommand(q, follow: false);
        var text = await RunTextAsync(cmd, ct).ConfigureAwait(false);
        // flyctl writes each entry with render.JSON: pretty-printed objects one after another (not one per line).
        var entries = JsonValues(text).Select(value => ParseLogEntry(cmd, value)).ToList();
        return Filter(entries, q);
    }

    public Task FollowLogsAsync(LogQuery q, Func<AppLogEntry, CancellationToken, ValueTask> onEntry, CancellationToken ct)
    {
        var cmd = LogCommand(q, follow: true);
        var framer = new JsonValueFramer();
        return Runner.StreamLinesAsync(cmd, async (line, token) =>
        {
            foreach (var value in framer.Add(line)) await onEntry(ParseLogEntry(cmd, value), token).ConfigureAwait(false);
        }, ct);
    }

    private AppLogEntry ParseLogEntry(CliCommand cmd, string value)
    {
        var e = ParseJson(cmd, value);
        if (e.ValueKind != JsonValueKind.Object) throw Invalid(cmd, "(log entry)", $"is {e.ValueKind}, expected an object");
        return new AppLogEntry
        {
            Platform = PlatformKind.Fly, Name = App, Timestamp = Time(e, "timestamp"),
            Instance = Str(e, "instance") ?? Str(e, "meta", "Instance"), Level = Str(e, "level"),
            Message = Str(e, "message") ?? throw Invalid(cmd, "message", "is missing"),
        };
    }
}
