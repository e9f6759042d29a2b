using System.Management.Automation;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Adds a note to an incident's timeline.</summary>
/// <remarks>
/// Writes a "note" timeline entry with the time and who wrote it ("Document actions - note what you do
/// and when"). Secrets in the text are redacted before it is stored.
/// </remarks>
/// <example>
/// <code>Add-IncidentNote 'Error rate dropping after scaling to 4 machines'</code>
/// <para>Notes an observation on the active incident.</para>
/// </example>
/// <example>
/// <code>Get-Incident INC-20261122-001 | Add-IncidentNote -Text 'Vendor confirmed the outage on their side'</code>
/// <para>Notes on a named incident.</para>
/// </example>
[Cmdlet(VerbsCommon.Add, "IncidentNote", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(TimelineEntry))]
public sealed class AddIncidentNoteCommand : IncidentRecordCmdlet
{
    /// <summary>The note.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("Note", "Message")]
    public string Text { get; set; } = "";

    /// <summary>Incident id (INC-20261122-001); defaults to the active incident. -Id and -IncidentId are aliases; binds from Get-Incident output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        if (!ShouldProcess(id, "Add note")) return;
        if (TryInvoke(ct => Engine.Incidents.AddNoteAsync(Config, id, Text, Context, ct), out var entry, id)) WriteObject(entry);
    }
}
