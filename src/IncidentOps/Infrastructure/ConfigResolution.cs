using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;

namespace IncidentOps.Commands;

/// <summary>
/// Config resolution for a cmdlet: which incidentops.yml (an explicit path against the current PowerShell location,
/// or the default search), loaded once per invocation, and service names resolved through it.
/// </summary>
internal sealed class ConfigResolution(PSCmdlet cmdlet, Func<IncidentOpsEngine> engine, Func<string?> explicitPath)
{
    private IncidentOpsConfig? _config;

    /// <summary>The current PowerShell location as a file-system path (for ./incidentops.yml and relative paths).</summary>
    public string CurrentDirectory
    {
        get
        {
            try { return cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath; }
            catch (Exception ex) when (ex is PSInvalidOperationException or NullReferenceException) { return Directory.GetCurrentDirectory(); }
        }
    }

    /// <summary>Resolves a user-supplied path against the current PowerShell location.</summary>
    public string ResolvePath(string path) => cmdlet.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>Loads the configuration (no caching); throws IncidentOpsException when it has errors.</summary>
    public IncidentOpsConfig LoadOrThrow() =>
        engine().Config.LoadOrThrow(explicitPath() is { } p ? ResolvePath(p) : null, CurrentDirectory);

    /// <summary>The loaded configuration; a configuration with errors stops the cmdlet with ConfigInvalid.</summary>
    public IncidentOpsConfig Config => _config ??= LoadOrTerminate();

    private IncidentOpsConfig LoadOrTerminate()
    {
        try { return LoadOrThrow(); }
        catch (IncidentOpsException ex)
        {
            cmdlet.ThrowTerminatingError(ErrorRecords.From(ex, explicitPath()));
            throw; // unreachable
        }
    }

    /// <summary>Resolves service names ("env/name", or name alone when unambiguous; wildcards allowed) through the configuration.</summary>
    public IReadOnlyList<ServiceTarget> ResolveServices(string? environment, IEnumerable<string> names)
    {
        var result = new List<ServiceTarget>();
        foreach (var name in names)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                var found = ConfigService.FindServices(Config, environment, name);
                if (found.Count == 0)
                    cmdlet.WriteError(ErrorRecords.From(new IncidentOpsException(ConfigErrorIds.ServiceNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                        $"No service matches '{name}' in {Config.Path ?? "the configuration"}.") { TargetObject = name }, name));
                result.AddRange(found);
                continue;
            }
            try { result.Add(ConfigService.ResolveService(Config, environment, name)); }
            catch (IncidentOpsException ex) { cmdlet.WriteError(ErrorRecords.From(ex, name)); }
        }
        return result;
    }
}
