using System.Management.Automation;
using System.Management.Automation.Runspaces;

// args: modulePath scriptFile [name=value ...]; prints each output object on its own line.
var modulePath = args[0];
var script = File.ReadAllText(args[1]);
using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
runspace.Open();
foreach (var pair in args.Skip(2))
{
    var eq = pair.IndexOf('=');
    runspace.SessionStateProxy.SetVariable(pair[..eq], pair[(eq + 1)..]);
}
using (var import = PowerShell.Create())
{
    import.Runspace = runspace;
    import.AddScript($"Import-Module '{modulePath}' -ErrorAction Stop").Invoke();
}
using var ps = PowerShell.Create();
ps.Runspace = runspace;
ps.AddScript(script);
foreach (var o in ps.Invoke()) Console.WriteLine(o?.ToString());
foreach (var e in ps.Streams.Error) Console.Error.WriteLine($"{e.FullyQualifiedErrorId}: {e}");
return ps.Streams.Error.Count > 0 ? 1 : 0;
