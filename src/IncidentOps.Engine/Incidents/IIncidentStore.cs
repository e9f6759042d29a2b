using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Where incidents live. The file store is the default; a PostgreSQL team store can implement the same
/// interface. Implementations must make appends atomic and safe across processes.
/// </summary>
public interface IIncidentStore
{
    /// <summary>Which store this is (no credential in it); every incident read from it carries it as Incident.IncidentStore.</summary>
    string Identity { get; }
    /// <summary>Creates an incident, assigning the next id of its start day (INC-yyyyMMdd-NNN).</summary>
    Task<Incident> CreateAsync(Func<string, Incident> build, CancellationToken cancellationToken);
    Task<Incident?> GetAsync(string id, CancellationToken cancellationToken);
    Task<IReadOnlyList<Incident>> ListAsync(CancellationToken cancellationToken);
    /// <summary>Replaces the incident record atomically.</summary>
    Task SaveAsync(Incident incident, CancellationToken cancellationToken);
    /// <summary>Loads, changes and saves under the incident's lock, so concurrent writers do not lose changes.</summary>
    Task<Incident> UpdateAsync(string id, Action<Incident> change, CancellationToken cancellationToken);
    /// <summary>
    /// Appends the entry and assigns its <see cref="TimelineEntry.Sequence"/> (one more than the incident's last). An
    /// append either lands whole or not at all: a failure leaves nothing that a reader would see, and fails with
    /// StoreDiskFull / StoreReadOnly when the store is full or cannot be written, without waiting.
    /// </summary>
    Task AppendTimelineAsync(string id, TimelineEntry entry, CancellationToken cancellationToken);
    /// <summary>Every entry, ordered by Timestamp, then Sequence: one total order, the same for every reader.</summary>
    Task<IReadOnlyList<TimelineEntry>> ReadTimelineAsync(string id, CancellationToken cancellationToken);
    Task<string?> GetActiveIdAsync(CancellationToken cancellationToken);
    Task SetActiveIdAsync(string? id, CancellationToken cancellationToken);
    /// <summary>A folder that belongs to the incident (evidence/, outbox/ live under it).</summary>
    string GetIncidentDirectory(string id);
}
