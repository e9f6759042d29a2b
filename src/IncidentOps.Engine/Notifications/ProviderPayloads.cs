using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications;

/// <summary>
/// What every channel's payload builder shares: the header line, the incident's facts, visible truncation
/// (an update is never refused for being long) and compact JSON. The builders themselves live in the
/// providers' folders (Slack/, Teams/, ...), found through <see cref="ChannelProviders"/>.
/// </summary>
public static class ProviderPayloads
{
    public const string TruncationMark = "…[truncated]";

    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Json(JsonNode body) => body.ToJsonString(Compact);

    public static string Truncate(string? text, int max)
    {
        text ??= "";
        if (text.Length <= max) return text;
        return text[..Math.Max(0, max - TruncationMark.Length)] + TruncationMark;
    }

    public static string Header(Incident incident, IncidentUpdate update, Func<string, string>? escape = null)
    {
        var title = escape is null ? incident.Title : escape(incident.Title);
        return update.Kind switch
        {
            NotificationKind.Initial => $"[{incident.Severity}] {title}",
            NotificationKind.Resolved => $"[{incident.Severity}] Resolved: {title}",
            _ => $"[{incident.Severity}] Update: {title}",
        };
    }

    /// <summary>Severity, status, start, duration, next update and impact, as name/value pairs.</summary>
    public static List<(string Name, string Value)> Facts(Incident incident, IncidentUpdate update, SeverityLevel? severity, Func<string, string>? escape = null)
    {
        var facts = new List<(string, string)>
        {
            ("Severity", $"{incident.Severity} ({incident.SeverityName ?? severity?.Name ?? incident.Severity})"),
            ("Status", update.Status.ToString()),
            ("Started", NotificationTemplates.FormatTime(incident.StartedAt)),
            ("Duration", Duration.Format(NotificationTemplates.NotNegative((update.Status == IncidentStatus.Resolved ? incident.ResolvedAt ?? update.CreatedAt : update.CreatedAt) - incident.StartedAt))),
        };
        if (update.NextUpdateDue is { } n && update.Status != IncidentStatus.Resolved) facts.Add(("Next update", NotificationTemplates.FormatTime(n)));
        if (!string.IsNullOrWhiteSpace(incident.Impact)) facts.Add(("Impact", escape is null ? incident.Impact! : escape(incident.Impact!)));
        return facts;
    }

    /// <summary>
    /// Where an update takes a pager's alert (PagerDuty, Opsgenie): opened by the initial alert and by updates while
    /// investigating (the alert's key makes a repeat land on the same open alert), acknowledged on Identified, closed
    /// on Monitoring and by the resolution. Monitoring closes rather than acknowledges because a pager stays silent
    /// for a repeat that lands on an acknowledged alert (PagerDuty: "While an incident is acknowledged, it won't
    /// generate any additional notifications, even if it receives new trigger events"; Opsgenie folds a create into
    /// the open alert of its alias): after a close, the relapse's open with the same key makes a new alert, which
    /// notifies. The resolution's close of an already closed alert changes nothing.
    /// </summary>
    public static PagerStep PagerStepOf(IncidentUpdate update) => update.Kind switch
    {
        NotificationKind.Resolved => PagerStep.Close,
        NotificationKind.Initial => PagerStep.Open,
        _ when update.Status is IncidentStatus.Resolved or IncidentStatus.Monitoring => PagerStep.Close,
        _ when update.Status is IncidentStatus.Identified => PagerStep.Acknowledge,
        _ => PagerStep.Open,
    };

    /// <summary>
    /// On a pager, only a later open or the resolution replaces an undelivered open: an acknowledge, or Monitoring's
    /// close, would leave nothing for the page (no alert to acknowledge; a relapse's page closed unsent), so the open
    /// is sent late instead and the page is not lost. The resolution does replace it: the incident is over. An older
    /// acknowledge or close is replaced by any later step (a close sent after a relapse's open would close the relapse).
    /// </summary>
    public static bool PagerSupersedes(IncidentUpdate later, IncidentUpdate older) =>
        PagerStepOf(older) != PagerStep.Open || PagerStepOf(later) == PagerStep.Open || IsResolution(later);

    /// <summary>
    /// Whether an open sent now would land on an alert a close never reached: the last step the channel received (Delivered,
    /// or Unknown: it may have arrived) opened or acknowledged the alert, and a close came after it undelivered (a relapse's
    /// open superseded Monitoring's close while the pager's API was down). A repeat on that alert notifies nobody when it is
    /// acknowledged, so the provider closes it first (<see cref="CloseFirstAsync"/>). Not for a re-send of an open whose
    /// last attempt may have arrived (Unknown): its close went first then, and a second close would close the relapse's alert.
    /// </summary>
    public static bool MissedClose(ChannelDeliveryContext context)
    {
        var (update, channel) = (context.Update, context.Channel.Name);
        if (PagerStepOf(update) != PagerStep.Open || context.Delivery.State == DeliveryState.Unknown) return false;
        var earlier = context.Outbox
            .Where(e => e.UpdateId != update.UpdateId && (e.CreatedAt < update.CreatedAt || (e.CreatedAt == update.CreatedAt && string.CompareOrdinal(e.UpdateId, update.UpdateId) < 0)))
            .OrderBy(e => e.CreatedAt).ThenBy(e => e.UpdateId, StringComparer.Ordinal)
            .Select(e => (Entry: e, Delivery: e.Deliveries.FirstOrDefault(d => d.Channel.Equals(channel, StringComparison.OrdinalIgnoreCase))))
            .Where(x => x.Delivery is not null).ToList();
        var received = earlier.FindLastIndex(x => x.Delivery!.State is DeliveryState.Delivered or DeliveryState.Unknown);
        if (received < 0 || PagerStepOf(earlier[received].Entry) == PagerStep.Close) return false;
        return earlier.Skip(received + 1).Any(x => PagerStepOf(x.Entry) == PagerStep.Close);
    }

    /// <summary>
    /// Sends <paramref name="close"/> (the pager's close of the incident's alert) before an open that <see cref="MissedClose"/>
    /// found would land on an old alert. When the close fails, the open is not sent either (it would notify nobody): the
    /// delivery stays pending and the next -Pending or alerting round closes and opens again.
    /// </summary>
    public static async Task<PreSend> CloseFirstAsync(ChannelDeliveryContext context, ProviderRequest close, string what, CancellationToken cancellationToken)
    {
        var (channel, delivery) = (context.Channel, context.Delivery);
        var outcome = await context.Sender.SendAsync(channel.Name, channel.Type, close, cancellationToken).ConfigureAwait(false);
        if (outcome.Delivered)
        {
            context.Sink.Verbose($"{channel.Name}: closed the {what} of {context.Incident.Id} first: Monitoring's close never reached it, and this open would " +
                "have landed on it (notifying nobody if it was acknowledged); the open now makes a new one, which notifies.");
            return PreSend.Send;
        }
        var error = SecretRedactor.Redact($"The {what} of {context.Incident.Id} is still open from before Monitoring (whose close never reached {channel.Type}), and closing it " +
            $"first failed ({outcome.Error}); the open was not sent, since on that alert it would notify nobody. It stays pending: Send-IncidentUpdate -Pending (or the next alerting round) closes and opens again.");
        await context.Record(() => { delivery.State = DeliveryState.Pending; delivery.Error = error; }).ConfigureAwait(false);
        return PreSend.Done;
    }

    /// <summary>The update that resolves the incident (not Monitoring's close).</summary>
    private static bool IsResolution(IncidentUpdate update) => update.Kind == NotificationKind.Resolved || update.Status == IncidentStatus.Resolved;

    /// <summary>The request that carries an update on a channel, built by the channel's provider.</summary>
    public static ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text) =>
        ChannelProviders.For(channel.Type).Build(channel, incident, update, severity, text);

    /// <summary>What a person's text goes through before it reaches a channel's template.</summary>
    public static Func<string, string>? EscapeFor(ChannelType type) => ChannelProviders.For(type).Escape;

    public static ProviderRequest Post(string url, JsonObject body) =>
        new() { Method = HttpMethod.Post, Url = url, Body = Json(body) };

    /// <summary>A top-level property of a JSON object answer as text (null when absent or not JSON).</summary>
    public static string? JsonString(string? body, string name)
    {
        if (string.IsNullOrWhiteSpace(body) || !body.TrimStart().StartsWith('{')) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString() : null;
        }
        catch (JsonException) { return null; }
    }
}

/// <summary>What an update does to a pager's alert.</summary>
public enum PagerStep { Open, Acknowledge, Close }
