using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Opsgenie;

/// <summary>
/// Opsgenie Alert API v2 (https://docs.opsgenie.com/docs/alert-api), with an API integration's key sent as
/// Authorization: GenieKey &lt;key&gt;. The alert's alias is the incident id and when it was declared (INC-20261130-001-20261130T091512345Z,
/// see <see cref="PagerKeys"/>; recorded on the incident at its first send), so every request of an incident
/// lands on one alert: POST /v2/alerts creates it on the initial alert and on updates while Investigating (a
/// repeat create of an open alias only raises its count), POST /v2/alerts/{alias}/acknowledge?identifierType=alias
/// on Identified, POST /v2/alerts/{alias}/close?identifierType=alias on Monitoring and on the resolution (a create after the
/// close, a relapse, opens a new alert under the alias, which notifies; one folded into an acknowledged alert would not). Every
/// request is therefore safe to repeat: 5xx and network errors are retried, and an Unknown delivery is re-sent
/// by -Pending. Opsgenie answers 202 with a requestId (kept as the ProviderId) and processes the request later.
/// Before a create whose last attempt got no answer (Unknown) is sent again, GET /v2/alerts/{alias}?identifierType=alias
/// asks whether the alert is there: when it is (open, or created since that attempt), the create arrived and is not posted a
/// second time (the alias would fold a repeat into the one alert, but it still counts as another occurrence). It is also health alerting's pager
/// (Invoke-ServiceAlert, Watch-ServiceHealth -Alert), with the same guarantees as PagerDuty.
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
    public override bool AlertingPager => true;

    public override string Endpoint(ChannelConfig channel) =>
        $"api key {channel.Option(ApiKeyKey)} at {channel.Option(ApiUrlKey)?.ToString() ?? DefaultBase}";

    /// <summary>The requestId of Opsgenie's 202 (GET /v2/alerts/requests/{requestId} tells how it was processed).</summary>
    public override string? ProviderId(Incident incident, ProviderRequest request, string? responseBody) =>
        ProviderPayloads.JsonString(responseBody, "requestId");

    /// <summary>How far before the recorded create attempt a found alert may have been created and still be that create's (clock skew).</summary>
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A create that may have arrived (Unknown: sent, no answer) is looked up by its alias first. An open alert with the
    /// alias, or a closed one created at or after the recorded attempt (less <see cref="Skew"/>), means the create arrived:
    /// it is recorded as delivered and not posted again (a person may even have closed it in Opsgenie meanwhile; a repeat
    /// would then open a second alert). An older closed alert is the one Monitoring closed before a relapse, not this
    /// create's: the create is sent. No alert (404), or no answer to the lookup, sends the create too: the alias still
    /// folds it into an open alert, and a lost page is worse.
    /// </summary>
    public override async Task<PreSend> BeforeSendAsync(ChannelDeliveryContext context, CancellationToken cancellationToken)
    {
        var (channel, delivery, update) = (context.Channel, context.Delivery, context.Update);
        await PagerKeys.EnsureAsync(context, ExternalIdKey, LegacyAlias(context.Incident), NewAlias(context.Incident)).ConfigureAwait(false);
        // The last attempt was accepted (202) but its outcome was not known when the command ended: ask Opsgenie how that
        // request was processed before sending anything again. Done: not re-posted. Failed: sent again (nothing arrived).
        if (delivery is { State: DeliveryState.Unknown, StatusCode: 202, ProviderId: { Length: > 0 } requestId })
        {
            var limit = OperationDeadline.Cap(Min(context.Sender.Options.RequestTimeout, MaxStatusWait), OperationDeadline.Margin);
            var (success, text) = await RequestStatusAsync(context, requestId, limit, cancellationToken).ConfigureAwait(false);
            if (success == true)
            {
                await context.Record(() =>
                {
                    delivery.State = DeliveryState.Delivered; delivery.Error = null; delivery.DeliveredAt ??= DateTimeOffset.UtcNow;
                }).ConfigureAwait(false);
                context.Sink.Verbose($"{channel.Name}: Opsgenie processed the earlier request {requestId} ({text}); not sent again.");
                return PreSend.Done;
            }
            context.Sink.Verbose(success == false
                ? $"{channel.Name}: Opsgenie failed the earlier request {requestId} ({text}); sending it again."
                : $"{channel.Name}: Opsgenie has still not processed the earlier request {requestId} ({text}).");
        }
        if (ProviderPayloads.MissedClose(context))
        {
            // A relapse's create after a Monitoring close that never arrived: close the old alert first (see ProviderPayloads.MissedClose).
            var close = new ProviderRequest
            {
                Method = HttpMethod.Post, Url = $"{AlertsUrl(channel)}/{Uri.EscapeDataString(Alias(context.Incident))}/close?identifierType=alias",
                Body = ProviderPayloads.Json(new JsonObject { ["source"] = "IncidentOps", ["user"] = "IncidentOps", ["note"] = "Closed before the relapse's new alert: Monitoring's close never arrived." }),
                RetryServerErrors = true, Headers = { ["Authorization"] = $"GenieKey {channel.Get(ApiKeyKey)}" },
            };
            return await ProviderPayloads.CloseFirstAsync(context, close, "Opsgenie alert", cancellationToken).ConfigureAwait(false);
        }
        if (delivery.State != DeliveryState.Unknown || Action(update) != "create") return PreSend.Send;
        var lookup = new ProviderRequest
        {
            Method = HttpMethod.Get, Url = $"{AlertsUrl(channel)}/{Uri.EscapeDataString(Alias(context.Incident))}?identifierType=alias", Body = "",
            Headers = { ["Authorization"] = $"GenieKey {channel.Get(ApiKeyKey)}" },
        };
        var outcome = await context.Sender.SendAsync(channel.Name, channel.Type, lookup, cancellationToken).ConfigureAwait(false);
        var (status, createdAt) = outcome.Delivered ? FoundAlert(outcome.ResponseBody) : (null, null);
        if (status is null)
        {
            context.Sink.Verbose($"{channel.Name}: no Opsgenie alert {Alias(context.Incident)} found ({outcome.StatusCode?.ToString() ?? outcome.Error}); creating it again under the same alias.");
            return PreSend.Send;
        }
        var ours = status.Equals("open", StringComparison.OrdinalIgnoreCase)
            || (createdAt is { } created && delivery.LastAttemptAt is { } attempt && created >= attempt - Skew);
        if (!ours)
        {
            context.Sink.Verbose($"{channel.Name}: the Opsgenie alert {Alias(context.Incident)} is {status} and older than the unanswered create " +
                $"(created {Time(createdAt)}, the create sent {Time(delivery.LastAttemptAt)}), so it is not that create's; creating it again.");
            return PreSend.Send;
        }
        await context.Record(() =>
        {
            delivery.State = DeliveryState.Delivered; delivery.Error = null; delivery.StatusCode = outcome.StatusCode;
            delivery.DeliveredAt ??= DateTimeOffset.UtcNow;
        }).ConfigureAwait(false);
        context.Sink.Verbose($"{channel.Name}: the Opsgenie alert {Alias(context.Incident)} exists ({status}, created {Time(createdAt)}, the create sent {Time(delivery.LastAttemptAt)}), " +
            "so the unanswered create arrived; not created again.");
        return PreSend.Done;
    }

    /// <summary>The longest a send waits for Opsgenie to process its request (within the delivery's deadline): "polling briefly".</summary>
    public static readonly TimeSpan MaxStatusWait = TimeSpan.FromSeconds(10);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// Opsgenie answers every request with 202 and a requestId, and processes it later: a create with an unknown responder,
    /// an acknowledge of an alias that has no alert or a rate-limited request fails only then. So a 202 is checked with
    /// Get Request Status (GET /v2/alerts/requests/{requestId}) until the deadline: isSuccess true is Delivered; false is
    /// Failed, with Opsgenie's status text; no answer yet is not Delivered (Unknown, its requestId recorded), and
    /// Send-IncidentUpdate -Pending asks again before sending anything.
    /// </summary>
    public override async Task<DeliveryOutcome> ConfirmAsync(ChannelDeliveryContext context, DeliveryOutcome outcome, string? providerId, TimeSpan limit,
        CancellationToken cancellationToken)
    {
        if (outcome.StatusCode != 202 || string.IsNullOrEmpty(providerId)) return outcome;
        var wait = OperationDeadline.Cap(Min(limit, MaxStatusWait), OperationDeadline.Margin);
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        var (success, text) = await RequestStatusAsync(context, providerId, wait, cancellationToken).ConfigureAwait(false);
        return success switch
        {
            true => outcome,
            false => outcome with
            {
                Delivered = false, Permanent = true, MaybeDelivered = false,
                Error = $"Opsgenie accepted the request (202, request {providerId}) and then failed it: {text}. Fix that in Opsgenie or in the channel's settings, " +
                    "then re-send with Send-IncidentUpdate -Pending.",
            },
            null => outcome with
            {
                Delivered = false, Permanent = false, MaybeDelivered = true,
                Error = $"Opsgenie accepted the request (202, request {providerId}) but had not processed it within {wait.TotalSeconds:0.#} s ({text}), so whether it worked is not known yet. " +
                    "Send-IncidentUpdate -Pending asks Opsgenie about that request first and sends again only if it failed or is still unknown.",
            },
        };
    }

    /// <summary>Polls Get Request Status until it says how the request went or <paramref name="limit"/> passes: (true|false, status text) or (null, why not known).</summary>
    private static async Task<(bool? Success, string Text)> RequestStatusAsync(ChannelDeliveryContext context, string requestId, TimeSpan limit, CancellationToken cancellationToken)
    {
        var channel = context.Channel;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(100);
        var last = "no answer yet";
        while (true)
        {
            var left = limit - clock.Elapsed;
            if (left <= TimeSpan.Zero) return (null, last);
            var lookup = new ProviderRequest
            {
                Method = HttpMethod.Get, Url = $"{AlertsUrl(channel)}/requests/{Uri.EscapeDataString(requestId)}", Body = "",
                Headers = { ["Authorization"] = $"GenieKey {channel.Get(ApiKeyKey)}" },
            };
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(left);
            var answer = await context.Sender.SendAsync(channel.Name, channel.Type, lookup, bounded.Token).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (answer.Delivered && RequestStatus(answer.ResponseBody) is { } status)
            {
                if (status.IsSuccess is { } ok) return (ok, status.Text ?? (ok ? "processed" : "failed"));
                last = status.Text ?? "not processed yet";
            }
            else last = answer.StatusCode == 404 ? "Opsgenie: request not processed yet" : answer.Error ?? $"HTTP {answer.StatusCode}";
            left = limit - clock.Elapsed;
            if (left <= pause) return (null, last);
            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            pause = Min(pause * 2, TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>data.isSuccess and data.status of a Get Request Status answer; null when the body is not one.</summary>
    private static (bool? IsSuccess, string? Text)? RequestStatus(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            if (JsonNode.Parse(body)?["data"] is not JsonObject data) return null;
            bool? ok = data["isSuccess"] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
            var text = data["status"] is JsonValue t && t.TryGetValue<string>(out var st) ? st : null;
            return (ok, text is null ? null : ProviderPayloads.Truncate(text, 500));
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or FormatException) { return null; }
    }

    private static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "at an unknown time";

    /// <summary>The status (open, closed) and creation time of the alert in a Get Alert answer; a null status when the answer carries no alert.</summary>
    private static (string? Status, DateTimeOffset? CreatedAt) FoundAlert(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return (null, null);
        try
        {
            var data = JsonNode.Parse(body)?["data"];
            var status = data?["status"]?.GetValue<string>();
            var created = data?["createdAt"]?.GetValue<string>() is { } text
                && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : (DateTimeOffset?)null;
            return (status, created);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or FormatException) { return (null, null); }
    }

    private static string AlertsUrl(ResolvedChannel channel) => (channel.Get(ApiUrlKey) ?? DefaultBase).TrimEnd('/') + "/v2/alerts";

    /// <summary>Only a later create or the resolution replaces an undelivered create: an acknowledge or Monitoring's close would lose the page.</summary>
    public override bool Supersedes(IncidentUpdate later, IncidentUpdate older) => ProviderPayloads.PagerSupersedes(later, older);

    /// <summary>Where the incident's alias is kept in Incident.ExternalIds (set at the first send, never changed).</summary>
    public const string ExternalIdKey = "opsgenie:alias";

    /// <summary>The alert's alias, the key of Opsgenie's deduplication: the recorded one, else the one the first send records.</summary>
    public static string Alias(Incident incident) => PagerKeys.Current(incident, ExternalIdKey, NewAlias(incident));

    /// <summary>The alias of a new incident: unique across stores (the id and when the incident was declared).</summary>
    public static string NewAlias(Incident incident) => PagerKeys.Unique(incident);

    public override void PreparePreview(Incident preview, IReadOnlyList<IncidentUpdate> outbox) =>
        PagerKeys.Preview(preview, outbox, Type, ExternalIdKey, LegacyAlias(preview), NewAlias(preview));

    /// <summary>The alias of older builds (the id alone), kept by incidents they paged.</summary>
    public static string LegacyAlias(Incident incident) => incident.Id;

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
        var alerts = AlertsUrl(channel);
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
