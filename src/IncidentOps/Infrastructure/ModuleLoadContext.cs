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
    private readonly string? _modelsName;
    private readonly Lazy<Dictionary<string, string>> _shipped;
    private readonly Dictionary<string, Version?> _platformVersions = new(StringComparer.OrdinalIgnoreCase);

    public ModuleLoadContext(string dependencyDirectory) : base("IncidentOps", isCollectible: false)
    {
        _dependencyDirectory = dependencyDirectory;
        _models = typeof(IncidentOpsException).Assembly;
        _modelsName = _models.GetName().Name;
        _shipped = new(() => ReadShipped(dependencyDirectory));
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var name = assemblyName.Name;
        if (name is null) return null;
        // Shared types: the engine must see the very Models assembly the cmdlets use.
        if (name == _modelsName) return _models;
        // Only what ships in Dependencies/ can load here; everything else (System.*, SMA) resolves in the
        // default context as before. One directory listing answers this, so the common case costs no I/O.
        if (!_shipped.Value.TryGetValue(name, out var path)) return null;
        // A shipped assembly that the host framework also has (System.IO.Pipelines on .NET 10, say) is shared
        // with the host when the host's is the same or newer. Only these few names pay for a version check.
        return IsProvidedByPlatform(assemblyName) ? null : LoadFromAssemblyPath(path);
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
                available = PlatformAssemblies.Value.TryGetValue(requested.Name!, out var path) ? PlatformVersion(requested.Name!, path) : null;
                _platformVersions[requested.Name!] = available;
            }
        }
        return available is not null && (requested.Version is null || available >= requested.Version);
    }

    // The version of a framework assembly: from the copy already loaded in the default context when there is
    // one (no I/O), else read from its file.
    private static Version? PlatformVersion(string name, string path)
    {
        foreach (var loaded in Default.Assemblies)
            if (string.Equals(loaded.GetName().Name, name, StringComparison.OrdinalIgnoreCase))
                return loaded.GetName().Version;
        return SafeVersion(path);
    }

    private static Version? SafeVersion(string path)
    {
        try { return AssemblyName.GetAssemblyName(path).Version; }
        catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or IOException) { return null; }
    }

    private static Dictionary<string, string> ReadShipped(string directory)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (Directory.Exists(directory))
            foreach (var path in Directory.EnumerateFiles(directory, "*.dll"))
                result.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        return result;
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
