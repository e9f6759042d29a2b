using System.Management.Automation;

namespace IncidentOps.Commands;

/// <summary>Base of the read-only Redis cmdlets: the connection parameters plus -Record and -Incident (what was read goes on the incident's timeline).</summary>
public abstract class RedisReadCmdlet : RedisCmdlet
{
    /// <summary>Incident id (INC-20261122-001) to record what was read on, with -Record. Defaults to the active incident.</summary>
    [Parameter]
    public string? Incident { get; set; }

    /// <summary>Also record what this cmdlet read (target and a short result) on the incident's timeline (the active incident, or -Incident). Without it, reads are not recorded.</summary>
    [Parameter]
    public SwitchParameter Record { get; set; }

    protected override string? TimelineIncidentId => Incident;
}
