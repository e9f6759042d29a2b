using System.Text.Json;

namespace IncidentOps.Tests.Tunnels;

/// <summary>
/// Stand-ins for kubectl, flyctl and ssh (tests/tunnel/tunnel_standin.py behind a wrapper of each name) that parse the
/// argv they are given, log it, and really forward their local port to the test PostgreSQL (remote port 5432) and Redis
/// (remote port 6379). The routes and the log are written into the wrappers, so no process-wide variable is touched;
/// the configuration names the wrappers through tools:.
/// </summary>
public sealed class TunnelStandIns
{
    public string Dir { get; } = Paths.TempDir("tunnel");
    public string Log => Path.Combine(Dir, "tunnel.jsonl");

    /// <summary>What the stand-ins print as a credential for targets named *leak* (the password of the 'leaky' service).</summary>
    public const string Canary = "CanaryTunnelPassw0rd-7Q";

    public TunnelStandIns()
    {
        var pg = new Npgsql.NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString);
        var routes = $"5432={pg.Host}:{pg.Port},6379={TestServers.Redis}";
        var script = Path.Combine(Paths.RepoRoot, "tests", "tunnel", "tunnel_standin.py");
        foreach (var tool in new[] { "kubectl", "flyctl", "ssh" })
        {
            var path = Path.Combine(Dir, tool);
            ExecutableFile.Write(path, $"#!/bin/sh\nexport TUNNEL_STANDIN_LOG='{Log}' TUNNEL_STANDIN_ROUTES='{routes}' TUNNEL_STANDIN_SECRET='{Canary}'\nexec python3 '{script}' {tool} \"$@\"\n");
        }
    }

    /// <summary>The tools: block that points incidentops.yml at the stand-ins.</summary>
    public string ToolsYaml => $"tools: {{ kubectl: {Path.Combine(Dir, "kubectl")}, flyctl: {Path.Combine(Dir, "flyctl")}, ssh: {Path.Combine(Dir, "ssh")} }}\n";

    public sealed record Event(string Kind, string? Tool, string[] Argv, int Pid, long Bytes, int Port = 0);

    /// <summary>
    /// Starts tests/tunnel/port_squatter.py: another process that listens on the local port of the next tunnel (after
    /// <paramref name="skip"/> events) whose argv names <paramref name="target"/>, and logs what reaches it
    /// (squatter-bound with the port, squatter-accept, squatter-bytes). Disposing the result kills it.
    /// </summary>
    public Squatter StartSquatter(int skip, string target)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("python3") { UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(Paths.RepoRoot, "tests", "tunnel", "port_squatter.py"), Log, skip.ToString(System.Globalization.CultureInfo.InvariantCulture), target })
            psi.ArgumentList.Add(a);
        return new Squatter(System.Diagnostics.Process.Start(psi)!);
    }

    public sealed class Squatter(System.Diagnostics.Process process) : IDisposable
    {
        public void Dispose()
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit(5000);
            process.Dispose();
        }
    }

    /// <summary>Every event the stand-ins logged so far (start: one per tunnel opened; forwarded: one per connection that carried data).</summary>
    public IReadOnlyList<Event> Events()
    {
        if (!File.Exists(Log)) return [];
        var list = new List<Event>();
        foreach (var line in File.ReadAllLines(Log))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            list.Add(new Event(
                r.GetProperty("event").GetString()!,
                r.TryGetProperty("tool", out var t) ? t.GetString() : null,
                r.TryGetProperty("argv", out var a) ? a.EnumerateArray().Select(x => x.GetString()!).ToArray() : [],
                r.GetProperty("pid").GetInt32(),
                r.TryGetProperty("bytes", out var b) ? b.GetInt64() : 0,
                r.TryGetProperty("port", out var p) ? p.GetInt32() : 0));
        }
        return list;
    }

    /// <summary>The tunnels started after <paramref name="skip"/> events whose argv names <paramref name="target"/>.</summary>
    public List<Event> StartsSince(int skip, string target) =>
        Events().Skip(skip).Where(e => e.Kind == "start" && e.Argv.Any(a => a == target)).ToList();

    /// <summary>True while the process runs (a zombie waiting to be reaped does not count).</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException) { return false; }
    }

    /// <summary>Waits (at most 15 s: "does not hang", not a timing assertion) until the process is gone.</summary>
    public static bool GoneWithin15s(int pid)
    {
        var until = DateTime.UtcNow.AddSeconds(15);   // a kill is at once; a loaded machine may be slow to reap
        while (IsRunning(pid))
        {
            if (DateTime.UtcNow > until) return false;
            Thread.Sleep(50);
        }
        return true;
    }
}
