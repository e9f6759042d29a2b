using System.Diagnostics;
using System.Reflection;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// Starts the StoreWriter test program (tests/IncidentOps.StoreWriter, found through the test assembly's metadata) as a separate
/// process with its stdout and stderr redirected: a second writer to the same store, for the concurrency and fault tests.
/// </summary>
internal static class StoreWriterProcess
{
    internal static string StoreWriter => typeof(StoreWriterProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "StoreWriter").Value!;

    public static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(StoreWriter);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // A writer the test kills leaves the runtime's IPC pipes (dotnet-diagnostic-*, clr-debug-pipe-*) in its temp
        // folder: the run's own, which goes when the run ends.
        psi.Environment["TMPDIR"] = Paths.TempRoot;
        return Process.Start(psi)!;
    }
}
