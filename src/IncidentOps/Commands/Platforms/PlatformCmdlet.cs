using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>
/// What the App and AppDatabase cmdlets share: the environment of a configured service, the Fly and DigitalOcean
/// CLI paths, the per-call timeout, and the small resolutions both need.
/// </summary>
public abstract class PlatformCmdlet : IncidentActionCmdlet
{
    /// <summary>Environment of the configured service (production, staging).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Environment { get; set; }

    /// <summary>Path of flyctl when it is not on PATH (overrides tools.flyctl in incidentops.yml).</summary>
    [Parameter]
    public string? FlyctlPath { get; set; }

    /// <summary>Path of doctl when it is not on PATH (overrides tools.doctl).</summary>
    [Parameter]
    public string? DoctlPath { get; set; }

    /// <summary>Deadline in seconds for the whole operation on each target, counted from its start: every CLI call and any wait for the app or database to come back, together. Past it the CLI is stopped, its process tree killed, and the command stops with OperationTimeout.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 60;

    /// <summary>-TimeoutSec is one deadline for the whole operation on one target.</summary>
    protected override TimeSpan? OperationTimeout => TimeSpan.FromSeconds(TimeoutSec);

    protected TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSec);

    /// <summary>"environment/service" for a direct target that was given a service label.</summary>
    protected string? Label(string? service) =>
        service is null || service.Contains('/') || Environment is null ? service : $"{Environment}/{service}";

    /// <summary>A file path given on the command line (a CLI, a kubeconfig), resolved against the current location.</summary>
    protected string? ResolveLocalPath(string? path) => path is null ? null : ResolvePath(path);

    /// <summary>env:NAME reads an id from an environment variable; anything else is taken as it is.</summary>
    protected static string? ResolveRef(string? value) =>
        value is not null && value.StartsWith("env:", StringComparison.Ordinal) ? System.Environment.GetEnvironmentVariable(value[4..]) ?? value : value;

    /// <summary>The timeline result of a restart: the state it came back in (or not within -TimeoutSec) and the commands run.</summary>
    protected string RestartSummary(AppActionResult r) =>
        (r.Succeeded ? $"restarted{(r.StateAfter is null ? "" : ", " + r.StateAfter)}" : $"restarted but {r.StateAfter} after {TimeoutSec} s") + ": " + string.Join("; ", r.Commands);
}
