using IncidentOps.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Engine;

public sealed partial class IncidentOpsEngine
{
    /// <summary>Opens the incident store the configuration names (the file store by default).</summary>
    public IIncidentStore OpenStore(IncidentOpsConfig? config)
    {
        var store = config?.Store ?? new StoreConfig();
        if (store.Kind == StoreKind.Postgres)
        {
            // Resolving env:/file: references is local and quick; secret: goes through the vault's own timeout.
            var connectionString = References.ResolveAsync(store.ConnectionString!, CancellationToken.None).GetAwaiter().GetResult();
            return new PostgresIncidentStore(connectionString, store.Schema, store.Path ?? FileIncidentStore.DefaultRoot()) { Warning = message => Sink.Warning(message) };
        }
        return new FileIncidentStore(store.Path ?? FileIncidentStore.DefaultRoot()) { Warning = message => Sink.Warning(message) };
    }
}

public sealed partial class IncidentOpsEngine
{
    /// <summary>Incident records, notes, action items and the severity policy.</summary>
    public IncidentService Incidents => _incidents ??= new IncidentService(OpenStore, Sink, Timeline);
    private IncidentService? _incidents;

    /// <summary>Save-IncidentEvidence: runs the registered evidence sources.</summary>
    public EvidenceService Evidence => _evidence ??= new EvidenceService(OpenStore, Sink, Timeline, Incidents,
        new EvidenceReaders(Sink, References, Incidents, Health, Platforms, ResourceUsage, Postgres, Redis));
    private EvidenceService? _evidence;

    /// <summary>New-IncidentReport: post-mortems and customer communication drafts.</summary>
    public IncidentReportService Reports => _reports ??= new IncidentReportService(OpenStore, Sink, Incidents, Metrics);
    private IncidentReportService? _reports;
}
