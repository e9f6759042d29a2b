using System.Globalization;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Kubernetes logs: 'kubectl logs KIND/NAME --timestamps=true --prefix=true --tail=N' (kubectl reads one pod of
/// the workload), with -Follow also '--follow=true' ("Specify if the logs should be streamed"). -Instance naming one
/// pod (NAME or pod/NAME[/CONTAINER], no wildcards) reads that pod instead: 'kubectl logs pod/NAME'.
/// Each line is '[pod/NAME/CONTAINER] RFC3339NANO-TIMESTAMP message' (kubectl's prefix, then the API server's timestamp).
/// </summary>
public sealed partial class KubernetesAdapter
{
    private CliCommand LogCommand(LogQuery q, bool follow)
    {
        var source = Workload;
        if (LogFilter.IsExact(q.Instance))
        {
            var parts = q.Instance!.Split('/');
            var pod = parts.Length >= 2 && parts[0] == "pod" ? parts[1] : parts.Length == 1 ? parts[0] : null;
            if (pod is not null)
            {
                TargetNames.Check("-Instance", pod, TargetNames.KubernetesName);
                source = $"pod/{pod}";
            }
        }
        var args = new List<string> { "logs", source, "--timestamps=true", "--prefix=true", $"--tail={q.Tail}" };
        if (q.Component is not null) args.Add($"--container={q.Component}"); else args.Add("--all-containers=true");
        if (q.Since is { } s) args.Add($"--since={(int)Math.Ceiling(s.TotalSeconds)}s");
        if (follow) args.Add("--follow=true");
        return Kubectl([.. args]);
    }

    public async Task<IReadOnlyList<AppLogEntry>> GetLogsAsync(LogQuery q, CancellationToken ct)
    {
        var text = await RunTextAsync(LogCommand(q, follow: false), ct).ConfigureAwait(false);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ParseLogLine).ToList();
    }

    public Task FollowLogsAsync(LogQuery q, Func<AppLogEntry, CancellationToken, ValueTask> onEntry, CancellationToken ct) =>
        Runner.StreamLinesAsync(LogCommand(q, follow: true), (line, token) =>
            line.Trim().Length > 0 ? onEntry(ParseLogLine(line), token) : ValueTask.CompletedTask, ct);

    private AppLogEntry ParseLogLine(string raw)
    {
        var line = raw.TrimEnd('\r');
        string? instance = null;
        if (line.StartsWith('[') && line.IndexOf("] ", StringComparison.Ordinal) is var close and > 0)
        {
            instance = line[1..close];
            line = line[(close + 2)..];
        }
        DateTimeOffset? ts = null;
        var space = line.IndexOf(' ');
        if (space > 0 && DateTimeOffset.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) { ts = t; line = line[(space + 1)..]; }
        return new AppLogEntry { Platform = PlatformKind.Kubernetes, Name = Dep, Timestamp = ts, Instance = instance, Level = LogLevels.Guess(line), Message = line };
    }
}
