using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

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

    /// <summary>
    /// Runs the store writer to its end under strace (open, fsync and close of every thread, one trace file per thread named
    /// <paramref name="name"/>.pid in <paramref name="traces"/>); returns its stdout, trimmed.
    /// </summary>
    public static string RunTraced(string traces, string name, params string[] args)
    {
        var psi = new ProcessStartInfo("strace") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-f", "-ff", "-qq", "-e", "trace=openat,open,fsync,close", "-o", Path.Combine(traces, name), "dotnet", "exec", StoreWriter }.Concat(args))
            psi.ArgumentList.Add(a);
        psi.Environment["TMPDIR"] = Paths.TempRoot;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"the store writer ({args[0]}) did not finish"); }
        Assert.True(p.ExitCode == 0, $"the store writer ({args[0]}) failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result.Trim();
    }

    /// <summary>Some thread of the traced run <paramref name="name"/> opened <paramref name="folder"/> and fsynced that descriptor before closing it.</summary>
    public static void AssertFolderSynced(string traces, string name, string folder)
    {
        var open = new Regex("^open(at)?\\((AT_FDCWD, )?\"" + Regex.Escape(folder) + "/?\", O_RDONLY(\\|O_LARGEFILE)?\\) = (?<fd>\\d+)$");
        foreach (var trace in Directory.GetFiles(traces, name + ".*"))
        {
            string? fd = null;
            foreach (var line in File.ReadLines(trace))
            {
                if (open.Match(line) is { Success: true } m) { fd = m.Groups["fd"].Value; continue; }
                if (fd is null) continue;
                if (line.StartsWith($"fsync({fd})", StringComparison.Ordinal)) return;
                if (line.StartsWith($"close({fd})", StringComparison.Ordinal)) fd = null;
            }
        }
        Assert.Fail($"'{folder}' was never opened and fsynced ({name}): a crash right after could lose the file's name.");
    }
}
