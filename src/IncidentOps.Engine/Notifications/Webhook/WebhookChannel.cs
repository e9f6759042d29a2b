using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Webhook;

/// <summary>
/// A generic JSON webhook: the incident's fields and the rendered text. The Idempotency-Key header
/// (update id + channel) lets a receiver drop repeats, so a re-send is safe. Success: any 2xx.
/// </summary>
public sealed class WebhookChannel : ChannelProvider
{
    public override ChannelType Type => ChannelType.Webhook;
    public override string TypeName => "webhook";
    public override IReadOnlyList<ChannelOption> Options { get; } =
    [
        new(UrlKey, "the receiver's URL", Secret: true, Required: true, Example: "env:WEBHOOK_URL", IsUrl: true),
    ];

    public override bool Idempotent => true;

    public override ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var body = new JsonObject
        {
            ["updateId"] = update.UpdateId,
            ["incidentId"] = incident.Id,
            ["kind"] = update.Kind.ToString(),
            ["severity"] = incident.Severity,
            ["severityName"] = incident.SeverityName ?? severity?.Name,
            ["title"] = incident.Title,
            ["status"] = update.Status.ToString(),
            ["message"] = update.Message,
            ["impact"] = incident.Impact,
            ["startedAt"] = incident.StartedAt.UtcDateTime.ToString("O"),
            ["nextUpdateDue"] = update.NextUpdateDue?.UtcDateTime.ToString("O"),
            ["services"] = new JsonArray(incident.Services.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
            ["text"] = text,
        };
        var request = ProviderPayloads.Post(channel.Url!, body);
        request.Headers["Idempotency-Key"] = $"{update.UpdateId}-{channel.Name}";
        return request;
    }
}
