using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Npgsql;

// args: modulePath host port user database
var (module, host, port, user, db) = (args[0], args[1], int.Parse(args[2]), args[3], args[4]);
var cs = $"Host={host};Port={port};Username={user};Database={db};Pooling=false;Timeout=30";

async Task<List<NpgsqlConnection>> OpenMany(int n, string app)
{
    var list = new List<NpgsqlConnection>();
    foreach (var chunk in Enumerable.Range(0, n).Chunk(50))
    {
        var opened = await Task.WhenAll(chunk.Select(async _ =>
        {
            var c = new NpgsqlConnection(cs + ";Application Name=" + app);
            await c.OpenAsync();
            return c;
        }));
        list.AddRange(opened);
    }
    await Task.Delay(100); // let state_change age past the 0s idle threshold both paths use
    return list;
}

void CloseAll(List<NpgsqlConnection> list)
{
    foreach (var c in list)
    {
        try { c.Dispose(); }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException) { Console.Error.WriteLine("close: " + ex.Message); }
    }
}

double Psql(string sql)
{
    var psi = new ProcessStartInfo("psql", ["-X", "-qAt", "-h", host, "-p", port.ToString(), "-U", user, "-d", db, "-c", sql]) { RedirectStandardOutput = true, RedirectStandardError = true };
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    sw.Stop();
    if (p.ExitCode != 0) throw new Exception("psql failed: " + p.StandardError.ReadToEnd());
    return sw.Elapsed.TotalMilliseconds;
}

using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
runspace.Open();
runspace.SessionStateProxy.SetVariable("cs", $"Host={host};Port={port};Username={user};Database={db}");
(double Ms, List<PSObject> Output) Pwsh(string script)
{
    using var ps = PowerShell.Create();
    ps.Runspace = runspace;
    ps.AddScript(script);
    var sw = Stopwatch.StartNew();
    var output = ps.Invoke().ToList();
    sw.Stop();
    if (ps.Streams.Error.Count > 0) throw new Exception(string.Join("; ", ps.Streams.Error.Select(e => e.FullyQualifiedErrorId + ": " + e)));
    return (sw.Elapsed.TotalMilliseconds, output);
}
double Median(IEnumerable<double> xs) { var a = xs.Order().ToArray(); return a[a.Length / 2]; }

Pwsh($"Import-Module '{module}' -ErrorAction Stop");
Pwsh("Get-PgActivity -ConnectionString $cs | Out-Null"); // warm-up: JIT and engine load

// Listing at 1,000 sessions.
var sessions = await OpenMany(1000, "bench-listing");
var total = Pwsh("@(Get-PgActivity -ConnectionString $cs).Count").Output[0];
var psqlList = Median(Enumerable.Range(0, 5).Select(_ => Psql("SELECT * FROM pg_stat_activity")));
var cmdList = Median(Enumerable.Range(0, 5).Select(_ => Pwsh("Get-PgActivity -ConnectionString $cs | Out-Null").Ms));
Console.WriteLine($"listing {total} backends: psql {psqlList:0.0} ms, Get-PgActivity {cmdList:0.0} ms, ratio cmdlet/psql {cmdList / psqlList:0.00}");
CloseAll(sessions);

// Terminating 500 idle sessions: the seed's one-liner, then Stop-IdleConnections, on fresh sets of 500.
var a = await OpenMany(500, "bench-seed");
var psqlKill = Psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle' AND application_name = 'bench-seed' AND state_change < now() - interval '0 seconds'");
CloseAll(a);
var b = await OpenMany(500, "bench-cmdlet");
var (cmdKill, outKill) = Pwsh("Stop-IdleConnections -ConnectionString $cs -ApplicationName bench-cmdlet -IdleFor 0s -IncludeSuperuser -Force | ForEach-Object { '{0} of {1} matched, {2} spared' -f $_.Terminated, $_.Matched, $_.Spared }");
CloseAll(b);
Console.WriteLine($"terminate 500 idle: psql one-liner {psqlKill:0.0} ms, Stop-IdleConnections {cmdKill:0.0} ms ({outKill[0]}, incl. waiting until gone; -IncludeSuperuser as the bench role is the superuser, like the seed's one-liner), ratio cmdlet/psql {cmdKill / psqlKill:0.00}");
return 0;
