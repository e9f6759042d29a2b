using IncidentOps.Config;
using IncidentOps.Engine.Incidents;

namespace IncidentOps.Engine.Alerting;

/// <summary>
/// The health samples of every alerting round that runs while the service's incident is open, kept as "health"
/// evidence so the post-mortem charts latency and failures over the incident's whole life (not only the round that
/// declared it).
/// </summary>
/// <remarks>
/// A scheduled round every minute for hours must neither grow the store without bound nor rewrite an ever-growing
/// file, so each round writes one small document of its own (that round's results, bodies left out, redacted) into a
/// ring of <see cref="MaxRounds"/> slots per service and incident: health-rounds-ENV-SERVICE-NNNN.json, slot = round
/// number modulo <see cref="MaxRounds"/>. Past the cap the newest round replaces the oldest, which is what the chart
/// keeps anyway (its newest samples). The round number lives in the service's alerting state (written under the
/// service's lock), so a round never lists the evidence to find its slot. Every store already replaces evidence by
/// name atomically (file: temp file and rename; PostgreSQL: an upsert), so no store change was needed. No timeline
/// entry is written per round: a minute-by-minute "Capture evidence" would bury the timeline.
/// </remarks>
public static class RoundHealthSamples
{
    /// <summary>Slots per service and incident: 24 hours of rounds a minute apart (about 0.3 KB per endpoint per round).</summary>
    public const int MaxRounds = 1_440;

    /// <summary>The name prefix of round samples (the post-mortem reads these and every "-health-" evidence document).</summary>
    public const string Prefix = "health-rounds-";

    /// <summary>The evidence name of a round's slot.</summary>
    public static string NameFor(ServiceTarget service, long round) =>
        $"{Prefix}{Safe(service.Environment)}-{Safe(service.Service)}-{round % MaxRounds:0000}.json";

    /// <summary>True for a name this recorder writes.</summary>
    public static bool IsRoundSample(string name) => name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Stores the observation's results in the next slot of <paramref name="incidentId"/> and advances the round number
    /// in <paramref name="state"/> (reset when the incident changes); the caller saves the state. Null when there was
    /// nothing to store.
    /// </summary>
    public static async Task<StoredEvidence?> RecordAsync(IIncidentStore store, ServiceAlertState state, string incidentId, ServiceObservation observation,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (observation.Results.Count == 0) return null;
        if (!string.Equals(state.SamplesIncidentId, incidentId, StringComparison.OrdinalIgnoreCase))
        {
            state.SamplesIncidentId = incidentId;
            state.SampleRounds = 0;
        }
        var content = SecretRedactor.Redact(HealthResultEvidenceSource.Serialize(observation.Results, withBody: false));
        var stored = await store.PutEvidenceAsync(incidentId, NameFor(observation.Target, state.SampleRounds), content, now, cancellationToken).ConfigureAwait(false);
        state.SampleRounds++;
        return stored;
    }

    private static string Safe(string part) => string.Concat(part.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
