using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Restarts an app.</summary>
/// <remarks>
/// Fly: flyctl apps restart (or machine restart with -Pod). DigitalOcean: doctl apps create-deployment
/// --force-rebuild. Kubernetes: kubectl rollout restart (or -Pod deletes one pod). systemd: systemctl restart.
/// -Wait waits until the app is healthy again or -TimeoutSec passes: a configured service's health checks run through
/// the health engine; without health endpoints the platform status decides. -WhatIf prints the exact command line; the
/// restart is recorded on the active incident's timeline.
/// </remarks>
/// <example>
/// <code>Restart-App -Platform Kubernetes -Deployment marketing -Namespace akaind-platform -Wait -Force</code>
/// <para>Restarts the deployment's pods and waits for the rollout.</para>
/// </example>
/// <example>
/// <code>Restart-App -Service production/api -WhatIf</code>
/// <para>Shows the flyctl command that would run.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Restart, "App", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(AppActionResult))]
public sealed class RestartAppCommand : AppCmdlet, IForceSwitch
{
    /// <summary>Restart one instance only: a Kubernetes pod (deleted so its ReplicaSet replaces it) or a Fly machine id.</summary>
    [Parameter]
    [Alias("Machine", "Instance")]
    [ArgumentCompleter(typeof(AppInstanceCompleter))]
    public string? Pod { get; set; }

    /// <summary>Wait until the app is healthy again (its configured health checks pass, or without any its platform status is Healthy) or -TimeoutSec passes.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Restart without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
        {
            if (!TryPlan(() => Engine.Platforms.PlanRestart(adapter, Pod, Wait), target, out var change)) continue;
            if (TryChange(target.ToString(), "Restart", string.Join("; ", change.Commands),
                    ct => Engine.Platforms.RunChangeAsync(adapter, "Restart", change, Wait, Timeout, ct),
                    RestartSummary,
                    out var result, r => r.Succeeded))
                WriteApp(result, target);
        }
    }
}
