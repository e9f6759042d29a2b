using System.Management.Automation;
using IncidentOps.Postgres;

namespace IncidentOps.Commands;

/// <summary>
/// Base of the read-only Pg* cmdlets: the connection parameters, -Service with several services (each row carries the
/// Service and Server it was read from), and -Record (what was read goes on the incident's timeline).
/// </summary>
public abstract class PgReadCmdlet : PgCmdlet, IRecordSwitch
{
    /// <summary>Configured service(s) whose postgres connection to read ("environment/service", or the name alone when unambiguous; wildcards allowed). Several services are read one after another, each with its own -TimeoutSec, and every row carries the Service and Server it was read from; a service that cannot be read is an error and the others are still read. Binds from Get-IncidentOpsService output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    [SupportsWildcards]
    public string[] Service { get; set; } = [];

    /// <summary>Also record what this cmdlet read (target and a short result) on the incident's timeline (the active incident, or -Incident). Without it, reads are not recorded.</summary>
    [Parameter]
    public SwitchParameter Record { get; set; }

    private string? _current;

    protected override string[] ServiceNames => Service;

    protected override string? CurrentService => _current;

    /// <summary>
    /// One connection per target, in order: -ConnectionString (or the libpq environment) when given or when no service is
    /// named, else each service -Service names (a name that matches nothing is a non-terminating ServiceNotFound; a
    /// service named twice is read once). Each target gets its own -TimeoutSec.
    /// </summary>
    protected IEnumerable<PgConnectionSpec> Specs()
    {
        var names = Service.Where(n => !string.IsNullOrWhiteSpace(n)).ToArray();
        if (!string.IsNullOrWhiteSpace(ConnectionString) || names.Length == 0)
        {
            _current = null;
            StartTargetDeadline();
            if (TryResolveSpec(out var spec)) yield return spec;
            yield break;
        }
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var target in ResolveServices(Environment, names))
        {
            if (!seen.Add(target.FullName)) continue;
            _current = target.FullName;
            StartTargetDeadline();
            yield return BuildSpec(target);
        }
    }
}
