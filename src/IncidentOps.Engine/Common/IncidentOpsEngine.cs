using IncidentOps.Engine.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Engine;

/// <summary>
/// The engine facade a cmdlet talks to. One instance per cmdlet invocation; it carries the caller's sink
/// and secret provider. Each engine area adds its service as a partial of this class in its own folder
/// (IncidentOpsEngine.Postgres.cs and so on), so areas never edit each other's files.
/// </summary>
public sealed partial class IncidentOpsEngine
{
    public IncidentOpsEngine(IOperationSink sink, ISecretProvider secrets)
    {
        Sink = sink;
        Secrets = secrets;
        References = new ReferenceResolver(secrets);
    }

    public IOperationSink Sink { get; }
    public ISecretProvider Secrets { get; }
    public ReferenceResolver References { get; }

    /// <summary>Loads and caches configuration files.</summary>
    public ConfigService Config { get; } = new();

    /// <summary>Where state changes are written while an incident is active: the incident store's timeline.</summary>
    public IncidentOps.Engine.Incidents.TimelineWriter Timeline => _timeline ??= new IncidentOps.Engine.Incidents.TimelineWriter(OpenStore, Sink);
    private IncidentOps.Engine.Incidents.TimelineWriter? _timeline;
}

/// <summary>Appends timeline entries to the incident that is active (or the one named).</summary>
public interface ITimelineRecorder
{
    /// <summary>
    /// Records the entry against <paramref name="incidentId"/>, or the active incident when null.
    /// Returns the incident id written to, or null when no incident is active.
    /// </summary>
    Task<string?> RecordAsync(TimelineEntry entry, string? incidentId, IncidentOps.Config.IncidentOpsConfig? config, CancellationToken cancellationToken);
}
