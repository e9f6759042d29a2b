using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

// One measurement per process (a fresh pwsh session is what a user pays for):
//   ImportBench <modulePath> <configPath> <mode>   mode = incidentops | baseline
// Prints: import_ms first_call_ms import_cpu_ms first_call_cpu_ms import_jit_ms first_call_jit_ms
//         import_jitted_methods first_call_jitted_methods
// Wall time is what the user waits for; process CPU time is the same work measured in a way that a
// busy machine (other builds on the same cores) distorts far less.
var (module, config, mode) = (args[0], args[1], args[2]);
using var rs = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
rs.Open();
void Run(string script)
{
    using var ps = PowerShell.Create();
    ps.Runspace = rs;
    ps.AddScript(script).Invoke();
    if (ps.HadErrors) throw new Exception(string.Join("; ", ps.Streams.Error));
}
// Warm the engine itself (parser, binder) so both modes measure only the import.
Run("$null = Get-Command Import-Module");
// IMPORTBENCH_WARM=<script>: extra session work before the measured import (profiling aid).
if (Environment.GetEnvironmentVariable("IMPORTBENCH_WARM") is { Length: > 0 } warm) Run(warm);
var self = Process.GetCurrentProcess();
// IMPORTBENCH_JITLOG=<file>: list every method the JIT compiles during the measured phases (profiling aid).
using var jitLog = Environment.GetEnvironmentVariable("IMPORTBENCH_JITLOG") is { Length: > 0 } logPath ? new JitLog(logPath) : null;
(double wall, double cpu, double jit, long methods) Measure(string script)
{
    self.Refresh();
    var cpu0 = self.TotalProcessorTime;
    var jit0 = System.Runtime.JitInfo.GetCompilationTime();
    var methods0 = System.Runtime.JitInfo.GetCompiledMethodCount();
    var sw = Stopwatch.StartNew();
    Run(script);
    var wall = sw.Elapsed.TotalMilliseconds;
    self.Refresh();
    return (wall, (self.TotalProcessorTime - cpu0).TotalMilliseconds,
        (System.Runtime.JitInfo.GetCompilationTime() - jit0).TotalMilliseconds,
        System.Runtime.JitInfo.GetCompiledMethodCount() - methods0);
}
jitLog?.Phase("import");
var import = Measure($"Import-Module '{module}'");
jitLog?.Phase("first-call");
var first = Measure(mode == "incidentops" ? $"$null = Get-IncidentOpsService -Path '{config}'" : "$null = Get-BaselineThing");
Console.WriteLine($"{import.wall:0.0} {first.wall:0.0} {import.cpu:0.0} {first.cpu:0.0} {import.jit:0.0} {first.jit:0.0} {import.methods} {first.methods}");

sealed class JitLog : System.Diagnostics.Tracing.EventListener
{
    private readonly StreamWriter _out;
    private string _phase = "warmup";
    public JitLog(string path) => _out = new StreamWriter(path);
    public void Phase(string name) { lock (_out) _phase = name; }
    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)(0x10 | 0x8));
    }
    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName is "MethodLoadVerbose_V1" or "MethodLoadVerbose_V2" or "MethodLoadVerbose")
        {
            var p = e.PayloadNames!;
            string Get(string n) => p.IndexOf(n) is var i and >= 0 ? e.Payload![i]?.ToString() ?? "" : "";
            lock (_out) _out.WriteLine($"{_phase}\tJIT\t{Get("MethodNamespace")}::{Get("MethodName")}");
        }
        else if (e.EventName is "AssemblyLoad_V1" or "LoaderAssemblyLoad")
        {
            var p = e.PayloadNames!;
            lock (_out) _out.WriteLine($"{_phase}\tASM\t{(p.IndexOf("FullyQualifiedAssemblyName") is var i and >= 0 ? e.Payload![i] : "")}");
        }
    }
    public override void Dispose() { base.Dispose(); lock (_out) _out.Dispose(); }
}
