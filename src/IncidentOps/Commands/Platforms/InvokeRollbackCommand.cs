using System.Management.Automation;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Rolls an app back to its previous successful release, or commits or reverts a DigitalOcean rollback.</summary>
/// <remarks>
/// Picks the newest release older than the current one that succeeded (failed releases are skipped), or
/// -ToVersion. Fly: flyctl deploy --image with that release's ImageRef (Fly has no rollback command; database
/// migrations are not undone). DigitalOcean: the App Platform rollback API (validate first). The app then stays
/// pinned to the rolled-back deployment (no new deployments, no auto-deploy on push) until the rollback is committed
/// with -Commit (POST /v2/apps/{id}/rollback/commit: keep it and unpin) or reverted with -Revert
/// (POST /v2/apps/{id}/rollback/revert: redeploy the spec from before the rollback and unpin). These DigitalOcean
/// requests go to the API directly, not through doctl: they need a token, from the environment variable
/// DIGITALOCEAN_ACCESS_TOKEN or else the access-token that 'doctl auth init' saved in doctl's config.yaml (without
/// either they fail with PlatformAuthMissing before anything is sent), and they go to DIGITALOCEAN_API_URL when that
/// is set (default https://api.digitalocean.com/; for a proxy or a test stand-in). -WhatIf needs no token. Kubernetes: what kubectl
/// rollout undo sends (the revision's pod template, and a Deployment's change-cause), as one kubectl patch --type=json whose
/// first operation tests metadata.generation, so the API server refuses it when the workload's spec was written after
/// the plan was read (RollbackTargetMoved: a deploy, restart, scale or rollback landed in between; nothing changed);
/// then rollout status with a timeout. systemd: the releases directory's 'current'
/// symlink is repointed atomically, then the unit restarts; with -ComputerName both run over ssh -o BatchMode=yes
/// (ln -sfn to a temporary link, then mv -Tf over 'current'), every remote argument single-quoted; the swap itself
/// checks, on the host and right before the rename, that 'current' still names the confirmed release (else
/// RollbackCurrentChanged: nothing swapped, nothing restarted).
/// -WhatIf prints from -> to and the exact commands or requests. After the confirmation the history is read once more:
/// when the current release is no longer the plan's 'from' (a deploy, a restart into a new revision or a colleague's
/// rollback landed meanwhile), the rollback stops with RollbackCurrentChanged and nothing is changed. -VerifyHealth then runs the configured service's
/// health checks (health: in incidentops.yml) through the health engine until they all pass or -TimeoutSec passes;
/// a service without health endpoints falls back to the platform status (Get-AppStatus), which -Verbose says.
/// The result (From, To, Succeeded, HealthyAfter, Duration, Steps) is recorded on the incident timeline.
/// </remarks>
/// <example>
/// <code>Invoke-Rollback -Service production/api -WhatIf</code>
/// <para>Shows which release the Fly.io app would go back to and the flyctl command.</para>
/// </example>
/// <example>
/// <code>Invoke-Rollback -Platform Kubernetes -Deployment marketing -Namespace akaind-platform -VerifyHealth -TimeoutSec 300 -Force</code>
/// <para>Undoes the last rollout and waits until the deployment is healthy.</para>
/// </example>
/// <example>
/// <code>Invoke-Rollback -Service production/portfolio -Commit -Force</code>
/// <para>Keeps a DigitalOcean rollback that proved healthy and unpins the app so deployments resume.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "Rollback", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = RollbackSet)]
[OutputType(typeof(RollbackResult), ParameterSetName = [RollbackSet])]
[OutputType(typeof(AppActionResult), ParameterSetName = [CommitSet, RevertSet])]
public sealed class InvokeRollbackCommand : AppCmdlet, IForceSwitch
{
    private const string RollbackSet = "Rollback";
    private const string CommitSet = "Commit";
    private const string RevertSet = "Revert";

    /// <summary>Release to go back to (Fly v12 or 12, a DigitalOcean deployment id, a Kubernetes revision, a systemd release directory name). Tab completes from the deployment history.</summary>
    [Parameter(ParameterSetName = RollbackSet)]
    [ArgumentCompleter(typeof(RollbackVersionCompleter))]
    public string? ToVersion { get; set; }

    /// <summary>After the rollback, run the service's configured health checks (or, without any, poll the platform status) until healthy or -TimeoutSec passes; HealthyAfter reports the outcome.</summary>
    [Parameter(ParameterSetName = RollbackSet)]
    public SwitchParameter VerifyHealth { get; set; }

    /// <summary>DigitalOcean: keep the pinned rollback deployment and unpin the app (POST /v2/apps/{id}/rollback/commit; needs $env:DIGITALOCEAN_ACCESS_TOKEN or a doctl login, and goes to $env:DIGITALOCEAN_API_URL when set).</summary>
    [Parameter(Mandatory = true, ParameterSetName = CommitSet)]
    public SwitchParameter Commit { get; set; }

    /// <summary>DigitalOcean: undo the pinned rollback by redeploying the spec from before it and unpin the app (POST /v2/apps/{id}/rollback/revert; needs $env:DIGITALOCEAN_ACCESS_TOKEN or a doctl login, and goes to $env:DIGITALOCEAN_API_URL when set).</summary>
    [Parameter(Mandatory = true, ParameterSetName = RevertSet)]
    public SwitchParameter Revert { get; set; }

    /// <summary>Roll back (or commit or revert) without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
        {
            StartTargetDeadline();
            if (ParameterSetName != RollbackSet)
            {
                FinishRollback(target, adapter, Commit.IsPresent);
                continue;
            }
            if (!TryInvoke(ct => Engine.Platforms.PrepareRollbackAsync(adapter, ToVersion, ct), out PreparedRollback prepared, target.ToString())) continue;
            foreach (var w in RollbackChoice.WarningsBefore(prepared.Plan, IsWhatIf)) WriteWarning(w);
            if (TryChange(target.ToString(), "Rollback", RollbackChoice.Describe(prepared.Plan),
                    ct => Engine.Platforms.RollbackAsync(adapter, prepared, VerifyHealth, Timeout, ct),
                    RollbackChoice.Summary,
                    out var result, r => r.Succeeded))
                WriteApp(result, target);
        }
    }

    private void FinishRollback(AppTarget target, Engine.Platforms.IPlatformAdapter adapter, bool commit)
    {
        var action = commit ? "Commit rollback" : "Revert rollback";
        if (!TryPlan(() => Engine.Platforms.PlanFinishRollback(adapter, commit), target, out var change)) return;
        if (TryChange(target.ToString(), action, string.Join("; ", change.Commands),
                ct => Engine.Platforms.RunChangeAsync(adapter, action, change, false, Timeout, ct),
                r => $"{r.Output}: {string.Join("; ", r.Commands)}", out var result))
            WriteApp(result, target);
    }
}
