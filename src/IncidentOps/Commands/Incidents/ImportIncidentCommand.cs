using System.Management.Automation;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Reads incidents from an Export-Incident archive into the configured store.</summary>
/// <remarks>
/// Reads each incident of the archive into the store this configuration names (the file store or the PostgreSQL
/// team store): record, timeline (in its order, with its times and writers), action items, status updates and
/// evidence, whose SHA-256 is checked first. Importing is idempotent: an incident already in the store is left
/// as it is (Unchanged), and one whose earlier import was interrupted is completed. An incident of the store that
/// has the same id but is another incident (another title or declaration time) is never mixed with the archived
/// one: it is reported as Conflict, with a warning, and left alone. A status update's timeline entry some of whose
/// deliveries the store's timeline already tells (each delivery is told by one entry) is added for its other channels
/// only, with a warning; one that tells nothing else is not added. -WhatIf says what each incident would get and
/// writes nothing.
/// </remarks>
/// <example>
/// <code>Get-Incident | Export-Incident -Path ./incidents.zip; Import-Incident -Path ./incidents.zip -ConfigPath ./team.yml</code>
/// <para>Moves every incident from the local file store to the team store that team.yml names.</para>
/// </example>
[Cmdlet(VerbsData.Import, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(IncidentTransfer))]
public sealed class ImportIncidentCommand : ConfiguredCmdlet
{
    /// <summary>The archive that Export-Incident wrote.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath")]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!TryInvoke(ct => Engine.Incidents.ImportAsync(Config, path, null, planOnly: true, ct), out var plan, path)) return;
        foreach (var unchanged in plan.Where(p => p.Action is "Unchanged" or "Conflict")) WriteObject(unchanged);
        var approved = plan.Where(p => p.Action is "Import" or "Complete" && ShouldProcess($"{p.IncidentId} in {p.IncidentStore}",
            $"{(p.Action == "Import" ? "Import" : "Complete the import of")} {p.IncidentId}: {p.TimelineEntries} timeline entries, {p.ActionItems} action items, {p.Updates} updates, {p.Evidence} evidence"))
            .Select(p => p.IncidentId).ToList();
        if (approved.Count == 0) return;
        if (!TryInvoke(ct => Engine.Incidents.ImportAsync(Config, path, approved, planOnly: false, ct), out var results, path)) return;
        foreach (var t in results) WriteObject(t);
    }
}
