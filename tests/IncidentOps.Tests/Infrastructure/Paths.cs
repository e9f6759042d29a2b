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

    /// <summary>
    /// A fresh temporary folder named PREFIX-xxxxxxxxxxxx inside <see cref="TempRoot"/>; removed with it when the test run
    /// ends, also when the test failed. A test may remove it earlier itself.
    /// </summary>
    public static string TempDir(string prefix = "io-test")
    {
        var dir = Path.Combine(TempRoot, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private const string TempRootPrefix = "io-xunit-";
    private static readonly Lazy<string> Root = new(CreateTempRoot, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The one folder of this test process under the temp path ($TMPDIR, else /tmp): io-xunit-PID. Every
    /// <see cref="TempDir"/> lives in it, so a run adds one entry to /tmp at most, and <see cref="TestRunCleanup"/> removes
    /// it when the run ends. A root whose process is gone (a run killed with Ctrl+C) is removed by the next run.
    /// </summary>
    public static string TempRoot => Root.Value;

    private static string CreateTempRoot()
    {
        RemoveOrphanTempRoots(Path.GetTempPath());
        var root = Path.Combine(Path.GetTempPath(), TempRootPrefix + Environment.ProcessId);
        Directory.CreateDirectory(root);
        TestRunCleanup.Register(() => DeleteTree(root));
        return root;
    }

    /// <summary>Removes the io-xunit-PID folders in <paramref name="parent"/> whose process has ended.</summary>
    internal static void RemoveOrphanTempRoots(string parent)
    {
        foreach (var dir in Directory.EnumerateDirectories(parent, TempRootPrefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(dir)[TempRootPrefix.Length..], out var pid) && !Directory.Exists($"/proc/{pid}"))
                DeleteTree(dir);
        }
    }

    /// <summary>Removes a folder and everything in it; a missing folder is fine. Retries briefly while a child process lets go.</summary>
    public static void DeleteTree(string dir)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && attempt < 3)
            {
                Thread.Sleep(100);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"could not remove {dir}: {ex.Message}");
                return;
            }
        }
    }

    public static bool IsCI => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}
