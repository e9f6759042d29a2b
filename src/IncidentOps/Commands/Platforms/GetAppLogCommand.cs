using System.Management.Automation;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Gets recent log lines of an app as objects.</summary>
/// <remarks>
/// Replaces 'flyctl logs', 'doctl apps logs', 'kubectl logs' and 'journalctl -u' (read as journalctl -o json,
/// whose values may be strings, null for fields over 4 KiB, arrays for repeated fields, or byte arrays for
/// non-UTF-8 text). Each AppLogEntry has a timestamp, instance (machine, pod, component or host[pid]), level and
/// message. -Pattern is a case-insensitive regular expression, like the runbooks' grep -i.
/// </remarks>
/// <example>
/// <code>Get-AppLog -Platform Fly -App ai-affiliate-empire -Tail 200 -Pattern 'memory|cpu'</code>
/// <para>The seed's 'flyctl logs | grep -i "memory\|cpu"'.</para>
/// </example>
/// <example>
/// <code>Get-AppLog -Service production/portfolio -Type build -Component portfolio-web</code>
/// <para>Build logs of one DigitalOcean component.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppLog")]
[OutputType(typeof(AppLogEntry))]
public sealed class GetAppLogCommand : AppReadCmdlet
{
    /// <summary>Number of most recent lines to return (default 100).</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int Tail { get; set; } = 100;

    /// <summary>Only lines newer than this long ago (10m, 1h, or 00:10:00). A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? Since { get; set; }

    /// <summary>Case-insensitive regular expression the message must match.</summary>
    [Parameter]
    public string? Pattern { get; set; }

    /// <summary>DigitalOcean log type: run (default), build or deploy.</summary>
    [Parameter]
    [ValidateSet("run", "build", "deploy")]
    public string? Type { get; set; }

    /// <summary>
    /// Show log lines exactly as the platform returned them. By default credentials inside a line (URLs with
    /// passwords, password=..., bearer tokens, keys named like secrets) are masked, as in saved evidence.
    /// </summary>
    [Parameter]
    public SwitchParameter NoRedaction { get; set; }

    protected override void ProcessRecord()
    {
        var query = new LogQuery(Tail, Since, Pattern, Type, Component);
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.Platforms.GetLogsAsync(adapter, query, ct, !NoRedaction), out var entries, target.ToString()))
            {
                foreach (var e in entries) WriteApp(e, target);
                RecordRead(target.ToString(), "Read logs", $"{ReadSummary.Count(entries.Count, "log line")}{(Pattern is null ? "" : $" matching '{Pattern}'")}");
            }
    }
}
