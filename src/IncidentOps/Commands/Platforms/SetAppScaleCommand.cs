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
/// -Count first reads how many instances run now (flyctl status, doctl apps get, kubectl get; within -TimeoutSec), so the
/// prompt, the -WhatIf line and the timeline say what changes: "Scale Fly app ai-affiliate-empire: from 10 to 1 instances". Counts are
/// medium impact and run at the default $ConfirmPreference (High) without a question, except a large scale-in, which is
/// confirmed as a high-impact change (as Restart-App and Invoke-Rollback are): -Count 0 (seed 001's "scale count 0"
/// security action: the app serves nothing until it is scaled up again), a count below half of the current one (10 to 4),
/// or any count when the current one cannot be read (the question says why). It asks unless -Force, -Confirm:$false or
/// -WhatIf decides. Sizes are medium impact and ask only when $ConfirmPreference is Medium or lower.
/// </remarks>
/// <example>
/// <code>Set-AppScale -Platform Fly -App ai-affiliate-empire -Count 3 -Size shared-cpu-2x</code>
/// <para>Scales the Fly.io app to three machines of a larger size.</para>
/// </example>
/// <example>
/// <code>Set-AppScale -Service production/api -Count 1 -WhatIf</code>
/// <para>Shows the change with the count it starts from, without making it: What if: Scale Fly app ai-affiliate-empire: from 10 to 1 instances: flyctl scale count 1 -a ai-affiliate-empire --yes (for the Fly app of production/api). Without -WhatIf this asks first, as 1 is less than half of 10.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "AppScale", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AppActionResult))]
public sealed class SetAppScaleCommand : AppCmdlet, IForceSwitch
{
    /// <summary>Number of instances (machines, replicas, instance_count). The current count is read first and shown as "from N to M" in the prompt, -WhatIf and the timeline. 0 (every instance stops), a count below half of the current one, or a count when the current one cannot be read asks for confirmation first (as a high-impact change) unless -Force or -Confirm:$false is given.</summary>
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
            var commands = string.Join("; ", change.Commands);
            // The count it scales from, read before anything is asked or changed (also under -WhatIf: a read changes nothing).
            var reading = Count is null ? null : Invoke(ct => Engine.Platforms.ReadInstanceCountAsync(adapter, ct));
            if (Count is { } count && reading!.NeedsConfirmation(count) && !ConfirmScaleIn(target.ToString(), commands, reading, count)) continue;
            var detail = reading is null ? commands : $"{reading.FromTo(Count!.Value)}: {commands}";
            if (TryChange(target.ToString(), "Scale", detail,
                    ct => Engine.Platforms.RunChangeAsync(adapter, "Scale", change, false, Timeout, ct),
                    r => $"scaled{(reading is null ? "" : " " + reading.FromTo(Count!.Value))}{(Size is null ? "" : " size " + Size)}: {string.Join("; ", r.Commands)}", out var result))
                WriteApp(result, target);
        }
    }

    /// <summary>
    /// The cmdlet's ConfirmImpact is Medium, below the default $ConfirmPreference, so ShouldProcess alone would scale a
    /// production app from 10 instances to 1, or to 0, without a word. A large scale-in (<see cref="ScaleReading.NeedsConfirmation"/>)
    /// asks here, as for a High-impact cmdlet: unless -Force, -WhatIf or -Confirm (either way) decides, $ConfirmPreference is
    /// None, or ShouldProcess is going to ask anyway (Medium or lower).
    /// </summary>
    private bool ConfirmScaleIn(string target, string commands, ScaleReading reading, int count)
    {
        if (Force || IsWhatIf || MyInvocation.BoundParameters.ContainsKey(nameof(System.Management.Automation.Internal.ShouldProcessParameters.Confirm))) return true;
        var preference = LanguagePrimitives.TryConvertTo<ConfirmImpact>(SessionState.PSVariable.GetValue("ConfirmPreference"), out var p) ? p : ConfirmImpact.High;
        if (preference <= ConfirmImpact.Medium) return true;
        return ShouldContinue(SecretRedactor.Redact($"{reading.Question(target, count)}{System.Environment.NewLine}{commands}"), "Confirm", ref _yesToAll, ref _noToAll);
    }
}
