using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;

namespace IncidentOps.Commands;

/// <summary>
/// Config resolution for one cmdlet: the current PowerShell location, paths relative to it, the incidentops.yml in
/// force (loaded once; -ConfigPath when the cmdlet has it) and service names resolved through it.
/// </summary>
internal sealed class ConfigResolution(PSCmdlet cmdlet, Func<IncidentOpsEngine> engine, Func<string?> configPath)
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

    /// <summary>The loaded configuration (once per cmdlet); a configuration with errors stops the cmdlet with ConfigInvalid.</summary>
    public IncidentOpsConfig Config => _config ??= LoadOrTerminate();

    /// <summary>Loads the configuration afresh; throws the engine's error when it is invalid.</summary>
    public IncidentOpsConfig LoadOrThrow()
    {
        var config = engine().Config;
        var path = configPath();
        return config.LoadOrThrow(path is null ? null : ResolvePath(path), CurrentDirectory);
    }

    private IncidentOpsConfig LoadOrTerminate()
    {
        try
        {
            return LoadOrThrow();
        }
        catch (IncidentOpsException ex)
        {
            cmdlet.ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex, configPath()));
            throw; // unreachable
        }
    }

    /// <summary>Resolves service names ("env/name", or name alone when unambiguous; wildcards allowed); a name that matches nothing is a non-terminating error.</summary>
    public IReadOnlyList<ServiceTarget> ResolveServices(string? environment, IEnumerable<string> names)
    {
        var result = new List<ServiceTarget>();
        foreach (var name in names)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                IReadOnlyList<ServiceTarget> found;
                try { found = ConfigService.FindServices(Config, environment, name); }
                catch (IncidentOpsException ex) { cmdlet.WriteError(ErrorMapping.ToErrorRecord(ex, name)); continue; }
                if (found.Count == 0)
                    cmdlet.WriteError(ErrorMapping.ToErrorRecord(new IncidentOpsException(ConfigErrorIds.ServiceNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                        $"No service matches '{name}' in {Config.Path ?? "the configuration"}.") { TargetObject = name }, name));
                result.AddRange(found);
                continue;
            }
            try { result.Add(ConfigService.ResolveService(Config, environment, name)); }
            catch (IncidentOpsException ex) { cmdlet.WriteError(ErrorMapping.ToErrorRecord(ex, name)); }
        }
        return result;
    }
}
