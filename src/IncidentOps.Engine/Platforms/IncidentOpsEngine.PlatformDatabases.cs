using IncidentOps.Engine.Platforms;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Platform database status, restart and backups: Fly Postgres through flyctl, DigitalOcean managed databases through doctl.</summary>
    public AppDatabaseService AppDatabases => _appDatabases ??= new AppDatabaseService(Sink);
    private AppDatabaseService? _appDatabases;
}
