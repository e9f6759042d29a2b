using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Captures evidence for an incident into its evidence folder, with time and SHA-256 stamps.</summary>
/// <remarks>
/// Runs every registered capture source for the incident's services ("Preserve evidence - save logs before
/// making changes"): config (the services' configuration) and timeline (a snapshot of the record and
/// timeline) always; app-status, app-deployments and app-logs (the last 500 lines) for services with a
/// platform, through the same adapters as Get-AppStatus, Get-AppDeployment and Get-AppLog (CLI paths from
/// tools: in incidentops.yml); app-events (Get-AppEvent: the events of the workload and its pods) for Kubernetes
/// services, since the cluster keeps events for about an hour; pg-activity (Get-PgConnectionSummary plus every backend of Get-PgActivity)
/// for services with a postgres connection string; redis-info (every Get-RedisInfo section) for services
/// with a redis setting. A source skips services it does not apply to. Each capture is redacted (no
/// passwords of connection strings), written atomically to evidence/ with its capture time and SHA-256
/// (also in a .sha256 file next to it), and referenced from the timeline. A capture that fails (an
/// unreachable Redis, a CLI error, -TimeoutSec passed) is returned with Succeeded false and its error,
/// recorded on the timeline as failed, and the others still run. Ctrl+C stops at once; a capture cut short
/// is neither written nor reported.
/// </remarks>
/// <example>
/// <code>Save-IncidentEvidence</code>
/// <para>Captures everything available for the active incident's services.</para>
/// </example>
/// <example>
/// <code>Save-IncidentEvidence -Incident INC-20261122-001 -Source pg-activity,redis-info -Service production/api</code>
/// <para>Captures only PostgreSQL activity and Redis info for one service.</para>
/// </example>
/// <example>
/// <code>Save-IncidentEvidence | Where-Object { -not $_.Succeeded } | Format-Table Source, Service, Error</code>
/// <para>Shows which captures failed and why.</para>
/// </example>
[Cmdlet(VerbsData.Save, "IncidentEvidence", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(EvidenceCapture))]
public sealed class SaveIncidentEvidenceCommand : IncidentRecordCmdlet
{
    /// <summary>Incident id (INC-20261122-001); defaults to the active incident. -Id and -IncidentId are aliases; binds from Get-Incident output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>Capture sources to run: config, timeline, app-status, app-deployments, app-logs, app-events, pg-activity, redis-info (and any registered later); all by default.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(EvidenceSourceCompleter))]
    public string[]? Source { get; set; }

    /// <summary>Services to capture for; defaults to the incident's services.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Seconds each source (and each service within it) may take before its capture is recorded as failed. Default 60: a capture runs several platform CLI calls and queries in a row (status, logs, activity), each of which may take seconds during an incident; a minute keeps one slow source from holding up the record for long.</summary>
    [Parameter]
    [ValidateRange(1.0, 3600.0)]
    public double TimeoutSec { get; set; } = 60;

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        var services = Service is { Length: > 0 } ? ResolveServices(null, Service) : null;
        var sources = Source is { Length: > 0 } ? string.Join(", ", Source) : string.Join(", ", EvidenceSources.All.Select(s => s.Name));
        if (!ShouldProcess(id, $"Save evidence ({sources})")) return;
        if (!TryInvoke(ct => Engine.Evidence.SaveAsync(Config, id, services, Source, TimeSpan.FromSeconds(TimeoutSec), Context, ct), out var captures, id)) return;
        foreach (var c in captures) WriteObject(c);
    }
}
