using System.Management.Automation;
using IncidentOps.Config;

namespace IncidentOps.Commands;

/// <summary>Gets the effective IncidentOps configuration, with every secret masked.</summary>
/// <remarks>
/// Loads incidentops.yml (from -Path, $env:INCIDENTOPS_CONFIG, ./incidentops.yml or
/// ~/.config/incidentops/config.yml, in that order) and returns the effective configuration: environments
/// and services, severities (the seeds' P0–P3 matrix when the file defines none), notification channels,
/// routing and the incident store. Values read through env:, file: or secret: references are shown as the
/// reference, and literal webhook URLs, routing keys, API keys and passwords are shown masked. A file with
/// errors stops the cmdlet with ConfigInvalid, listing every error with its file, line and column.
/// </remarks>
/// <example>
/// <code>Get-IncidentOpsConfig -Path ./incidentops.yml</code>
/// <para>Shows the configuration in ./incidentops.yml.</para>
/// </example>
/// <example>
/// <code>(Get-IncidentOpsConfig).Severities</code>
/// <para>Lists the severity matrix in force.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentOpsConfig")]
[OutputType(typeof(IncidentOpsConfig))]
public sealed class GetIncidentOpsConfigCommand : IncidentOpsCmdlet
{
    /// <summary>Path of the configuration file. When omitted: $env:INCIDENTOPS_CONFIG, ./incidentops.yml, then ~/.config/incidentops/config.yml.</summary>
    [Parameter(Position = 0)]
    [Alias("PSPath", "ConfigPath")]
    public string? Path { get; set; }

    protected override string? ConfigPathValue => Path;

    protected override void EndProcessing()
    {
        WriteObject(Config);
        base.EndProcessing();
    }
}
