using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Restarts a Fly Postgres cluster, member by member.</summary>
/// <remarks>
/// Replaces the seed's 'flyctl postgres restart --app ai-affiliate-empire-db': flyctl restarts the replicas,
/// then the primary, waiting for their health checks. -Wait then polls Get-AppDatabase until the cluster is
/// Healthy or -TimeoutSec passes (StateAfter reports it). DigitalOcean managed databases have no restart (not in
/// doctl, not in the API): the cmdlet says so with PlatformOperationNotSupported and what to do instead.
/// ConfirmImpact is High; -WhatIf prints the exact flyctl command and runs nothing; the restart is recorded on
/// the active incident's timeline.
/// </remarks>
/// <example>
/// <code>Restart-AppDatabase -Platform Fly -DatabaseApp ai-affiliate-empire-db -Wait -TimeoutSec 300 -Force</code>
/// <para>Restarts the cluster and waits until it is healthy again.</para>
/// </example>
/// <example>
/// <code>Restart-AppDatabase -Platform Aws -DatabaseId fastapi-db -Failover -Wait -TimeoutSec 600 -Force</code>
/// <para>Reboots the RDS instance by failing over to its Multi-AZ standby, then waits until it is available.</para>
/// </example>
/// <example>
/// <code>Restart-AppDatabase -Service production/api -WhatIf</code>
/// <para>Shows the flyctl command that would run for the service's configured Fly Postgres app.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Restart, "AppDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(AppActionResult))]
public sealed class RestartAppDatabaseCommand : AppDatabaseCmdlet, IForceSwitch
{
    /// <summary>Wait until the database is healthy again (or -TimeoutSec passes).</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>AWS RDS: reboot by failing over to the Multi-AZ standby (aws rds reboot-db-instance --force-failover). Other platforms refuse it.</summary>
    [Parameter]
    public SwitchParameter Failover { get; set; }

    /// <summary>Restart without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
        {
            if (!TryPlan(() => Engine.AppDatabases.PlanRestart(adapter, Failover), target, out var change)) continue;
            if (TryChange(target.ToString(), "Restart", string.Join("; ", change.Commands),
                    ct => Engine.AppDatabases.RestartAsync(adapter, change, Wait, Timeout, ct),
                    RestartSummary,
                    out var result, r => r.Succeeded))
                WriteObject(result);
        }
    }
}
