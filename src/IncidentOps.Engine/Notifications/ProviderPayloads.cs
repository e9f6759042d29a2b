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
    /// investigating (the alert's key makes a repeat land on the same alert), acknowledged on Identified or
    /// Monitoring, closed by the resolution.
    /// </summary>
    public static PagerStep PagerStepOf(IncidentUpdate update) => update.Kind switch
    {
        NotificationKind.Resolved => PagerStep.Close,
        NotificationKind.Initial => PagerStep.Open,
        _ when update.Status is IncidentStatus.Resolved => PagerStep.Close,
        _ when update.Status is IncidentStatus.Identified or IncidentStatus.Monitoring => PagerStep.Acknowledge,
        _ => PagerStep.Open,
    };

    /// <summary>
    /// On a pager, an acknowledge never replaces an undelivered open: without the alert there is nothing to
    /// acknowledge, and the page would be lost. (A close does replace it: the incident is over.)
    /// </summary>
    public static bool PagerSupersedes(IncidentUpdate later, IncidentUpdate older) =>
        PagerStepOf(older) != PagerStep.Open || PagerStepOf(later) != PagerStep.Acknowledge;

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
