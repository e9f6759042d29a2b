using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

// args: modulePath endpoint iterations
// Prints machine-readable lines: "cmdlet_call_ms <median>", "cmdlet_ping_p50_ms <median of in-connection PING p50>".
var modulePath = args[0];
var endpoint = args[1];
var iterations = int.Parse(args[2], CultureInfo.InvariantCulture);

using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
runspace.Open();
Collection<PSObject> Run(string script)
{
    using var ps = PowerShell.Create();
    ps.Runspace = runspace;
    ps.AddScript(script);
    var output = ps.Invoke();
    if (ps.Streams.Error.Count > 0) throw new InvalidOperationException(string.Join("; ", ps.Streams.Error.Select(e => e.ToString())));
    return output;
}

Run($"Import-Module '{modulePath}' -ErrorAction Stop");
var call = $"Test-RedisConnection -ConnectionString '{endpoint}' -Count 1";
for (var i = 0; i < 5; i++) Run(call); // warm-up: JIT, first connection

var calls = new List<double>();
var pings = new List<double>();
for (var i = 0; i < iterations; i++)
{
    var sw = Stopwatch.StartNew();
    var result = Run(call);
    sw.Stop();
    calls.Add(sw.Elapsed.TotalMilliseconds);
    var reachable = (bool)result[0].Properties["Reachable"].Value;
    if (!reachable) throw new InvalidOperationException($"{endpoint} unreachable: {result[0].Properties["Reason"].Value}");
    pings.Add(Convert.ToDouble(result[0].Properties["LatencyP50Ms"].Value, CultureInfo.InvariantCulture));
}

static double Median(List<double> v) { var s = v.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }
Console.WriteLine(FormattableString.Invariant($"cmdlet_call_ms {Median(calls):0.###}"));
Console.WriteLine(FormattableString.Invariant($"cmdlet_ping_p50_ms {Median(pings):0.###}"));
return 0;

