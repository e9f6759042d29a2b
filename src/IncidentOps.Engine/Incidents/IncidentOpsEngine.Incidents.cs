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

    /// <summary>Writes state changes to the named incident, or to the active one; nothing when none is active.</summary>
    private sealed class StoreTimelineRecorder(IncidentOpsEngine engine) : ITimelineRecorder
    {
        public async Task<string?> RecordAsync(TimelineEntry entry, string? incidentId, IncidentOpsConfig? config, CancellationToken cancellationToken)
        {
            var store = engine.OpenStore(config);
            string? id;
            try
            {
                // A resolved incident is never the active one: its timeline takes entries only when it is named (-Incident).
                id = incidentId ?? await IncidentStateMachine.ActiveIdAsync(store, cancellationToken).ConfigureAwait(false);
                if (id is null) return null;
                var incident = await store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(id);
                engine.Incidents.WarnIfResolved(incident, $"'{$"{entry.Action} {entry.Target}".Trim()}'");
            }
            catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.StoreUnavailable)
            {
                // The change already happened; the store is down. The entry goes to the local spool (the append says so).
                id = incidentId ?? await store.GetActiveIdAsync(cancellationToken).ConfigureAwait(false);
                if (id is null) throw;
            }
            await store.AppendTimelineAsync(id, entry, cancellationToken).ConfigureAwait(false);
            return id;
        }
    }
}

public sealed partial class IncidentOpsEngine
{
    /// <summary>Incident records, notes, action items and the severity policy.</summary>
    public IncidentService Incidents => _incidents ??= new IncidentService(this);
    private IncidentService? _incidents;

    /// <summary>Save-IncidentEvidence: runs the registered evidence sources.</summary>
    public EvidenceService Evidence => _evidence ??= new EvidenceService(this);
    private EvidenceService? _evidence;

    /// <summary>New-IncidentReport: post-mortems and customer communication drafts.</summary>
    public IncidentReportService Reports => _reports ??= new IncidentReportService(this);
    private IncidentReportService? _reports;
}
