using System.Globalization;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// DigitalOcean logs: 'doctl apps logs ID [COMPONENT] --type run|build|deploy --tail N', and with -Follow also
/// '--follow' ("Returns logs as they are emitted by the app", docs.digitalocean.com/reference/doctl/reference/apps/logs).
/// Each line is '&lt;component&gt; &lt;RFC 3339 timestamp&gt; &lt;message&gt;'.
/// </summary>
public sealed partial class DigitalOceanAdapter
{
    private CliCommand LogCommand(LogQuery q, bool follow)
    {
        var args = new List<string> { "apps", "logs", Id };
        var component = q.Component ?? _o.Component;
        // A positional argument: checked again here, whichever way it came (the query's own -Component or the target's).
        TargetNames.Check("-Component", component, TargetNames.DigitalOceanComponent);
        if (component is not null) args.Add(component);
        args.AddRange(["--type", (q.Type ?? "run").ToLowerInvariant(), "--tail", q.Tail.ToString(CultureInfo.InvariantCulture)]);
        if (follow) args.Add("--follow");
        return Doctl([.. args]);
    }

    public async Task<IReadOnlyList<AppLogEntry>> GetLogsAsync(LogQuery q, CancellationToken ct)
    {
        var text = await RunTextAsync(LogCommand(q, follow: false), ct).ConfigureAwait(false);
        var entries = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(raw => ParseLogLine(raw, q)).ToList();
        return Filter(entries, q);
    }

    public Task FollowLogsAsync(LogQuery q, Func<AppLogEntry, CancellationToken, ValueTask> onEntry, CancellationToken ct) =>
        Runner.StreamLinesAsync(LogCommand(q, follow: true), (line, token) =>
            line.Trim().Length > 0 ? onEntry(ParseLogLine(line, q), token) : ValueTask.CompletedTask, ct);

    /// <summary>"&lt;component&gt; &lt;RFC3339 timestamp&gt; &lt;message&gt;"; a line without the prefix (--no-prefix) is all message.</summary>
    private AppLogEntry ParseLogLine(string raw, LogQuery q)
    {
        var line = raw.TrimEnd('\r');
        var parts = line.Split(' ', 3);
        if (parts.Length >= 2 && DateTimeOffset.TryParse(parts[1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var ts))
            return new AppLogEntry { Platform = PlatformKind.DigitalOcean, Name = Id, Instance = parts[0], Timestamp = ts, Message = parts.Length > 2 ? parts[2] : "", Level = LogLevels.Guess(line) };
        return new AppLogEntry { Platform = PlatformKind.DigitalOcean, Name = Id, Instance = q.Component ?? _o.Component, Message = line, Level = LogLevels.Guess(line) };
    }
}
