using System.Management.Automation;

namespace IncidentOps.Commands;

/// <summary>Base of the read-only App cmdlets: the App targets plus -Record (what was read goes on the incident's timeline).</summary>
public abstract class AppReadCmdlet : AppCmdlet, IRecordSwitch
{
    /// <summary>Also record what this cmdlet read (target and a short result) on the incident's timeline (the active incident, or -Incident). Without it, reads are not recorded.</summary>
    [Parameter]
    public SwitchParameter Record { get; set; }
}
