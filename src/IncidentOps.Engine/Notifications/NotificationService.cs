using System.Text.Json;
using IncidentOps.Config;
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
}

/// <summary>
/// Status updates to Slack, Teams, Discord, PagerDuty, Statuspage and generic webhooks. Every update is
/// written to the incident's outbox/ folder with per-channel delivery state before anything is sent, so a
/// failed or interrupted send is never lost (Send-IncidentUpdate -Pending re-sends it) and a channel that
/// already received an update never receives it twice.
/// </summary>
public sealed class NotificationService(IncidentOpsEngine engine, HttpClient http)
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    public NotificationOptions Options { get; set; } = new();

    private NotificationSender Sender => new(http, engine.Sink, Options);

    // ------------------------------------------------------------------ prepare (no side effects)

    public async Task<PreparedUpdate> PrepareAsync(IncidentOpsConfig config, IncidentUpdateRequest request, CancellationToken cancellationToken)
    {
        var store = engine.OpenStore(config);
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
        var channels = new List<ResolvedChannel>();
        foreach (var c in channelConfigs) channels.Add(await ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false));
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
        return new PreparedUpdate { Config = config, Incident = incident, Update = update, Channels = channels, Rendered = rendered };
    }

    public static NotificationKind InferKind(Incident incident, IncidentStatus status, bool hasUpdates) =>
        status == IncidentStatus.Resolved ? NotificationKind.Resolved
        : incident.LastUpdateAt is null && !hasUpdates ? NotificationKind.Initial
        : NotificationKind.Update;

    // ------------------------------------------------------------------ send

    /// <summary>Writes the update to the outbox, records the incident's new status and cadence, then delivers to each channel.</summary>
    public async Task<IReadOnlyList<NotificationResult>> SendAsync(PreparedUpdate prepared, IReadOnlyCollection<string>? onlyChannels, CancellationToken cancellationToken)
    {
        var store = engine.OpenStore(prepared.Config);
        var update = prepared.Update;
        if (onlyChannels is not null) update.Deliveries.RemoveAll(d => !onlyChannels.Contains(d.Channel, StringComparer.OrdinalIgnoreCase));
        if (update.Deliveries.Count == 0) return [];
        var dir = OutboxDirectory(store, update.IncidentId);
        Directory.CreateDirectory(dir);
        await using (await FileLock.AcquireAsync(LockPath(dir, update.UpdateId), LockTimeout, cancellationToken).ConfigureAwait(false))
        {
            // Outbox first: the update exists on disk before any provider sees it.
            await WriteEntryAsync(dir, update, cancellationToken).ConfigureAwait(false);
            await store.UpdateAsync(update.IncidentId, i =>
            {
                i.Status = update.Status;
                i.LastUpdateAt = update.CreatedAt;
                i.NextUpdateDue = update.NextUpdateDue;
                if (update.Status == IncidentStatus.Resolved) i.ResolvedAt ??= update.CreatedAt;
                if (update.Status is IncidentStatus.Identified or IncidentStatus.Monitoring) i.AcknowledgedAt ??= update.CreatedAt;
            }, cancellationToken).ConfigureAwait(false);
            var channels = prepared.Channels.Where(c => update.Deliveries.Any(d => d.Channel.Equals(c.Name, StringComparison.OrdinalIgnoreCase))).ToList();
            return await DeliverAsync(store, prepared.Config, dir, update, channels, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Re-sends every update of the incident (or of every incident) that some channel has not received.</summary>
    public async Task<IReadOnlyList<NotificationResult>> SendPendingAsync(IncidentOpsConfig config, string? incidentId, string[]? channels, CancellationToken cancellationToken)
    {
        var store = engine.OpenStore(config);
        var ids = incidentId is not null ? [incidentId] : (await store.ListAsync(cancellationToken).ConfigureAwait(false)).Select(i => i.Id).ToList();
        var results = new List<NotificationResult>();
        foreach (var id in ids)
        {
            var dir = OutboxDirectory(store, id);
            foreach (var pending in (await ReadEntriesAsync(dir, cancellationToken).ConfigureAwait(false)).Where(u => u.Pending))
            {
                await using (await FileLock.AcquireAsync(LockPath(dir, pending.UpdateId), LockTimeout, cancellationToken).ConfigureAwait(false))
                {
                    // Re-read under the lock: another process may have delivered it meanwhile.
                    var update = await ReadEntryAsync(Path.Combine(dir, pending.UpdateId + ".json"), cancellationToken).ConfigureAwait(false);
                    if (update is null || !update.Pending) continue;
                    var resolved = new List<ResolvedChannel>();
                    foreach (var d in update.Deliveries.Where(d => d.State != DeliveryState.Delivered))
                    {
                        if (channels is { Length: > 0 } && !channels.Contains(d.Channel, StringComparer.OrdinalIgnoreCase)) continue;
                        var c = config.Channels.FirstOrDefault(x => x.Name.Equals(d.Channel, StringComparison.OrdinalIgnoreCase));
                        if (c is null)
                        {
                            engine.Sink.Warning($"{update.UpdateId}: channel '{d.Channel}' is no longer in {config.Path ?? "the configuration"}; its delivery stays pending.");
                            continue;
                        }
                        resolved.Add(await ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false));
                    }
                    if (resolved.Count > 0) results.AddRange(await DeliverAsync(store, config, dir, update, resolved, cancellationToken).ConfigureAwait(false));
                }
            }
        }
        return results;
    }

    private async Task<IReadOnlyList<NotificationResult>> DeliverAsync(IIncidentStore store, IncidentOpsConfig config, string dir, IncidentUpdate update,
        IReadOnlyList<ResolvedChannel> channels, CancellationToken cancellationToken)
    {
        var gate = new SemaphoreSlim(1, 1);
        var sender = Sender;
        var total = channels.Count;
        var done = 0;
        engine.Sink.Progress(new OperationProgress(8, $"Sending {update.Kind} update for {update.IncidentId}", $"0 of {total} channels", 0));
        var tasks = channels.Select(async channel =>
        {
            var delivery = update.Deliveries.First(d => d.Channel.Equals(channel.Name, StringComparison.OrdinalIgnoreCase));
            NotificationResult result;
            if (delivery.State == DeliveryState.Delivered)
                result = ToResult(update, delivery, TimeSpan.Zero);
            else
            {
                var outcome = await DeliverOneAsync(store, config, update, channel, sender, cancellationToken).ConfigureAwait(false);
                await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false); // held only to write the outcome, which must land even when stopped
                try
                {
                    delivery.Attempts += outcome.Outcome.Attempts;
                    delivery.StatusCode = outcome.Outcome.StatusCode;
                    delivery.ProviderId = outcome.ProviderId ?? delivery.ProviderId;
                    delivery.Error = outcome.Outcome.Delivered ? null : SecretRedactor.Redact(outcome.Outcome.Error);
                    delivery.State = outcome.Outcome.Delivered ? DeliveryState.Delivered : outcome.Outcome.Permanent ? DeliveryState.Failed : DeliveryState.Pending;
                    if (outcome.Outcome.Delivered) delivery.DeliveredAt = DateTimeOffset.UtcNow;
                    // Record each outcome as soon as it is known, so an interruption never re-sends a delivered channel.
                    await WriteEntryAsync(dir, update, CancellationToken.None).ConfigureAwait(false);
                    done++;
                    engine.Sink.Progress(new OperationProgress(8, $"Sending {update.Kind} update for {update.IncidentId}", $"{done} of {total} channels", done * 100 / total));
                }
                finally { gate.Release(); }
                result = ToResult(update, delivery, outcome.Outcome.Waited);
                if (!result.Delivered) engine.Sink.Warning($"{update.IncidentId} {update.Kind} update to '{channel.Name}' not delivered: {result.Error}");
            }
            return result;
        }).ToList();
        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        engine.Sink.Progress(new OperationProgress(8, $"Sending {update.Kind} update for {update.IncidentId}", "done", 100, Completed: true));
        var summary = string.Join("; ", results.Select(r => r.Delivered
            ? $"{r.Channel}: delivered ({r.StatusCode}, {r.Attempts} attempt(s){(r.ProviderId is null ? "" : ", id " + r.ProviderId)})"
            : $"{r.Channel}: NOT delivered ({r.Error})"));
        await store.AppendTimelineAsync(update.IncidentId, new TimelineEntry
        {
            IncidentId = update.IncidentId,
            Kind = "update",
            Cmdlet = "Send-IncidentUpdate",
            Action = $"{update.Kind} update ({update.Status})",
            Target = string.Join(",", results.Select(r => r.Channel)),
            Parameters = new Dictionary<string, string> { ["UpdateId"] = update.UpdateId, ["Message"] = SecretRedactor.Redact(update.Message ?? "") },
            Outcome = results.All(r => r.Delivered) ? TimelineOutcome.Succeeded : TimelineOutcome.Failed,
            Result = SecretRedactor.Redact(summary),
        }, CancellationToken.None).ConfigureAwait(false);
        return results;
    }

    private async Task<(DeliveryOutcome Outcome, string? ProviderId)> DeliverOneAsync(IIncidentStore store, IncidentOpsConfig config, IncidentUpdate update,
        ResolvedChannel channel, NotificationSender sender, CancellationToken cancellationToken)
    {
        var incident = await store.GetAsync(update.IncidentId, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(update.IncidentId);
        ProviderRequest request;
        try { request = await BuildAsync(config, channel, incident, update, Severity(config, incident), cancellationToken).ConfigureAwait(false); }
        catch (IncidentOpsException ex) { return (new DeliveryOutcome(false, true, null, 0, TimeSpan.Zero, null, ex.Message), null); }
        var outcome = await sender.SendAsync(channel.Name, channel.Type, request, cancellationToken).ConfigureAwait(false);
        if (!outcome.Delivered) return (outcome, null);
        string? providerId = channel.Type switch
        {
            ChannelType.PagerDuty => JsonString(outcome.ResponseBody, "dedup_key") ?? ProviderPayloads.DedupKey(incident),
            ChannelType.Statuspage or ChannelType.Discord => JsonString(outcome.ResponseBody, "id"),
            _ => null,
        };
        if (channel.Type == ChannelType.Statuspage && request.Method == HttpMethod.Post && providerId is not null)
        {
            // Kept at once, so the next update (or a re-send) PATCHes this Statuspage incident instead of opening another.
            var key = ProviderPayloads.StatuspageExternalIdKey(channel.Name);
            await store.UpdateAsync(incident.Id, i => i.ExternalIds[key] = providerId, CancellationToken.None).ConfigureAwait(false);
        }
        if (channel.Type == ChannelType.Statuspage && providerId is null)
            providerId = incident.ExternalIds.GetValueOrDefault(ProviderPayloads.StatuspageExternalIdKey(channel.Name));
        return (outcome, providerId);
    }

    private static async Task<ProviderRequest> BuildAsync(IncidentOpsConfig config, ResolvedChannel channel, Incident incident, IncidentUpdate update,
        SeverityLevel? severity, CancellationToken cancellationToken)
    {
        var template = await NotificationTemplates.ForChannelAsync(channel.Config, update.Kind, config.Path, cancellationToken).ConfigureAwait(false);
        var text = NotificationTemplates.Render(template, incident, update, severity, channel.Name);
        return ProviderPayloads.Build(channel, incident, update, severity, text);
    }

    /// <summary>Sends a PagerDuty Change event (for example a rollback) to the named PagerDuty channels.</summary>
    public async Task<IReadOnlyList<NotificationResult>> SendChangeEventAsync(IncidentOpsConfig config, string summary, string source,
        IReadOnlyDictionary<string, string> details, string[]? channelNames, string? incidentId, CancellationToken cancellationToken)
    {
        var results = new List<NotificationResult>();
        var sender = Sender;
        foreach (var c in config.Channels.Where(c => c.Type == ChannelType.PagerDuty && (channelNames is not { Length: > 0 } || channelNames.Contains(c.Name, StringComparer.OrdinalIgnoreCase))))
        {
            var channel = await ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false);
            var outcome = await sender.SendAsync(c.Name, c.Type, ProviderPayloads.PagerDutyChange(channel, summary, source, details, DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
            results.Add(new NotificationResult
            {
                IncidentId = incidentId ?? "", UpdateId = "", Channel = c.Name, ChannelType = c.Type, Kind = NotificationKind.Update,
                Delivered = outcome.Delivered, Pending = !outcome.Delivered, StatusCode = outcome.StatusCode, Attempts = outcome.Attempts,
                RetryWait = outcome.Waited, Error = SecretRedactor.Redact(outcome.Error),
            });
        }
        return results;
    }

    // ------------------------------------------------------------------ queries

    /// <summary>The outbox entries of an incident, oldest first.</summary>
    public async Task<IReadOnlyList<IncidentUpdate>> GetUpdatesAsync(IncidentOpsConfig config, string? incidentId, bool pendingOnly, CancellationToken cancellationToken)
    {
        var store = engine.OpenStore(config);
        var ids = incidentId is not null ? [incidentId] : (await store.ListAsync(cancellationToken).ConfigureAwait(false)).Select(i => i.Id).ToList();
        var result = new List<IncidentUpdate>();
        foreach (var id in ids)
            result.AddRange((await ReadEntriesAsync(OutboxDirectory(store, id), cancellationToken).ConfigureAwait(false)).Where(u => !pendingOnly || u.Pending));
        return result;
    }

    /// <summary>Open incidents whose next update is due within <paramref name="within"/> (zero: already overdue).</summary>
    public async Task<IReadOnlyList<IncidentUpdateDue>> GetDueAsync(IncidentOpsConfig config, TimeSpan within, CancellationToken cancellationToken)
    {
        var store = engine.OpenStore(config);
        var now = DateTimeOffset.UtcNow;
        var result = new List<IncidentUpdateDue>();
        foreach (var i in await store.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (i.Status == IncidentStatus.Resolved) continue;
            var due = i.NextUpdateDue ?? (Severity(config, i)?.UpdateEvery is { } every ? (i.LastUpdateAt ?? i.DeclaredAt) + every : null);
            if (due is null || due > now + within) continue;
            var pending = (await ReadEntriesAsync(OutboxDirectory(store, i.Id), cancellationToken).ConfigureAwait(false)).Count(u => u.Pending);
            result.Add(new IncidentUpdateDue
            {
                IncidentId = i.Id, Severity = i.Severity, Title = i.Title, Status = i.Status, LastUpdateAt = i.LastUpdateAt,
                NextUpdateDue = due.Value, OverdueBy = now - due.Value, PendingUpdates = pending,
            });
        }
        return result.OrderBy(d => d.NextUpdateDue).ToList();
    }

    // ------------------------------------------------------------------ helpers

    private static async Task<Incident> LoadIncidentAsync(IIncidentStore store, string? id, CancellationToken cancellationToken)
    {
        id ??= await store.GetActiveIdAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new IncidentOpsException("NoActiveIncident", IncidentOpsErrorCategory.ObjectNotFound,
                "No incident is active and none was named. Pass -Incident INC-yyyyMMdd-NNN, or declare one with New-Incident.");
        return await store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(id);
    }

    private static SeverityLevel? Severity(IncidentOpsConfig config, Incident incident) =>
        config.Severities.FirstOrDefault(s => s.Id.Equals(incident.Severity, StringComparison.OrdinalIgnoreCase));

    private static IReadOnlyList<ChannelConfig> SelectChannels(IncidentOpsConfig config, Incident incident, string[]? names)
    {
        if (names is { Length: > 0 })
        {
            var list = new List<ChannelConfig>();
            foreach (var n in names)
            {
                var c = config.Channels.FirstOrDefault(x => x.Name.Equals(n, StringComparison.OrdinalIgnoreCase))
                    ?? throw new IncidentOpsException("ChannelNotFound", IncidentOpsErrorCategory.ObjectNotFound,
                        $"No channel '{n}' in {config.Path ?? "the configuration"}. Configured channels: {(config.Channels.Count == 0 ? "(none)" : string.Join(", ", config.Channels.Select(x => x.Name)))}.") { TargetObject = n };
                if (!list.Contains(c)) list.Add(c);
            }
            return list;
        }
        if (!config.Routing.TryGetValue(incident.Severity, out var routed) || routed.Length == 0)
            throw new IncidentOpsException("ChannelNotRouted", IncidentOpsErrorCategory.InvalidOperation,
                $"No channel is routed for severity {incident.Severity} in {config.Path ?? "the configuration"}. Add routing.{incident.Severity}: [channel, ...] or pass -Channel.");
        return routed.Select(n => config.Channels.First(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase))).ToList();
    }

    private async Task<ResolvedChannel> ResolveChannelAsync(ChannelConfig c, CancellationToken cancellationToken)
    {
        async Task<string?> R(ConfigValue? v) => v is null ? null : await engine.References.ResolveAsync(v, cancellationToken).ConfigureAwait(false);
        var components = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in c.Components) components[k] = (await R(v).ConfigureAwait(false))!;
        var pageId = await R(c.PageId).ConfigureAwait(false);
        // Page ids are not secrets by themselves, but they sit in the request URL next to the API key; mask them too.
        if (pageId is not null && pageId.Length >= 6) SecretRedactor.Register(pageId);
        return new ResolvedChannel
        {
            Config = c,
            Url = await R(c.Url).ConfigureAwait(false),
            RoutingKey = await R(c.RoutingKey).ConfigureAwait(false),
            PageId = pageId,
            ApiKey = await R(c.ApiKey).ConfigureAwait(false),
            Components = components,
        };
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
        Delivered = d.State == DeliveryState.Delivered, Pending = d.State != DeliveryState.Delivered, StatusCode = d.StatusCode,
        Attempts = d.Attempts, ProviderId = d.ProviderId, RetryWait = waited, Error = d.Error,
    };

    private static string? JsonString(string? body, string name)
    {
        if (string.IsNullOrWhiteSpace(body) || !body.TrimStart().StartsWith('{')) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString() : null;
        }
        catch (JsonException) { return null; }
    }

    public static string OutboxDirectory(IIncidentStore store, string incidentId) => Path.Combine(store.GetIncidentDirectory(incidentId), "outbox");

    private static string LockPath(string dir, string updateId) => Path.Combine(dir, updateId + ".lock");

    private static async Task<bool> HasUpdatesAsync(IIncidentStore store, string id, CancellationToken cancellationToken) =>
        (await ReadEntriesAsync(OutboxDirectory(store, id), cancellationToken).ConfigureAwait(false)).Count > 0;

    private static Task WriteEntryAsync(string dir, IncidentUpdate update, CancellationToken cancellationToken) =>
        FileIncidentStore.WriteAtomicAsync(Path.Combine(dir, update.UpdateId + ".json"), JsonSerializer.Serialize(update, FileIncidentStore.Json), cancellationToken);

    private static async Task<IncidentUpdate?> ReadEntryAsync(string path, CancellationToken cancellationToken)
    {
        try { return JsonSerializer.Deserialize<IncidentUpdate>(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false), FileIncidentStore.Json); }
        catch (FileNotFoundException) { return null; }
        catch (JsonException ex)
        {
            throw new IncidentOpsException("OutboxEntryCorrupt", IncidentOpsErrorCategory.InvalidData, $"The outbox entry '{path}' cannot be read ({ex.Message}). Move it aside and re-send the update.", ex);
        }
    }

    private static async Task<List<IncidentUpdate>> ReadEntriesAsync(string dir, CancellationToken cancellationToken)
    {
        var list = new List<IncidentUpdate>();
        if (!Directory.Exists(dir)) return list;
        foreach (var f in Directory.GetFiles(dir, "UPD-*.json").Order(StringComparer.Ordinal))
            if (await ReadEntryAsync(f, cancellationToken).ConfigureAwait(false) is { } u) list.Add(u);
        return list;
    }
}
