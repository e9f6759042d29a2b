using System.Management.Automation;
using IncidentOps.Notifications;

namespace IncidentOps.Commands;

/// <summary>Lists the status updates in an incident's outbox, with each channel's delivery state.</summary>
/// <remarks>
/// Every update Send-IncidentUpdate sends is first written to the incident's outbox. This cmdlet reads
/// the outbox: each IncidentUpdate carries its kind, status, message and, per channel, whether it was
/// delivered, how many attempts it took, the last HTTP status and the error. With -Pending it returns only
/// the updates some channel has not received, which Send-IncidentUpdate -Pending re-sends.
///
/// A channel's State is Delivered, Pending (not received; safe to re-send), Failed (refused; fix the channel),
/// Unknown (an attempt was interrupted or got no answer, so the provider may have it) or Superseded (a later
/// update of the incident went to that channel, so this one is never sent late, or the incident was resolved after
/// the update was prepared, so it was withdrawn; such an update shows as withdrawn even before the store records it,
/// for example after an UpdateWithdrawalNotRecorded error). An outbox file that cannot be
/// read is reported with a warning naming it, renamed aside (*.corrupt-yyyyMMddHHmmss) and skipped; the other
/// updates are listed as usual.
/// </remarks>
/// <example>
/// <code>Get-IncidentUpdate -Incident INC-20261122-001</code>
/// <para>Lists every update of the incident, oldest first.</para>
/// </example>
/// <example>
/// <code>Get-IncidentUpdate -Pending</code>
/// <para>Lists the undelivered updates of every incident.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentUpdate")]
[OutputType(typeof(IncidentUpdate))]
public sealed class GetIncidentUpdateCommand : ConfiguredCmdlet
{
    /// <summary>Incident id (INC-20261122-001). Defaults to every incident. Binds from Get-Incident output (IncidentId or Id).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("IncidentId", "Id")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>Only the updates that some channel has not received.</summary>
    [Parameter]
    public SwitchParameter Pending { get; set; }

    protected override void ProcessRecord() => Run();

    private void Run()
    {
        if (TryInvoke(ct => Engine.Notifications.GetUpdatesAsync(Config, Incident, Pending, ct, asStored: false), out var updates, Incident))
            foreach (var u in updates) WriteObject(u);
    }
}
