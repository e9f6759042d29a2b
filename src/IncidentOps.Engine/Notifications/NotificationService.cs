using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications;

/// <summary>An update ready to send: the outbox entry (not yet written) and each channel's rendered request.</summary>
public sealed class PreparedUpdate
{
    public required IncidentOpsConfig Config { get; init; }
    public required Incident Incident { get; init; }
    public required IncidentUpdate Update { get; init; }
    public required IReadOnlyList<ResolvedChannel> Channels { get; init; }
    /// <summary>What each channel would receive, secrets masked (for -WhatIf).</summary>
    public required IReadOnlyList<RenderedNotification> Rendered { get; init; }
    /// <summary>
    /// The selected channels whose settings do not resolve (an env:, file: or secret: reference that is missing), one error
    /// each. While any is listed, <see cref="NotificationService.SendAsync"/> sends nothing, so an update is never half sent.
    /// </summary>
    public IReadOnlyList<UnresolvedChannel> Unresolved { get; init; } = [];
    /// <summary>Every selected channel's name, in the order of the routing or -Channel (resolved or not).</summary>
    public IReadOnlyList<string> Selected { get; init; } = [];
}

/// <summary>A selected channel whose settings do not resolve, and the error that says which reference and how to fix it (never a value).</summary>
public sealed record UnresolvedChannel(string Channel, ChannelType ChannelType, IncidentOpsException Error);

/// <summary>One step of Send-IncidentUpdate -Pending -WhatIf: a pending update on a channel, and what would happen to it.</summary>
public sealed record PendingPlanStep(string Target, string Action);

/// <summary>
/// Status updates to every channel a provider serves (Slack, Teams, Discord, PagerDuty, Statuspage, Opsgenie,
/// webhooks: see <see cref="ChannelProviders"/>); nothing here depends on a channel's kind. Every update is
/// written to the incident's outbox/ folder with per-channel delivery state before anything is sent, so a
/// failed or interrupted send is never lost (Send-IncidentUpdate -Pending re-sends it) and a channel that
/// already received an update never receives it twice.
/// </summary>
/// <param name="openStore">Opens the incident store a configuration names (the outbox lives there).</param>
/// <param name="sink">Where progress, warnings and verbose text go.</param>
/// <param name="references">Resolves env:, file: and secret: references of channel settings.</param>
/// <param name="timeline">The one writer of timeline entries.</param>
/// <param name="http">The client every provider request goes through.</param>
/// <param name="incidentChannels">The incident's own Slack channel, whose unfinished steps -Pending completes (it resolves its
/// channels through this service, hence created on first use).</param>
public sealed class NotificationService(Func<IncidentOpsConfig?, IIncidentStore> openStore, IOperationSink sink, ReferenceResolver references,
    TimelineWriter timeline, HttpClient http, Lazy<Slack.SlackIncidentChannel> incidentChannels)
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);
    /// <summary>How often a delivery waiting for another sender's request in flight looks whether it was recorded.</summary>
    private static readonly TimeSpan InFlightPoll = TimeSpan.FromMilliseconds(250);

    public NotificationOptions Options { get; set; } = new();

    private NotificationSender Sender => new(http, sink, Options);

    // ------------------------------------------------------------------ prepare (no side effects)

    public async Task<PreparedUpdate> PrepareAsync(IncidentOpsConfig config, IncidentUpdateRequest request, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        var incident = await LoadIncidentAsync(store, request.IncidentId, cancellationToken).ConfigureAwait(false);
        var severity = Severity(config, incident);
        var status = request.Status ?? (request.Kind == NotificationKind.Resolved ? IncidentStatus.Resolved : incident.Status);
        var kind = request.Kind ?? InferKind(incident, status, await HasUpdatesAsync(store, incident.Id, cancellationToken).ConfigureAwait(false));
        if (kind == NotificationKind.Resolved) status = IncidentStatus.Resolved;
        var now = DateTimeOffset.UtcNow;
        DateTimeOffset? next = status == IncidentStatus.Resolved ? null
            : request.NextUpdateIn is { } n ? now + n
            : severity?.UpdateEvery is { } every ? now + every : null;
        var channelConfigs = SelectChannels(config, incident, request.Channels);
        var (channels, unresolved) = await ResolveEachAsync(channelConfigs, cancellationToken).ConfigureAwait(false);
        var update = new IncidentUpdate
        {
            UpdateId = $"UPD-{now:yyyyMMddHHmmssfff}-{Random.Shared.Next(0x1000, 0xFFFF):x4}",
            IncidentId = incident.Id,
            Kind = kind,
            Status = status,
            Message = request.Message,
            ActionsTaken = request.ActionsTaken,
            CurrentFocus = request.CurrentFocus,
            Eta = request.Eta,
            CreatedAt = now,
            NextUpdateDue = next,
            Deliveries = channels.Select(c => new ChannelDelivery { Channel = c.Name, ChannelType = c.Type }).ToList(),
        };
        var preview = Preview(incident, update, status);
        var history = await store.ReadOutboxAsync(incident.Id, cancellationToken).ConfigureAwait(false);
        foreach (var c in channels) ChannelProviders.For(c.Type).PreparePreview(preview, history);
        var rendered = new List<RenderedNotification>();
        foreach (var c in channels)
        {
            var r = await BuildAsync(config, c, preview, update, severity, cancellationToken).ConfigureAwait(false);
            rendered.Add(new RenderedNotification
            {
                Channel = c.Name, ChannelType = c.Type, Method = r.Method.Method,
                Url = SecretRedactor.Redact(r.Url), Body = SecretRedactor.Redact(r.Body),
            });
        }
        return new PreparedUpdate
        {
            Config = config, Incident = incident, Update = update, Channels = channels, Rendered = rendered, Unresolved = unresolved,
            Selected = channelConfigs.Select(c => c.Name).ToList(),
        };
    }

    /// <summary>
    /// Resolves every selected channel, going on past one whose reference does not resolve, so that one run names every
    /// channel to fix (each error also lists the others) instead of the first only.
    /// </summary>
    private async Task<(List<ResolvedChannel> Resolved, List<UnresolvedChannel> Unresolved)> ResolveEachAsync(IReadOnlyList<ChannelConfig> configs,
        CancellationToken cancellationToken)
    {
        var resolved = new List<ResolvedChannel>();
        var failed = new List<(ChannelConfig Channel, IncidentOpsException Error)>();
        foreach (var c in configs)
        {
            try { resolved.Add(await ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false)); }
            catch (IncidentOpsException ex) when (ex.ErrorId == ConfigErrorIds.ConfigReferenceUnresolved) { failed.Add((c, ex)); }
        }
        if (failed.Count == 0) return (resolved, []);
        var names = string.Join(", ", failed.Select(f => f.Channel.Name));
        var others = resolved.Select(r => r.Name).ToList();
        var all = $"{failed.Count} of {configs.Count} selected channel{(configs.Count == 1 ? "" : "s")} do{(failed.Count == 1 ? "es" : "")} not resolve ({names}): " +
            "no channel is sent the update until each resolves, so it is never half sent" +
            (others.Count > 0 ? $"; to send it to the others now, name them: -Channel {string.Join(",", others)}." : ".");
        var unresolved = failed.Select(f => new UnresolvedChannel(f.Channel.Name, f.Channel.Type,
            new IncidentOpsException(f.Error.ErrorId, f.Error.Category, $"{f.Error.Message} {all}", f.Error)
            {
                TargetObject = f.Channel.Name, RecommendedAction = f.Error.RecommendedAction,
            })).ToList();
        return (resolved, unresolved);
    }

    public static NotificationKind InferKind(Incident incident, IncidentStatus status, bool hasUpdates) =>
        status == IncidentStatus.Resolved ? NotificationKind.Resolved
        : incident.LastUpdateAt is null && !hasUpdates ? NotificationKind.Initial
        : NotificationKind.Update;

    // ------------------------------------------------------------------ send

    /// <summary>
    /// Writes the update to the outbox, records the incident's new status, marks older undelivered updates on the
    /// same channels Superseded, then delivers to each channel. The incident's cadence (LastUpdateAt,
    /// NextUpdateDue) moves forward only once every channel has the update.
    /// </summary>
    /// <param name="context">The command that sends the update (its timeline entry names it).</param>
    public Task<IReadOnlyList<NotificationResult>> SendAsync(PreparedUpdate prepared, IReadOnlyCollection<string>? onlyChannels, ChangeContext context, CancellationToken cancellationToken) =>
        SendCoreAsync(prepared, onlyChannels, keepUnresolvedPending: false, context, cancellationToken);

    /// <summary>
    /// Unattended sends (the alerting round): the update goes to every channel that resolves, so one channel whose reference
    /// does not resolve in the job's environment (a Statuspage key, a webhook URL) never keeps the page from going out. Each
    /// such channel gets a Pending delivery with the reason in the outbox, which the next round or Send-IncidentUpdate -Pending
    /// sends once the reference resolves; its result and the timeline entry say it was not delivered, and a warning says why.
    /// </summary>
    public Task<IReadOnlyList<NotificationResult>> SendResolvableAsync(PreparedUpdate prepared, ChangeContext context, CancellationToken cancellationToken) =>
        SendCoreAsync(prepared, null, keepUnresolvedPending: true, context, cancellationToken);

    private async Task<IReadOnlyList<NotificationResult>> SendCoreAsync(PreparedUpdate prepared, IReadOnlyCollection<string>? onlyChannels, bool keepUnresolvedPending,
        ChangeContext context, CancellationToken cancellationToken)
    {
        // The cmdlet stops before this; a caller that did not still never sends half the update.
        if (prepared.Unresolved.Count > 0 && !keepUnresolvedPending) throw prepared.Unresolved[0].Error;
        var store = openStore(prepared.Config);
        var update = prepared.Update;
        if (onlyChannels is not null) update.Deliveries.RemoveAll(d => !onlyChannels.Contains(d.Channel, StringComparer.OrdinalIgnoreCase));
        var waiting = new List<NotificationResult>();
        foreach (var u in keepUnresolvedPending ? prepared.Unresolved : [])
        {
            var why = UnresolvedReason(u.Error);
            var delivery = new ChannelDelivery { Channel = u.Channel, ChannelType = u.ChannelType, State = DeliveryState.Pending, Error = why };
            update.Deliveries.Add(delivery);
            waiting.Add(ToResult(update, delivery, TimeSpan.Zero));
            sink.Warning($"{update.IncidentId} {update.UpdateId} to '{u.Channel}': {why} The update went to the other channels; this delivery stays pending " +
                "(the next alerting round or Send-IncidentUpdate -Pending sends it once the reference resolves).");
        }
        if (update.Deliveries.Count == 0) return [];
        await using (await store.ClaimOutboxAsync(update.IncidentId, update.UpdateId, LockTimeout, cancellationToken).ConfigureAwait(false))
        {
            // An incident resolved since this update was prepared withdraws it, and the withdrawal is the entry's only
            // write: written Pending and then marked, an interruption between the two (Ctrl+C, a store error) would
            // leave a withdrawn update pending, and a later -Pending would post it.
            if (await store.GetAsync(update.IncidentId, cancellationToken).ConfigureAwait(false) is { } current && ResolvedSincePrepared(current, prepared))
                return await WithdrawAsync(store, update, current.ResolvedAt ?? update.CreatedAt, entryWritten: false).ConfigureAwait(false);
            // Outbox first: the update is stored before any provider sees it.
            await store.WriteOutboxEntryAsync(update, cancellationToken).ConfigureAwait(false);
            DateTimeOffset? resolvedMeanwhile = null;
            // From here the entry is written: the status move and (when the incident was resolved in the moment since the
            // check above) the withdrawal are not cut short by Ctrl+C. A store error there (the store's folder gone, PostgreSQL
            // down) may leave the entry pending although withdrawn: every delivery checks the incident first (WithdrawnByResolution),
            // so it is never sent later, and the person is told.
            try
            {
                await store.UpdateAsync(update.IncidentId, i =>
                {
                    // Prepared while the incident was open, and resolved since (Close-Incident racing the alerting round's
                    // "still failing", or an update waiting at its confirmation): the close stands. Only an update prepared
                    // for an incident already resolved reopens it, because its sender saw it resolved.
                    if (ResolvedSincePrepared(i, prepared))
                    {
                        resolvedMeanwhile = i.ResolvedAt ?? update.CreatedAt;
                        return;
                    }
                    IncidentStateMachine.Move(i, update.Status, update.CreatedAt);
                }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (resolvedMeanwhile is { } seen && IsStoreFault(ex))
            {
                throw WithdrawalNotRecorded(update, seen, ex, entryWritten: true);
            }
            if (resolvedMeanwhile is { } resolvedAt) return await WithdrawAsync(store, update, resolvedAt, entryWritten: true).ConfigureAwait(false);
            if (update.Status == IncidentStatus.Resolved) await IncidentStateMachine.ReleaseActiveAsync(store, update.IncidentId, cancellationToken).ConfigureAwait(false);
            await SupersedeOlderAsync(store, update, cancellationToken).ConfigureAwait(false);
            var channels = prepared.Channels.Where(c => update.Deliveries.Any(d => d.Channel.Equals(c.Name, StringComparison.OrdinalIgnoreCase))).ToList();
            return await DeliverAsync(store, prepared.Config, update, channels, force: false, context, cancellationToken, waiting).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Prepared while the incident was open, and resolved since (Close-Incident racing the alerting round's "still failing",
    /// or an update waiting at its confirmation): the close stands. Only an update prepared for an incident already resolved
    /// reopens it, because its sender saw it resolved.
    /// </summary>
    private static bool ResolvedSincePrepared(Incident current, PreparedUpdate prepared) =>
        current.Status == IncidentStatus.Resolved && prepared.Update.Status != IncidentStatus.Resolved && prepared.Incident.Status != IncidentStatus.Resolved;

    /// <summary>
    /// Withdraws an update of an incident resolved since it was prepared: one write, every delivery Superseded (never sent).
    /// When the store fails on that write, the update is still never sent (see <see cref="WithdrawnByResolution"/>) and the
    /// person gets UpdateWithdrawalNotRecorded, which says so and what to run once the store is back.
    /// </summary>
    /// <param name="entryWritten">Whether the entry was written Pending before (then a failed write leaves it reading Pending).</param>
    private async Task<IReadOnlyList<NotificationResult>> WithdrawAsync(IIncidentStore store, IncidentUpdate update, DateTimeOffset resolvedAt, bool entryWritten)
    {
        foreach (var d in update.Deliveries) Withdraw(d, update, resolvedAt);
        try { await RecordChannelsAsync(store, update, update.Deliveries, CancellationToken.None).ConfigureAwait(false); }
        catch (Exception ex) when (IsStoreFault(ex)) { throw WithdrawalNotRecorded(update, resolvedAt, ex, entryWritten); }
        sink.Warning($"{update.IncidentId} was resolved (at {resolvedAt:u}) after this {update.Status} update was prepared, so it was not sent and the incident stays resolved. " +
            $"To reopen it, send the update again: Send-IncidentUpdate -Incident {update.IncidentId} -Status {update.Status}.");
        return update.Deliveries.Select(d => ToResult(update, d, TimeSpan.Zero)).ToList();
    }

    /// <summary>
    /// An update that is not a resolution, of an incident that is resolved now. Its status was recorded on the incident
    /// before any delivery, so the incident was resolved after it was written (or the update never took effect): sent now,
    /// it would post a stale status after the resolution (a public status page back to Investigating). It is withdrawn at
    /// every delivery (a send, -Pending, an alerting round), so a withdrawal whose write failed is never undone later.
    /// </summary>
    private static bool WithdrawnByResolution(Incident current, IncidentUpdate update) =>
        current.Status == IncidentStatus.Resolved && update.Status != IncidentStatus.Resolved;

    private static void Withdraw(ChannelDelivery d, IncidentUpdate update, DateTimeOffset? resolvedAt)
    {
        d.State = DeliveryState.Superseded;
        d.Error = $"Not sent: {update.IncidentId} was resolved{(resolvedAt is { } at ? $" at {at:u}" : "")}, after this {update.Status} update was prepared.";
    }

    /// <summary>A failure of the store itself (its errors, or a file-system fault it did not name), not Ctrl+C.</summary>
    private static bool IsStoreFault(Exception ex) => ex is IncidentOpsException or IOException or UnauthorizedAccessException;

    private static IncidentOpsException WithdrawalNotRecorded(IncidentUpdate update, DateTimeOffset resolvedAt, Exception storeError, bool entryWritten) =>
        new(NotificationErrorIds.WithdrawalNotRecorded, IncidentOpsErrorCategory.WriteError,
            $"{update.IncidentId} was resolved (at {resolvedAt:u}) after this {update.Status} update {update.UpdateId} was prepared, so it was withdrawn and sent nowhere. " +
            $"Recording the withdrawal failed: {SecretRedactor.Redact(storeError.Message)} " +
            (entryWritten
                ? $"Its outbox entry may still read Pending, but it will never be sent: the next Send-IncidentUpdate -Pending or alerting round that reaches the store marks it Superseded. " +
                  $"Once the store is back, run Send-IncidentUpdate -Pending -Incident {update.IncidentId} to record that. "
                : "Nothing was written, so nothing is left to send. ") +
            $"To reopen the incident instead, send the update again: Send-IncidentUpdate -Incident {update.IncidentId} -Status {update.Status}.", storeError)
        { TargetObject = update.UpdateId };

    /// <summary>
    /// Re-sends every update of the incident (or of every incident) that some channel has not received. An update
    /// that a later update of the same incident supersedes on a channel is marked Superseded there, never sent
    /// late. A delivery whose last attempt may have arrived (Unknown) is re-sent only where that cannot post twice:
    /// the providers that are Idempotent (PagerDuty: dedup_key, Opsgenie: alias, webhooks: Idempotency-Key, Statuspage: checked first);
    /// Slack, Teams and Discord only with <paramref name="force"/>.
    /// </summary>
    public async Task<IReadOnlyList<NotificationResult>> SendPendingAsync(IncidentOpsConfig config, string? incidentId, string[]? channels, ChangeContext context, CancellationToken cancellationToken) =>
        await SendPendingAsync(config, incidentId, channels, force: false, context, cancellationToken).ConfigureAwait(false);

    /// <param name="context">The command that re-sends (Send-IncidentUpdate -Pending, or an alerting round); the timeline entries name it.</param>
    /// <param name="unresolved">Collects one error per delivery left pending because its channel's reference does not resolve
    /// (the cmdlet writes them after the results); null: each is a warning.</param>
    public async Task<IReadOnlyList<NotificationResult>> SendPendingAsync(IncidentOpsConfig config, string? incidentId, string[]? channels, bool force, ChangeContext context,
        CancellationToken cancellationToken, List<IncidentOpsException>? unresolved = null)
    {
        CheckChannelNames(config, channels);
        var store = openStore(config);
        var ids = await PendingIdsAsync(store, incidentId, cancellationToken).ConfigureAwait(false);
        // The steps an incident's own Slack channel still lacks (New-Incident / Close-Incident left them undone).
        var results = (await incidentChannels.Value.ResumeAsync(config, incidentId, channels, force, context, cancellationToken).ConfigureAwait(false)).ToList();
        foreach (var id in ids)
        {
            var entries = await store.ReadOutboxAsync(id, cancellationToken).ConfigureAwait(false);
            foreach (var pending in entries.Where(u => u.Pending).ToList())
                results.AddRange(await ResendEntryAsync(store, config, pending, entries, channels, force, context, cancellationToken, unresolved).ConfigureAwait(false));
            await ReconcileTimelineAsync(store, id, context, cancellationToken).ConfigureAwait(false);
        }
        return results;
    }

    /// <summary>
    /// The incidents -Pending looks at: the one named, or those the store names as possibly having outbox work
    /// (<see cref="IIncidentStore.ListOutboxWorkAsync"/>: a pending entry, or a delivery no timeline entry tells), so a run
    /// over a team store of many settled incidents does not read every outbox and timeline. The checks below stay the judge.
    /// The Slack incident channels' unfinished steps are found apart from this (they live in the incident records).
    /// </summary>
    private static async Task<IReadOnlyList<string>> PendingIdsAsync(IIncidentStore store, string? incidentId, CancellationToken cancellationToken) =>
        incidentId is not null ? [incidentId]
        : Environment.GetEnvironmentVariable(ListEveryIncidentVariable) == "1" ? (await store.ListAsync(cancellationToken).ConfigureAwait(false)).Select(i => i.Id).ToList()
        : await store.ListOutboxWorkAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Set to 1, -Pending looks at every incident of the store as before the store named those with outbox work: the baseline
    /// of bench/pending (and a way back, should the store's pre-filter ever be in doubt).
    /// </summary>
    public const string ListEveryIncidentVariable = "INCIDENTOPS_PENDING_ALL_INCIDENTS";

    /// <summary>How long the reconciliation waits for an update's claim: a claim held longer is a sender at work, which tells its own deliveries.</summary>
    private static readonly TimeSpan ReconcileClaimWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Adds the missing timeline entry of every delivery of the incident's updates that the outbox records Delivered and no
    /// timeline entry tells: its sender died (or lost the store) after recording the delivery and before adding its entry, and
    /// with no other sender on that update nothing else ever would. Only once the sender's claim of the update has ended (taken
    /// here; a sender still at work tells its own), and once only: under the update's claim and its timeline lock, and the store
    /// refuses a second entry for one delivery. The entry says the delivery was sent by another sender whose entry for it is not on
    /// the timeline: still in that sender's spool (its store was down), or never added.
    /// Send-IncidentUpdate -Pending and the alerting round run it after their re-sends.
    /// </summary>
    public async Task ReconcileTimelineAsync(IncidentOpsConfig config, string incidentId, ChangeContext context, CancellationToken cancellationToken) =>
        await ReconcileTimelineAsync(openStore(config), incidentId, context, cancellationToken).ConfigureAwait(false);

    private async Task ReconcileTimelineAsync(IIncidentStore store, string id, ChangeContext context, CancellationToken cancellationToken)
    {
        foreach (var u in await UntoldDeliveriesAsync(store, id, cancellationToken).ConfigureAwait(false))
        {
            var claim = await TryClaimAsync(store, id, u.Update.UpdateId, ReconcileClaimWait, cancellationToken).ConfigureAwait(false);
            if (claim is null)
            {
                sink.Verbose($"{id} {u.Update.UpdateId}: delivered to {string.Join(", ", u.Channels)} with no timeline entry yet, but its sender still holds the update; its own entry tells it.");
                continue;
            }
            await using (claim)
            {
                // Read again under the claim: the sender may have finished (and told it) just before.
                if (await store.ReadOutboxEntryAsync(id, u.Update.UpdateId, cancellationToken).ConfigureAwait(false) is not { } fresh) continue;
                var delivered = fresh.Deliveries.Where(d => d.State == DeliveryState.Delivered).Select(d => ToResult(fresh, d, TimeSpan.Zero)).ToList();
                await TellUpdateAsync(store, fresh, delivered, _ => true, context).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The incident's updates with deliveries recorded Delivered that no timeline entry tells, and those channels.</summary>
    private static async Task<IReadOnlyList<(IncidentUpdate Update, IReadOnlyList<string> Channels)>> UntoldDeliveriesAsync(IIncidentStore store, string id, CancellationToken cancellationToken)
    {
        var delivered = (await store.ReadOutboxAsync(id, cancellationToken).ConfigureAwait(false))
            .Where(u => u.Deliveries.Any(d => d.State == DeliveryState.Delivered)).ToList();
        if (delivered.Count == 0) return [];
        var timeline = await store.ReadTimelineAsync(id, cancellationToken).ConfigureAwait(false);
        var result = new List<(IncidentUpdate, IReadOnlyList<string>)>();
        foreach (var u in delivered)
        {
            var told = ToldDeliveries(timeline, u);
            var untold = u.Deliveries.Where(d => d.State == DeliveryState.Delivered && !told.Contains(d.Channel)).Select(d => d.Channel).ToList();
            if (untold.Count > 0) result.Add((u, untold));
        }
        return result;
    }

    /// <summary>Whether -Channel of -Pending lets this delivery through (no -Channel: every channel).</summary>
    private static bool Selected(string[]? channels, ChannelDelivery d) =>
        channels is not { Length: > 0 } || channels.Contains(d.Channel, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Re-sends one pending update under its lock (skipped, with a warning, while another process holds it): withdrawn when its
    /// incident was resolved after it was prepared, Superseded where a later update replaces it, else delivered again.
    /// </summary>
    private async Task<IReadOnlyList<NotificationResult>> ResendEntryAsync(IIncidentStore store, IncidentOpsConfig config, IncidentUpdate pending,
        IReadOnlyList<IncidentUpdate> entries, string[]? channels, bool force, ChangeContext context, CancellationToken cancellationToken, List<IncidentOpsException>? unresolved)
    {
        var id = pending.IncidentId;
        var entryLock = await TryClaimAsync(store, id, pending.UpdateId, LockTimeout, cancellationToken).ConfigureAwait(false);
        if (entryLock is null)
        {
            sink.Warning($"{pending.IncidentId} {pending.UpdateId} is being sent by another process (its lock stayed busy for {LockTimeout.TotalSeconds:0} s); skipped this time.");
            return [];
        }
        await using (entryLock)
        {
            // Re-read under the lock: another process may have delivered it meanwhile.
            var update = await store.ReadOutboxEntryAsync(id, pending.UpdateId, cancellationToken).ConfigureAwait(false);
            if (update is null) return [];
            if (!update.Pending)
            {
                // Delivered meanwhile by another sender: told on the timeline here if that sender died before its entry.
                var delivered = update.Deliveries.Where(d => d.State == DeliveryState.Delivered && Selected(channels, d)).Select(d => ToResult(update, d, TimeSpan.Zero)).ToList();
                if (delivered.Count > 0) await TellUpdateAsync(store, update, delivered, _ => true, context).ConfigureAwait(false);
                return [];
            }
            // Withdrawn: its incident was resolved after it was prepared (a send whose withdrawal the store failed to record).
            if (await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } current && WithdrawnByResolution(current, update))
                return await RecordWithdrawnAsync(store, update, current, channels).ConfigureAwait(false);
            var results = await SupersedeStaleAsync(store, update, entries, channels).ConfigureAwait(false);
            var (resolved, waiting) = await ChannelsToResendAsync(config, update, channels, unresolved, cancellationToken).ConfigureAwait(false);
            // A delivery still waiting for its reference is reported, not told again on the timeline at every run.
            if (resolved.Count > 0) return [.. results, .. await DeliverAsync(store, config, update, resolved, force, context, cancellationToken).ConfigureAwait(false), .. waiting];
            if (results.Count > 0) await RecordCadenceAsync(store, update).ConfigureAwait(false);
            return [.. results, .. waiting];
        }
    }

    /// <summary>Marks the undelivered channels of an update withdrawn by its incident's resolution Superseded (never sent).</summary>
    private async Task<IReadOnlyList<NotificationResult>> RecordWithdrawnAsync(IIncidentStore store, IncidentUpdate update, Incident current, string[]? channels)
    {
        var withdrawn = update.Deliveries.Where(d => !OutboxMerge.Settled(d) && Selected(channels, d)).ToList();
        if (withdrawn.Count == 0) return [];
        foreach (var d in withdrawn) Withdraw(d, update, current.ResolvedAt);
        await RecordChannelsAsync(store, update, withdrawn, CancellationToken.None).ConfigureAwait(false);
        foreach (var d in withdrawn) sink.Verbose($"{update.IncidentId} {update.UpdateId} to '{d.Channel}': {d.Error}");
        return withdrawn.Select(d => ToResult(update, d, TimeSpan.Zero)).ToList();
    }

    /// <summary>Marks Superseded the undelivered channels of an update that a later update of the incident replaces there (never sent late).</summary>
    private async Task<IReadOnlyList<NotificationResult>> SupersedeStaleAsync(IIncidentStore store, IncidentUpdate update, IReadOnlyList<IncidentUpdate> entries, string[]? channels)
    {
        var superseded = new List<ChannelDelivery>();
        foreach (var d in update.Deliveries.Where(d => !OutboxMerge.Settled(d) && Selected(channels, d)))
        {
            var later = entries.Where(e => IsLater(e, update) && e.Deliveries.Any(x => x.Channel.Equals(d.Channel, StringComparison.OrdinalIgnoreCase))
                    && Supersedes(e, update, d.ChannelType))
                .OrderBy(e => e.CreatedAt).FirstOrDefault();
            if (later is null) continue;
            Supersede(d, later);
            superseded.Add(d);
        }
        if (superseded.Count == 0) return [];
        await RecordChannelsAsync(store, update, superseded, CancellationToken.None).ConfigureAwait(false);
        foreach (var d in superseded) sink.Verbose($"{update.IncidentId} {update.UpdateId} to '{d.Channel}': {d.Error}");
        return superseded.Select(d => ToResult(update, d, TimeSpan.Zero)).ToList();
    }

    /// <summary>The configured channels that still lack the update (a channel no longer configured stays pending, with a warning).</summary>
    /// <summary>
    /// The channels of the update's unsettled deliveries, resolved. One whose reference does not resolve stays pending (its
    /// result says why) and the others are still re-sent: one broken channel never holds back the rest, or other incidents.
    /// </summary>
    private async Task<(IReadOnlyList<ResolvedChannel> Resolved, IReadOnlyList<NotificationResult> Waiting)> ChannelsToResendAsync(IncidentOpsConfig config,
        IncidentUpdate update, string[]? channels, List<IncidentOpsException>? unresolved, CancellationToken cancellationToken)
    {
        var resolved = new List<ResolvedChannel>();
        var waiting = new List<NotificationResult>();
        foreach (var d in update.Deliveries.Where(d => !OutboxMerge.Settled(d) && Selected(channels, d)))
        {
            var c = config.Channels.FirstOrDefault(x => x.Name.Equals(d.Channel, StringComparison.OrdinalIgnoreCase));
            if (c is null)
            {
                sink.Warning($"{update.UpdateId}: channel '{d.Channel}' is no longer in {config.Path ?? "the configuration"}; its delivery stays pending.");
                continue;
            }
            try { resolved.Add(await ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false)); }
            catch (IncidentOpsException ex) when (ex.ErrorId == ConfigErrorIds.ConfigReferenceUnresolved)
            {
                var why = UnresolvedReason(ex);
                waiting.Add(ToResult(update, new ChannelDelivery
                {
                    Channel = d.Channel, ChannelType = d.ChannelType, State = d.State, Attempts = d.Attempts, StatusCode = d.StatusCode, Error = why,
                }, TimeSpan.Zero));
                var text = $"{update.IncidentId} {update.UpdateId} to '{d.Channel}': {why} Its delivery stays pending; -Pending sends it once the reference resolves.";
                if (unresolved is null) sink.Warning(text);
                else unresolved.Add(new IncidentOpsException(ex.ErrorId, ex.Category, text, ex) { TargetObject = d.Channel, RecommendedAction = ex.RecommendedAction });
            }
        }
        return (resolved, waiting);
    }

    /// <summary>Why a channel cannot be sent to: its reference's error, without the send-wide advice of <see cref="ResolveEachAsync"/>.</summary>
    private static string UnresolvedReason(IncidentOpsException error) =>
        SecretRedactor.Redact(error.InnerException is IncidentOpsException { ErrorId: ConfigErrorIds.ConfigReferenceUnresolved } inner && inner.Message.StartsWith("Channel '", StringComparison.Ordinal)
            ? inner.Message : error.Message);

    /// <summary>
    /// Records the deliveries of <paramref name="owned"/> as this sender knows them, joined with what the store holds now
    /// (<see cref="OutboxMerge"/>: no other channel is touched, and no recorded outcome is undone), and takes back what the
    /// store then holds for them. Returns the channels whose recorded outcome is another sender's (it stood against this record),
    /// or where another sender's attempt is in flight (its own end will record how the channel stands).
    /// </summary>
    /// <param name="how">What the record is: a note, or the start or end of one of this sender's attempts (see <see cref="OutboxMerge"/>).</param>
    private static async Task<IReadOnlyList<string>> RecordChannelsAsync(IIncidentStore store, IncidentUpdate update, IEnumerable<ChannelDelivery> owned, CancellationToken cancellationToken,
        OutboxWrite how = default)
    {
        var names = owned.Select(d => d.Channel).ToList();
        var held = await store.ChangeOutboxEntryAsync(update.IncidentId, update.UpdateId, stored => OutboxMerge.Merge(stored, update, names, how), cancellationToken).ConfigureAwait(false);
        var theirs = new List<string>();
        if (held is null) return theirs;
        foreach (var name in names)
            if (OutboxMerge.Find(held, name) is { } h && OutboxMerge.Find(update, name) is { } mine)
            {
                if ((h.State != mine.State && OutboxMerge.Settled(h)) || OutboxMerge.OtherAttemptInFlight(h, how)) theirs.Add(name);
                OutboxMerge.Copy(mine, h);
            }
        return theirs;
    }

    /// <summary>
    /// What Send-IncidentUpdate -Pending would do, for -WhatIf: each pending update and channel with the request it would
    /// send (secrets masked), or why it would be marked Superseded or skipped. Nothing is sent, locked or written.
    /// </summary>
    /// <returns>The channel and update of each step, and what would happen to them.</returns>
    public async Task<IReadOnlyList<PendingPlanStep>> PlanPendingAsync(IncidentOpsConfig config, string? incidentId, string[]? channels, bool force,
        CancellationToken cancellationToken)
    {
        CheckChannelNames(config, channels);
        var store = openStore(config);
        var ids = await PendingIdsAsync(store, incidentId, cancellationToken).ConfigureAwait(false);
        var plan = new List<PendingPlanStep>();
        var storeNow = DateTimeOffset.UtcNow + await StoreClockAsync(store, cancellationToken).ConfigureAwait(false);
        foreach (var id in ids)
        {
            var entries = await store.ReadOutboxAsync(id, cancellationToken).ConfigureAwait(false);
            // Deliveries no timeline entry tells (ReconcileTimelineAsync): told after the re-sends.
            foreach (var (u, untold) in await UntoldDeliveriesAsync(store, id, cancellationToken).ConfigureAwait(false))
                foreach (var c in untold)
                    plan.Add(new PendingPlanStep($"the timeline of {id}",
                        $"Add the missing entry of {NotificationTemplates.Describe(u.Kind)} ({u.Status}) {u.UpdateId} to {c}: recorded delivered in the outbox, " +
                        "sent by a sender whose entry for it is not on the timeline, still in its spool or never added (added once that sender's claim of the update has ended)"));
            if (!entries.Any(u => u.Pending) || await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } incident) continue;
            foreach (var update in entries.Where(u => u.Pending))
                foreach (var d in update.Deliveries.Where(d => d.State is not (DeliveryState.Delivered or DeliveryState.Superseded)))
                {
                    if (channels is { Length: > 0 } && !channels.Contains(d.Channel, StringComparer.OrdinalIgnoreCase)) continue;
                    var target = $"{d.Channel} ({d.ChannelType}) for {id} {update.UpdateId}";
                    var what = $"{NotificationTemplates.Describe(update.Kind)} ({update.Status})";
                    var later = entries.Where(e => IsLater(e, update) && e.Deliveries.Any(x => x.Channel.Equals(d.Channel, StringComparison.OrdinalIgnoreCase))
                        && Supersedes(e, update, d.ChannelType)).OrderBy(e => e.CreatedAt).FirstOrDefault();
                    var c = config.Channels.FirstOrDefault(x => x.Name.Equals(d.Channel, StringComparison.OrdinalIgnoreCase));
                    if (WithdrawnByResolution(incident, update))
                        plan.Add(new PendingPlanStep(target, $"Mark {what} Superseded: {id} was resolved after it was prepared; not sent"));
                    else if (later is not null) plan.Add(new PendingPlanStep(target, $"Mark {what} Superseded by the later update {later.UpdateId}; not sent late"));
                    else if (c is null) plan.Add(new PendingPlanStep(target, $"Keep {what} pending: the channel is no longer in {config.Path ?? "the configuration"}"));
                    else if (d.State == DeliveryState.Unknown && !ChannelProviders.For(d.ChannelType).Idempotent && !force)
                        plan.Add(new PendingPlanStep(target, $"Skip {what}: its last attempt may have arrived and {d.ChannelType} cannot be checked (re-send with -Pending -Force)"));
                    else
                    {
                        ChannelProviders.For(c.Type).PreparePreview(incident, entries);   // a copy read for this plan, never saved
                        ResolvedChannel resolvedChannel;
                        try { resolvedChannel = await ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false); }
                        catch (IncidentOpsException ex) when (ex.ErrorId == ConfigErrorIds.ConfigReferenceUnresolved)
                        {
                            plan.Add(new PendingPlanStep(target, $"Keep {what} pending: {UnresolvedReason(ex)}"));
                            continue;
                        }
                        var request = await BuildAsync(config, resolvedChannel, incident, update, Severity(config, incident), cancellationToken).ConfigureAwait(false);
                        var send = $"{request.Method.Method} {SecretRedactor.Redact(request.Url)}";
                        plan.Add(new PendingPlanStep(target, PlanInFlightWait(entries, update, c, force, storeNow, what, send) ?? $"Re-send {what}: {send}"));
                    }
                }
        }
        return plan;
    }

    /// <summary>
    /// The -WhatIf text of a re-send that would first wait out another sender's request in flight on the channel (as
    /// <see cref="WaitOutInFlightAsync"/> does), or leave the update pending because that request may be in flight longer than
    /// this send's deadline; null when no such request is out.
    /// </summary>
    private string? PlanInFlightWait(IReadOnlyList<IncidentUpdate> entries, IncidentUpdate update, ChannelConfig channel, bool force, DateTimeOffset storeNow, string what, string send)
    {
        var provider = ChannelProviders.For(channel.Type);
        if (InFlightElsewhere(entries, update, channel.Name, provider, force, storeNow) is not { } until) return null;
        var wait = until + Options.InFlightMargin - storeNow;
        var safeAt = DateTimeOffset.UtcNow + wait;
        if (wait > Options.RequestTimeout + Options.InFlightMargin)
            return $"Keep {what} pending, send nothing: another sender's request to {channel.Type} for this incident may still be in flight until {safeAt:u}, " +
                $"longer than this send's deadline (-TimeoutSec {Options.RequestTimeout.TotalSeconds:0.###}); run Send-IncidentUpdate -Pending -Incident {update.IncidentId} after {safeAt:u}";
        return $"Wait up to {Math.Ceiling(wait.TotalSeconds):0} s (until {safeAt:u}) for another sender's request to {channel.Type} in flight (its claim of the channel ended) " +
            $"to be recorded; if it did not deliver this update, {(provider.LooksBeforeSending ? $"look at {channel.Type} first, then " : "")}re-send {what}: {send}";
    }

    private static async Task<IAsyncDisposable?> TryClaimAsync(IIncidentStore store, string incidentId, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try { return await store.ClaimOutboxAsync(incidentId, name, timeout, cancellationToken).ConfigureAwait(false); }
        catch (IncidentOpsException ex) when (ex.ErrorId == "StoreLockTimeout") { return null; }
    }

    private static bool IsLater(IncidentUpdate candidate, IncidentUpdate than) =>
        candidate.UpdateId != than.UpdateId &&
        (candidate.CreatedAt > than.CreatedAt || (candidate.CreatedAt == than.CreatedAt && string.CompareOrdinal(candidate.UpdateId, than.UpdateId) > 0));

    /// <summary>Whether a later update replaces an older undelivered one on a channel: the channel's provider decides.</summary>
    private static bool Supersedes(IncidentUpdate later, IncidentUpdate older, ChannelType type) =>
        !ChannelProviders.All.Any(p => p.Type == type) || ChannelProviders.For(type).Supersedes(later, older);

    private static void Supersede(ChannelDelivery d, IncidentUpdate later)
    {
        d.State = DeliveryState.Superseded;
        d.Error = $"Superseded by the later update {later.UpdateId} ({later.Kind}, {later.Status}); not sent late.";
    }

    /// <summary>A new update supersedes the older undelivered updates of the incident on the same channels.</summary>
    private async Task SupersedeOlderAsync(IIncidentStore store, IncidentUpdate update, CancellationToken cancellationToken)
    {
        foreach (var older in (await store.ReadOutboxAsync(update.IncidentId, cancellationToken).ConfigureAwait(false)).Where(e => e.Pending && IsLater(update, e)))
        {
            bool Replaces(ChannelDelivery d) => d.State is not (DeliveryState.Delivered or DeliveryState.Superseded)
                && update.Deliveries.Any(x => x.Channel.Equals(d.Channel, StringComparison.OrdinalIgnoreCase))
                && Supersedes(update, older, d.ChannelType);
            if (!older.Deliveries.Any(Replaces)) continue;
            // An older update whose lock is busy is being delivered right now by its own sender: not stale.
            var olderLock = await TryClaimAsync(store, update.IncidentId, older.UpdateId, TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            if (olderLock is null) continue;
            await using (olderLock)
            {
                var fresh = await store.ReadOutboxEntryAsync(update.IncidentId, older.UpdateId, cancellationToken).ConfigureAwait(false);
                if (fresh is null) continue;
                var changed = fresh.Deliveries.Where(Replaces).ToList();
                foreach (var d in changed)
                {
                    Supersede(d, update);
                    sink.Verbose($"{fresh.IncidentId} {fresh.UpdateId} to '{d.Channel}': {d.Error}");
                }
                if (changed.Count > 0) await RecordChannelsAsync(store, fresh, changed, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <param name="waiting">Results of channels this send cannot reach (their reference does not resolve): told with the others.</param>
    private async Task<IReadOnlyList<NotificationResult>> DeliverAsync(IIncidentStore store, IncidentOpsConfig config, IncidentUpdate update,
        IReadOnlyList<ResolvedChannel> channels, bool force, ChangeContext context, CancellationToken cancellationToken, IReadOnlyList<NotificationResult>? waiting = null)
    {
        var run = new DeliveryRun(store, update, channels.Count);
        var sender = Sender;
        var clock = await StoreClockAsync(store, cancellationToken).ConfigureAwait(false);
        sink.Progress(new OperationProgress(8, run.Activity, $"0 of {run.Total} channels", 0));
        var tasks = channels.Select(channel => DeliverOneAsync(run, config, channel, sender, force, clock, cancellationToken)).ToList();
        NotificationResult[] results;
        try { results = await Task.WhenAll(tasks).ConfigureAwait(false); }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !run.Faults.IsEmpty)
        {
            // Ctrl+C stopped a channel while the store had failed to record another's outcome: the stop wins (nothing can be
            // written to a stopped pipeline), but what that channel got is not lost. See KeepUnrecordedAsync.
            await KeepUnrecordedAsync(run, channels, context).ConfigureAwait(false);
            throw;
        }
        sink.Progress(new OperationProgress(8, run.Activity, "done", 100, Completed: true));
        results = await AdoptRecordedAsync(run, results).ConfigureAwait(false);
        if (waiting is { Count: > 0 }) results = [.. results, .. waiting];
        var unrecorded = run.Faults.Keys.ToList();
        if (!run.Faults.IsEmpty && !await RecordAgainAsync(run).ConfigureAwait(false))
        {
            // The cadence and the timeline are tried as well (the PostgreSQL store spools the timeline entry while its server is
            // down), but what the person must learn is which channels got the update.
            try { await RecordCadenceAsync(store, update).ConfigureAwait(false); } catch (Exception ex) when (IsStoreFault(ex)) { }
            try { await AppendOwnUpdateEntryAsync(run, results, context).ConfigureAwait(false); } catch (Exception ex) when (IsStoreFault(ex)) { }
            throw DeliveriesNotRecorded(update, results, run.Faults);
        }
        // Recorded on the second try: those channels' results say what they got, without the store's error.
        results = results.Select(r => unrecorded.Contains(r.Channel, StringComparer.OrdinalIgnoreCase) && OutboxMerge.Find(update, r.Channel) is { } d ? ToResult(update, d, r.RetryWait) : r).ToArray();
        await RecordCadenceAsync(store, update).ConfigureAwait(false);
        await AppendOwnUpdateEntryAsync(run, results, context).ConfigureAwait(false);
        return results;
    }

    /// <summary>One sender's delivery of one update to its channels: what they share while each channel's delivery runs.</summary>
    private sealed class DeliveryRun(IIncidentStore store, IncidentUpdate update, int total)
    {
        public IIncidentStore Store => store;
        public IncidentUpdate Update => update;
        public int Total => total;
        public int Done;
        public string Activity => $"Sending {update.Kind} update for {update.IncidentId}";
        /// <summary>Serialises this sender's records, so each is made in memory and written as one change.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);
        /// <summary>The channels whose record the store failed to write, with its error.</summary>
        public System.Collections.Concurrent.ConcurrentDictionary<string, Exception> Faults { get; } = new(StringComparer.OrdinalIgnoreCase);
        /// <summary>The channels whose outcome another sender recorded (its timeline entry tells it, not this sender's).</summary>
        public System.Collections.Concurrent.ConcurrentDictionary<string, bool> Theirs { get; } = new(StringComparer.OrdinalIgnoreCase);
        /// <summary>What each channel's last record was (a note, or an attempt's end), for a record that is made again.</summary>
        public System.Collections.Concurrent.ConcurrentDictionary<string, OutboxWrite> Writes { get; } = new(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Records a change of one channel's delivery at once: an interruption at any point leaves the outbox telling the truth
    /// (Unknown while a request is out, never "Pending, Attempts 0"). The change is made in memory first, so when the store
    /// fails on the write, what the provider answered is still known; only this channel is written (<see cref="RecordChannelsAsync"/>).
    /// </summary>
    private static Func<Action, OutboxWrite, Task> RecordFor(DeliveryRun run, ChannelDelivery delivery) => async (change, how) =>
    {
        await run.Gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            change();
            // A start whose write fails is undone in memory (its request does not leave): made again, it is a note.
            run.Writes[delivery.Channel] = how.Starts ? OutboxWrite.Note : how;
            if ((await RecordChannelsAsync(run.Store, run.Update, [delivery], CancellationToken.None, how).ConfigureAwait(false)).Count > 0) run.Theirs[delivery.Channel] = true;
        }
        catch (Exception ex) when (IsStoreFault(ex)) { throw new RecordFailedException(ex); }
        finally { run.Gate.Release(); }
    };

    /// <summary>
    /// Delivers to one channel; a store failure there does not end the other channels: each finishes, and what each provider
    /// answered reaches the pipeline with one error that says what was not recorded.
    /// </summary>
    private async Task<NotificationResult> DeliverOneAsync(DeliveryRun run, IncidentOpsConfig config, ResolvedChannel channel, NotificationSender sender, bool force,
        TimeSpan clock, CancellationToken cancellationToken)
    {
        var update = run.Update;
        var delivery = update.Deliveries.First(d => d.Channel.Equals(channel.Name, StringComparison.OrdinalIgnoreCase));
        if (OutboxMerge.Settled(delivery)) return ToResult(update, delivery, TimeSpan.Zero);
        var waited = TimeSpan.Zero;
        try
        {
            (waited, var theirs) = await DeliverChannelAsync(run.Store, config, update, delivery, channel, sender, force, RecordFor(run, delivery), clock, cancellationToken).ConfigureAwait(false);
            if (theirs) run.Theirs[channel.Name] = true;
        }
        catch (Exception ex) when (ex is RecordFailedException || (IsStoreFault(ex) && ex is not IncidentOpsException { ErrorId: IncidentErrorIds.StoreLockTimeout } && !cancellationToken.IsCancellationRequested))
        {
            run.Faults[channel.Name] = ex is RecordFailedException r ? r.InnerException! : ex;
        }
        var done = Interlocked.Increment(ref run.Done);
        sink.Progress(new OperationProgress(8, run.Activity, $"{done} of {run.Total} channels", done * 100 / run.Total));
        var result = run.Faults.TryGetValue(channel.Name, out var fault) ? NotRecordedResult(update, delivery, fault) : ToResult(update, delivery, waited);
        if (!result.Delivered) sink.Warning($"{update.IncidentId} {update.Kind} update to '{channel.Name}' not delivered ({delivery.State}): {result.Error}");
        return result;
    }

    /// <summary>
    /// A channel this sender left unsettled (Unknown: its own attempt may have arrived, so it did not re-send) whose outcome
    /// another sender recorded meanwhile (a sender whose claim had ended, delivering after all): the result says what the
    /// store holds, and that outcome is the other sender's (its timeline entry has it).
    /// </summary>
    private static async Task<NotificationResult[]> AdoptRecordedAsync(DeliveryRun run, NotificationResult[] results)
    {
        if (results.All(r => r.State is DeliveryState.Delivered or DeliveryState.Superseded) || !run.Faults.IsEmpty) return results;
        IncidentUpdate? stored;
        try { stored = await run.Store.ReadOutboxEntryAsync(run.Update.IncidentId, run.Update.UpdateId, CancellationToken.None).ConfigureAwait(false); }
        catch (Exception ex) when (IsStoreFault(ex)) { return results; }
        if (stored is null) return results;
        return results.Select(r =>
        {
            if (OutboxMerge.Find(run.Update, r.Channel) is not { } mine || OutboxMerge.Settled(mine) || OutboxMerge.Find(stored, r.Channel) is not { } theirs || !OutboxMerge.Settled(theirs))
                return r;
            OutboxMerge.Copy(mine, theirs);
            run.Theirs[r.Channel] = true;
            return ToResult(run.Update, mine, r.RetryWait);
        }).ToArray();
    }

    /// <summary>
    /// Tries once more to record what the store failed to record (it may be back: a blip, a failover); true when every such
    /// channel is recorded now (their faults are cleared).
    /// </summary>
    private static async Task<bool> RecordAgainAsync(DeliveryRun run)
    {
        foreach (var name in run.Faults.Keys.ToList())
        {
            if (OutboxMerge.Find(run.Update, name) is not { } d) continue;
            try
            {
                if ((await RecordChannelsAsync(run.Store, run.Update, [d], CancellationToken.None, run.Writes.GetValueOrDefault(name)).ConfigureAwait(false)).Count > 0) run.Theirs[name] = true;
                run.Faults.TryRemove(name, out _);
            }
            catch (Exception ex) when (IsStoreFault(ex)) { return false; }
        }
        return run.Faults.IsEmpty;
    }

    /// <summary>
    /// Stopped (Ctrl+C) while the store had failed to record some channel's outcome. A stopped command can write nothing more
    /// to its pipeline, so what is known is kept where it lasts: the outbox is tried once more (the store may be back), and
    /// what still is not recorded goes on the incident's timeline (the PostgreSQL store spools the entry while its server is
    /// down) and to a warning (which a host that still listens, such as an alerting round's log, shows).
    /// </summary>
    private async Task KeepUnrecordedAsync(DeliveryRun run, IReadOnlyList<ResolvedChannel> channels, ChangeContext context)
    {
        var faults = new Dictionary<string, Exception>(run.Faults, StringComparer.OrdinalIgnoreCase);
        var results = channels.Select(c => OutboxMerge.Find(run.Update, c.Name)).OfType<ChannelDelivery>()
            .Select(d => faults.TryGetValue(d.Channel, out var f) ? NotRecordedResult(run.Update, d, f) : ToResult(run.Update, d, TimeSpan.Zero)).ToList();
        var recorded = await RecordAgainAsync(run).ConfigureAwait(false);
        sink.Warning(recorded
            ? $"Stopped. {run.Update.IncidentId} update {run.Update.UpdateId}: what each channel got is recorded in the outbox (Get-IncidentUpdate -Incident {run.Update.IncidentId})."
            : "Stopped. " + DeliveriesNotRecorded(run.Update, results, faults).Message);
        try { await AppendOwnUpdateEntryAsync(run, results, context).ConfigureAwait(false); } catch (Exception ex) when (IsStoreFault(ex)) { }
    }

    /// <summary>How long a sender waits for another sender that is adding an update's timeline entry.</summary>
    private static readonly TimeSpan TellWait = TimeSpan.FromSeconds(10);

    /// <summary>The outbox lock under which an update's timeline entries are checked and added (one entry per delivery).</summary>
    internal static string TimelineLockName(string updateId) => "timeline-" + updateId;

    /// <summary>
    /// The timeline entry of this sender's delivery event. Each channel's delivery of an update is told by exactly one entry:
    /// under the update's timeline lock, this sender reads which channels' deliveries an entry already tells, and tells the
    /// rest of what it did. A delivery another sender recorded (and this one adopted) is told here only when no entry tells it
    /// yet: that sender died (or lost the store) after recording it and before adding its entry. Both senders take the lock,
    /// and the store refuses an entry with a delivery key another entry carries (<see cref="TimelineEntry.DeliveryKeys"/>), so
    /// they never both add one, even when a claim ends early or an entry arrives later from the spool. Another sender's outcome
    /// that is not a delivery is left to that sender's entry. When the timeline cannot be checked (the store down: the
    /// PostgreSQL store spools the entry), this sender tells what it did itself.
    /// </summary>
    private Task AppendOwnUpdateEntryAsync(DeliveryRun run, IReadOnlyList<NotificationResult> results, ChangeContext context) =>
        TellUpdateAsync(run.Store, run.Update, results, run.Theirs.ContainsKey, context);

    private async Task TellUpdateAsync(IIncidentStore store, IncidentUpdate update, IReadOnlyList<NotificationResult> results, Func<string, bool> theirs, ChangeContext context)
    {
        IAsyncDisposable? claim = null;
        try
        {
            try { claim = await store.ClaimOutboxAsync(update.IncidentId, TimelineLockName(update.UpdateId), TellWait, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception ex) when (IsStoreFault(ex))
            {
                sink.Verbose($"{update.IncidentId} {update.UpdateId}: could not claim this update's timeline ({SecretRedactor.Redact(ex.Message)}); the store still keeps each delivery told once.");
            }
            // The lock is a claim, and a claim can end while its holder works (its session killed): the store itself refuses an
            // entry that tells a delivery another entry tells (its delivery keys), also when one arrives later from a spool. A
            // refusal means another entry landed since the timeline was read: it is read again, and what is left is told.
            for (var attempt = 0; ; attempt++)
            {
                ISet<string>? told = null;
                try { told = ToldDeliveries(await store.ReadTimelineAsync(update.IncidentId, CancellationToken.None).ConfigureAwait(false), update); }
                catch (Exception ex) when (IsStoreFault(ex))
                {
                    sink.Verbose($"{update.IncidentId} {update.UpdateId}: could not check the timeline for this update's entries ({SecretRedactor.Redact(ex.Message)}); this sender's entry tells what it did.");
                }
                bool Untold(NotificationResult r) => told is not null && r.Delivered && !told.Contains(r.Channel);
                var own = results.Where(r => !theirs(r.Channel) && !(r.Delivered && told?.Contains(r.Channel) == true)).ToList();
                var adopted = results.Where(r => theirs(r.Channel) && Untold(r)).ToList();
                if (own.Count + adopted.Count == 0)
                {
                    sink.Verbose($"{update.IncidentId} {update.UpdateId}: every channel's outcome was recorded by another sender, whose timeline entry has it; no entry added.");
                    return;
                }
                try
                {
                    await AppendUpdateEntryAsync(store, update, [.. own, .. adopted], adopted.Select(r => r.Channel).ToHashSet(StringComparer.OrdinalIgnoreCase), context).ConfigureAwait(false);
                    foreach (var r in adopted)
                        sink.Verbose($"{update.IncidentId} {update.UpdateId} to '{r.Channel}': delivered by another sender, whose entry for it is not on the timeline (still in its spool, or never added); this sender's entry tells it.");
                    return;
                }
                catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.DeliveryAlreadyTold && attempt <= results.Count)
                {
                    sink.Verbose($"{update.IncidentId} {update.UpdateId}: {ex.Message} Reading the timeline again.");
                }
            }
        }
        finally
        {
            if (claim is not null) await claim.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The channels whose delivery of the update an entry of the timeline already tells: by its delivery key
    /// (<see cref="TimelineEntry.DeliveryKeys"/>), or, for an "update" entry written by an older version (no keys), by its text:
    /// the entry names the channel in its target, and its result says "channel: delivered (...)".
    /// </summary>
    internal static HashSet<string> ToldDeliveries(IReadOnlyList<TimelineEntry> timeline, IncidentUpdate update)
    {
        var told = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var keys = timeline.SelectMany(e => e.DeliveryKeys ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var c in update.Deliveries.Select(d => d.Channel))
            if (keys.Contains(IncidentStores.DeliveryKey(update.UpdateId, c))) told.Add(c);
        foreach (var e in timeline.Where(e => e.Kind == "update" && e.DeliveryKeys is null && e.Parameters.GetValueOrDefault("UpdateId") == update.UpdateId && e.Result is not null))
            foreach (var c in update.Deliveries.Select(d => d.Channel))
                if ((e.Target ?? "").Split(',').Contains(c, StringComparer.OrdinalIgnoreCase) &&
                    (e.Result!.StartsWith($"{c}: delivered (", StringComparison.OrdinalIgnoreCase) || e.Result.Contains($"; {c}: delivered (", StringComparison.OrdinalIgnoreCase)))
                    told.Add(c);
        return told;
    }

    private Task AppendUpdateEntryAsync(IIncidentStore store, IncidentUpdate update, IReadOnlyList<NotificationResult> results, IReadOnlySet<string> adopted, ChangeContext context)
    {
        var summary = string.Join("; ", results.Select(r => r.Delivered
            ? $"{r.Channel}: delivered ({r.StatusCode}, {r.Attempts} attempt(s){(r.ProviderId is null ? "" : ", id " + r.ProviderId)}" +
              $"{(adopted.Contains(r.Channel) ? "; sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added)" : "")})"
            : $"{r.Channel}: NOT delivered, {r.State} ({r.Error})"));
        // The entry names the command that really sent it (Send-IncidentUpdate, Invoke-ServiceAlert, Watch-ServiceHealth -Alert),
        // and records the update itself rather than the command's parameters. Its delivery keys are how the store keeps each
        // delivery told once, and how a later sender finds that it is told (ToldDeliveries; older versions read "channel: delivered (").
        return timeline.AppendAsync(store, update.IncidentId, TimelineWriter.Entry(context, "update", $"{NotificationTemplates.Describe(update.Kind)} ({update.Status})",
            string.Join(",", results.Select(r => r.Channel)), results.All(r => r.Delivered) ? TimelineOutcome.Succeeded : TimelineOutcome.Failed, summary,
            new Dictionary<string, string> { ["UpdateId"] = update.UpdateId, ["Message"] = update.Message ?? "" },
            results.Where(r => r.Delivered).Select(r => IncidentStores.DeliveryKey(update.UpdateId, r.Channel)).ToList()), CancellationToken.None);
    }

    /// <summary>An attempt about to leave whose record found another sender's outcome of the delivery in the store.</summary>
    private sealed class SettledElsewhereException() : Exception("Another sender recorded this delivery's outcome.");

    /// <summary>An attempt about to leave whose start was not recorded: another sender's attempt is in flight on the channel.</summary>
    private sealed class InFlightElsewhereException() : Exception("Another sender's attempt at this delivery is in flight.");

    /// <summary>A write of the outbox that failed after its change was made in memory (what the provider answered is kept).</summary>
    private sealed class RecordFailedException(Exception storeError) : Exception(storeError.Message, storeError);

    /// <summary>
    /// The difference between the store's clock and this machine's (zero for a store without one, or when it cannot be read):
    /// in-flight deadlines that teammates compare are written and read by the store's clock.
    /// </summary>
    private static async Task<TimeSpan> StoreClockAsync(IIncidentStore store, CancellationToken cancellationToken)
    {
        if (store is not IStoreClock clock) return TimeSpan.Zero;
        try
        {
            var before = DateTimeOffset.UtcNow;
            var now = await clock.NowAsync(cancellationToken).ConfigureAwait(false);
            var after = DateTimeOffset.UtcNow;
            return now - (before + (after - before) / 2);
        }
        catch (Exception ex) when (IsStoreFault(ex)) { return TimeSpan.Zero; }
    }

    /// <summary>What a channel got, when the store failed while its delivery was recorded (or before it began).</summary>
    private static string WhatHappened(ChannelDelivery d) => d.State switch
    {
        DeliveryState.Delivered => $"delivered{(d.StatusCode is { } code ? $" ({code})" : "")}, not recorded",
        DeliveryState.Unknown => "may have arrived (its request left and no answer was recorded), not recorded",
        DeliveryState.Superseded => "not sent (superseded)",
        DeliveryState.Failed => "not delivered (refused)",
        _ => "not delivered (nothing reached it)",
    };

    private static NotificationResult NotRecordedResult(IncidentUpdate update, ChannelDelivery d, Exception fault)
    {
        var r = ToResult(update, d, TimeSpan.Zero);
        return new NotificationResult
        {
            IncidentId = r.IncidentId, UpdateId = r.UpdateId, Channel = r.Channel, ChannelType = r.ChannelType, Kind = r.Kind,
            Delivered = r.Delivered, State = r.State, Pending = r.Pending, StatusCode = r.StatusCode, Attempts = r.Attempts, ProviderId = r.ProviderId,
            RetryWait = r.RetryWait,
            Error = SecretRedactor.Redact($"{(r.Error is null ? "" : r.Error + " ")}The incident store failed while recording this delivery ({fault.Message.TrimEnd('.')}): {WhatHappened(d)}."),
        };
    }

    private static IncidentOpsException DeliveriesNotRecorded(IncidentUpdate update, IReadOnlyList<NotificationResult> results,
        IReadOnlyDictionary<string, Exception> faults)
    {
        var got = update.Deliveries.Where(d => faults.ContainsKey(d.Channel) && d.State is DeliveryState.Delivered or DeliveryState.Unknown).Select(d => d.Channel).ToList();
        var perChannel = string.Join("; ", update.Deliveries.Where(d => results.Any(r => r.Channel.Equals(d.Channel, StringComparison.OrdinalIgnoreCase)))
            .Select(d => faults.ContainsKey(d.Channel) ? $"{d.Channel}: {WhatHappened(d)}"
                : d.State == DeliveryState.Delivered ? $"{d.Channel}: delivered" : $"{d.Channel}: not delivered ({d.State})"));
        var first = faults.Values.First();
        return new DeliveriesNotRecordedException(results,
            $"The incident store failed while recording {update.IncidentId} update {update.UpdateId} ({SecretRedactor.Redact(first.Message).TrimEnd('.')}). " +
            $"Each channel: {perChannel}. The outbox may still read Pending or Unknown for what was not recorded. " +
            (got.Count > 0 ? $"Do not re-send with Send-IncidentUpdate -Pending -Force to {string.Join(", ", got)}: {(got.Count == 1 ? "it" : "they")} may already have the update, and -Force would post it twice. " : "") +
            $"Once the store is back, run Send-IncidentUpdate -Pending -Incident {update.IncidentId}: it re-sends only what cannot post twice.", first)
        { TargetObject = update.UpdateId };
    }

    /// <summary>
    /// The update cadence follows what the audience actually received: once every channel has the update (or a
    /// later one), LastUpdateAt and NextUpdateDue move to it; while any channel lacks it, the update is due now, so
    /// Get-IncidentUpdateDue keeps reminding (for incidents that have a cadence at all).
    /// </summary>
    private static Task RecordCadenceAsync(IIncidentStore store, IncidentUpdate update) =>
        store.UpdateAsync(update.IncidentId, i =>
        {
            if (!update.Pending)
            {
                IncidentMetricsService.RecordUpdateSent(i, update.CreatedAt);
                if (i.LastUpdateAt is null || i.LastUpdateAt <= update.CreatedAt)
                {
                    i.LastUpdateAt = update.CreatedAt;
                    i.NextUpdateDue = i.Status == IncidentStatus.Resolved ? null : update.NextUpdateDue;
                }
            }
            else if (i.Status != IncidentStatus.Resolved && (i.NextUpdateDue ?? update.NextUpdateDue) is { } due && due > update.CreatedAt)
                i.NextUpdateDue = update.CreatedAt;
        }, CancellationToken.None);


    /// <summary>
    /// Delivers one update to one channel under the incident+channel lock (cross-process), so concurrent senders
    /// of one incident reach a provider one at a time and see each other's Statuspage incident id.
    /// </summary>
    /// <returns>The time spent waiting to retry, and whether the outcome is another sender's (recorded by it, not sent by this one).</returns>
    private async Task<(TimeSpan Waited, bool Theirs)> DeliverChannelAsync(IIncidentStore store, IncidentOpsConfig config, IncidentUpdate update, ChannelDelivery delivery,
        ResolvedChannel channel, NotificationSender sender, bool force, Func<Action, OutboxWrite, Task> recordAs, TimeSpan clock, CancellationToken cancellationToken)
    {
        Task record(Action change) => recordAs(change, OutboxWrite.Note);
        // Another sender may hold the channel for a whole delivery (every attempt plus the waits between them).
        var channelWait = LockTimeout + Options.RequestTimeout * (Options.MaxAttempts + 1) + Options.MaxTotalWait;
        await using var channelLock = await store.ClaimOutboxAsync(update.IncidentId, IncidentStores.ChannelLockName(channel.Name), channelWait, cancellationToken).ConfigureAwait(false);
        var provider = ChannelProviders.For(channel.Type);
        var outbox = await store.ReadOutboxAsync(update.IncidentId, cancellationToken).ConfigureAwait(false);
        // What the store holds of this delivery now, under the claim, is newer than the copy read before it (a sender whose claim
        // ended may have recorded its outcome since): a recorded outcome is taken, never sent again.
        if (AdoptStored(outbox, update, delivery))
        {
            sink.Verbose($"{update.IncidentId} {update.UpdateId} to '{channel.Name}': another sender recorded it {delivery.State} meanwhile; not sent again.");
            return (TimeSpan.Zero, true);
        }
        // The claim proves no other sender works on the channel only while that sender's claim lives. A claim can end while
        // its holder still works (its connection to PostgreSQL killed, a server restart, a pooler), and a request it sent
        // may still be in flight: a look at the provider cannot see it yet, and a re-send would post twice (a second public
        // Statuspage incident). Such an attempt is waited out, within this delivery's own deadline, before anything is looked at.
        (outbox, var settled, var adopted) = await WaitOutInFlightAsync(store, update, delivery, channel, provider, force, record, clock, outbox, cancellationToken).ConfigureAwait(false);
        if (settled) return (TimeSpan.Zero, adopted);
        // While this sender waited for the channel, another process may have delivered a later update of the incident to it
        // (a person's resolution while -Pending re-sent an older update). Sent now, this one would land after it: the status
        // page back to Investigating after Resolved, a pager triggered for an incident that is over. It is superseded instead.
        if (DeliveredLater(outbox, update, channel) is { } later)
        {
            await record(() => Supersede(delivery, later)).ConfigureAwait(false);
            sink.Verbose($"{update.IncidentId} {update.UpdateId} to '{channel.Name}': {delivery.Error}");
            return (TimeSpan.Zero, false);
        }
        var incident = await store.GetAsync(update.IncidentId, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(update.IncidentId);
        // Resolved since this update was written (Close-Incident while it waited for the channel, or a send whose
        // withdrawal the store failed to record): withdrawn, never posted after the resolution.
        if (WithdrawnByResolution(incident, update))
        {
            await record(() => Withdraw(delivery, update, incident.ResolvedAt)).ConfigureAwait(false);
            sink.Verbose($"{update.IncidentId} {update.UpdateId} to '{channel.Name}': {delivery.Error}");
            return (TimeSpan.Zero, false);
        }
        var severity = Severity(config, incident);

        if (delivery.State == DeliveryState.Unknown && !provider.Idempotent && !force)
        {
            await record(() => delivery.Error =
                $"The last attempt{(delivery.LastAttemptAt is { } at ? $" ({NotificationTemplates.FormatTime(at)})" : "")} may have reached {channel.Type}: it was interrupted or got no answer, " +
                $"and {channel.Type} offers no way to check or to drop a repeat, so it was not re-sent. Look in the channel '{channel.Name}'; if the update is missing, " +
                "re-send it with Send-IncidentUpdate -Pending -Force.").ConfigureAwait(false);
            return (TimeSpan.Zero, false);
        }

        var context = new ChannelDeliveryContext
        {
            Sender = sender, Channel = channel, Incident = incident, Update = update, Delivery = delivery, Sink = sink, Record = record, Outbox = outbox,
            UpdateIncident = change => store.UpdateAsync(update.IncidentId, change, CancellationToken.None),
        };
        if (await provider.BeforeSendAsync(context, cancellationToken).ConfigureAwait(false) == PreSend.Done) return (TimeSpan.Zero, false);
        incident = context.Incident;

        ProviderRequest request;
        try { request = await BuildAsync(config, channel, incident, update, severity, cancellationToken).ConfigureAwait(false); }
        catch (IncidentOpsException ex)
        {
            await record(() => { delivery.State = DeliveryState.Failed; delivery.Error = SecretRedactor.Redact(ex.Message); }).ConfigureAwait(false);
            return (TimeSpan.Zero, false);
        }
        return (await SendAndRecordAsync(context, provider, request, recordAs, clock, cancellationToken).ConfigureAwait(false), false);
    }

    /// <summary>
    /// Until when another sender's request to this channel may still be in flight, when this delivery must wait for it: of any
    /// update of the incident on a channel whose provider is looked at before sending (Statuspage: an incident being opened is
    /// not on the page yet), or an earlier attempt of this very delivery re-sent with -Force. Other providers drop a repeat
    /// themselves (a dedup key, an alias, an Idempotency-Key) or are not re-sent without -Force. Null when there is none.
    /// </summary>
    private DateTimeOffset? InFlightElsewhere(IReadOnlyList<IncidentUpdate> outbox, IncidentUpdate update, string channel, ChannelProvider provider, bool force,
        DateTimeOffset storeNow)
    {
        var until = outbox.Where(e => provider.LooksBeforeSending || (force && e.UpdateId == update.UpdateId))
            .SelectMany(e => e.Deliveries)
            .Where(d => d.Channel.Equals(channel, StringComparison.OrdinalIgnoreCase) && d.InFlightUntil is { } u && u + Options.InFlightMargin > storeNow)
            .Select(d => d.InFlightUntil!.Value).ToList();
        return until.Count == 0 ? null : until.Max();
    }

    /// <summary>Takes what the store holds of this delivery (when it holds it); true when that is an outcome another sender recorded since this copy was read.</summary>
    private static bool AdoptStored(IReadOnlyList<IncidentUpdate> outbox, IncidentUpdate update, ChannelDelivery delivery)
    {
        if (outbox.FirstOrDefault(e => e.UpdateId == update.UpdateId) is not { } entry || OutboxMerge.Find(entry, delivery.Channel) is not { } stored) return false;
        var wasSettled = OutboxMerge.Settled(delivery);
        OutboxMerge.Copy(delivery, stored);
        return !wasSettled && OutboxMerge.Settled(delivery);
    }

    /// <summary>
    /// Sends the request (with the sender's retries) and records every attempt before it leaves (Unknown, with until when it
    /// may be in flight) and how the delivery ended; a provider that queues confirms first. Returns the time spent waiting to retry.
    /// </summary>
    private async Task<TimeSpan> SendAndRecordAsync(ChannelDeliveryContext context, ChannelProvider provider, ProviderRequest request, Func<Action, OutboxWrite, Task> recordAs,
        TimeSpan clock, CancellationToken cancellationToken)
    {
        var (delivery, sender, channel, incident) = (context.Delivery, context.Sender, context.Channel, context.Incident);
        var before = delivery.Attempts;
        var sending = System.Diagnostics.Stopwatch.StartNew();
        // This sender's attempt: its in-flight record is its own, and takes over only the one this sender read (and waited out).
        var attemptId = Guid.NewGuid().ToString("N");
        var waitedOut = delivery.AttemptId;
        async Task OnAttemptAsync(int attempt, bool inFlight)
        {
            var (state, attempts, lastAt, until, id) = (delivery.State, delivery.Attempts, delivery.LastAttemptAt, delivery.InFlightUntil, delivery.AttemptId);
            try
            {
                await recordAs(() =>
                {
                    delivery.Attempts = before + attempt;
                    delivery.State = inFlight ? DeliveryState.Unknown : DeliveryState.Pending;
                    if (inFlight) delivery.LastAttemptAt = DateTimeOffset.UtcNow;
                    // By the store's clock, which teammates share: this delivery's deadline ends every attempt.
                    var left = Options.RequestTimeout - sending.Elapsed;
                    delivery.InFlightUntil = inFlight ? DateTimeOffset.UtcNow + clock + (left > TimeSpan.Zero ? left : TimeSpan.Zero) : null;
                    delivery.AttemptId = attemptId;
                }, inFlight ? OutboxWrite.Start(attemptId, attempt == 1 ? waitedOut : attemptId) : OutboxWrite.End(attemptId)).ConfigureAwait(false);
            }
            catch (RecordFailedException) when (inFlight)
            {
                // Not recorded, so not sent: the request does not leave (what this delivery reports must say so).
                (delivery.State, delivery.Attempts, delivery.LastAttemptAt, delivery.InFlightUntil, delivery.AttemptId) = (state, attempts, lastAt, until, id);
                throw;
            }
            // The store holds another sender's outcome of this delivery (its claim had ended): the request does not leave.
            if (inFlight && OutboxMerge.Settled(delivery)) throw new SettledElsewhereException();
            // Another sender's attempt started since this sender looked (its claim had ended): the request does not leave either.
            if (inFlight && delivery.AttemptId != attemptId) throw new InFlightElsewhereException();
        }
        DeliveryOutcome outcome;
        try { outcome = await sender.SendAsync(channel.Name, channel.Type, request, cancellationToken, OnAttemptAsync).ConfigureAwait(false); }
        catch (SettledElsewhereException)
        {
            sink.Verbose($"{incident.Id} {context.Update.UpdateId} to '{channel.Name}': another sender recorded it {delivery.State} meanwhile; not sent again.");
            return TimeSpan.Zero;
        }
        catch (InFlightElsewhereException)
        {
            delivery.Error = TakenOver(context.Update, channel, delivery, null);
            sink.Verbose($"{incident.Id} {context.Update.UpdateId} to '{channel.Name}': {delivery.Error}");
            return TimeSpan.Zero;
        }

        string? providerId = null;
        Exception? afterFault = null;
        if (outcome.Delivered)
        {
            providerId = provider.ProviderId(incident, request, outcome.ResponseBody);
            // Accepted is not done for a provider that queues (Opsgenie): it checks the outcome within what is left of the
            // delivery's deadline. Its id stays on the record either way, so -Pending can check again rather than re-post.
            outcome = await provider.ConfirmAsync(context, outcome, providerId, Options.RequestTimeout - sending.Elapsed, cancellationToken).ConfigureAwait(false);
            // A store failure while keeping the provider's id (Statuspage's incident id on the record) does not hide that
            // the update was delivered: it is still recorded below (or reported as not recorded).
            if (outcome.Delivered)
                try { providerId = await provider.AfterDeliveredAsync(context, request, providerId).ConfigureAwait(false); }
                catch (Exception ex) when (IsStoreFault(ex)) { afterFault = ex; }
        }
        var error = outcome.Error;
        if (!outcome.Delivered && outcome.MaybeDelivered && !provider.Idempotent)
            error += $" {channel.Type} offers no way to check or to drop a repeat, so Send-IncidentUpdate -Pending will not re-send it: look in the channel '{channel.Name}' and, if it is missing, use -Pending -Force.";
        else if (!outcome.Delivered && outcome.MaybeDelivered)
            error += " Send-IncidentUpdate -Pending re-sends it safely.";
        await recordAs(() =>
        {
            delivery.Attempts = before + outcome.Attempts;
            delivery.StatusCode = outcome.StatusCode;
            delivery.ProviderId = providerId ?? delivery.ProviderId;
            delivery.Error = outcome.Delivered ? null : SecretRedactor.Redact(error);
            delivery.State = outcome.Delivered ? DeliveryState.Delivered
                : outcome.Permanent ? DeliveryState.Failed
                : outcome.MaybeDelivered ? DeliveryState.Unknown
                : DeliveryState.Pending;
            if (outcome.Delivered) delivery.DeliveredAt = DateTimeOffset.UtcNow;
            delivery.InFlightUntil = null;
            delivery.AttemptId = attemptId;
        }, OutboxWrite.End(attemptId)).ConfigureAwait(false);
        // This sender's result came after another sender took the channel over (this sender's claim had ended): the store keeps
        // that sender's attempt in flight, and its end says how the channel stands.
        if (delivery.AttemptId != attemptId && delivery.State != DeliveryState.Delivered)
        {
            delivery.Error = TakenOver(context.Update, channel, delivery, SecretRedactor.Redact(error));
            sink.Verbose($"{incident.Id} {context.Update.UpdateId} to '{channel.Name}': {delivery.Error}");
        }
        if (afterFault is not null) throw new RecordFailedException(afterFault);
        return outcome.Waited;
    }

    /// <summary>What a sender reports of a channel that another sender took over while this one's claim had ended.</summary>
    private static string TakenOver(IncidentUpdate update, ResolvedChannel channel, ChannelDelivery held, string? mine) =>
        $"Another sender took over this update's delivery to '{channel.Name}' after this sender's claim of the channel ended" +
        (held.InFlightUntil is { } until ? $"; its request may be in flight until {until:u}" : "") +
        $", and its own record says how the channel stands (Get-IncidentUpdate -Incident {update.IncidentId})." +
        (mine is null ? " Nothing was sent by this sender." : $" This sender's attempt: {mine}");

    /// <summary>
    /// Waits while another sender's request on this channel (of any update of the incident, for a provider that looks
    /// before it sends) may still be in flight after that sender's claim ended. Settled: this delivery is done (the other
    /// sender's attempt delivered it, or the wait would outlast this delivery's deadline and it was left with when to come back).
    /// </summary>
    private async Task<(IReadOnlyList<IncidentUpdate> Outbox, bool Settled, bool Theirs)> WaitOutInFlightAsync(IIncidentStore store, IncidentUpdate update, ChannelDelivery delivery,
        ResolvedChannel channel, ChannelProvider provider, bool force, Func<Action, Task> record, TimeSpan clock, IReadOnlyList<IncidentUpdate> outbox, CancellationToken cancellationToken)
    {
        var budget = System.Diagnostics.Stopwatch.StartNew();
        DateTimeOffset? told = null;
        var activity = $"Waiting for another sender's request to '{channel.Name}'";
        try
        {
            while (InFlightElsewhere(outbox, update, channel.Name, provider, force, DateTimeOffset.UtcNow + clock) is { } until)
            {
                var wait = until + Options.InFlightMargin - (DateTimeOffset.UtcNow + clock);
                var safeAt = DateTimeOffset.UtcNow + wait;
                // A sender with the same -TimeoutSec that started a moment earlier always fits: this one waits at most its own deadline
                // plus the margin. Longer (a teammate's larger -TimeoutSec, a killed sender's deadline far off) is left with when to come back.
                if (wait > Options.RequestTimeout + Options.InFlightMargin - budget.Elapsed)
                {
                    await record(() => delivery.Error =
                        $"Not sent: another sender's request to {channel.Type} for this incident may still be in flight until {safeAt:u} (its claim of the channel ended before it finished), " +
                        $"and a send now could post twice. Nothing was sent; run Send-IncidentUpdate -Pending -Incident {update.IncidentId} after {safeAt:u}.").ConfigureAwait(false);
                    return (outbox, true, false);
                }
                if (told != until)
                {
                    told = until;
                    var why = $"{update.IncidentId} to '{channel.Name}': another sender's request may still be in flight (its claim of the channel ended); waiting until it is recorded " +
                        $"or until {safeAt:u} ({wait.TotalSeconds:0.#} s) before looking at {channel.Type}, so nothing is posted twice.";
                    sink.Verbose(why);
                    sink.Progress(new OperationProgress(9, activity, why, -1, (int)Math.Ceiling(wait.TotalSeconds)));
                }
                // The other sender records how its attempt ended as soon as it knows: looked for at short intervals.
                await Task.Delay(wait < InFlightPoll ? wait : InFlightPoll, cancellationToken).ConfigureAwait(false);
                outbox = await store.ReadOutboxAsync(update.IncidentId, cancellationToken).ConfigureAwait(false);
                // What the other sender recorded of this very delivery meanwhile (delivered, or how its attempt ended).
                if (AdoptStored(outbox, update, delivery))
                {
                    sink.Verbose($"{update.IncidentId} {update.UpdateId} to '{channel.Name}': the other sender's attempt ended {delivery.State}; not sent again.");
                    return (outbox, true, true);
                }
            }
        }
        finally
        {
            if (told is not null) sink.Progress(new OperationProgress(9, activity, "done", 100, Completed: true));
        }
        return (outbox, false, false);
    }

    /// <summary>
    /// A later update of the incident that the channel already has (Delivered, or Unknown: it may have arrived) and that
    /// replaces this one there (the provider's rule), with another status; an update of the same status may still follow
    /// it (several first updates sent at once all arrive).
    /// </summary>
    private static IncidentUpdate? DeliveredLater(IReadOnlyList<IncidentUpdate> outbox, IncidentUpdate update, ResolvedChannel channel) =>
        outbox
            .Where(e => IsLater(e, update) && e.Status != update.Status && Supersedes(e, update, channel.Type)
                && e.Deliveries.Any(d => d.Channel.Equals(channel.Name, StringComparison.OrdinalIgnoreCase) && d.State is DeliveryState.Delivered or DeliveryState.Unknown))
            .OrderBy(e => e.CreatedAt).FirstOrDefault();

    private static async Task<ProviderRequest> BuildAsync(IncidentOpsConfig config, ResolvedChannel channel, Incident incident, IncidentUpdate update,
        SeverityLevel? severity, CancellationToken cancellationToken)
    {
        var template = await NotificationTemplates.ForChannelAsync(channel.Config, update.Kind, config.Path, cancellationToken).ConfigureAwait(false);
        var text = NotificationTemplates.Render(template, incident, update, severity, channel.Name, ProviderPayloads.EscapeFor(channel.Type));
        return ProviderPayloads.Build(channel, incident, update, severity, text);
    }

    /// <summary>Sends a change event (for example a rollback) to the named channels whose provider takes them (PagerDuty).</summary>
    public async Task<IReadOnlyList<NotificationResult>> SendChangeEventAsync(IncidentOpsConfig config, string summary, string source,
        IReadOnlyDictionary<string, string> details, string[]? channelNames, string? incidentId, CancellationToken cancellationToken)
    {
        var results = new List<NotificationResult>();
        var sender = Sender;
        foreach (var c in config.Channels.Where(c => ChannelProviders.For(c.Type).SupportsChangeEvents && (channelNames is not { Length: > 0 } || channelNames.Contains(c.Name, StringComparer.OrdinalIgnoreCase))))
        {
            var channel = await ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false);
            var outcome = await sender.SendAsync(c.Name, c.Type, ChannelProviders.For(c.Type).BuildChange(channel, summary, source, details, DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
            results.Add(new NotificationResult
            {
                IncidentId = incidentId ?? "", UpdateId = "", Channel = c.Name, ChannelType = c.Type, Kind = NotificationKind.Update,
                Delivered = outcome.Delivered, Pending = !outcome.Delivered, StatusCode = outcome.StatusCode, Attempts = outcome.Attempts,
                State = outcome.Delivered ? DeliveryState.Delivered : outcome.Permanent ? DeliveryState.Failed : outcome.MaybeDelivered ? DeliveryState.Unknown : DeliveryState.Pending,
                RetryWait = outcome.Waited, Error = SecretRedactor.Redact(outcome.Error),
            });
        }
        return results;
    }

    // ------------------------------------------------------------------ queries

    /// <summary>
    /// The outbox entries of an incident, oldest first. Unless <paramref name="asStored"/>, an update withdrawn because its incident was resolved after it was
    /// prepared reads as withdrawn (its undelivered channels Superseded, never sent) even where the store failed to record the
    /// withdrawal (UpdateWithdrawalNotRecorded): it is never sent, and the next -Pending or alerting round records it so.
    /// </summary>
    /// <param name="asStored">The entries exactly as stored (an alerting round that looks for entries whose state it must record).</param>
    public async Task<IReadOnlyList<IncidentUpdate>> GetUpdatesAsync(IncidentOpsConfig config, string? incidentId, bool pendingOnly, CancellationToken cancellationToken,
        bool asStored = true)
    {
        var store = openStore(config);
        var incidents = incidentId is not null
            ? [(incidentId, await store.GetAsync(incidentId, cancellationToken).ConfigureAwait(false))]
            : (await store.ListAsync(cancellationToken).ConfigureAwait(false)).Select(i => (i.Id, (Incident?)i)).ToList();
        var result = new List<IncidentUpdate>();
        foreach (var (id, incident) in incidents)
            foreach (var u in await store.ReadOutboxAsync(id, cancellationToken).ConfigureAwait(false))
            {
                if (!asStored && incident is not null && u.Pending && WithdrawnByResolution(incident, u))
                    foreach (var d in u.Deliveries.Where(d => d.State is not (DeliveryState.Delivered or DeliveryState.Superseded)))
                        Withdraw(d, u, incident.ResolvedAt);
                if (!pendingOnly || u.Pending) result.Add(u);
            }
        return result;
    }

    /// <summary>Open incidents whose next update is due within <paramref name="within"/> (zero: already overdue).</summary>
    public async Task<IReadOnlyList<IncidentUpdateDue>> GetDueAsync(IncidentOpsConfig config, TimeSpan within, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        var now = DateTimeOffset.UtcNow;
        var result = new List<IncidentUpdateDue>();
        foreach (var i in await store.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (i.Status == IncidentStatus.Resolved) continue;
            var due = i.NextUpdateDue ?? (Severity(config, i)?.UpdateEvery is { } every ? (i.LastUpdateAt ?? i.DeclaredAt) + every : null);
            if (due is null || due > now + within) continue;
            var pending = (await store.ReadOutboxAsync(i.Id, cancellationToken).ConfigureAwait(false)).Count(u => u.Pending);
            result.Add(new IncidentUpdateDue
            {
                IncidentId = i.Id, Severity = i.Severity, Title = i.Title, Status = i.Status, LastUpdateAt = i.LastUpdateAt,
                NextUpdateDue = due.Value, PendingUpdates = pending,
                OverdueBy = now > due.Value ? now - due.Value : TimeSpan.Zero, DueIn = due.Value > now ? due.Value - now : TimeSpan.Zero,
            });
        }
        return result.OrderBy(d => d.NextUpdateDue).ToList();
    }

    // ------------------------------------------------------------------ helpers

    private static async Task<Incident> LoadIncidentAsync(IIncidentStore store, string? id, CancellationToken cancellationToken)
    {
        id ??= await IncidentStateMachine.ActiveIdAsync(store, cancellationToken, forChange: true).ConfigureAwait(false)
            ?? throw new IncidentOpsException(NotificationErrorIds.NoActiveIncident, IncidentOpsErrorCategory.ObjectNotFound,
                "No incident is active and none was named. Pass -Incident INC-yyyyMMdd-NNN, or declare one with New-Incident.");
        return await store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(id);
    }

    private static SeverityLevel? Severity(IncidentOpsConfig config, Incident incident) =>
        config.Severities.FirstOrDefault(s => s.Id.Equals(incident.Severity, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// -Channel of -Pending names configured channels: a name that is not one (a type such as 'slack' instead of the
    /// channel's name) would otherwise re-send nothing and say nothing, and the update would stay pending unnoticed.
    /// </summary>
    private static void CheckChannelNames(IncidentOpsConfig config, string[]? names)
    {
        foreach (var n in names ?? []) _ = FindChannel(config, n);
    }

    /// <summary>The configured channel of this name; ChannelNotFound, with the names there are, when none is.</summary>
    private static ChannelConfig FindChannel(IncidentOpsConfig config, string name) =>
        config.Channels.FirstOrDefault(x => x.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new IncidentOpsException(NotificationErrorIds.ChannelNotFound, IncidentOpsErrorCategory.ObjectNotFound,
            $"No channel '{name}' in {config.Path ?? "the configuration"}. Configured channels: {(config.Channels.Count == 0 ? "(none)" : string.Join(", ", config.Channels.Select(x => x.Name)))}.") { TargetObject = name };

    private static IReadOnlyList<ChannelConfig> SelectChannels(IncidentOpsConfig config, Incident incident, string[]? names)
    {
        if (names is { Length: > 0 })
        {
            var list = new List<ChannelConfig>();
            foreach (var n in names)
            {
                var c = FindChannel(config, n);
                if (!list.Contains(c)) list.Add(c);
            }
            return list;
        }
        if (!config.Routing.TryGetValue(incident.Severity, out var routed) || routed.Length == 0)
            throw new IncidentOpsException(NotificationErrorIds.ChannelNotRouted, IncidentOpsErrorCategory.InvalidOperation,
                $"No channel is routed for severity {incident.Severity} in {config.Path ?? "the configuration"}. Add routing.{incident.Severity}: [channel, ...] or pass -Channel.");
        return routed.Select(n => config.Channels.First(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase))).ToList();
    }

    /// <summary>
    /// Resolves a channel's references. One that does not resolve is ConfigReferenceUnresolved naming the channel, its type and
    /// the key (channels.pager.routingKey) besides the reference and where it is written; the value is never in it.
    /// </summary>
    internal async Task<ResolvedChannel> ResolveChannelAsync(ChannelConfig c, CancellationToken cancellationToken)
    {
        async Task<string> R(string key, ConfigValue v)
        {
            try { return await references.ResolveAsync(v, cancellationToken).ConfigureAwait(false); }
            catch (IncidentOpsException ex) when (ex.ErrorId == ConfigErrorIds.ConfigReferenceUnresolved)
            {
                // "key: value" would read as a secret to SecretRedactor and mask the location that follows: "key at file:line:col, ...".
                var where = v.Location is null ? "" : $" at {v.Location}";
                var why = v.Location is not null && ex.Message.StartsWith($"{v.Location}: ", StringComparison.Ordinal) ? ex.Message[($"{v.Location}: ".Length)..] : ex.Message;
                throw new IncidentOpsException(ex.ErrorId, ex.Category, $"Channel '{c.Name}' ({c.Type}), channels.{c.Name}.{key}{where}, {why}", ex)
                {
                    TargetObject = c.Name,
                    RecommendedAction = v.Kind switch
                    {
                        ConfigValueKind.Env => $"Set the environment variable {v.Reference} in the session that sends (export {v.Reference}=..., or $env:{v.Reference} = '...'), or change channels.{c.Name}.{key}{Where(v)}.",
                        ConfigValueKind.File => $"Write the value into the file {v.Reference}, or change channels.{c.Name}.{key}{Where(v)}.",
                        ConfigValueKind.Secret => $"Add the secret with Set-Secret -Name {v.Reference} (SecretManagement, in a vault this user can read), or change channels.{c.Name}.{key}{Where(v)}.",
                        _ => $"Change channels.{c.Name}.{key}{Where(v)}.",
                    },
                };
            }
        }
        static string Where(ConfigValue v) => v.Location is null ? "" : $" ({v.Location})";
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in c.Options) values[k] = await R(k, v).ConfigureAwait(false);
        var maps = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, map) in c.Maps)
        {
            var resolved = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (k, v) in map) resolved[k] = await R($"{name}.{k}", v).ConfigureAwait(false);
            maps[name] = resolved;
        }
        return new ResolvedChannel { Config = c, Values = values, Maps = maps };
    }

    /// <summary>How the incident will look once the update is recorded (for rendering a preview).</summary>
    private static Incident Preview(Incident incident, IncidentUpdate update, IncidentStatus status)
    {
        var json = JsonSerializer.Serialize(incident, FileIncidentStore.Json);
        var copy = JsonSerializer.Deserialize<Incident>(json, FileIncidentStore.Json)!;
        copy.Status = status;
        if (status == IncidentStatus.Resolved) copy.ResolvedAt ??= update.CreatedAt;
        return copy;
    }

    private static NotificationResult ToResult(IncidentUpdate update, ChannelDelivery d, TimeSpan waited) => new()
    {
        IncidentId = update.IncidentId, UpdateId = update.UpdateId, Channel = d.Channel, ChannelType = d.ChannelType, Kind = update.Kind,
        Delivered = d.State == DeliveryState.Delivered, State = d.State,
        Pending = d.State is not (DeliveryState.Delivered or DeliveryState.Superseded), StatusCode = d.StatusCode,
        Attempts = d.Attempts, ProviderId = d.ProviderId, RetryWait = waited, Error = d.Error,
    };

    private static async Task<bool> HasUpdatesAsync(IIncidentStore store, string id, CancellationToken cancellationToken) =>
        (await store.ReadOutboxAsync(id, cancellationToken).ConfigureAwait(false)).Count > 0;
}
