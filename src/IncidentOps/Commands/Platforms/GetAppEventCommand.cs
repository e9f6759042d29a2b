using System.Management.Automation;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Gets the recent Kubernetes events of an app's workload and its pods as objects.</summary>
/// <remarks>
/// Replaces the runbook's 'kubectl get events -n NAMESPACE --sort-by=.lastTimestamp' and the Events section of
/// 'kubectl describe pod': it reads 'kubectl get events -o json' in the workload's namespace and keeps the events whose
/// involvedObject is the Deployment, StatefulSet or DaemonSet itself, its ReplicaSets, or its pods (also pods already
/// replaced, such as the one the out-of-memory killer ended). Each AppEvent has the time it was last seen, its type
/// (Normal or Warning), reason (BackOff, OOMKilling, FailedScheduling, Unhealthy, Killing, ScalingReplicaSet), the
/// object (Pod/NAME), the message, how many times it happened and the reporting component; oldest first, so the newest
/// is at the bottom as with --sort-by=.lastTimestamp. -Type is sent to the API server as a field selector; -Since is
/// applied to the time last seen. The cluster keeps events for about an hour by default: save them early with
/// Save-IncidentEvidence -Source app-events. Other platforms have no event stream and give PlatformOperationNotSupported
/// (their instances' last exits are in Get-AppStatus).
/// </remarks>
/// <example>
/// <code>Get-AppEvent -Platform Kubernetes -Deployment marketing -Namespace akaind-platform -Type Warning -Since 30m</code>
/// <para>The warnings of the last 30 minutes about the marketing deployment and its pods (BackOff, OOMKilling, Unhealthy).</para>
/// </example>
/// <example>
/// <code>Get-AppEvent -Platform Kubernetes -StatefulSet postgres -Namespace akaind-platform | Where-Object Object -like 'Pod/*'</code>
/// <para>The events of a StatefulSet's pods (postgres-0, postgres-1 ...); a configured service names it with statefulSet: postgres in incidentops.yml.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppEvent")]
[OutputType(typeof(AppEvent))]
public sealed class GetAppEventCommand : AppReadCmdlet
{
    /// <summary>Only events last seen within this long (10m, 1h, or 00:10:00). A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter]
    [DurationTransformation]
    [ArgumentCompleter(typeof(DurationCompleter))]
    public TimeSpan? Since { get; set; }

    /// <summary>Only events of this type: Warning (something went wrong: BackOff, OOMKilling, FailedScheduling, Unhealthy) or Normal.</summary>
    [Parameter]
    [ValidateSet("Warning", "Normal")]
    public string? Type { get; set; }

    protected override void ProcessRecord()
    {
        var query = new EventQuery(Since, EventQuery.NormalizeType(Type));
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.Platforms.GetEventsAsync(adapter, query, ct), out var events, target.ToString()))
            {
                foreach (var e in events) WriteApp(e, target);
                var warnings = events.Count(e => e.Type == "Warning");
                RecordRead(target.ToString(), "Read events", $"{ReadSummary.Count(events.Count, "event")}, {ReadSummary.Count(warnings, "warning")}{(events.LastOrDefault(e => e.Type == "Warning") is { } w ? $"; last warning: {w.Reason} {w.Object}" : "")}");
            }
    }
}
