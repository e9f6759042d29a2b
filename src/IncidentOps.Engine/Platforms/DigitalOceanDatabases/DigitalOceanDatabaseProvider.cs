using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>DigitalOcean managed databases through doctl databases: status, daily backups, restore by fork into a new cluster.</summary>
public sealed class DigitalOceanDatabaseProvider : IDatabaseProvider
{
    public PlatformKind Kind => PlatformKind.DigitalOcean;
    public string ConfigKey => "digitalOcean";
    public string ConfigMeaning => "the database cluster id (doctl databases list); env:NAME reads it from the environment";
    public IReadOnlyList<CliTool> Tools { get; } = [DigitalOceanProvider.Doctl];
    public TargetNames.Kind NameKind => TargetNames.DigitalOceanId;
    public string TargetParameter => "-DatabaseId";

    public AppDatabaseTarget Target(string name, string? service) => new() { Platform = Kind, Service = service, DatabaseId = name, Label = $"DigitalOcean database {name}" };

    public void Check(AppDatabaseTarget target)
    {
        if (string.IsNullOrEmpty(target.DatabaseId)) throw PlatformRegistry.Incomplete(this, target, "-DatabaseId (the database cluster id from 'doctl databases list')");
        TargetNames.Check("-DatabaseId", target.DatabaseId, NameKind);
    }

    /// <summary>The adapter, with doctl's config file and auth context as doctl would pick them now (DoctlAuth) pinned for every doctl call of the command.</summary>
    public IDatabaseAdapter Open(AppDatabaseTarget target, ProviderContext c)
    {
        var config = DoctlAuth.PinnedConfig();
        var context = DoctlAuth.Context(System.Environment.GetEnvironmentVariable, config);
        DoctlAuth.Check(context);
        return new DigitalOceanDatabaseAdapter(target, c.Runner, c.Timeout, c.Sink, context, config);
    }
}
