using System.Management.Automation;
using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Runs VACUUM, ANALYZE or VACUUM ANALYZE on a PostgreSQL database or listed tables.</summary>
/// <remarks>
/// Replaces the seed's "VACUUM ANALYZE" in psql. Each statement runs outside a transaction (VACUUM cannot
/// run inside one), with a progress record while it runs and ShouldProcess before it starts: -WhatIf
/// prints the exact statement. Without -Table the whole database is processed. -TimeoutSec (default 30) bounds each
/// run, the statement included: past it the statement is cancelled on the server and the command stops with
/// OperationTimeout, so give a large table more time (-TimeoutSec 1800); Ctrl+C cancels it at once. With an active
/// incident each run is written to its timeline.
/// Tables piped from Get-PgIndex keep their schema and the server they were read from: each table is processed once, on
/// that server only (PipelineTargetMismatch otherwise; the database name compares case-sensitively, as PostgreSQL's
/// does, so a table read in Prod is never processed in prod); piped backends (Get-PgActivity) are refused.
/// </remarks>
/// <example>
/// <code>Invoke-PgMaintenance -Table public.orders, public.order_items -Operation VacuumAnalyze</code>
/// <para>Vacuums and analyzes two tables.</para>
/// </example>
/// <example>
/// <code>Invoke-PgMaintenance -Operation Analyze -WhatIf</code>
/// <para>Shows the ANALYZE statement for the whole database without running it.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "PgMaintenance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(PgMaintenanceResult))]
public sealed class InvokePgMaintenanceCommand : PgChangeCmdlet, IForceSwitch
{
    /// <summary>Tables to process (schema.table allowed). Defaults to the whole database.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    public string[]? Table { get; set; }

    /// <summary>VacuumAnalyze (default), Vacuum or Analyze.</summary>
    [Parameter]
    public PgMaintenanceOperation Operation { get; set; } = PgMaintenanceOperation.VacuumAnalyze;

    /// <summary>Run without asking for confirmation (for scripts). -WhatIf still only shows what would happen.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>The piped object. A PgIndex (Get-PgIndex) gives its schema-qualified table, its Service binds by name, and its Server (host:port/database) must be the server this command connects to, through the same kubectl context when it was read through a tunnel (its Route) (PipelineTargetMismatch). Backends (Get-PgActivity) are refused (PgPipedBackendNotAccepted): they name no table, so each would run maintenance on the whole database.</summary>
    [Parameter(ValueFromPipeline = true, DontShow = true)]
    public PSObject? InputObject { get; set; }

    private Dictionary<string, object?> _explicit = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);

    protected override void BeginProcessing()
    {
        // Only command-line parameters are bound here; pipeline values bind per record later.
        _explicit = new Dictionary<string, object?>(MyInvocation.BoundParameters, StringComparer.OrdinalIgnoreCase);
        base.BeginProcessing();
    }

    protected override void ProcessRecord() => Run();

    private PSObject? Piped => InputObject is { BaseObject: not (string or ValueType) } p ? p : null;

    private void Run()
    {
        if (Piped is { } backend && PipelineOrigin.Property(backend, "Pid") is not null)
        {
            WriteInputError(IncidentOps.Engine.Postgres.PostgresErrorIds.PgPipedBackendNotAccepted,
                $"Invoke-PgMaintenance was given backend {backend} through the pipeline. A backend names no table, so it would run {PostgresService.MaintenanceSql(Operation, null)} on the whole database, once per piped backend. Nothing was run. Pass -Table, or pipe tables (Get-PgIndex).",
                backend.ToString());
            return;
        }
        if (PipelineOrigin.FindMismatch(Piped, _explicit, ["Service"]) is { } named)
        {
            WriteInputError(PipelineOrigin.MismatchErrorId, PipelineOrigin.Message(named, "table", Piped), Piped?.ToString());
            return;
        }
        if (!TryResolveSpec(out var spec)) return;
        if (!TryDescribeTarget(spec, out var target)) return;
        if (Piped is { } input && PipelineOrigin.Property(input, "Server")?.ToString() is { Length: > 0 } server && !PostgresService.SameTarget(server, target))
        {
            WriteInputError(PipelineOrigin.MismatchErrorId,
                $"Table {Table?.FirstOrDefault()} was read on {server}, but this command is connected to {target}. A table name means another table on another server, so nothing was run. Pass the same -Service or -ConnectionString to both commands.",
                input.ToString());
            return;
        }
        if (Piped is { } routed && PipedRoute(routed) is { } pipedRoute)
        {
            // Read through a kubectl tunnel: the table belongs to the cluster it was read in (see RefuseOtherRoute).
            if (!TryInvoke(ct => Engine.Postgres.DescribeRouteAsync(spec, ct), out var givenRoute, spec.ToString())) return;
            if (RefuseOtherRoute(routed, pipedRoute, givenRoute, spec, $"Table {Table?.FirstOrDefault()} on {target}", "Get-PgIndex",
                    "the table name means another table there, and nothing was run")) return;
        }
        IEnumerable<string?> tables = Table is { Length: > 0 } ? Table.Select(Qualified) : [null];
        foreach (var table in tables)
        {
            var sql = PostgresService.MaintenanceSql(Operation, table);
            // Get-PgIndex | Invoke-PgMaintenance pipes one object per index: each table is processed once.
            if (Piped is not null && !_done.Add($"{target}\n{sql}"))
            {
                WriteVerbose($"Skipping {sql} on {target}: already run for an earlier piped index of the same table.");
                continue;
            }
            if (TryChange(table is null ? target : $"{table} on {target}", Operation.ToString(), sql,
                    ct => Engine.Postgres.RunMaintenanceAsync(spec, Operation, table, ct),
                    r => $"{r.Sql} took {r.Duration.TotalSeconds:0.0}s", out var result))
                WriteObject(result);
        }
    }

    /// <summary>
    /// A table bound from a piped PgIndex, with its schema: Get-PgIndex lists billing.orders as Schema billing, Table
    /// orders, and "orders" alone would be public.orders (the search_path's), another table.
    /// </summary>
    private string Qualified(string table)
    {
        if (_explicit.ContainsKey(nameof(Table)) || Piped is not { } input || table.Contains('.', StringComparison.Ordinal)) return table;
        return PipelineOrigin.Property(input, "Schema")?.ToString() is { Length: > 0 } schema ? $"{schema}.{table}" : table;
    }
}
