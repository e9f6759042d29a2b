using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Engine.Config;
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
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Path of flyctl when it is not on PATH (overrides tools.flyctl in incidentops.yml).</summary>
    [Parameter]
    public string? FlyctlPath { get; set; }

    /// <summary>Path of doctl when it is not on PATH (overrides tools.doctl).</summary>
    [Parameter]
    public string? DoctlPath { get; set; }

    /// <summary>Deadline in seconds for the whole operation on each target, counted from its start: every CLI call and any wait for the app or database to come back, together. Past it the CLI is stopped, its process tree killed, and the command stops with OperationTimeout. Default 60: each CLI call goes through the platform's API (several seconds each during an incident), and a restart or rollback waits for the app to come back.</summary>
    [Parameter]
    [ValidateRange(1.0, 86400.0)]
    [ArgumentCompleter(typeof(SuggestedValueCompleter))]
    public double TimeoutSec { get; set; } = 60;

    /// <summary>-TimeoutSec is one deadline for the whole operation on one target.</summary>
    protected override TimeSpan? OperationTimeout => TimeSpan.FromSeconds(TimeoutSec);

    protected TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSec);

    /// <summary>The piped object itself (an AppStatus, AppDeployment, AppDatabase, a configured service ...). Its identity properties bind by name; when one of them differs from the same parameter typed on the command line, the change is refused (PipelineTargetMismatch).</summary>
    [Parameter(ValueFromPipeline = true, DontShow = true)]
    public PSObject? InputObject { get; set; }

    private Dictionary<string, object?> _explicit = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The parameters that name the target; a piped object's value for one of them must agree with the command line's.</summary>
    protected abstract IReadOnlyList<string> IdentityParameters { get; }

    protected override void BeginProcessing()
    {
        // Only command-line parameters are bound at this point; pipeline values bind per record later.
        _explicit = new Dictionary<string, object?>(MyInvocation.BoundParameters, StringComparer.OrdinalIgnoreCase);
        base.BeginProcessing();
    }

    /// <summary>False (with a PipelineTargetMismatch error for this record) when the piped object came from another target than the command line names.</summary>
    protected bool PipedOriginAgrees(string what)
    {
        var mismatch = PipelineOrigin.FindMismatch(InputObject, _explicit, IdentityParameters);
        if (mismatch is null) return true;
        WriteInputError(PipelineOrigin.MismatchErrorId, PipelineOrigin.Message(mismatch.Value, what, InputObject), InputObject?.ToString());
        return false;
    }

    /// <summary>"environment/service" for a direct target that was given a service label.</summary>
    protected string? Label(string? service) =>
        service is null || service.Contains('/') || Environment is null ? service : $"{Environment}/{service}";

    /// <summary>A file path given on the command line (a CLI, a kubeconfig), resolved against the current location.</summary>
    protected string? ResolveLocalPath(string? path) => path is null ? null : ResolvePath(path);

    /// <summary>
    /// The CLI paths given on the command line (-FlyctlPath, -KubectlPath ...), resolved. Each provider's CliTool names
    /// the parameter that overrides its path; the cmdlet only declares it (for tab completion and help).
    /// </summary>
    protected ToolPaths GivenToolPaths() =>
        PlatformRegistry.GivenPaths(name => ResolveLocalPath(GetType().GetProperty(name)?.GetValue(this) as string));

    /// <summary>
    /// -Platform as a PlatformKind. The parameter is a string so that tab completion offers only real platforms
    /// (PowerShell completes an enum parameter from all its names, None included, whatever completer it has);
    /// "None" (piped from a service without a platform) and no value both mean "not given".
    /// </summary>
    protected PlatformKind ParsePlatform(string? platform)
    {
        if (string.IsNullOrWhiteSpace(platform)) return PlatformKind.None;
        if (Enum.TryParse<PlatformKind>(platform.Trim(), true, out var kind) && Enum.IsDefined(kind) && !platform.Trim().All(char.IsDigit)) return kind;
        ThrowInputError(PlatformErrorIds.PlatformInvalid, $"-Platform '{platform}' is not a platform. Use {PlatformRegistry.PlatformList()} (App cmdlets) or {PlatformRegistry.Or(PlatformRegistry.Databases.Select(d => d.Kind.ToString()))} (AppDatabase cmdlets).", platform);
        return PlatformKind.None; // unreachable
    }

    /// <summary>env:NAME reads an id from an environment variable (unset: ConfigReferenceUnresolved, naming it); anything else is taken as it is.</summary>
    protected string? ResolveRef(string? value, string parameter)
    {
        try { return EnvReference.Resolve(value, parameter); }
        catch (IncidentOpsException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, value));
            return null; // unreachable
        }
    }

    /// <summary>
    /// Plans a change (the one way every App and AppDatabase cmdlet does): a platform that cannot do it, or bad input,
    /// becomes a non-terminating error for this target, and the next target still runs.
    /// </summary>
    protected bool TryPlan<T>(Func<T> plan, object target, out T planned)
    {
        try { planned = plan(); return true; }
        catch (IncidentOpsException ex)
        {
            WriteError(ToErrorRecord(ex, target.ToString()));
            planned = default!;
            return false;
        }
    }

    /// <summary>The timeline result of a restart: the state it came back in (or not within -TimeoutSec) and the commands run.</summary>
    protected string RestartSummary(AppActionResult r) =>
        (r.Succeeded ? $"restarted{(r.StateAfter is null ? "" : ", " + r.StateAfter)}" : $"restarted but {r.StateAfter} after {TimeoutSec:0.###} s") + ": " + string.Join("; ", r.Commands);
}
