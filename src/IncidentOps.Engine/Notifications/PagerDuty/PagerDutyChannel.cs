using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.PagerDuty;

/// <summary>
/// PagerDuty Events API v2 (POST /v2/enqueue): trigger, acknowledge on Identified, resolve on Monitoring and on the
/// resolution. The dedup_key (incidentops-&lt;incident id&gt;-&lt;declared at&gt;, see <see cref="PagerKeys"/>) is recorded on the incident
/// at its first send, so a retry (or a re-trigger) lands on the same open alert, and an incident of another store with the same id on
/// another: idempotent, and 5xx and network errors are retried. A trigger after a resolve (a relapse while Monitoring) opens a
/// new PagerDuty incident with the same dedup_key, which notifies again; a trigger on an acknowledged one would not. Success: 2xx with status "success". Also Change events
/// (POST /v2/change/enqueue).
/// </summary>
public sealed class PagerDutyChannel : ChannelProvider
{
    public const string DefaultBase = "https://events.pagerduty.com";

    public override ChannelType Type => ChannelType.PagerDuty;
    public override string TypeName => "pagerduty";
    public override IReadOnlyList<ChannelOption> Options { get; } =
    [
        new("routingKey", "the Events v2 integration (routing) key", Secret: true, Required: true, Example: "env:PD_ROUTING_KEY"),
        // The API base is public, not a secret webhook: not masked.
        new(UrlKey, $"the Events API base (default {DefaultBase})", IsUrl: true),
    ];

    public override IReadOnlyList<string> Operations { get; } = ["trigger", "acknowledge", "resolve", "change"];
    public override bool Idempotent => true;
    public override bool SupportsChangeEvents => true;
    public override bool AlertingPager => true;

    public override string Endpoint(ChannelConfig channel) => $"routing key {channel.Option("routingKey")}";

    public override bool IsSuccess(int status, string body) =>
        base.IsSuccess(status, body) && !(body.Contains("\"status\"", StringComparison.Ordinal) && !body.Contains("success", StringComparison.OrdinalIgnoreCase));

    public override string? ProviderId(Incident incident, ProviderRequest request, string? responseBody) =>
        ProviderPayloads.JsonString(responseBody, "dedup_key") ?? DedupKey(incident);

    /// <summary>Where the incident's dedup_key is kept in Incident.ExternalIds (set at the first send, never changed).</summary>
    public const string ExternalIdKey = "pagerduty:dedup_key";

    /// <summary>Only a later trigger or the resolution replaces an undelivered trigger (otherwise the page would be lost).</summary>
    public override bool Supersedes(IncidentUpdate later, IncidentUpdate older) => ProviderPayloads.PagerSupersedes(later, older);

    /// <summary>The incident's dedup_key: the recorded one, else the one its first send records (incidentops-INC-20261130-001-20261130T091512345Z).</summary>
    public static string DedupKey(Incident incident) => PagerKeys.Current(incident, ExternalIdKey, NewDedupKey(incident));

    /// <summary>The key of a new incident: unique across stores (the id and when the incident was declared).</summary>
    public static string NewDedupKey(Incident incident) => $"incidentops-{PagerKeys.Unique(incident)}";

    public override void PreparePreview(Incident preview, IReadOnlyList<IncidentUpdate> outbox) =>
        PagerKeys.Preview(preview, outbox, Type, ExternalIdKey, LegacyDedupKey(preview), NewDedupKey(preview));

    /// <summary>The key of older builds (the id alone), kept by incidents they paged.</summary>
    public static string LegacyDedupKey(Incident incident) => $"incidentops-{incident.Id}";

    /// <summary>A relapse's trigger after a Monitoring resolve that never arrived resolves the old PagerDuty incident first (see ProviderPayloads.MissedClose).</summary>
    public override async Task<PreSend> BeforeSendAsync(ChannelDeliveryContext context, CancellationToken cancellationToken)
    {
        await PagerKeys.EnsureAsync(context, ExternalIdKey, LegacyDedupKey(context.Incident), NewDedupKey(context.Incident)).ConfigureAwait(false);
        if (!ProviderPayloads.MissedClose(context)) return PreSend.Send;
        var body = new JsonObject { ["routing_key"] = context.Channel.Get("routingKey"), ["event_action"] = "resolve", ["dedup_key"] = DedupKey(context.Incident) };
        var close = new ProviderRequest { Method = HttpMethod.Post, Url = Base(context.Channel) + "/v2/enqueue", Body = ProviderPayloads.Json(body), RetryServerErrors = true };
        return await ProviderPayloads.CloseFirstAsync(context, close, "PagerDuty incident", cancellationToken).ConfigureAwait(false);
    }

    public static string Severity(SeverityLevel? severity)
    {
        var s = severity?.PagerDutySeverity?.ToLowerInvariant();
        if (s is "critical" or "error" or "warning" or "info") return s;
        return severity?.Rank switch { 0 => "critical", 1 => "error", 2 => "warning", _ => "info" };
    }

    public static string Action(IncidentUpdate update) => ProviderPayloads.PagerStepOf(update) switch
    {
        PagerStep.Close => "resolve",
        PagerStep.Acknowledge => "acknowledge",
        _ => "trigger",
    };

    public override ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var action = Action(update);
        var body = new JsonObject
        {
            ["routing_key"] = channel.Get("routingKey"),
            ["event_action"] = action,
            ["dedup_key"] = DedupKey(incident),
        };
        if (action == "trigger")
        {
            var details = new JsonObject { ["incident_id"] = incident.Id, ["status"] = update.Status.ToString(), ["update"] = ProviderPayloads.Truncate(text, 4000) };
            var payload = new JsonObject
            {
                ["summary"] = ProviderPayloads.Truncate($"{ProviderPayloads.Header(incident, update)} - {update.Status}{(string.IsNullOrWhiteSpace(update.Message) ? "" : ": " + update.Message)}", 1024),
                ["source"] = incident.Services.FirstOrDefault() ?? "incidentops",
                ["severity"] = Severity(severity),
                ["timestamp"] = update.CreatedAt.UtcDateTime.ToString("O"),
                ["custom_details"] = details,
            };
            if (incident.Services.Length > 0) payload["component"] = incident.Services[0];
            body["payload"] = payload;
            body["client"] = "IncidentOps";
        }
        return new ProviderRequest
        {
            Method = HttpMethod.Post, Url = Base(channel) + "/v2/enqueue", Body = ProviderPayloads.Json(body), RetryServerErrors = true,
        };
    }

    /// <summary>A PagerDuty Change event (POST /v2/change/enqueue), for example a rollback.</summary>
    public override ProviderRequest BuildChange(ResolvedChannel channel, string summary, string source, IReadOnlyDictionary<string, string> details, DateTimeOffset at)
    {
        var custom = new JsonObject();
        foreach (var (k, v) in details) custom[k] = v;
        var body = new JsonObject
        {
            ["routing_key"] = channel.Get("routingKey"),
            ["payload"] = new JsonObject
            {
                ["summary"] = ProviderPayloads.Truncate(summary, 1024), ["timestamp"] = at.UtcDateTime.ToString("O"), ["source"] = source, ["custom_details"] = custom,
            },
        };
        // Change events have no dedup_key, so a retry after a 5xx could post the change twice: do not.
        return new ProviderRequest { Method = HttpMethod.Post, Url = Base(channel) + "/v2/change/enqueue", Body = ProviderPayloads.Json(body) };
    }

    private static string Base(ResolvedChannel channel)
    {
        var b = (channel.Url ?? DefaultBase).TrimEnd('/');
        return b.EndsWith("/v2/enqueue", StringComparison.OrdinalIgnoreCase) ? b[..^"/v2/enqueue".Length] : b;
    }
}
