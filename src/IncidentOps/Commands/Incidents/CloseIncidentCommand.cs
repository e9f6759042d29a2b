using System.Management.Automation;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Resolves an incident with a resolution summary.</summary>
/// <remarks>
/// Sets the status to Resolved, records the resolution time and summary (required) and writes the
/// "resolved" timeline entry. When the incident was the active one, no incident is active afterwards.
/// An incident already resolved by Send-IncidentUpdate -Status Resolved, but without a resolution summary,
/// gets its summary recorded (its resolution time stays unless -ResolvedAt is given); it is no longer the
/// active incident, so name it with -Incident. Follow with New-IncidentReport for the post-mortem.
/// The incident's own Slack channel, if New-Incident opened one (a Slack channel with a bot token and an
/// incidentChannel pattern), is archived (conversations.archive, seed 003) and the step is on the timeline; a failure is a
/// warning, and Send-IncidentUpdate -Pending retries it. -WhatIf shows the archive call and makes none.
/// </remarks>
/// <example>
/// <code>Get-Incident -Active | Close-Incident -Resolution 'Rolled back release v142; error rate back to normal'</code>
/// <para>Resolves the active incident.</para>
/// </example>
/// <example>
/// <code>Close-Incident -Incident INC-20261122-001 -Resolution 'Restarted Redis' -RootCause 'Memory fragmentation' -ResolvedAt '2026-11-22T10:45Z'</code>
/// <para>Resolves a named incident after the fact, with the time it was really resolved.</para>
/// </example>
[Cmdlet(VerbsCommon.Close, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Incident))]
public sealed class CloseIncidentCommand : IncidentRecordCmdlet, IForceSwitch
{
    /// <summary>Incident id (INC-20261122-001); defaults to the active incident. -Id and -IncidentId are aliases; binds from Get-Incident output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>What fixed it (required).</summary>
    [Parameter(Mandatory = true)]
    public string Resolution { get; set; } = "";

    /// <summary>Root cause, if known now.</summary>
    [Parameter]
    public string? RootCause { get; set; }

    /// <summary>When it was resolved, if not now.</summary>
    [Parameter]
    public DateTime? ResolvedAt { get; set; }

    /// <summary>Skip the confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        if (!(Force.IsPresent && !IsWhatIf) && !ShouldProcess(id, $"Resolve: {Resolution}"))
        {
            if (IsWhatIf && TryInvoke(ct => Engine.IncidentChannels.PlanArchiveAsync(Config, id, ct), out var calls, id))
                foreach (var call in calls) ShouldProcess(call, "Slack Web API call");
            return;
        }
        if (TryInvoke(ct => Engine.Incidents.CloseAsync(Config, id, Resolution, RootCause, SetIncidentCommand.ToUtc(ResolvedAt), Context, ct), out var incident, id))
            WriteObject(ArchiveIncidentChannel(incident));
    }

    /// <summary>Archives the incident's own Slack channel; a failure is a warning (the incident is closed), retried by Send-IncidentUpdate -Pending.</summary>
    private Incident ArchiveIncidentChannel(Incident incident)
    {
        if (IncidentOps.Engine.Notifications.Slack.SlackIncidentChannel.Configured(Config).Count == 0) return incident;
        try
        {
            Invoke(ct => Engine.IncidentChannels.ArchiveAsync(Config, incident.Id, Context, ct));
            return Invoke(ct => Engine.Incidents.GetAsync(Config, incident.Id, ct));
        }
        catch (IncidentOpsException ex)
        {
            WriteWarning($"{incident.Id} is closed, but its Slack incident channel was not archived ({ex.ErrorId}): {SecretRedactor.Redact(ex.Message)} Retry with Send-IncidentUpdate -Incident {incident.Id} -Pending.");
            return incident;
        }
    }
}
