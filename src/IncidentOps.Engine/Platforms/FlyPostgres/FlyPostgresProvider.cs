using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>Fly Postgres (a Postgres app on Fly) through flyctl postgres: status, restart, barman backups, restore into a new app.</summary>
public sealed class FlyPostgresProvider : IDatabaseProvider
{
    public PlatformKind Kind => PlatformKind.Fly;
    public string ConfigKey => "fly";
    public string ConfigMeaning => "the Fly Postgres app name";
    public IReadOnlyList<CliTool> Tools { get; } = [FlyProvider.Flyctl];
    public TargetNames.Kind NameKind => TargetNames.FlyApp;
    public string TargetParameter => "-DatabaseApp";

    public AppDatabaseTarget Target(string name, string? service) => new() { Platform = Kind, Service = service, DatabaseApp = name, Label = $"Fly Postgres app {name}" };

    public void Check(AppDatabaseTarget target)
    {
        if (string.IsNullOrEmpty(target.DatabaseApp)) throw PlatformRegistry.Incomplete(this, target, "-DatabaseApp (the Fly Postgres app name)");
        TargetNames.Check("-DatabaseApp", target.DatabaseApp, NameKind);
    }

    public IDatabaseAdapter Open(AppDatabaseTarget target, ProviderContext c) => new FlyPostgresAdapter(target, c.Runner, c.Timeout, c.Sink);
}
