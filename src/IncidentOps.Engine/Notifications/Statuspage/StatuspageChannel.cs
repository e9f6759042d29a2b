using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Statuspage;

/// <summary>
/// Atlassian Statuspage (https://developer.statuspage.io): POST /v1/pages/{page_id}/incidents on the first update,
/// PATCH .../incidents/{id} after, with Authorization: OAuth &lt;key&gt;. Each request carries metadata.incidentops
/// {incident_id, declared_at, update_id} (declared_at tells apart incidents of two stores numbered alike), by which a later send finds the incident and knows whether it already carries an
/// update: so a re-send is safe (idempotent), although a 5xx is not retried at once. Every re-send of an update that was
/// tried before (no answer, Ctrl+C, a 5xx) looks first, since a gateway's error may come after Statuspage did the work. 429 and 420 are rate limits.
/// </summary>
public sealed class StatuspageChannel : ChannelProvider
{
    public const string DefaultBase = "https://api.statuspage.io";
    /// <summary>The top-level metadata key under which IncidentOps records its ids on a Statuspage incident.</summary>
    public const string MetadataKey = "incidentops";

    public override ChannelType Type => ChannelType.Statuspage;
    public override string TypeName => "statuspage";
    public override IReadOnlyList<ChannelOption> Options { get; } =
    [
        // A page id is public (it is in the page's own URLs), so it is not masked; the API key is.
        new("pageId", "the page id", Required: true, Example: "env:STATUSPAGE_PAGE_ID"),
        new("apiKey", "the API key (sent as Authorization: OAuth <key>)", Secret: true, Required: true, Example: "secret:StatuspageKey"),
        new("components", "Statuspage component ids", Shape: ChannelOptionShape.ServiceMap),
        new(UrlKey, $"the API base (default {DefaultBase})", IsUrl: true),
    ];

    public override IReadOnlyList<string> Operations { get; } = ["create", "update", "resolve"];
    public override bool Idempotent => true;
    public override bool LooksBeforeSending => true;

    public override string Endpoint(ChannelConfig channel) => $"page {channel.Option("pageId")}";

    public static string ExternalIdKey(string channel) => $"statuspage:{channel}";

    public static string Impact(SeverityLevel? severity)
    {
        var s = severity?.StatuspageImpact?.ToLowerInvariant();
        if (s is "critical" or "major" or "minor" or "none") return s;
        return severity?.Rank switch { 0 => "critical", 1 => "major", 2 => "minor", _ => "none" };
    }

    public static string ComponentStatus(string impact, IncidentStatus status) => status == IncidentStatus.Resolved ? "operational" : impact switch
    {
        "critical" => "major_outage",
        "major" => "partial_outage",
        "minor" => "degraded_performance",
        _ => "operational",
    };

    /// <summary>
    /// Component ids for the incident's services. A components key may be a service name (`api`, as in the
    /// README) or `environment/service` (`production/api`, as incidents record services); either matches either.
    /// </summary>
    public static List<string> ComponentIds(IReadOnlyDictionary<string, string> components, IReadOnlyList<string> services)
    {
        if (components.Count == 0) return [];
        if (services.Count == 0) return components.Values.Distinct().ToList();
        static string Name(string s) => s.Contains('/') ? s[(s.LastIndexOf('/') + 1)..] : s;
        var ids = new List<string>();
        foreach (var service in services)
        {
            if (components.TryGetValue(service, out var exact)) { ids.Add(exact); continue; }
            if (service.Contains('/') && components.TryGetValue(Name(service), out var byName)) { ids.Add(byName); continue; }
            if (!service.Contains('/'))
            {
                var qualified = components.Where(kv => kv.Key.Contains('/') && Name(kv.Key).Equals(service, StringComparison.OrdinalIgnoreCase)).ToList();
                if (qualified.Count == 1) ids.Add(qualified[0].Value);
            }
        }
        return ids.Distinct().ToList();
    }

    private static string Incidents(ResolvedChannel channel) =>
        $"{(channel.Url ?? DefaultBase).TrimEnd('/')}/v1/pages/{Uri.EscapeDataString(channel.Get("pageId") ?? "")}/incidents";

    /// <summary>
    /// Looks up the Statuspage incident of an IncidentOps incident: GET .../incidents/{id} when its id is known,
    /// else GET .../incidents/unresolved (the incident a concurrent or interrupted create left is unresolved).
    /// </summary>
    public static ProviderRequest Lookup(ResolvedChannel channel, string? knownId)
    {
        var pages = Incidents(channel);
        return new ProviderRequest
        {
            Method = HttpMethod.Get,
            Url = knownId is null ? $"{pages}/unresolved?per_page=100" : $"{pages}/{Uri.EscapeDataString(knownId)}",
            Body = "",
            Headers = { ["Authorization"] = $"OAuth {channel.Get("apiKey")}" },
            RetryServerErrors = true,
            RateLimitCodes = [420, 429],
        };
    }

    public override ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text)
    {
        var impact = Impact(severity);
        var componentIds = ComponentIds(channel.GetMap("components"), incident.Services);
        var components = new JsonObject();
        var ids = new JsonArray();
        foreach (var id in componentIds) { components[id] = ComponentStatus(impact, update.Status); ids.Add(id); }
        var inner = new JsonObject
        {
            ["name"] = ProviderPayloads.Truncate(incident.Title, 255),
            ["status"] = update.Status.ToString().ToLowerInvariant(),
            ["body"] = ProviderPayloads.Truncate(text, 25000),
            ["impact_override"] = impact,
        };
        if (componentIds.Count > 0) { inner["component_ids"] = ids; inner["components"] = components; }
        inner["metadata"] = new JsonObject
        {
            [MetadataKey] = new JsonObject { ["incident_id"] = incident.Id, ["declared_at"] = DeclaredStamp(incident), ["update_id"] = update.UpdateId },
        };
        var existing = incident.ExternalIds.TryGetValue(ExternalIdKey(channel.Name), out var spId) ? spId : null;
        if (existing is null) inner["deliver_notifications"] = true;
        var pages = Incidents(channel);
        return new ProviderRequest
        {
            Method = existing is null ? HttpMethod.Post : HttpMethod.Patch,
            Url = existing is null ? pages : $"{pages}/{Uri.EscapeDataString(existing)}",
            Body = ProviderPayloads.Json(new JsonObject { ["incident"] = inner }),
            Headers = { ["Authorization"] = $"OAuth {channel.Get("apiKey")}" },
            RateLimitCodes = [420, 429],
        };
    }

    public override string? ProviderId(Incident incident, ProviderRequest request, string? responseBody) => ProviderPayloads.JsonString(responseBody, "id");

    /// <summary>
    /// When the incident was declared, to the millisecond (UTC). Incident ids are numbered per store, so a colleague's own
    /// store may have an incident with the same id on the same day; with the id, this tells the two apart on the page.
    /// </summary>
    public static string DeclaredStamp(Incident incident) =>
        incident.DeclaredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Idempotency for Statuspage: find the public incident this IncidentOps incident already has (a concurrent or
    /// interrupted create), and whether it already carries this very update.
    /// </summary>
    public override async Task<PreSend> BeforeSendAsync(ChannelDeliveryContext context, CancellationToken cancellationToken)
    {
        var (channel, delivery, update) = (context.Channel, context.Delivery, context.Update);
        var key = ExternalIdKey(channel.Name);
        var known = context.Incident.ExternalIds.GetValueOrDefault(key);
        // An earlier attempt of this very update may be on the page although its answer said nothing of it: no answer,
        // Ctrl+C, or a 5xx that a gateway sent after Statuspage had done the work. Such a re-send looks first.
        var triedBefore = delivery.State == DeliveryState.Unknown || delivery.Attempts > 0;
        if (known is not null && !triedBefore) return PreSend.Send;
        var found = await FindAsync(context.Sender, channel, context.Incident, known, anyStatus: triedBefore, cancellationToken).ConfigureAwait(false);
        if (found.Error is not null)
        {
            // A check that failed proves nothing about the earlier attempt: an Unknown delivery stays Unknown.
            await context.Record(() =>
            {
                if (delivery.State != DeliveryState.Unknown) delivery.State = DeliveryState.Pending;
                delivery.Error = found.Error;
            }).ConfigureAwait(false);
            return PreSend.Done;
        }
        if (found.Id is not null && found.Id != known)
        {
            context.Incident = await context.UpdateIncident(i => i.ExternalIds[key] = found.Id).ConfigureAwait(false);
            context.Sink.Verbose($"{channel.Name}: Statuspage incident {found.Id} already exists for {context.Incident.Id}; updating it instead of opening another.");
        }
        if (found.Id is null || found.LastUpdateId != update.UpdateId) return PreSend.Send;
        await context.Record(() =>
        {
            delivery.State = DeliveryState.Delivered; delivery.ProviderId = found.Id; delivery.Error = null;
            delivery.DeliveredAt ??= DateTimeOffset.UtcNow;
        }).ConfigureAwait(false);
        context.Sink.Verbose($"{channel.Name}: Statuspage incident {found.Id} already carries {update.UpdateId}; not sent again.");
        return PreSend.Done;
    }

    /// <summary>
    /// Keeps the id of the Statuspage incident a POST opened on the incident at once, so the next update (or a re-send) PATCHes
    /// it instead of opening another. When the incident already names one (another sender, whose claim of the channel had ended,
    /// opened it while this POST was out: an unavoidable duplicate), the first stands: it is the one the outbox records (each
    /// sender records the id this step returns), and later updates PATCH it. The person is warned, with the duplicate's id, to
    /// delete it on the page.
    /// </summary>
    public override async Task<string?> AfterDeliveredAsync(ChannelDeliveryContext context, ProviderRequest request, string? providerId)
    {
        var key = ExternalIdKey(context.Channel.Name);
        if (request.Method == HttpMethod.Post && providerId is not null)
        {
            string? first = null;
            context.Incident = await context.UpdateIncident(i =>
            {
                if (i.ExternalIds.TryGetValue(key, out var kept) && !string.IsNullOrEmpty(kept) && kept != providerId) first = kept;
                else i.ExternalIds[key] = providerId;
            }).ConfigureAwait(false);
            if (first is not null)
            {
                context.Sink.Warning(DuplicateWarning(context.Incident.Id, context.Update.UpdateId, context.Channel.Name, first, providerId));
                return first;
            }
        }
        return providerId ?? context.Incident.ExternalIds.GetValueOrDefault(key);
    }

    /// <summary>What the person is told of a second public incident that a send opened for one IncidentOps incident.</summary>
    public static string DuplicateWarning(string incidentId, string updateId, string channel, string kept, string duplicate) =>
        $"Statuspage now has two public incidents for {incidentId}: '{kept}', opened first by another sender of update {updateId} to '{channel}' " +
        $"(its claim of the channel had ended while this sender's request was out), and '{duplicate}', a duplicate that this send opened. " +
        $"{incidentId} keeps '{kept}': its later updates PATCH that one. Delete the duplicate incident '{duplicate}' on the status page " +
        "(Statuspage: Incidents, open it, Delete incident), so subscribers see one incident.";

    private sealed record Found(string? Id, string? LastUpdateId, string? Error);

    /// <summary>
    /// The Statuspage incident that carries this IncidentOps incident's id in its metadata
    /// (metadata.incidentops.incident_id): the known one (GET .../incidents/{id}), else among the page's
    /// unresolved incidents (GET .../incidents/unresolved), and for a re-send also among its recent incidents of any status.
    /// </summary>
    /// <param name="anyStatus">Also search the page's recent incidents of any status when the unresolved ones do not have it: an
    /// earlier attempt of a resolution may have opened the public incident already resolved.</param>
    private static async Task<Found> FindAsync(NotificationSender sender, ResolvedChannel channel, Incident incident, string? known, bool anyStatus,
        CancellationToken cancellationToken)
    {
        var found = await FindInAsync(sender, channel, incident, Lookup(channel, known), known, cancellationToken).ConfigureAwait(false);
        if (found.Error is not null || found.Id is not null || known is not null || !anyStatus) return found;
        return await FindInAsync(sender, channel, incident, LookupRecent(channel), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET .../incidents?limit=100: the page's most recent incidents, whatever their status.</summary>
    public static ProviderRequest LookupRecent(ResolvedChannel channel)
    {
        var request = Lookup(channel, null);
        return new ProviderRequest
        {
            Method = request.Method, Url = $"{Incidents(channel)}?limit=100", Body = "", Headers = request.Headers,
            RetryServerErrors = true, RateLimitCodes = request.RateLimitCodes,
        };
    }

    private static async Task<Found> FindInAsync(NotificationSender sender, ResolvedChannel channel, Incident incident, ProviderRequest lookup, string? known,
        CancellationToken cancellationToken)
    {
        var outcome = await sender.SendAsync(channel.Name, channel.Type, lookup, cancellationToken).ConfigureAwait(false);
        if (!outcome.Delivered)
            return new Found(null, null,
                $"Could not check Statuspage for an existing incident of {incident.Id} before sending ({outcome.Error?.Replace(NotificationSender.StaysPending, "", StringComparison.Ordinal)}). Nothing was sent, so nothing can be posted twice{NotificationSender.StaysPending}");
        try
        {
            using var doc = JsonDocument.Parse(outcome.ResponseBody ?? "");
            var candidates = doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement.EnumerateArray().ToList()
                : doc.RootElement.ValueKind == JsonValueKind.Object ? [doc.RootElement] : [];
            foreach (var c in candidates)
            {
                if (!c.TryGetProperty("metadata", out var md) || md.ValueKind != JsonValueKind.Object ||
                    !md.TryGetProperty(MetadataKey, out var ours) || ours.ValueKind != JsonValueKind.Object) continue;
                if (!ours.TryGetProperty("incident_id", out var iid) || iid.GetString() != incident.Id) continue;
                // Same id, declared at another time: another store's incident (an incident opened before declared_at was
                // recorded has none and matches by its id alone).
                if (ours.TryGetProperty("declared_at", out var declared) && declared.ValueKind == JsonValueKind.String && declared.GetString() != DeclaredStamp(incident)) continue;
                var id = c.TryGetProperty("id", out var idEl) ? idEl.GetString() : null;
                var last = ours.TryGetProperty("update_id", out var u) ? u.GetString() : null;
                return new Found(id, last, null);
            }
            // The known incident no longer carries our metadata (edited by hand): keep PATCHing it.
            return new Found(known, null, null);
        }
        catch (JsonException ex)
        {
            return new Found(null, null,
                $"Could not check Statuspage for an existing incident of {incident.Id}: its answer is not JSON ({ex.Message}). Nothing was sent; it stays pending: re-send with Send-IncidentUpdate -Pending.");
        }
    }
}
