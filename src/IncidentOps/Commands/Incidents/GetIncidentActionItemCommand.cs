using System.Management.Automation;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Gets the action items of an incident.</summary>
/// <remarks>
/// Lists the follow-ups recorded with Add-IncidentActionItem, optionally only those of an owner or with a
/// status. Items bind by property name (ActionItemId, IncidentId) into Set-IncidentActionItem.
/// </remarks>
/// <example>
/// <code>Get-IncidentActionItem -Status Open</code>
/// <para>Lists the open action items of the active incident.</para>
/// </example>
/// <example>
/// <code>Get-Incident -Status Resolved | Get-IncidentActionItem -Owner alice</code>
/// <para>Lists Alice's action items across resolved incidents.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentActionItem")]
[OutputType(typeof(ActionItem))]
public sealed class GetIncidentActionItemCommand : IncidentRecordCmdlet
{
    /// <summary>Incident id (INC-20261122-001); defaults to the active incident. -Id and -IncidentId are aliases; binds from Get-Incident output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>Only items with this status (Open, InProgress, Done ...).</summary>
    [Parameter]
    public string? Status { get; set; }

    /// <summary>Only items of this owner.</summary>
    [Parameter]
    public string? Owner { get; set; }

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        if (!TryInvoke(ct => Engine.Incidents.ListActionItemsAsync(Config, id, ct), out var items, id)) return;
        foreach (var item in items)
        {
            if (Status is not null && !string.Equals(item.Status, Status, StringComparison.OrdinalIgnoreCase)) continue;
            if (Owner is not null && !string.Equals(item.Owner, Owner, StringComparison.OrdinalIgnoreCase)) continue;
            WriteObject(item);
        }
    }
}
