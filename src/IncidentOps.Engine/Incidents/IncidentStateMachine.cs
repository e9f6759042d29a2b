using IncidentOps.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// The incident's status, in one place, whichever cmdlet moves it (Set-Incident, Close-Incident,
/// Send-IncidentUpdate -Status). Investigating, Identified and Monitoring are open and may move either way;
/// Resolved stamps the resolution time and stops the update cadence; moving a resolved incident back to an
/// open status reopens it. A resolved incident is never the active one (<see cref="ActiveIdAsync"/>).
/// </summary>
public static class IncidentStateMachine
{
    /// <summary>
    /// Moves <paramref name="incident"/> to <paramref name="to"/> at <paramref name="at"/>; returns the change for the
    /// timeline ("Status: Investigating -> Resolved"), or null when the status is already <paramref name="to"/>.
    /// </summary>
    public static string? Move(Incident incident, IncidentStatus to, DateTimeOffset at, SeverityLevel? severity = null)
    {
        var from = incident.Status;
        if (from == to) return null;
        incident.Status = to;
        if (to == IncidentStatus.Resolved)
        {
            incident.ResolvedAt ??= at;
            incident.MitigatedAt ??= at;
            incident.AcknowledgedAt ??= at;
            incident.NextUpdateDue = null;
            return $"Status: {from} -> {to}";
        }
        if (from == IncidentStatus.Resolved)
        {
            incident.ResolvedAt = null;
            if (severity?.UpdateEvery is { } every) incident.NextUpdateDue = at + every;
        }
        if (to >= IncidentStatus.Identified) incident.AcknowledgedAt ??= at;
        if (to == IncidentStatus.Monitoring) incident.MitigatedAt ??= at;
        return from == IncidentStatus.Resolved ? $"Status: {from} -> {to} (reopened)" : $"Status: {from} -> {to}";
    }

    /// <summary>
    /// The active incident's id: null when none is set, or when the one set is gone or resolved. With
    /// <paramref name="forChange"/> (a change is about to be recorded on it), a file store shared with other users or machines
    /// warns once when one of them switched it (<see cref="FileIncidentStore.NoticeActiveSwitch"/>).
    /// </summary>
    public static async Task<string?> ActiveIdAsync(IIncidentStore store, CancellationToken cancellationToken, bool forChange = false)
    {
        var id = await store.GetActiveIdAsync(cancellationToken).ConfigureAwait(false);
        if (id is null) return null;
        var incident = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (incident is null || incident.Status == IncidentStatus.Resolved) return null;
        if (forChange && store is FileIncidentStore files) files.NoticeActiveSwitch(incident.Id);
        return incident.Id;
    }

    /// <summary>
    /// After a move to Resolved: the incident stops being the active one (when it still is: another incident made active
    /// meanwhile stays active).
    /// </summary>
    public static async Task ReleaseActiveAsync(IIncidentStore store, string id, CancellationToken cancellationToken)
    {
        if (string.Equals(await store.GetActiveIdAsync(cancellationToken).ConfigureAwait(false), id, StringComparison.OrdinalIgnoreCase))
            await store.ChangeActiveIdAsync(id, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes <paramref name="id"/> the active incident only when no open incident is active, decided at the moment of the
    /// change (compare-and-set): an incident someone made active meanwhile keeps the pointer. True when it was made active.
    /// </summary>
    public static async Task<bool> ActivateIfNoneAsync(IIncidentStore store, string id, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await store.GetActiveIdAsync(cancellationToken).ConfigureAwait(false);
            if (current is not null && !string.Equals(current, id, StringComparison.OrdinalIgnoreCase)
                && await store.GetAsync(current, cancellationToken).ConfigureAwait(false) is { Status: not IncidentStatus.Resolved })
                return false;
            if (await store.ChangeActiveIdAsync(current, id, cancellationToken).ConfigureAwait(false)) return true;
        }
        return false;
    }
}
