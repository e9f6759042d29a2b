using System.Management.Automation;

namespace IncidentOps.Commands;

// The parameters the cmdlet bases share, and the typed marks (IForceSwitch, IRecordSwitch) through which the base
// reads -Force and -Record (never by name). PowerShell binds the public instance properties that carry [Parameter]
// on the member itself (inherited properties count; interface members do not, and attributes are read with
// inherit: false), and C# has one base class, so -Record is declared once per family of read cmdlets (here, and on
// PgReadCmdlet, RedisReadCmdlet, AppReadCmdlet, AppDatabaseReadCmdlet); every declaration implements IRecordSwitch.

/// <summary>A cmdlet with a -Force switch (it skips the confirmation prompt, never -WhatIf).</summary>
internal interface IForceSwitch
{
    SwitchParameter Force { get; }
}

/// <summary>A read-only cmdlet with a -Record switch (what it read goes on the incident's timeline).</summary>
internal interface IRecordSwitch
{
    SwitchParameter Record { get; }
}

/// <summary>A cmdlet that reads incidentops.yml (-ConfigPath).</summary>
public abstract class ConfiguredCmdlet : IncidentOpsCmdlet
{
    /// <summary>Path of the incidentops.yml to use. When omitted: $env:INCIDENTOPS_CONFIG, ./incidentops.yml, then ~/.config/incidentops/config.yml.</summary>
    [Parameter]
    public string? ConfigPath { get; set; }

    protected override string? ConfigPathValue => ConfigPath;
}

/// <summary>A cmdlet whose actions are recorded on an incident's timeline (-Incident).</summary>
public abstract class IncidentActionCmdlet : ConfiguredCmdlet
{
    /// <summary>Incident id (INC-20261122-001) whose timeline records this command: every change it makes, and what it read when -Record is given. Defaults to the active incident; when no incident is active nothing is recorded.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    protected override string? TimelineIncidentId => Incident;
}

/// <summary>A read-only cmdlet that records what it read on the incident's timeline when asked with -Record.</summary>
public abstract class IncidentReadCmdlet : IncidentActionCmdlet, IRecordSwitch
{
    /// <summary>Also record what this cmdlet read (target and a short result) on the incident's timeline (the active incident, or -Incident). Without it, reads are not recorded.</summary>
    [Parameter]
    public SwitchParameter Record { get; set; }
}
