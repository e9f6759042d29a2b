using System.Management.Automation;
using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>Runs VACUUM, ANALYZE or VACUUM ANALYZE on a PostgreSQL database or listed tables.</summary>
/// <remarks>
/// Replaces the seed's "VACUUM ANALYZE" in psql. Each statement runs outside a transaction (VACUUM cannot
/// run inside one), with a progress record while it runs and ShouldProcess before it starts: -WhatIf
/// prints the exact statement. Without -Table the whole database is processed. The statement timeout
/// does not apply to maintenance; Ctrl+C cancels it. With an active incident each run is written to its timeline.
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
public sealed class InvokePgMaintenanceCommand : PgCmdlet, IForceSwitch
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

    protected override void ProcessRecord() => Run();

    private void Run()
    {
        if (!TryResolveSpec(out var spec)) return;
        if (!TryDescribeTarget(spec, out var target)) return;
        IEnumerable<string?> tables = Table is { Length: > 0 } ? Table : [null];
        foreach (var table in tables)
        {
            var sql = PostgresService.MaintenanceSql(Operation, table);
            if (TryChange(table is null ? target : $"{table} on {target}", Operation.ToString(), sql,
                    ct => Engine.Postgres.RunMaintenanceAsync(spec, Operation, table, ct),
                    r => $"{r.Sql} took {r.Duration.TotalSeconds:0.0}s", out var result))
                WriteObject(result);
        }
    }
}
