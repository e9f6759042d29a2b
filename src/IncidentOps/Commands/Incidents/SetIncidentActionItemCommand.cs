using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Updates an incident action item: status, owner, due date, priority or text.</summary>
/// <remarks>
/// The change is saved atomically with the incident and written to its timeline. Items come from
/// Get-IncidentActionItem by property name, or by id (INC-20261122-001-A01).
/// </remarks>
/// <example>
/// <code>Get-IncidentActionItem -Owner alice | Set-IncidentActionItem -Status Done</code>
/// <para>Marks Alice's action items on the active incident as done.</para>
/// </example>
/// <example>
/// <code>Set-IncidentActionItem -ActionItemId INC-20261122-001-A02 -Owner bob -Due 2026-12-01</code>
/// <para>Reassigns an item and sets its due date.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "IncidentActionItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ActionItem))]
public sealed class SetIncidentActionItemCommand : IncidentRecordCmdlet
{
    /// <summary>Action item id (INC-20261122-001-A01).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    public string ActionItemId { get; set; } = "";

    /// <summary>Incident id (INC-20261122-001); taken from the action item id when omitted. -IncidentId is an alias.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>New status (Open, InProgress, Done, WontDo).</summary>
    [Parameter]
    [ValidateSet("Open", "InProgress", "Done", "WontDo")]
    public string? Status { get; set; }

    /// <summary>New owner.</summary>
    [Parameter]
    public string? Owner { get; set; }

    /// <summary>New due date.</summary>
    [Parameter]
    public DateTime? Due { get; set; }

    /// <summary>New priority (a severity id).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(SeverityCompleter))]
    public string? Priority { get; set; }

    /// <summary>New text.</summary>
    [Parameter]
    public string? Action { get; set; }

    protected override string? IdValue => Incident ?? FromItemId(ActionItemId);

    private static string? FromItemId(string itemId)
    {
        var cut = itemId.LastIndexOf("-A", StringComparison.OrdinalIgnoreCase);
        return cut > 0 ? itemId[..cut] : null;
    }

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        var changes = new ActionItemChanges { Action = Action, Owner = Owner, Due = SetIncidentCommand.ToUtc(Due), Priority = Priority, Status = Status };
        if (!ShouldProcess(ActionItemId, "Update action item")) return;
        if (TryInvoke(ct => Engine.Incidents.UpdateActionItemAsync(Config, id, ActionItemId, changes, Context, ct), out var item, ActionItemId))
            WriteObject(item);
    }
}
