using System.Management.Automation;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Changes how many instances an app runs, or their size.</summary>
/// <remarks>
/// Fly: flyctl scale count / scale vm. Kubernetes: kubectl scale --replicas. DigitalOcean: instance_count and
/// instance_size_slug through an app spec update (doctl apps spec get, then doctl apps update --spec -).
/// systemd units cannot be scaled and give PlatformOperationNotSupported.
///
/// -Count 0 stops every instance (seed 001's "scale count 0" security action): the app serves nothing until it is
/// scaled up again. It is confirmed as a high-impact change, as Restart-App and Invoke-Rollback are: it asks even at
/// the default $ConfirmPreference (High), unless -Force, -Confirm:$false or -WhatIf decides. Other counts and sizes are
/// medium impact and ask only when $ConfirmPreference is Medium or lower.
/// </remarks>
/// <example>
/// <code>Set-AppScale -Platform Fly -App ai-affiliate-empire -Count 3 -Size shared-cpu-2x</code>
/// <para>Scales the Fly.io app to three machines of a larger size.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "AppScale", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AppActionResult))]
public sealed class SetAppScaleCommand : AppCmdlet, IForceSwitch
{
    /// <summary>Number of instances (machines, replicas, instance_count). 0 stops every instance and asks for confirmation first (as a high-impact change) unless -Force or -Confirm:$false is given.</summary>
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

    private bool _yesToAll, _noToAll;

    protected override void ProcessRecord()
    {
        if (Count is null && Size is null) ThrowInputError(PlatformErrorIds.ScaleNothingGiven, "Pass -Count, -Size or both.", null);
        foreach (var (target, adapter) in Targets())
        {
            if (!TryPlan(() => Engine.Platforms.PlanScale(adapter, Count, Size), target, out var change)) continue;
            if (Count == 0 && !ConfirmScaleToZero(target.ToString(), change)) continue;
            if (TryChange(target.ToString(), "Scale", string.Join("; ", change.Commands),
                    ct => Engine.Platforms.RunChangeAsync(adapter, "Scale", change, false, Timeout, ct),
                    r => $"scaled{(Count is null ? "" : " to " + Count)}{(Size is null ? "" : " size " + Size)}: {string.Join("; ", r.Commands)}", out var result))
                WriteApp(result, target);
        }
    }

    /// <summary>
    /// The cmdlet's ConfirmImpact is Medium, below the default $ConfirmPreference, so ShouldProcess alone would scale a
    /// production app to zero without a word. Ask here, as for a High-impact cmdlet: unless -Force, -WhatIf or -Confirm
    /// (either way) decides, $ConfirmPreference is None, or ShouldProcess is going to ask anyway (Medium or lower).
    /// </summary>
    private bool ConfirmScaleToZero(string target, PlannedChange change)
    {
        if (Force || IsWhatIf || MyInvocation.BoundParameters.ContainsKey(nameof(System.Management.Automation.Internal.ShouldProcessParameters.Confirm))) return true;
        var preference = LanguagePrimitives.TryConvertTo<ConfirmImpact>(SessionState.PSVariable.GetValue("ConfirmPreference"), out var p) ? p : ConfirmImpact.High;
        if (preference <= ConfirmImpact.Medium) return true;
        return ShouldContinue(SecretRedactor.Redact($"Scale {target} to 0 instances? This stops every instance: the app serves nothing until it is scaled up again.{System.Environment.NewLine}{string.Join("; ", change.Commands)}"),
            "Confirm", ref _yesToAll, ref _noToAll);
    }
}
