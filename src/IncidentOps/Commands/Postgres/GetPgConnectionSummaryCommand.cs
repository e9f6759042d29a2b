using System.Management.Automation;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Summarises PostgreSQL client connections against max_connections.</summary>
/// <remarks>
/// Replaces the seed's "compare connections against max_connections" check. Returns one
/// PgConnectionSummary: client backends (Total) against max_connections, the superuser-reserved slots,
/// Headroom (what ordinary roles can still open) and UsedPercent, with the sessions broken down by state,
/// database, user, application and client address, largest first.
/// </remarks>
/// <example>
/// <code>Get-PgConnectionSummary -ConnectionString $cs</code>
/// <para>How close the server is to "too many connections", and who holds them.</para>
/// </example>
/// <example>
/// <code>(Get-PgConnectionSummary).ByApplication | Select-Object -First 5</code>
/// <para>The five applications holding the most connections.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PgConnectionSummary")]
[OutputType(typeof(PgConnectionSummary))]
public sealed class GetPgConnectionSummaryCommand : PgReadCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var spec in Specs()) Run(spec);
    }

    private void Run(PgConnectionSpec spec)
    {
        if (!TryInvoke(ct => Engine.Postgres.GetConnectionSummaryAsync(spec, ct), out var summary, spec.ToString())) return;
        WriteObject(summary);
        RecordRead(spec.ToString(), "Read connection summary", summary.ToString());
    }
}
