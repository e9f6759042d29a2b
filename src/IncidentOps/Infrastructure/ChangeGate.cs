using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Internal;
using IncidentOps.Engine;
using IncidentOps.Engine.Tunnels;

namespace IncidentOps.Commands;

/// <summary>
/// ShouldProcess for state changes: -WhatIf prints the exact SQL, command line or request (secrets masked), -Force
/// skips the confirmation prompt (never -WhatIf), and time at the prompt does not count against the target's deadline.
/// </summary>
internal sealed class ChangeGate(PSCmdlet cmdlet, TargetDeadline deadline)
{
    /// <summary>What was asked and what the answer was; the texts are the ones shown (and recorded under -WhatIf).</summary>
    public readonly record struct Decision(bool Approved, string Target, string? Detail, string Description);

    /// <summary>True when -WhatIf is in force for this call (given, or $WhatIfPreference).</summary>
    public bool IsWhatIf =>
        (cmdlet.MyInvocation.BoundParameters.TryGetValue(nameof(ShouldProcessParameters.WhatIf), out var w) && w is SwitchParameter { IsPresent: true })
        || (!cmdlet.MyInvocation.BoundParameters.ContainsKey(nameof(ShouldProcessParameters.WhatIf)) && LanguagePrimitives.IsTrue(cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference")));

    /// <summary>True when the cmdlet has a -Force switch and the caller set it.</summary>
    public bool IsForced => cmdlet is IForceSwitch { Force.IsPresent: true };

    /// <summary>Asks (or, with -Force, tells) about one change; <paramref name="tunnel"/> is the tunnel a database change goes through.</summary>
    public Decision Ask(string target, string action, string? detail, TunnelSpec? tunnel)
    {
        target = SecretRedactor.Redact(target);
        // A change to a database behind a tunnel says which tunnel it goes through (-WhatIf, the prompt, the record).
        if (tunnel is not null) detail = (detail is null ? "" : detail + "; ") + "through the tunnel " + TunnelLeases.WouldOpen(tunnel);
        detail = detail is null ? null : SecretRedactor.Redact(detail);
        var description = detail is null ? $"{action} {target}" : $"{action} {target}: {detail}";
        bool ok;
        if (IsForced && !IsWhatIf)
        {
            cmdlet.WriteVerbose($"-Force: {description}");
            ok = true;
        }
        else
        {
            var asked = Stopwatch.GetTimestamp();
            ok = cmdlet.ShouldProcess(description, $"{action} {target}?{(detail is null ? "" : Environment.NewLine + detail)}", "Confirm");
            // The deadline is for the work on the target, not for the person reading the prompt.
            deadline.ExcludeSince(asked);
        }
        return new Decision(ok, target, detail, description);
    }
}
