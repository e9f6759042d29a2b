using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Opsgenie;

/// <summary>
/// Opsgenie Alert API v2 (https://docs.opsgenie.com/docs/alert-api), with an API integration's key sent as
/// Authorization: GenieKey &lt;key&gt;. The alert's alias is the incident id, so every request of an incident
/// lands on one alert: POST /v2/alerts creates it on the initial alert and on updates while Investigating (a
/// repeat create of an open alias only raises its count), POST /v2/alerts/{alias}/acknowledge?identifierType=alias
/// on Identified or Monitoring, POST /v2/alerts/{alias}/close?identifierType=alias on the resolution. Every
/// request is therefore safe to repeat: 5xx and network errors are retried, and an Unknown delivery is re-sent
/// by -Pending. Opsgenie answers 202 with a requestId (kept as the ProviderId) and processes the request later.
/// </summary>
public sealed class OpsgenieChannel : ChannelProvider
{
    public const string DefaultBase = "https://api.opsgenie.com";
    public const string ApiKeyKey = "apiKey";
    public const string ApiUrlKey = "apiUrl";

    public override ChannelType Type => ChannelType.Opsgenie;
    public override string TypeName => "opsgenie";
    public override IReadOnlyList<ChannelOption> Options { get; } =
    [
        new(ApiKeyKey, "the API integration's key (sent as Authorization: GenieKey <key>)", Secret: true, Required: true, Example: "secret:OpsgenieKey"),
        // The API base is public (US or EU), not a secret: not masked.
        new(ApiUrlKey, $"the API base: {DefaultBase} (default) or https://api.eu.opsgenie.com", IsUrl: true),
    ];

    public override IReadOnlyList<string> Operations { get; } = ["create", "acknowledge", "close"];
    public override bool Idempotent => true;

    public override string Endpoint(ChannelConfig channel) =>
        $"api key {channel.Option(ApiKeyKey)} at {channel.Option(ApiUrlKey)?.ToString() ?? DefaultBase}";

    /// <summary>The requestId of Opsgenie's 202 (GET /v2/alerts/requests/{requestId} tells how it was processed).</summary>
    public override string? ProviderId(Incident incident, ProviderRequest request, string? responseBody) =>
        ProviderPayloads.JsonString(responseBody, "requestId");

    /// <summary>An acknowledge never replaces an undelivered create: without the alert there is nothing to acknowledge.</summary>
    public override bool Supersedes(IncidentUpdate later, IncidentUpdate older) => ProviderPayloads.PagerSupersedes(later, older);

    /// <summary>The alert's alias: the incident id, the key of Opsgenie's deduplication.</summary>
    public static string Alias(Incident incident) => incident.Id;

    /// <summary>P1 (the most severe level) to P5, by the severity's rank; P3 when the severity is not configured.</summary>
    public static string Priority(SeverityLevel? severity) => severity is null ? "P3" : $"P{Math.Clamp(severity.Rank + 1, 1, 5)}";

    public static string Action(IncidentUpdate update) => ProviderPayloads.PagerStepOf(update) switch
    {
        PagerStep.Close => "close",
        PagerStep.Acknowledge => "acknowledge",
        _ => "create",
    };

    public override ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var action = Action(update);
        var alerts = (channel.Get(ApiUrlKey) ?? DefaultBase).TrimEnd('/') + "/v2/alerts";
        JsonObject body;
        string url;
        if (action == "create")
        {
            // Limits from the Alert API: message 130, alias 512, description 15000, entity 512, source 100, note 25000.
            body = new JsonObject
            {
                ["message"] = ProviderPayloads.Truncate(ProviderPayloads.Header(incident, update), 130),
                ["alias"] = Alias(incident),
                ["description"] = ProviderPayloads.Truncate(text, 15000),
                ["priority"] = Priority(severity),
                ["source"] = "IncidentOps",
                ["tags"] = new JsonArray("incidentops", incident.Severity),
                ["details"] = new JsonObject
                {
                    ["incident_id"] = incident.Id, ["status"] = update.Status.ToString(), ["update_id"] = update.UpdateId,
                },
            };
            if (incident.Services.Length > 0) body["entity"] = ProviderPayloads.Truncate(incident.Services[0], 512);
            url = alerts;
        }
        else
        {
            body = new JsonObject { ["source"] = "IncidentOps", ["user"] = "IncidentOps", ["note"] = ProviderPayloads.Truncate(text, 25000) };
            url = $"{alerts}/{Uri.EscapeDataString(Alias(incident))}/{action}?identifierType=alias";
        }
        return new ProviderRequest
        {
            Method = HttpMethod.Post, Url = url, Body = ProviderPayloads.Json(body), RetryServerErrors = true,
            Headers = { ["Authorization"] = $"GenieKey {channel.Get(ApiKeyKey)}" },
        };
    }
}
