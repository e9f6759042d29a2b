using IncidentOps.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Postgres;

namespace IncidentOps.Engine.Postgres;

/// <summary>
/// pg-activity: for each service with a postgres connection string, the connection summary
/// (Get-PgConnectionSummary) and every backend of pg_stat_activity (Get-PgActivity), read through the
/// Postgres service. The target is host:port/database; the connection string itself is never saved.
/// </summary>
public sealed class PgEvidenceSource : ServiceEvidenceSource
{
    public override string Name => "pg-activity";

    protected override bool AppliesTo(ServiceTarget service) => service.Postgres?.ConnectionString is not null;

    protected override async Task<object> CaptureServiceAsync(EvidenceContext context, ServiceTarget service, CancellationToken cancellationToken)
    {
        var spec = new PgConnectionSpec { Service = service, TimeoutSec = (int)Math.Clamp(context.Timeout.TotalSeconds, 1, 3600) };
        var pg = context.Readers.Postgres;
        var summary = await pg.GetConnectionSummaryAsync(spec, cancellationToken).ConfigureAwait(false);
        var activity = await pg.GetActivityAsync(spec, null, cancellationToken).ConfigureAwait(false);
        return new PgEvidence(service.FullName, summary, activity);
    }

    /// <summary>The saved document.</summary>
    public sealed record PgEvidence(string Service, PgConnectionSummary Summary, IReadOnlyList<PgActivity> Activity);
}
