using System.Management.Automation;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Lists the slowest statements of a PostgreSQL database from pg_stat_statements.</summary>
/// <remarks>
/// Replaces the seed's "top pg_stat_statements by mean time" SQL. Returns the top -Top statements of the
/// connected database ranked by -SortBy MeanTime (default), TotalTime or Calls, with calls, total and mean
/// milliseconds, rows and share of total time. Works across the PostgreSQL 12/13 column renames
/// (total_time to total_exec_time). When the extension is missing the error (PgStatStatementsMissing)
/// says how to enable it.
/// </remarks>
/// <example>
/// <code>Get-PgSlowQuery -Top 5</code>
/// <para>The five statements with the highest mean execution time.</para>
/// </example>
/// <example>
/// <code>Get-PgSlowQuery -SortBy TotalTime -ConnectionString $cs</code>
/// <para>The statements that take most of the server's time overall.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PgSlowQuery")]
[OutputType(typeof(PgSlowQuery))]
public sealed class GetPgSlowQueryCommand : PgReadCmdlet
{
    /// <summary>How many statements to return. Default 10. -Count works too, as on Get-RedisSlowLog.</summary>
    [Parameter]
    [Alias("Count")]
    [ValidateRange(1, 1000)]
    public int Top { get; set; } = 10;

    /// <summary>Ranking: MeanTime (default), TotalTime or Calls.</summary>
    [Parameter]
    public PgSlowQuerySort SortBy { get; set; } = PgSlowQuerySort.MeanTime;

    protected override void ProcessRecord()
    {
        foreach (var spec in Specs()) Run(spec);
    }

    private void Run(PgConnectionSpec spec)
    {
        if (!TryInvoke(ct => Engine.Postgres.GetSlowQueriesAsync(spec, SortBy, Top, ct), out var list, spec.ToString())) return;
        foreach (var q in list) WriteObject(q);
        RecordRead(spec.ToString(), "Read slow queries", $"{ReadSummary.Count(list.Count, "query", "queries")} by {SortBy}{(list.Count == 0 ? "" : $", slowest mean {list[0].MeanMs:0.##} ms")}");
    }
}
