using System.Reflection;
using System.Runtime.Loader;

namespace IncidentOps.Infrastructure;

/// <summary>
/// The module's private load context. The engine and every third-party assembly under Dependencies/
/// load here, so a session that already loaded another YamlDotNet or Npgsql (powershell-yaml, SimplySql)
/// does not clash with ours.
/// </summary>
internal sealed class ModuleLoadContext : AssemblyLoadContext
{
    private static readonly Lazy<Dictionary<string, string>> PlatformAssemblies = new(ReadPlatformAssemblies);
    private readonly string _dependencyDirectory;
    private readonly Assembly _models;
    private readonly Dictionary<string, Version?> _platformVersions = new(StringComparer.OrdinalIgnoreCase);

    public ModuleLoadContext(string dependencyDirectory) : base("IncidentOps", isCollectible: false)
    {
        _dependencyDirectory = dependencyDirectory;
        _models = typeof(IncidentOpsException).Assembly;
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var name = assemblyName.Name;
        if (name is null) return null;
        // Shared types: the engine must see the very Models assembly the cmdlets use.
        if (name == _models.GetName().Name) return _models;
        // Whatever the host framework already has at the same or a higher version is shared with it
        // (System.*, and SMA if anything asks). Checked lazily and cached: this dominates import time.
        if (IsProvidedByPlatform(assemblyName)) return null;
        var path = Path.Combine(_dependencyDirectory, name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = Path.Combine(_dependencyDirectory, unmanagedDllName);
        return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }

    private bool IsProvidedByPlatform(AssemblyName requested)
    {
        Version? available;
        lock (_platformVersions)
        {
            if (!_platformVersions.TryGetValue(requested.Name!, out available))
            {
                available = PlatformAssemblies.Value.TryGetValue(requested.Name!, out var path) ? SafeVersion(path) : null;
                _platformVersions[requested.Name!] = available;
            }
        }
        return available is not null && (requested.Version is null || available >= requested.Version);
    }

    private static Version? SafeVersion(string path)
    {
        try { return AssemblyName.GetAssemblyName(path).Version; }
        catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or IOException) { return null; }
    }

    private static Dictionary<string, string> ReadPlatformAssemblies()
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
            foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                result.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        return result;
    }
}
