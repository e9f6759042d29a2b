using System.Management.Automation;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Changes how many instances an app runs, or their size.</summary>
/// <remarks>
/// Fly: flyctl scale count / scale vm. Kubernetes: kubectl scale --replicas. DigitalOcean: instance_count and
/// instance_size_slug through an app spec update (doctl apps spec get, then doctl apps update --spec -).
/// systemd units cannot be scaled and give PlatformOperationNotSupported.
/// </remarks>
/// <example>
/// <code>Set-AppScale -Platform Fly -App ai-affiliate-empire -Count 3 -Size shared-cpu-2x</code>
/// <para>Scales the Fly.io app to three machines of a larger size.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "AppScale", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AppActionResult))]
public sealed class SetAppScaleCommand : AppCmdlet, IForceSwitch
{
    /// <summary>Number of instances (machines, replicas, instance_count).</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    [ArgumentCompleter(typeof(SuggestedValueCompleter))]
    public int? Count { get; set; }

    /// <summary>Instance size: a Fly VM size (shared-cpu-2x) or a DigitalOcean instance_size_slug.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(AppSizeCompleter))]
    public string? Size { get; set; }

    /// <summary>Scale without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        if (Count is null && Size is null) ThrowInputError(PlatformErrorIds.ScaleNothingGiven, "Pass -Count, -Size or both.", null);
        foreach (var (target, adapter) in Targets())
        {
            if (!TryPlan(() => Engine.Platforms.PlanScale(adapter, Count, Size), target, out var change)) continue;
            if (TryChange(target.ToString(), "Scale", string.Join("; ", change.Commands),
                    ct => Engine.Platforms.RunChangeAsync(adapter, "Scale", change, false, Timeout, ct),
                    r => $"scaled{(Count is null ? "" : " to " + Count)}{(Size is null ? "" : " size " + Size)}: {string.Join("; ", r.Commands)}", out var result))
                WriteApp(result, target);
        }
    }
}
