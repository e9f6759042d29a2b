using System.Management.Automation;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Writes incidents to a self-contained archive, for Import-Incident.</summary>
/// <remarks>
/// Writes one zip archive with each incident's record, its whole timeline, action items, status updates (the
/// outbox with each channel's delivery state) and evidence with its SHA-256. Import-Incident reads it into any
/// store, which is how a team moves from the file store to the PostgreSQL team store. An existing file is
/// replaced only with -Force.
/// </remarks>
/// <example>
/// <code>Get-Incident | Export-Incident -Path ./incidents.zip</code>
/// <para>Writes every incident of the store to one archive.</para>
/// </example>
/// <example>
/// <code>Export-Incident -Incident INC-20261122-001 -Path ./INC-20261122-001.zip</code>
/// <para>Writes one incident.</para>
/// </example>
[Cmdlet(VerbsData.Export, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(IncidentTransfer))]
public sealed class ExportIncidentCommand : ConfiguredCmdlet
{
    private readonly List<string> _ids = [];

    /// <summary>Incident ids to export; binds from Get-Incident output. -Id and -IncidentId are aliases.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string[] Incident { get; set; } = [];

    /// <summary>The archive file to write (a .zip).</summary>
    [Parameter(Mandatory = true)]
    [Alias("PSPath")]
    public string Path { get; set; } = "";

    /// <summary>Replace the archive file if it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => _ids.AddRange(Incident.Where(i => !string.IsNullOrWhiteSpace(i)).Select(i => i.Trim()));

    protected override void EndProcessing()
    {
        if (_ids.Count == 0) return;
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(path, $"Export {_ids.Count} incident(s) ({string.Join(", ", _ids.Distinct(StringComparer.OrdinalIgnoreCase))})")) return;
        foreach (var t in InvokeOrTerminate(ct => Engine.Incidents.ExportAsync(Config, _ids, path, Force, ct), path)) WriteObject(t);
    }
}
