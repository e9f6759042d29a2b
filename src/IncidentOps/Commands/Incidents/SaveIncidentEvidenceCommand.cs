using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Captures evidence for an incident into its evidence folder, with time and SHA-256 stamps.</summary>
/// <remarks>
/// Runs every registered capture source for the incident's services ("Preserve evidence - save logs before
/// making changes"): the services' configuration and a snapshot of the record and timeline always, plus
/// platform status, deployments, logs, PostgreSQL activity and Redis info where those areas provide a
/// source. Each capture is written to evidence/ with its capture time and SHA-256 (also in a .sha256 file
/// next to it), and referenced from the timeline. A failing source is reported and the others still run.
/// </remarks>
/// <example>
/// <code>Save-IncidentEvidence</code>
/// <para>Captures everything available for the active incident's services.</para>
/// </example>
/// <example>
/// <code>Save-IncidentEvidence -Id INC-20261122-001 -Source config,timeline -Service production/api</code>
/// <para>Captures only the named sources for one service.</para>
/// </example>
[Cmdlet(VerbsData.Save, "IncidentEvidence", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(EvidenceCapture))]
public sealed class SaveIncidentEvidenceCommand : IncidentRecordCmdlet
{
    /// <summary>Incident id; defaults to the active incident.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("IncidentId")]
    public string? Id { get; set; }

    /// <summary>Capture sources to run (config, timeline, and those other areas register); all by default.</summary>
    [Parameter]
    public string[]? Source { get; set; }

    /// <summary>Services to capture for; defaults to the incident's services.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Seconds each source may take before it is abandoned.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 60;

    protected override string? IdValue => Id;

    protected override void ProcessRecord()
    {
        var id = ResolveIncidentId();
        var services = Service is { Length: > 0 } ? ResolveServices(null, Service) : null;
        var sources = Source is { Length: > 0 } ? string.Join(", ", Source) : string.Join(", ", EvidenceSources.All.Select(s => s.Name));
        if (!ShouldProcess(id, $"Save evidence ({sources})")) return;
        if (!TryInvoke(ct => Engine.Evidence.SaveAsync(Config, id, services, Source, TimeSpan.FromSeconds(TimeoutSec), Context, ct), out var captures, id)) return;
        foreach (var c in captures) WriteObject(c);
    }
}
