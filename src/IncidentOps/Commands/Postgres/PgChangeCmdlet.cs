using System.Management.Automation;

namespace IncidentOps.Commands;

/// <summary>
/// Base of the Pg* cmdlets that change state (Stop-PgBackend, Stop-IdleConnection, Invoke-PgMaintenance): -Service takes
/// exactly one service. A pid or a table name means something else on every server, and a confirmation names one
/// server, so one command line acts on one server; piping Get-IncidentOpsService output still reaches several, one
/// confirmed record at a time.
/// </summary>
public abstract class PgChangeCmdlet : PgCmdlet
{
    /// <summary>Configured service whose postgres connection to use ("environment/service", or the name alone when unambiguous). One service: a command that changes state acts on exactly one server per record (the read cmdlets take several). Binds from Get-IncidentOpsService output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string? Service { get; set; }

    protected override string[] ServiceNames => Service is null ? [] : [Service];

    protected override string? CurrentService => Service;
}
