using System.Reflection;

namespace IncidentOps.Tests;

public static class Paths
{
    private static string Meta(string key) =>
        typeof(Paths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;

    /// <summary>out/IncidentOps, the built module.</summary>
    public static string Module => Meta("ModulePath").TrimEnd('/', '\\');
    public static string RepoRoot => Meta("RepoRoot").TrimEnd('/', '\\');
    public static string IsolationHost => Meta("IsolationHost");
    public static string Examples => Path.Combine(RepoRoot, "examples");

    private static readonly Lazy<Assembly> LoadedModule =
        new(() => Assembly.LoadFrom(Path.Combine(Module, "IncidentOps.dll")), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// out/IncidentOps/IncidentOps.dll, loaded once for the whole test process. Every test that reflects over the
    /// module, and every session before its Import-Module (PwshSession), goes through here, so the file is loaded by one
    /// thread only.
    /// </summary>
    public static Assembly ModuleAssembly => LoadedModule.Value;

    /// <summary>A fresh temporary folder, removed at process exit.</summary>
    public static string TempDir(string prefix = "io-test")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, prefix.Length + 33)]);
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch { /* best effort at exit */ } };
        return dir;
    }

    public static bool IsCI => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}
