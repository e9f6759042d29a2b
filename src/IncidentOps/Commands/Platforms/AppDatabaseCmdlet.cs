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

    protected override IReadOnlyList<string> IdentityParameters { get; } = ["Service", "Environment", "Platform", "DatabaseApp", "DatabaseId"];

    /// <summary>The databases of this pipeline input: direct parameters, or configured services.</summary>
    protected IEnumerable<(AppDatabaseTarget Target, IDatabaseAdapter Adapter)> Targets()
    {
        if (!PipedOriginAgrees("database object")) yield break;
        var targets = new List<AppDatabaseTarget>();
        if (!string.IsNullOrEmpty(DatabaseApp) || !string.IsNullOrEmpty(DatabaseId))
        {
            var platform = ParsePlatform(Platform) is var given && given != PlatformKind.None ? given : !string.IsNullOrEmpty(DatabaseApp) ? PlatformKind.Fly : PlatformKind.DigitalOcean;
            targets.Add(new AppDatabaseTarget { Platform = platform, Service = Label(Service?.FirstOrDefault()), DatabaseApp = DatabaseApp, DatabaseId = ResolveRef(DatabaseId, "-DatabaseId") });
        }
        else if (Service is { Length: > 0 })
            foreach (var s in ResolveServices(Environment, Service))
            {
                if (s.Postgres?.FlyApp is { Length: > 0 } fly)
                    targets.Add(new AppDatabaseTarget { Platform = PlatformKind.Fly, Service = s.FullName, DatabaseApp = fly });
                else if (s.Postgres?.DigitalOceanCluster is { } cluster)
                {
                    if (!TryInvoke(ct => Engine.References.ResolveAsync(cluster, ct), out var id, s.FullName)) continue;
                    targets.Add(new AppDatabaseTarget { Platform = PlatformKind.DigitalOcean, Service = s.FullName, DatabaseId = id });
                }
                else
                    WriteInputError("DatabaseTargetMissing",
                        $"Service {s.FullName} has no platform database in {Config.Path ?? "the configuration"}: add postgres.fly (the Fly Postgres app) or postgres.digitalOcean (the cluster id) to it, or pass -Platform Fly -DatabaseApp NAME or -Platform DigitalOcean -DatabaseId ID.", s.FullName);
            }
        else
            ThrowInputError("DatabaseTargetMissing", "No database given. Pass -Service NAME (a configured service with postgres.fly or postgres.digitalOcean), pipe Get-IncidentOpsService, or give -Platform Fly -DatabaseApp NAME or -Platform DigitalOcean -DatabaseId ID.", null);

        foreach (var t in targets)
        {
            IDatabaseAdapter? adapter = null;
            try { adapter = OpenAdapter(t); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, t.ToString())); }
            if (adapter is not null) yield return (t, adapter);
        }
    }

    /// <summary>Plans a change; a platform that cannot do it (or bad input) becomes a non-terminating error.</summary>
    protected bool TryPlan<T>(Func<T> plan, AppDatabaseTarget target, out T planned)
    {
        try { planned = plan(); return true; }
        catch (IncidentOpsException ex)
        {
            WriteError(ToErrorRecord(ex, target.ToString()));
            planned = default!;
            return false;
        }
    }

    private IDatabaseAdapter OpenAdapter(AppDatabaseTarget t) =>
        Engine.AppDatabases.Open(t, new CliPaths { Flyctl = ResolveLocalPath(FlyctlPath), Doctl = ResolveLocalPath(DoctlPath) }, Config.Tools, Timeout);

}
