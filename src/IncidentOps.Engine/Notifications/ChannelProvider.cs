using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications;

/// <summary>The error ids of the Notifications area (a contract: tests and scripts match on them).</summary>
public static class NotificationErrorIds
{
    /// <summary>A channel's type has no provider (a configuration or build that names a channel kind nobody implements).</summary>
    public const string ChannelTypeUnsupported = "ChannelTypeUnsupported";
    public const string ChannelNotFound = "ChannelNotFound";
    public const string ChannelNotRouted = "ChannelNotRouted";
    public const string NoActiveIncident = "NoActiveIncident";
    public const string TemplateInvalid = "NotificationTemplateInvalid";
    /// <summary>
    /// An update was withdrawn (its incident was resolved after it was prepared) and the store failed while recording the
    /// withdrawal: it was not sent, and it is never sent later (the next run that reaches the store marks it Superseded).
    /// </summary>
    public const string WithdrawalNotRecorded = "UpdateWithdrawalNotRecorded";
    /// <summary>
    /// The store failed while an update's deliveries were recorded: every channel's delivery still finished, the results were
    /// written, and the error names per channel what it got and that -Force must not be used for those that got it.
    /// </summary>
    public const string DeliveryNotRecorded = "UpdateDeliveryNotRecorded";
}

/// <summary>
/// <see cref="NotificationErrorIds.DeliveryNotRecorded"/>, with what each channel's provider answered (the cmdlet writes these
/// results before the error, so nothing delivered goes unreported).
/// </summary>
public sealed class DeliveriesNotRecordedException(IReadOnlyList<NotificationResult> results, string message, Exception storeError)
    : IncidentOpsException(NotificationErrorIds.DeliveryNotRecorded, IncidentOpsErrorCategory.WriteError, message, storeError)
{
    public IReadOnlyList<NotificationResult> Results { get; } = results;
}

/// <summary>How a provider option is written in incidentops.yml.</summary>
public enum ChannelOptionShape
{
    /// <summary>One value (a literal or an env:/file:/secret: reference).</summary>
    Scalar,
    /// <summary>A mapping of service names (api or production/api) to values, e.g. Statuspage components.</summary>
    ServiceMap,
    /// <summary>A list of values (each a literal or a reference), e.g. Slack user ids to invite; kept as a map keyed 0, 1, 2, ...</summary>
    List,
}

/// <summary>A problem of a channel's options found at load (a key that needs another, a pattern that cannot work).</summary>
/// <param name="Key">The option the error points at (its line); null for the channel itself.</param>
public sealed record ChannelOptionProblem(string? Key, string ErrorId, string Message);

/// <summary>
/// One key a channel provider accepts under channels.&lt;name&gt;. The parser reads, masks and checks it from this
/// description alone, so ConfigParser knows no channel's fields.
/// </summary>
/// <param name="Key">The camelCase key as written in incidentops.yml.</param>
/// <param name="Description">What the key means (README documentation and error messages).</param>
/// <param name="Secret">Masked everywhere (webhook URLs, routing keys, API keys).</param>
/// <param name="Required">Missing is a ConfigMissingField error.</param>
/// <param name="Example">The example in the ConfigMissingField message (for example: env:PD_ROUTING_KEY).</param>
/// <param name="IsUrl">Checked as an https:// URL (http:// only on loopback), also after a reference resolves.</param>
public sealed record ChannelOption(string Key, string Description, bool Secret = false, bool Required = false, string? Example = null,
    bool IsUrl = false, ChannelOptionShape Shape = ChannelOptionShape.Scalar);

/// <summary>A channel with its references resolved (the secret values are registered with SecretRedactor).</summary>
public sealed class ResolvedChannel
{
    public required ChannelConfig Config { get; init; }
    public string Name => Config.Name;
    public ChannelType Type => Config.Type;
    /// <summary>Resolved scalar options, by key (case-insensitive).</summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    /// <summary>Resolved map options (Statuspage components), by key.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Maps { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);

    public string? Get(string key) => Values.TryGetValue(key, out var v) ? v : null;
    public IReadOnlyDictionary<string, string> GetMap(string key) =>
        Maps.TryGetValue(key, out var m) ? m : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    /// <summary>The channel's `url` (every provider accepts one: a webhook URL or the API base).</summary>
    public string? Url => Get(ChannelProvider.UrlKey);
}

/// <summary>One HTTP request to a provider, with the provider's retry semantics.</summary>
public sealed class ProviderRequest
{
    public required HttpMethod Method { get; init; }
    public required string Url { get; init; }
    public required string Body { get; init; }
    public Dictionary<string, string> Headers { get; init; } = [];
    /// <summary>True when a retry after a 5xx or a network error cannot duplicate the message (PagerDuty's dedup_key).</summary>
    public bool RetryServerErrors { get; init; }
    /// <summary>Status codes that mean "rate limited, wait and retry" (429; Statuspage also 420).</summary>
    public int[] RateLimitCodes { get; init; } = [429];
    /// <summary>The body's media type (a few provider methods take only application/x-www-form-urlencoded).</summary>
    public string ContentType { get; init; } = "application/json";
}

/// <summary>What a provider's pre-send step decided.</summary>
public enum PreSend { Send, Done }

/// <summary>What a provider sees of one delivery: the channel, the incident (current), the update and its delivery record.</summary>
public sealed class ChannelDeliveryContext
{
    public required NotificationSender Sender { get; init; }
    public required ResolvedChannel Channel { get; init; }
    public required Incident Incident { get; set; }
    public required IncidentUpdate Update { get; init; }
    public required ChannelDelivery Delivery { get; init; }
    public required IOperationSink Sink { get; init; }
    /// <summary>Changes the incident record in the store at once (for provider ids in Incident.ExternalIds); returns the new record.</summary>
    public required Func<Action<Incident>, Task<Incident>> UpdateIncident { get; init; }
    /// <summary>Applies a change to the delivery record and writes the outbox entry at once.</summary>
    public required Func<Action, Task> Record { get; init; }
    /// <summary>The incident's outbox entries as read under the channel's lock (what the channel was sent before).</summary>
    public IReadOnlyList<IncidentUpdate> Outbox { get; init; } = [];
}

/// <summary>
/// A notification channel kind (Slack, PagerDuty, ...). Each lives in its own folder under Notifications/ with
/// its options, payload builder and success rule; <see cref="ChannelProviders"/> discovers every subclass in
/// the engine assembly. Adding a channel: README, "Adding a channel".
/// </summary>
public abstract class ChannelProvider
{
    public const string UrlKey = "url";

    /// <summary>The ChannelType this provider serves (reported on every result and outbox entry).</summary>
    public abstract ChannelType Type { get; }

    /// <summary>The name written as channels.&lt;name&gt;.type in incidentops.yml (lower case).</summary>
    public abstract string TypeName { get; }

    /// <summary>The keys this provider accepts besides type and templates.</summary>
    public abstract IReadOnlyList<ChannelOption> Options { get; }

    /// <summary>
    /// What the channel does with an update, in its own words (a message channel posts the initial alert, the
    /// updates and the resolution; a pager triggers, acknowledges and resolves). The contract test asks for a
    /// loopback test of each.
    /// </summary>
    public virtual IReadOnlyList<string> Operations { get; } = ["initial", "update", "resolved"];

    /// <summary>What a person's text goes through before it reaches this channel's template (its markup stays text).</summary>
    public virtual Func<string, string>? Escape => null;

    /// <summary>
    /// True when sending the same update twice cannot post it twice (a dedup key, an Idempotency-Key, a lookup
    /// first), so an Unknown delivery may be re-sent without -Force.
    /// </summary>
    public virtual bool Idempotent => false;
    /// <summary>
    /// Whether a send is safe only because the provider is looked at first (Statuspage: an incident already opened is found by
    /// its metadata). A look cannot see a request that is still in flight, so such a provider's deliveries wait out another
    /// sender's attempt on the channel that may still be in flight (<see cref="ChannelDelivery.InFlightUntil"/>) before they look.
    /// </summary>
    public virtual bool LooksBeforeSending => false;

    /// <summary>
    /// True for a pager health alerting triggers (PagerDuty, Opsgenie): it gets the first alert, the recovery
    /// (acknowledge) and the resolution of an outage, not each progress update in between, and a delivery to it counts
    /// as "paged". Every routed pager is paged; its Build must land every send of an incident on one alert (a dedup key
    /// or alias recorded on the incident at its first send, unique across stores: see PagerKeys), so a retried round never opens a second one.
    /// </summary>
    public virtual bool AlertingPager => false;
    /// <summary>True when the provider takes change events (Send-IncidentChangeEvent).</summary>
    public virtual bool SupportsChangeEvents => false;

    /// <summary>The request that carries an update, with the provider's field names and size limits.</summary>
    public abstract ProviderRequest Build(ResolvedChannel channel, Incident incident, IncidentUpdate update, SeverityLevel? severity, string text);

    /// <summary>A change event (for example a rollback); only for providers with <see cref="SupportsChangeEvents"/>.</summary>
    public virtual ProviderRequest BuildChange(ResolvedChannel channel, string summary, string source, IReadOnlyDictionary<string, string> details, DateTimeOffset at) =>
        throw new IncidentOpsException(NotificationErrorIds.ChannelTypeUnsupported, IncidentOpsErrorCategory.InvalidOperation,
            $"Channel '{channel.Name}' ({TypeName}) does not take change events.");

    /// <summary>The success rule: whether a response means the provider has the update. Default: any 2xx.</summary>
    public virtual bool IsSuccess(int status, string body) => status is >= 200 and < 300;

    /// <summary>A rate-limit wait the provider gives in its answer's body rather than in Retry-After (Discord's retry_after).</summary>
    public virtual TimeSpan? RetryAfter(string body) => null;

    /// <summary>The provider's id of what was created (an alert, a message, an incident), from its answer.</summary>
    public virtual string? ProviderId(Incident incident, ProviderRequest request, string? responseBody) => null;

    /// <summary>
    /// Whether a later update replaces an older undelivered one on this channel (then the older one is never sent
    /// late). Default: always.
    /// </summary>
    public virtual bool Supersedes(IncidentUpdate later, IncidentUpdate older) => true;

    /// <summary>A step before the request is built (Statuspage looks up an incident a previous send may have opened).</summary>
    public virtual Task<PreSend> BeforeSendAsync(ChannelDeliveryContext context, CancellationToken cancellationToken) => Task.FromResult(PreSend.Send);

    /// <summary>
    /// Fills in, on a copy of the incident that -WhatIf renders, what this provider's first send would record on it (a
    /// pager's key, see PagerKeys), so the preview shows the request that would really be sent. Nothing is written.
    /// </summary>
    public virtual void PreparePreview(Incident preview, IReadOnlyList<IncidentUpdate> outbox) { }

    /// <summary>
    /// After a 2xx: a provider that only queued the request (Opsgenie's 202 "Request will be processed") checks how it was
    /// processed, within <paramref name="limit"/>, and returns the outcome to record (Delivered, Failed, or not known yet).
    /// Default: the 2xx stands.
    /// </summary>
    public virtual Task<DeliveryOutcome> ConfirmAsync(ChannelDeliveryContext context, DeliveryOutcome outcome, string? providerId, TimeSpan limit,
        CancellationToken cancellationToken) => Task.FromResult(outcome);

    /// <summary>A step once the provider has the update (Statuspage keeps its incident id on the incident).</summary>
    public virtual Task<string?> AfterDeliveredAsync(ChannelDeliveryContext context, ProviderRequest request, string? providerId) => Task.FromResult(providerId);

    /// <summary>
    /// Problems of a channel's options that no single option shows (keys that go together, a pattern to check), found
    /// when the configuration loads. Values that are references are not resolved here.
    /// </summary>
    public virtual IEnumerable<ChannelOptionProblem> CheckOptions(IReadOnlyDictionary<string, ConfigValue> values,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, ConfigValue>> maps) => [];

    /// <summary>What the channel table of Get-IncidentOpsConfig shows as the endpoint (secrets print masked or as references).</summary>
    public virtual string Endpoint(ChannelConfig channel) => channel.Option(UrlKey)?.ToString() ?? "";

    public override string ToString() => TypeName;
}

/// <summary>The registry of channel providers: every concrete <see cref="ChannelProvider"/> in the engine assembly.</summary>
public static class ChannelProviders
{
    private static readonly Lazy<IReadOnlyList<ChannelProvider>> Discovered = new(() =>
        typeof(ChannelProvider).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ChannelProvider).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (ChannelProvider)Activator.CreateInstance(t)!)
            .OrderBy(p => p.Type)
            .ToList());

    public static IReadOnlyList<ChannelProvider> All => Discovered.Value;

    /// <summary>The type names a configuration may use, in registry order.</summary>
    public static IReadOnlyList<string> TypeNames => All.Select(p => p.TypeName).ToList();

    /// <summary>"slack, teams, ... or webhook", for messages.</summary>
    public static string TypeList => All.Count == 1 ? TypeNames[0] : string.Join(", ", TypeNames.Take(All.Count - 1)) + " or " + TypeNames[^1];

    public static ChannelProvider? Find(string typeName) =>
        All.FirstOrDefault(p => p.TypeName.Equals(typeName, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether health alerting treats channels of this type as its pager (see ChannelProvider.AlertingPager).</summary>
    public static bool IsAlertingPager(ChannelType type) => All.FirstOrDefault(p => p.Type == type)?.AlertingPager ?? false;

    /// <summary>The provider of a channel type; a type without one is a clear error, never a fallback to another channel's body.</summary>
    public static ChannelProvider For(ChannelType type) =>
        All.FirstOrDefault(p => p.Type == type)
        ?? throw new IncidentOpsException(NotificationErrorIds.ChannelTypeUnsupported, IncidentOpsErrorCategory.InvalidData,
            $"No channel provider handles the channel type '{type}'. Use one of {TypeList} in channels.<name>.type.");
}
