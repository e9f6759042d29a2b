using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

// One measurement per process (a fresh pwsh session is what a user pays for):
//   ImportBench <modulePath> <configPath> <mode>   mode = incidentops | baseline
// Prints: import_ms first_call_ms
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
var sw = Stopwatch.StartNew();
Run($"Import-Module '{module}'");
var import = sw.Elapsed.TotalMilliseconds;
sw.Restart();
Run(mode == "incidentops" ? $"$null = Get-IncidentOpsService -Path '{config}'" : "$null = Get-BaselineThing");
var first = sw.Elapsed.TotalMilliseconds;
Console.WriteLine($"{import:0.0} {first:0.0}");
