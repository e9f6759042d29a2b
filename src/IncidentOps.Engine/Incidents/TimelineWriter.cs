using IncidentOps.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// The invocation facts a timeline entry carries: which command really ran (New-Incident, Invoke-ServiceAlert,
/// Send-IncidentUpdate, ...) and its bound parameters, already made safe by the caller. The command that invokes the
/// engine hands these in; the engine never names a command itself.
/// </summary>
public sealed record ChangeContext(string? Cmdlet, IReadOnlyDictionary<string, string>? Parameters = null)
{
    /// <summary>A change the engine makes on no command's behalf (tests, internal maintenance): no cmdlet, no parameters.</summary>
    public static readonly ChangeContext Engine = new((string?)null);
}

/// <summary>
/// The one writer of timeline entries. Every entry (a cmdlet's change or read, an incident record change, a note, a
/// status update, evidence, an alerting step, a Slack incident channel step) is built by <see cref="Entry"/> with one
/// shape: who (the actor in force), which command (from the <see cref="ChangeContext"/>), kind, action, target,
/// outcome and detail, redacted here once, and then appended through the incident store, which spools the entry
/// locally when a team store is down.
/// </summary>
public sealed class TimelineWriter(Func<IncidentOpsConfig?, IIncidentStore> openStore, IOperationSink sink) : ITimelineRecorder
{
    /// <summary>
    /// A timeline entry. Target, detail and parameter values are redacted of secrets here, so no writer has to
    /// remember to. <paramref name="parameters"/> replaces the context's parameters when an entry records other facts
    /// than the command's own (a status update records its UpdateId and Message). <paramref name="deliveryKeys"/>: the
    /// deliveries the entry tells (<see cref="TimelineEntry.DeliveryKeys"/>; the store keeps each told once).
    /// </summary>
    public static TimelineEntry Entry(ChangeContext context, string kind, string action, string? target, TimelineOutcome outcome, string? detail,
        IReadOnlyDictionary<string, string>? parameters = null, IReadOnlyList<string>? deliveryKeys = null) => new()
    {
        DeliveryKeys = deliveryKeys is { Count: > 0 } ? deliveryKeys : null,
        Kind = kind,
        Cmdlet = context.Cmdlet,
        Action = action,
        Target = target is null ? null : SecretRedactor.Redact(target),
        Parameters = Redact(parameters ?? context.Parameters),
        Outcome = outcome,
        Result = detail is null ? null : SecretRedactor.Redact(detail),
    };

    private static Dictionary<string, string> Redact(IReadOnlyDictionary<string, string>? parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (parameters is null) return result;
        foreach (var (name, value) in parameters) result[name] = SecretRedactor.Redact(value);
        return result;
    }

    /// <summary>Appends the entry to an incident the caller already holds in <paramref name="store"/>.</summary>
    public async Task<TimelineEntry> AppendAsync(IIncidentStore store, string incidentId, TimelineEntry entry, CancellationToken cancellationToken)
    {
        await store.AppendTimelineAsync(incidentId, entry, cancellationToken).ConfigureAwait(false);
        return entry;
    }

    /// <summary>Appends the entry to the named incident of the configuration's store; IncidentNotFound when there is none.</summary>
    public async Task<TimelineEntry> AppendAsync(IncidentOpsConfig? config, string incidentId, TimelineEntry entry, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        if (await store.GetAsync(incidentId, cancellationToken).ConfigureAwait(false) is null) throw FileIncidentStore.NotFound(incidentId);
        return await AppendAsync(store, incidentId, entry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Appends the entry and returns the incident's record (one call to the store); warns when the incident is resolved.</summary>
    public async Task<Incident> AppendWithRecordAsync(IIncidentStore store, string incidentId, TimelineEntry entry, string what, CancellationToken cancellationToken)
    {
        var incident = await store.AppendTimelineWithRecordAsync(incidentId, entry, cancellationToken).ConfigureAwait(false);
        WarnIfResolved(incident, what);
        return incident;
    }

    /// <summary>
    /// Records the entry against <paramref name="incidentId"/>, or the active incident when null; nothing when none is
    /// active. When the store is down the change has already happened: the entry goes to the local spool (the append says so).
    /// </summary>
    public async Task<string?> RecordAsync(TimelineEntry entry, string? incidentId, IncidentOpsConfig? config, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        string? id;
        try
        {
            // A resolved incident is never the active one: its timeline takes entries only when it is named (-Incident).
            id = incidentId ?? await IncidentStateMachine.ActiveIdAsync(store, cancellationToken, forChange: true).ConfigureAwait(false);
            if (id is null)
            {
                await WarnIfActiveWasResolvedAsync(store, entry, cancellationToken).ConfigureAwait(false);
                return null;
            }
            var incident = await store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(id);
            WarnIfResolved(incident, $"'{$"{entry.Action} {entry.Target}".Trim()}'");
        }
        catch (IncidentOpsException ex) when (ex.ErrorId is IncidentErrorIds.StoreUnavailable or IncidentErrorIds.StoreTimeout)
        {
            id = incidentId ?? await store.GetActiveIdAsync(cancellationToken).ConfigureAwait(false);
            if (id is null) throw;
        }
        await store.AppendTimelineAsync(id, entry, cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>
    /// The pointer still names an incident that was resolved since it was made active (a teammate's Close-Incident on the
    /// team store, whose pointer is per person): the change is recorded nowhere, and the user, who set an active incident
    /// to have it recorded, is told so rather than left to believe it is on the record.
    /// </summary>
    private async Task WarnIfActiveWasResolvedAsync(IIncidentStore store, TimelineEntry entry, CancellationToken cancellationToken)
    {
        if (await store.GetActiveIdAsync(cancellationToken).ConfigureAwait(false) is not { } pointed) return;
        if (await store.GetAsync(pointed, cancellationToken).ConfigureAwait(false) is not { Status: IncidentStatus.Resolved } resolved) return;
        sink.Warning($"{resolved.Id}, the active incident, was resolved at {resolved.ResolvedAt:u} (by another command or a teammate), so " +
            $"'{$"{entry.Action} {entry.Target}".Trim()}' was not recorded on any timeline. If it belongs to {resolved.Id}, record it there with " +
            $"Add-IncidentNote -Incident {resolved.Id}; make an open incident active with Set-Incident -Activate or New-Incident.");
    }

    /// <summary>Appending to a resolved incident is allowed only when it was named, and is said out loud.</summary>
    internal void WarnIfResolved(Incident incident, string what)
    {
        if (incident.Status == IncidentStatus.Resolved)
            sink.Warning($"{incident.Id} is resolved (at {incident.ResolvedAt:u}); {what} is added to its record after the resolution.");
    }
}
