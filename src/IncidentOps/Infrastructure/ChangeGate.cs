using System.Management.Automation;
using System.Management.Automation.Internal;

namespace IncidentOps.Commands;

/// <summary>A cmdlet with a -Force switch (it skips the confirmation prompt, never -WhatIf).</summary>
internal interface IForceSwitch
{
    SwitchParameter Force { get; }
}

/// <summary>
/// ShouldProcess for state changes: -WhatIf shows the exact SQL, command line or request (secrets masked), -Force
/// skips the prompt for scripts (never -WhatIf), and the time a person spends at the prompt is reported so it does
/// not count against the command's deadline.
/// </summary>
internal sealed class ChangeGate(PSCmdlet cmdlet)
{
    /// <summary>True when -WhatIf is in force for this call: given on the command line, or inherited through $WhatIfPreference.</summary>
    /// <remarks>
    /// PSCmdlet has no public view of its -WhatIf; ShouldProcess reports it only after asking, and -Force must know it
    /// before (so that -Force -WhatIf still only previews). The parameter's name comes from PowerShell's own
    /// ShouldProcessParameters, so it is checked by the compiler.
    /// </remarks>
    public bool WhatIf =>
        (cmdlet.MyInvocation.BoundParameters.TryGetValue(nameof(ShouldProcessParameters.WhatIf), out var w) && w is SwitchParameter { IsPresent: true })
        || (!cmdlet.MyInvocation.BoundParameters.ContainsKey(nameof(ShouldProcessParameters.WhatIf))
            && LanguagePrimitives.IsTrue(cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference")));

    /// <summary>True when the cmdlet has -Force and the caller set it.</summary>
    public bool Forced => cmdlet is IForceSwitch { Force.IsPresent: true };

    /// <summary>
    /// Asks (or, with -Force, does not) whether to make the change. <paramref name="prompted"/> receives the time spent
    /// at the prompt (Stopwatch ticks). Returns the answer; false under -WhatIf.
    /// </summary>
    public bool Confirm(string target, string action, string? detail, Action<long> prompted, out string description)
    {
        description = detail is null ? $"{action} {target}" : $"{action} {target}: {detail}";
        if (Forced && !WhatIf)
        {
            cmdlet.WriteVerbose($"-Force: {description}");
            return true;
        }
        var asked = System.Diagnostics.Stopwatch.GetTimestamp();
        var ok = cmdlet.ShouldProcess(description, $"{action} {target}?{(detail is null ? "" : Environment.NewLine + detail)}", "Confirm");
        prompted(System.Diagnostics.Stopwatch.GetTimestamp() - asked);
        return ok;
    }
}
