using System.Management.Automation;
using IncidentOps.Notifications;

namespace IncidentOps.Commands;

/// <summary>Lists open incidents whose next status update is overdue (or due soon).</summary>
/// <remarks>
/// Each severity has an update cadence (every 15 minutes for P0, as in seed 003). Send-IncidentUpdate sets
/// the incident's NextUpdateDue; this cmdlet returns the open incidents whose NextUpdateDue has passed, or
/// falls within -Within, so a scheduled script can remind the incident commander. PendingUpdates counts
/// updates that are still waiting for delivery to some channel.
/// </remarks>
/// <example>
/// <code>Get-IncidentUpdateDue | ForEach-Object { Write-Warning "$($_.IncidentId) update overdue by $($_.OverdueBy)" }</code>
/// <para>Nags about every overdue update (for a scheduled task).</para>
/// </example>
/// <example>
/// <code>Get-IncidentUpdateDue -Within 5m</code>
/// <para>Also lists updates due in the next five minutes.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentUpdateDue")]
[OutputType(typeof(IncidentUpdateDue))]
public sealed class GetIncidentUpdateDueCommand : ConfiguredCmdlet
{
    /// <summary>Also list updates due within this time from now (5m, 00:05:00). Defaults to only those already overdue. A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Within { get; set; } = TimeSpan.Zero;

    protected override void ProcessRecord() => Run();

    private void Run()
    {
        if (TryInvoke(ct => Engine.Notifications.GetDueAsync(Config, Within, ct), out var due))
            foreach (var d in due) WriteObject(d);
    }
}
