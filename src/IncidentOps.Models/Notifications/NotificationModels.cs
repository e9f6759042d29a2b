using IncidentOps.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Notifications;

/// <summary>Which communication template an update uses (seeds 000-004: initial alert, progress update, resolution).</summary>
public enum NotificationKind { Initial, Update, Resolved }

/// <summary>
/// Delivery state of one update on one channel. Unknown: an attempt was under way when it was interrupted
/// (Ctrl+C, a crash, no answer), so the provider may have received it. Superseded: a later update of the same
/// incident went to the channel, so this one is never delivered late.
/// </summary>
public enum DeliveryState { Pending, Delivered, Failed, Unknown, Superseded }

/// <summary>The outcome of sending one update to one channel (Send-IncidentUpdate output).</summary>
public sealed class NotificationResult
{
    public required string IncidentId { get; init; }
    public required string UpdateId { get; init; }
    public required string Channel { get; init; }
    public ChannelType ChannelType { get; init; }
    public NotificationKind Kind { get; init; }
    public bool Delivered { get; init; }
    /// <summary>The channel's delivery state in the outbox (Delivered, Pending, Failed, Unknown or Superseded).</summary>
    public DeliveryState State { get; init; }
    /// <summary>True when the update stays in the outbox for a later Send-IncidentUpdate -Pending.</summary>
    public bool Pending { get; init; }
    public int? StatusCode { get; init; }
    public int Attempts { get; init; }
    /// <summary>The provider's id for what was sent (Statuspage incident id, PagerDuty dedup_key, Discord message id).</summary>
    public string? ProviderId { get; init; }
    /// <summary>Total time spent waiting between attempts (Retry-After or back-off).</summary>
    public TimeSpan RetryWait { get; init; }
    public string? Error { get; init; }
    public override string ToString() => $"{IncidentId} {Channel} ({ChannelType}) {Kind}: {State.ToString().ToLowerInvariant()}{(Error is null ? "" : " - " + Error)}";
}

/// <summary>Delivery state of one channel inside an outbox entry.</summary>
public sealed class ChannelDelivery
{
    public required string Channel { get; init; }
    public ChannelType ChannelType { get; init; }
    public DeliveryState State { get; set; } = DeliveryState.Pending;
    public int Attempts { get; set; }
    public int? StatusCode { get; set; }
    public string? ProviderId { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    /// <summary>When the last attempt started (written before the request leaves).</summary>
    public DateTimeOffset? LastAttemptAt { get; set; }
    /// <summary>
    /// While a request of the last attempt is out: until when it may still be in flight (its sender's deadline, by the store's
    /// clock). Cleared when the attempt ends. Another sender whose claim of the channel began while this was in the future
    /// waits it out before it looks at the provider, so it does not post the update twice.
    /// </summary>
    public DateTimeOffset? InFlightUntil { get; set; }
    /// <summary>
    /// Which sender's attempt <see cref="InFlightUntil"/> belongs to: a new id each time a sender's delivery of this channel
    /// puts a request in flight, kept with the attempt's outcome. A record made by another attempt (a sender whose claim of
    /// the channel ended, finishing late) never clears or replaces the in-flight deadline of this one.
    /// </summary>
    public string? AttemptId { get; set; }
    public override string ToString() => $"{Channel}: {State}";
}

/// <summary>
/// One status update as kept in the incident's outbox/ folder: written before anything is sent, then
/// updated with each channel's delivery state (Get-IncidentUpdate output).
/// </summary>
public sealed class IncidentUpdate
{
    public required string UpdateId { get; init; }
    public required string IncidentId { get; init; }
    public NotificationKind Kind { get; init; }
    public IncidentStatus Status { get; init; }
    public string? Message { get; init; }
    public string[] ActionsTaken { get; init; } = [];
    public string? CurrentFocus { get; init; }
    public string? Eta { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? NextUpdateDue { get; init; }
    public List<ChannelDelivery> Deliveries { get; init; } = [];
    /// <summary>True while at least one channel has not received the update (and no later update superseded it there).</summary>
    public bool Pending => Deliveries.Any(d => d.State is not (DeliveryState.Delivered or DeliveryState.Superseded));
    public override string ToString() => $"{UpdateId} {Kind} {Status}: {string.Join(", ", Deliveries)}";
}

/// <summary>An open incident whose next status update is due (Get-IncidentUpdateDue output).</summary>
public sealed class IncidentUpdateDue
{
    public required string IncidentId { get; init; }
    public required string Severity { get; init; }
    public required string Title { get; init; }
    public IncidentStatus Status { get; init; }
    public DateTimeOffset? LastUpdateAt { get; init; }
    public DateTimeOffset NextUpdateDue { get; init; }
    /// <summary>How long past due; zero when the update is not yet due (see DueIn).</summary>
    public TimeSpan OverdueBy { get; init; }
    /// <summary>How long until the update is due; zero once it is due (see OverdueBy).</summary>
    public TimeSpan DueIn { get; init; }
    public int PendingUpdates { get; init; }
    public override string ToString() => $"{IncidentId} [{Severity}] update due {NextUpdateDue:u}";
}

/// <summary>What Send-IncidentUpdate was asked to send.</summary>
public sealed class IncidentUpdateRequest
{
    public string? IncidentId { get; init; }
    public IncidentStatus? Status { get; init; }
    public string? Message { get; init; }
    public NotificationKind? Kind { get; init; }
    public TimeSpan? NextUpdateIn { get; init; }
    public string[]? Channels { get; init; }
    public string[] ActionsTaken { get; init; } = [];
    public string? CurrentFocus { get; init; }
    public string? Eta { get; init; }
}

/// <summary>One channel's rendered request, for -WhatIf (secrets masked).</summary>
public sealed class RenderedNotification
{
    public required string Channel { get; init; }
    public ChannelType ChannelType { get; init; }
    public required string Method { get; init; }
    public required string Url { get; init; }
    public required string Body { get; init; }
    public override string ToString() => $"{Method} {Url}{System.Environment.NewLine}{Body}";
}
