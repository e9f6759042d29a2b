using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine.Config;

namespace IncidentOps.Commands;

/// <summary>Gets the services described in the IncidentOps configuration.</summary>
/// <remarks>
/// Returns one ServiceTarget per configured service: its environment, platform target (Fly.io app,
/// DigitalOcean app id, Kubernetes context/namespace/deployment or systemd unit and host), health
/// endpoints, and PostgreSQL and Redis connections (shown as references, never resolved secrets). The
/// objects bind by property name into the cmdlets that act on services, so they start pipelines such as
/// Get-IncidentOpsService -Environment production | Test-ServiceHealth.
/// </remarks>
/// <example>
/// <code>Get-IncidentOpsService -Path examples/incidentops.yml -Environment production</code>
/// <para>Lists every production service of the example configuration.</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService -Name 'port*'</code>
/// <para>Lists the services whose name starts with "port", in every environment.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentOpsService")]
[OutputType(typeof(ServiceTarget))]
public sealed class GetIncidentOpsServiceCommand : IncidentOpsCmdlet
{
    /// <summary>Service names to return; wildcards allowed, and "environment/service" addresses one service. Defaults to all.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Service")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Environment to return services from (wildcards allowed). Defaults to all environments.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Path of the configuration file. When omitted: $env:INCIDENTOPS_CONFIG, ./incidentops.yml, then ~/.config/incidentops/config.yml.</summary>
    [Parameter]
    [Alias("PSPath", "ConfigPath")]
    public string? Path { get; set; }

    protected override string? ConfigPathValue => Path;

    protected override void ProcessRecord()
    {
        var names = Name is { Length: > 0 } ? Name : ["*"];
        foreach (var name in names)
        {
            IReadOnlyList<ServiceTarget> found;
            try { found = ConfigService.FindServices(Config, Environment, name); }
            catch (IncidentOpsException ex)
            {
                WriteError(ToErrorRecord(ex, name));
                continue;
            }
            if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteInputError(ConfigErrorIds.ServiceNotFound, ConfigService.ServiceNotFoundMessage(Config, Environment, name), name, IncidentOpsErrorCategory.ObjectNotFound);
                continue;
            }
            foreach (var service in found) WriteObject(service);
        }
    }
}
