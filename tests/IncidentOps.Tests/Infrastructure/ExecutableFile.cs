using System.Diagnostics;

namespace IncidentOps.Tests;

/// <summary>Writes the scripts the tests run as programs (fake CLIs, stand-ins, wrappers).</summary>
public static class ExecutableFile
{
    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> as an executable (mode 700) without this process ever
    /// holding a write handle on it: the text goes to a side file, and install(1), a process of its own, creates the
    /// executable (replacing one that is there). Written here directly, a process that another test thread forks at that
    /// moment inherits the open write handle until it execs, and running the script in that window fails with ETXTBSY
    /// ("text file busy"), which the CLI runner reports as "flyctl was not found" (a loaded parallel run met it).
    /// </summary>
    public static void Write(string path, string content)
    {
        var source = path + ".source-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(source, content);
        try
        {
            var psi = new ProcessStartInfo("install") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-m", "700", source, path }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new IOException($"install -m 700 {source} {path} failed ({p.ExitCode}): {stderr}");
        }
        finally { File.Delete(source); }
    }
}
