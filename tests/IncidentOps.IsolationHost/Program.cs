using System.Management.Automation;
using System.Management.Automation.Runspaces;

// args: modulePath configPath
// Prints one line per fact, then the services, then "OK" (exit 0) or the failure (exit 1).
var modulePath = args[0];
var configPath = args[1];

// What powershell-yaml does: its YamlDotNet is in the default context before IncidentOps is imported.
var yaml = typeof(YamlDotNet.Serialization.Deserializer).Assembly;
var foreign = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, string>>("a: b");
Console.WriteLine($"preloaded YamlDotNet {yaml.GetName().Version} ({foreign["a"]})");

using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
runspace.Open();
string Run(string script)
{
    using var ps = PowerShell.Create();
    ps.Runspace = runspace;
    ps.AddScript(script);
    var output = ps.Invoke();
    if (ps.Streams.Error.Count > 0) throw new Exception(string.Join("; ", ps.Streams.Error.Select(e => $"{e.FullyQualifiedErrorId}: {e.Exception}")));
    return string.Join(Environment.NewLine, output.Select(o => o?.ToString()));
}

try
{
    for (var round = 1; round <= 2; round++)
    {
        Run($"Import-Module '{modulePath}' -ErrorAction Stop");
        Console.WriteLine($"round {round}: " + Run($"Get-IncidentOpsService -Path '{configPath}' -Environment production | ForEach-Object {{ $_.FullName }}").Replace(Environment.NewLine, ","));
        Console.WriteLine($"round {round}: " + Run("[IncidentOps.Config.ServiceTarget].Assembly.GetName().Name"));
        Run("Remove-Module IncidentOps -ErrorAction Stop");
    }
    // Npgsql loads in the module's context; System.Diagnostics.DiagnosticSource, which ships in Dependencies/ and
    // in the framework, is shared with the host when the host's is the same or newer. Nothing listens on port 9.
    Run($"Import-Module '{modulePath}' -ErrorAction Stop");
    Run("try { $null = Get-PgConnectionSummary -ConnectionString 'Host=127.0.0.1;Port=9;Timeout=2' -TimeoutSec 3 -ErrorAction Ignore } catch { }");
    foreach (var a in AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name is "YamlDotNet" or "IncidentOps.Engine" or "IncidentOps.Models" or "Npgsql" or "System.Diagnostics.DiagnosticSource"))
        Console.WriteLine($"loaded {a.GetName().Name} {a.GetName().Version} in {System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(a)?.Name}");
    Console.WriteLine("OK");
    return 0;
}
catch (Exception ex)
{
    Console.WriteLine("FAILED " + ex);
    return 1;
}
