using System.Management.Automation;
using IncidentOps.Engine.Incidents;

namespace IncidentOps.Commands;

/// <summary>
/// Base of the incident-record cmdlets: -Incident (aliases Id, IncidentId, from the pipeline by property name)
/// defaults to the active incident; the engine writes their timeline entries itself.
/// </summary>
public abstract class IncidentRecordCmdlet : ConfiguredCmdlet
{
    private string? _resolvedId;

    /// <summary>The id given with -Incident, if any (declared by each cmdlet).</summary>
    protected abstract string? IdValue { get; }

    protected override string? TimelineIncidentId => _resolvedId ?? IdValue;

    /// <summary>Who changes what, for the timeline entries the engine writes.</summary>
    protected ChangeContext Context => new(MyInvocation.MyCommand?.Name, SafeParameters());

    /// <summary>-Incident, or the active incident; stops with NoActiveIncident when there is neither.</summary>
    protected string ResolveIncidentId()
    {
        if (!string.IsNullOrWhiteSpace(IdValue)) return _resolvedId = IdValue.Trim();
        var active = InvokeOrTerminate(ct => Engine.Incidents.GetActiveIdAsync(Config, ct));
        if (active is null)
        {
            var hint = InvokeOrTerminate(ct => Engine.Incidents.NoActiveIncidentHintAsync(Config, ct));
            ThrowInputError("NoActiveIncident", "No incident is active and no -Incident was given. Declare one with New-Incident, or name it with -Incident (Get-Incident lists them; Tab completes open incidents)." +
                (hint is null ? "" : " " + hint), null, IncidentOpsErrorCategory.ObjectNotFound);
        }
        return _resolvedId = active!;
    }
}
