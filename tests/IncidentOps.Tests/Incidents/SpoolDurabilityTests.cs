using System.Diagnostics;
using System.Text.RegularExpressions;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A spool entry is acknowledged as kept ("the timeline entry ... was kept in the local spool"), and the spool is deleted
/// once its unreadable bytes are in the quarantine file. Flushing a new file's bytes does not put its name on disk: on
/// Linux a crash right after can leave no file at all, until the directory itself is fsynced. Before, neither the spool's
/// nor the quarantine file's folder was. Observed for real: the store writer (a separate process) runs under strace,
/// and the trace must show the folder opened and fsynced on that descriptor before it is closed.
/// </summary>
public sealed class SpoolDurabilityTests : IDisposable
{
    private readonly PrivatePostgres _pg = new();
    private readonly string _local = Paths.TempDir("io-spool-sync");
    private readonly string _traces = Paths.TempDir("io-spool-trace");

    public void Dispose()
    {
        _pg.Dispose();
        Paths.DeleteTree(_local);
        Paths.DeleteTree(_traces);
    }

    [Fact]
    public async Task A_new_spool_file_and_a_new_quarantine_file_have_their_folder_fsynced()
    {
        var cs = _pg.ConnectionString + ";Timeout=3";
        var store = new PostgresIncidentStore(cs, "team", _local);
        await store.InitializeAsync(CancellationToken.None);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "db down", Severity = "P1" }, CancellationToken.None);

        _pg.Stop();
        var spool = RunTraced("spool", incident.Id, cs, "spooled");
        Assert.True(File.Exists(spool), "the entry was not spooled");
        AssertFolderSynced("spooled", Path.GetDirectoryName(spool)!);

        File.AppendAllText(spool, "{\"key\":\"torn-by-a-crash\n");
        _pg.Start();
        RunTraced("flush", incident.Id, cs, "flushed");
        Assert.False(File.Exists(spool));
        Assert.True(File.Exists(spool + ".quarantine"));
        AssertFolderSynced("flushed", Path.GetDirectoryName(spool)!);
        Assert.Single(await store.ReadTimelineAsync(incident.Id, CancellationToken.None), e => e.Action == "Restart app");
    }

    private string RunTraced(string mode, string id, string cs, string name)
    {
        var psi = new ProcessStartInfo("strace") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-f", "-ff", "-qq", "-e", "trace=openat,open,fsync,close", "-o", Path.Combine(_traces, name), "dotnet", "exec", StoreWriterProcess.StoreWriter, mode, _local, id, cs })
            psi.ArgumentList.Add(a);
        psi.Environment["TMPDIR"] = Paths.TempRoot;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"the store writer ({mode}) did not finish"); }
        Assert.True(p.ExitCode == 0, $"the store writer ({mode}) failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result.Trim();
    }

    /// <summary>Some thread opened <paramref name="folder"/> and fsynced that descriptor before closing it.</summary>
    private void AssertFolderSynced(string name, string folder)
    {
        var open = new Regex("^open(at)?\\((AT_FDCWD, )?\"" + Regex.Escape(folder) + "/?\", O_RDONLY(\\|O_LARGEFILE)?\\) = (?<fd>\\d+)$");
        foreach (var trace in Directory.GetFiles(_traces, name + ".*"))
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
