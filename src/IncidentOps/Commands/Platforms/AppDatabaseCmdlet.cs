using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>
/// Base of the AppDatabase cmdlets: binds a platform database from a configured service (its postgres.fly or
/// postgres.digitalOcean), from piped AppDatabase/AppDatabaseBackup objects (by property name), or directly
/// (-Platform Fly -DatabaseApp NAME, -Platform DigitalOcean -DatabaseId ID).
/// </summary>
public abstract class AppDatabaseCmdlet : PlatformCmdlet
{
    /// <summary>Configured service name(s) ("environment/service" or the name alone) whose postgres has fly: or digitalOcean: set; binds from Get-IncidentOpsService output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Platform of a direct target: Fly (with -DatabaseApp) or DigitalOcean (with -DatabaseId). Inferred from which of the two is given.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PlatformCompleter))]
    public string? Platform { get; set; }

    /// <summary>Fly Postgres app name (the seeds' --app ai-affiliate-empire-db).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("PostgresApp")]
    public string? DatabaseApp { get; set; }

    /// <summary>DigitalOcean database cluster id (doctl databases list); env:NAME reads it from an environment variable.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ClusterId")]
    public string? DatabaseId { get; set; }

    /// <summary>Path of the aws CLI when it is not on PATH (overrides tools.aws), for -Platform Aws (RDS).</summary>
    [Parameter]
    public string? AwsPath { get; set; }

    protected override IReadOnlyList<string> IdentityParameters { get; } = ["Service", "Environment", "Platform", "DatabaseApp", "DatabaseId"];

    /// <summary>The databases of this pipeline input: direct parameters, or configured services.</summary>
    protected IEnumerable<(AppDatabaseTarget Target, IDatabaseAdapter Adapter)> Targets()
    {
        if (!PipedOriginAgrees("database object")) yield break;
        var targets = new List<AppDatabaseTarget>();
        if (!string.IsNullOrEmpty(DatabaseApp) || !string.IsNullOrEmpty(DatabaseId))
            targets.Add(DirectTarget());
        else if (Service is { Length: > 0 })
            foreach (var s in ResolveServices(Environment, Service))
            {
                // The first database provider whose key the service's postgres: has (fly, digitalOcean, rds ...).
                var configured = s.Postgres?.Managed.FirstOrDefault();
                if (configured is { Key: { } key, Value: { } value })
                {
                    if (!TryInvoke(ct => Engine.References.ResolveAsync(value, ct), out var name, s.FullName)) continue;
                    targets.Add(DatabaseTargets.FromConfig(key, name, s.FullName));
                }
                else
                    WriteInputError(PlatformErrorIds.DatabaseTargetMissing,
                        $"Service {s.FullName} has no platform database in {Config.Path ?? "the configuration"}: add {DatabaseTargets.ConfigKeys} to its postgres:, or pass {DatabaseTargets.Parameters}.", s.FullName);
            }
        else
            ThrowInputError(PlatformErrorIds.DatabaseTargetMissing, $"No database given. Pass -Service NAME (a configured service with {DatabaseTargets.ConfigKeys}), pipe Get-IncidentOpsService, or give {DatabaseTargets.Parameters}.", null);

        foreach (var t in targets)
        {
            IDatabaseAdapter? adapter = null;
            try { adapter = OpenAdapter(t); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, t.ToString())); }
            if (adapter is null || PipedFromOtherAccount(adapter)) continue;
            yield return (t, adapter);
        }
    }

    /// <summary>-DatabaseApp or -DatabaseId, with -Platform or the platform inferred from which of the two is given.</summary>
    private AppDatabaseTarget DirectTarget()
    {
        var given = ParsePlatform(Platform);
        return DatabaseTargets.Direct(given, DatabaseApp, ResolveRef(DatabaseId, "-DatabaseId"), Label(Service?.FirstOrDefault()));
    }

    /// <summary>
    /// True (after a PipelineTargetMismatch error) when the piped object was read in another account or region than this
    /// command acts in (AWS RDS: another aws profile or region, where the same identifier names another instance).
    /// </summary>
    private bool PipedFromOtherAccount(IDatabaseAdapter adapter)
    {
        if (InputObject is null || PipelineOrigin.Property(InputObject, "Account") is not { } value) return false;
        var piped = (value is PSObject p ? p.BaseObject : value)?.ToString();
        if (string.IsNullOrEmpty(piped) || adapter.Account is not { } now || string.Equals(piped, now, StringComparison.Ordinal)) return false;
        WriteInputError(PipelineOrigin.MismatchErrorId,
            $"The piped database object ({InputObject}) was read with {piped}, but this command runs with {now}: the same identifier there is another database, so nothing was done. Set AWS_PROFILE and AWS_REGION back to act where the object came from, or read the objects again with the current ones and pipe those.",
            InputObject.ToString());
        return true;
    }

    private IDatabaseAdapter OpenAdapter(AppDatabaseTarget t) =>
        Engine.AppDatabases.Open(t, GivenToolPaths(), Config.Tools, Timeout);

}
