using System.Management.Automation;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Adds a follow-up action item to an incident.</summary>
/// <remarks>
/// Action items (Action, Owner, Due, Priority) are stored with the incident (actions.json, replaced
/// atomically), appear in the post-mortem's action items table and are listed by Get-IncidentActionItem.
/// Each addition is a timeline entry. Priority uses the severity ids (P2 by default).
/// </remarks>
/// <example>
/// <code>Add-IncidentActionItem -Action 'Alert on connection pool saturation' -Owner alice -Due (Get-Date).AddDays(7) -Priority P1</code>
/// <para>Adds a follow-up to the active incident.</para>
/// </example>
[Cmdlet(VerbsCommon.Add, "IncidentActionItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ActionItem))]
public sealed class AddIncidentActionItemCommand : IncidentRecordCmdlet
{
    /// <summary>What will be done.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Action { get; set; } = "";

    /// <summary>Who owns it.</summary>
    [Parameter]
    public string? Owner { get; set; }

    /// <summary>When it is due.</summary>
    [Parameter]
    public DateTime? Due { get; set; }

    /// <summary>Priority (a severity id such as P1; P2 by default).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(SeverityCompleter))]
    public string? Priority { get; set; }

    /// <summary>Incident id (INC-20261122-001); defaults to the active incident. -Id and -IncidentId are aliases; binds from Get-Incident output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        if (!ShouldProcess(id, $"Add action item '{Action}'")) return;
        if (TryInvoke(ct => Engine.Incidents.AddActionItemAsync(Config, id, Action, Owner, SetIncidentCommand.ToUtc(Due), Priority, Context, ct), out var item, id))
            WriteObject(item);
    }
}
