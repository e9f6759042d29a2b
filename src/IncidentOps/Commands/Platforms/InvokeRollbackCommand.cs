using System.Management.Automation;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Rolls an app back to its previous successful release.</summary>
/// <remarks>
/// Picks the newest release older than the current one that succeeded (failed releases are skipped), or
/// -ToVersion. Fly: flyctl deploy --image with that release's ImageRef (Fly has no rollback command; database
/// migrations are not undone). DigitalOcean: the App Platform rollback API (validate first; the app stays pinned
/// until committed or reverted). Kubernetes: kubectl rollout undo --to-revision, then rollout status with a
/// timeout. systemd: the releases directory's 'current' symlink is repointed atomically, then the unit restarts.
/// -WhatIf prints from -> to and the exact commands or requests. -VerifyHealth polls the app until healthy or
/// -TimeoutSec. The result (From, To, Succeeded, HealthyAfter, Duration, Steps) is recorded on the incident timeline.
/// </remarks>
/// <example>
/// <code>Invoke-Rollback -Service production/api -WhatIf</code>
/// <para>Shows which release the Fly.io app would go back to and the flyctl command.</para>
/// </example>
/// <example>
/// <code>Invoke-Rollback -Platform Kubernetes -Deployment marketing -Namespace akaind-platform -VerifyHealth -TimeoutSec 300 -Force</code>
/// <para>Undoes the last rollout and waits until the deployment is healthy.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "Rollback", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RollbackResult))]
public sealed class InvokeRollbackCommand : AppCmdlet
{
    /// <summary>Release to go back to (Fly v12 or 12, a DigitalOcean deployment id, a Kubernetes revision, a systemd release directory name).</summary>
    [Parameter]
    public string? ToVersion { get; set; }

    /// <summary>After the rollback, poll the app until it is healthy or -TimeoutSec passes; HealthyAfter reports the outcome.</summary>
    [Parameter]
    public SwitchParameter VerifyHealth { get; set; }

    /// <summary>Roll back without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
        {
            if (!TryInvoke(ct => adapter.PrepareRollbackAsync(ToVersion, ct), out PreparedRollback prepared, target.ToString())) continue;
            var plan = prepared.Plan;
            var detail = $"{plan.From ?? "(none)"} -> {plan.To}{(plan.ToImage is null ? "" : " (" + plan.ToImage + ")")}: {string.Join("; ", plan.Commands)}";
            if (IsWhatIf) foreach (var w in plan.Warnings) WriteWarning(w);
            if (TryChange(target.ToString(), "Rollback", detail,
                    ct => Engine.Platforms.RollbackAsync(adapter, prepared, VerifyHealth, Timeout, ct),
                    r => $"{r.From} -> {r.To} {(r.Succeeded ? "succeeded" : "failed")}{(r.HealthyAfter is null ? "" : r.HealthyAfter.Value ? ", healthy" : ", NOT healthy")} in {r.Duration.TotalSeconds:0.#} s: {string.Join("; ", r.Steps)}",
                    out var result, r => r.Succeeded))
                WriteObject(result);
        }
    }
}
