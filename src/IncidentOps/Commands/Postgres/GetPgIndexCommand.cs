using System.Management.Automation;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Lists PostgreSQL indexes with size, scan counts and health flags.</summary>
/// <remarks>
/// Replaces the seed's index listing and adds PgHero's health checks: Unused (never scanned and not
/// backing a unique constraint), Invalid (left by a failed CREATE INDEX CONCURRENTLY) and Duplicate (same
/// columns, operator classes, expressions and predicate as another index on the table). Largest first.
/// </remarks>
/// <example>
/// <code>Get-PgIndex -Unused</code>
/// <para>Indexes that cost writes and disk but are never read.</para>
/// </example>
/// <example>
/// <code>Get-PgIndex -Table 'order*' -Duplicate</code>
/// <para>Duplicate indexes on the order tables.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PgIndex")]
[OutputType(typeof(PgIndex))]
public sealed class GetPgIndexCommand : PgReadCmdlet
{
    /// <summary>Only indexes of these tables (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Table { get; set; }

    /// <summary>Only unused indexes.</summary>
    [Parameter]
    public SwitchParameter Unused { get; set; }

    /// <summary>Only invalid indexes.</summary>
    [Parameter]
    public SwitchParameter Invalid { get; set; }

    /// <summary>Only duplicate indexes.</summary>
    [Parameter]
    public SwitchParameter Duplicate { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var spec in Specs()) Run(spec);
    }

    private void Run(PgConnectionSpec spec)
    {
        var patterns = Table?.Select(t => new WildcardPattern(t, WildcardOptions.IgnoreCase)).ToList();
        var written = 0;
        if (!TryInvoke(ct => Engine.Postgres.GetIndexesAsync(spec, ct), out var indexes, spec.ToString())) return;
        foreach (var i in indexes)
        {
            if (patterns is not null && !patterns.Any(p => p.IsMatch(i.Table))) continue;
            if ((Unused && !i.Unused) || (Invalid && !i.Invalid) || (Duplicate && !i.Duplicate)) continue;
            WriteObject(i);
            written++;
        }
        RecordRead(spec.ToString(), "Read indexes", ReadSummary.Count(written, "index", "indexes"));
    }
}
