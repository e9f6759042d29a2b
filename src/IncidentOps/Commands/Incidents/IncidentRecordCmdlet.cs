using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;

namespace IncidentOps.Commands;

/// <summary>
/// Base of the incident-record cmdlets: -Incident (aliases Id, IncidentId, from the pipeline by property name)
/// defaults to the active incident; the engine writes their timeline entries itself.
/// </summary>
public abstract class IncidentRecordCmdlet : ConfiguredCmdlet
{
    private string? _resolvedId;

    /// <summary>
    /// The store the piped incident was read from (Incident.IncidentStore, the file store's folder); binds from Get-Incident
    /// output. When it is not the store this command's configuration resolves (another -ConfigPath), the record is
    /// refused with PipelineTargetMismatch instead of being changed or read in the other store. Not for typing.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? IncidentStore { get; set; }

    /// <summary>The id given with -Incident, if any (declared by each cmdlet).</summary>
    protected abstract string? IdValue { get; }

    protected override string? TimelineIncidentId => _resolvedId ?? IdValue;

    /// <summary>Who changes what, for the timeline entries the engine writes.</summary>
    protected ChangeContext Context => new(MyInvocation.MyCommand?.Name, SafeParameters());

    /// <summary>
    /// -Incident (checked against the store a piped record came from), or the active incident; false after a
    /// PipelineTargetMismatch error for this record. Stops with NoActiveIncident when there is neither.
    /// </summary>
    protected bool TryResolveIncidentId(out string id)
    {
        id = "";
        if (!string.IsNullOrWhiteSpace(IncidentStore)
            && InvokeOrTerminate(ct => Engine.Incidents.CheckSameStoreAsync(Config, IdValue, IncidentStore, ct)) is { } mismatch)
        {
            WriteError(ToErrorRecord(mismatch, IdValue));
            return false;
        }
        id = ResolveIncidentId();
        return true;
    }

    /// <summary>-Incident, or the active incident; stops with NoActiveIncident when there is neither.</summary>
    protected string ResolveIncidentId()
    {
        if (!string.IsNullOrWhiteSpace(IdValue)) return _resolvedId = IdValue.Trim();
        // A command that changes the incident (it supports -WhatIf) is told when someone else switched the shared pointer.
        var changes = GetType().GetCustomAttributes(typeof(CmdletAttribute), false) is [CmdletAttribute { SupportsShouldProcess: true }, ..];
        var active = InvokeOrTerminate(ct => Engine.Incidents.GetActiveIdAsync(Config, ct, changes));
        if (active is null)
        {
            var hint = InvokeOrTerminate(ct => Engine.Incidents.NoActiveIncidentHintAsync(Config, MyInvocation.MyCommand.Name, ct));
            ThrowInputError(NotificationErrorIds.NoActiveIncident, "No incident is active and no -Incident was given. Declare one with New-Incident, or name it with -Incident (Get-Incident lists them; Tab completes incident ids)." +
                (hint is null ? "" : " " + hint), null, IncidentOpsErrorCategory.ObjectNotFound);
        }
        return _resolvedId = active!;
    }
}
