using System.Management.Automation;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Gets recent log lines of an app as objects, or follows the log live with -Follow.</summary>
/// <remarks>
/// Replaces 'flyctl logs', 'doctl apps logs', 'kubectl logs' and 'journalctl -u' (read as journalctl -o json,
/// whose values may be strings, null for fields over 4 KiB, arrays for repeated fields, or byte arrays for
/// non-UTF-8 text). Each AppLogEntry has a timestamp, instance (machine, pod, component or host[pid]), level and
/// message. -Pattern is a case-insensitive regular expression, like the runbooks' grep -i; -Level keeps that level
/// and more severe ones; -Instance keeps one machine, pod, component or host (wildcards allowed).
///
/// With -Follow it streams instead, like 'flyctl logs', 'doctl apps logs --follow', 'kubectl logs -f' and
/// 'journalctl -u UNIT -f' (over ssh with -ComputerName): each entry is written as the CLI prints it, through the same
/// filters, until Ctrl+C or -TimeoutSec. Several services are followed side by side. The CLI is stopped (with every
/// process it started) on Ctrl+C, at -TimeoutSec, on an error, and when the pipeline needs no more entries
/// (Select-Object -First). Reaching -TimeoutSec is the end you asked for, not an error: the command returns normally
/// and says so in the verbose stream. Without -TimeoutSec, -Follow runs until Ctrl+C. A slow consumer
/// (ForEach-Object { Start-Sleep 1; $_ }) slows the CLI down rather than filling memory: at most 64 entries wait to be
/// written, past that the CLI's output is not read until there is room, and no entry is dropped. At -TimeoutSec the CLI
/// is stopped at once and the entries already read (at most those 64) are still written.
/// </remarks>
/// <example>
/// <code>Get-AppLog -Platform Fly -App ai-affiliate-empire -Tail 200 -Pattern 'memory|cpu'</code>
/// <para>The seed's 'flyctl logs | grep -i "memory\|cpu"'.</para>
/// </example>
/// <example>
/// <code>Get-AppLog -Service production/portfolio -Type build -Component portfolio-web</code>
/// <para>Build logs of one DigitalOcean component.</para>
/// </example>
/// <example>
/// <code>Get-AppLog -Service production/marketing -Follow -Level error -TimeoutSec 600</code>
/// <para>The seed's 'kubectl logs -f deployment/marketing': follows the log for ten minutes, showing errors and worse as they happen.</para>
/// </example>
/// <example>
/// <code>Get-AppLog -Service production/fastapi -Follow -Pattern 'error|failed' | Select-Object -First 1</code>
/// <para>The seed's 'journalctl -u fastapi -f | grep -i error': waits for the first matching line, then stops journalctl (over ssh when the service names a host).</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppLog")]
[OutputType(typeof(AppLogEntry))]
public sealed class GetAppLogCommand : AppReadCmdlet
{
    /// <summary>Number of most recent lines to return (default 100). With -Follow: the recent lines shown before new ones arrive (default 10, like tail -f and journalctl -f); flyctl shows what its log buffer holds instead.</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    [ArgumentCompleter(typeof(SuggestedValueCompleter))]
    public int Tail { get; set; } = 100;

    /// <summary>Only lines newer than this long ago (10m, 1h, or 00:10:00). A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter]
    [DurationTransformation]
    [ArgumentCompleter(typeof(DurationCompleter))]
    public TimeSpan? Since { get; set; }

    /// <summary>Case-insensitive regular expression the message must match.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(SuggestedValueCompleter))]
    public string? Pattern { get; set; }

    /// <summary>Least severe level to show: debug, info, notice, warning, error, critical, alert or emergency. -Level warning shows warnings and every more severe entry (errors and worse). Entries whose level is unknown are left out.</summary>
    [Parameter]
    [ValidateSet("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")]
    public string? Level { get; set; }

    /// <summary>Only entries of this instance: a Fly machine id, a Kubernetes pod (NAME or pod/NAME/CONTAINER), a DigitalOcean component, or a systemd host. Wildcards are allowed. A name without wildcards is also passed to the CLI where it can narrow (flyctl --instance; kubectl logs pod/NAME).</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(AppInstanceCompleter))]
    public string? Instance { get; set; }

    /// <summary>DigitalOcean log type: run (default), build or deploy.</summary>
    [Parameter]
    [ValidateSet("run", "build", "deploy")]
    public string? Type { get; set; }

    /// <summary>Keep following the log and write each entry as it arrives, until Ctrl+C or -TimeoutSec (which ends it cleanly, without an error). The platform CLI is stopped with every process it started when the command ends for any reason.</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>
    /// Show log lines exactly as the platform returned them. By default credentials inside a line (URLs with
    /// passwords, password=..., bearer tokens, keys named like secrets) are masked, as in saved evidence.
    /// </summary>
    [Parameter]
    public SwitchParameter NoRedaction { get; set; }

    /// <summary>The recent lines -Follow starts with when -Tail is not given (what tail -f and journalctl -f show).</summary>
    private const int FollowTail = 10;

    private readonly List<(AppTarget Target, IPlatformAdapter Adapter)> _follow = [];

    private LogQuery Query => new(Follow && !MyInvocation.BoundParameters.ContainsKey(nameof(Tail)) ? FollowTail : Tail, Since, Pattern, Type, Component, Level, Instance);

    protected override void ProcessRecord()
    {
        if (Follow)
        {
            // Followed together in EndProcessing: following the first piped service must not keep the others waiting.
            _follow.AddRange(Targets());
            return;
        }
        var query = Query;
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.Platforms.GetLogsAsync(adapter, query, ct, !NoRedaction), out var entries, target.ToString()))
            {
                foreach (var e in entries) WriteApp(e, target);
                RecordRead(target.ToString(), "Read logs", $"{ReadSummary.Count(entries.Count, "log line")}{(Pattern is null ? "" : $" matching '{Pattern}'")}");
            }
    }

    protected override void EndProcessing()
    {
        if (Follow && _follow.Count > 0) FollowAll();
        base.EndProcessing();
    }

    /// <summary>
    /// Follows every target at once. Entries are written on the pipeline thread as they arrive; the command's deadline
    /// does not apply (a follow has no natural end): -TimeoutSec, when given, is how long to follow.
    /// </summary>
    private void FollowAll()
    {
        var query = Query;
        try { LogFilter.Create(query); }
        catch (IncidentOpsException ex) { ThrowTerminatingError(ToErrorRecord(ex, Pattern ?? Level)); }
        TimeSpan? duration = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? Timeout : null;
        var platforms = Engine.Platforms;
        var redact = !NoRedaction;
        var outcomes = new LogFollowResult?[_follow.Count];
        // At most LogHandoff.DefaultCapacity entries (of all services) wait for this thread; past that the readers stop
        // reading and the CLIs block on their writes, so a slow consumer does not grow memory without bound.
        var handoff = new LogHandoff();
        Invoke<bool>(async ct =>
        {
            await Task.WhenAll(_follow.Select(async (f, i) =>
            {
                try
                {
                    outcomes[i] = await platforms.FollowLogsAsync(f.Adapter, query, duration,
                        (e, token) => handoff.HandAsync(e, Post, entry => WriteApp(entry, f.Target), token), ct, redact).ConfigureAwait(false);
                }
                catch (IncidentOpsException ex)
                {
                    // One service's CLI failing does not stop the others.
                    Post(() => WriteError(ToErrorRecord(ex, f.Target.ToString())));
                }
            })).ConfigureAwait(false);
            return true;
        }, deadline: null);
        for (var i = 0; i < _follow.Count; i++)
            if (outcomes[i] is { } r)
                RecordRead(_follow[i].Target.ToString(), "Followed logs",
                    $"{ReadSummary.Count(r.Entries, "log line")}{(Pattern is null ? "" : $" matching '{Pattern}'")} in {r.Elapsed.TotalSeconds:0} s{(r.TimedOut ? " (-TimeoutSec)" : "")}");
    }
}
