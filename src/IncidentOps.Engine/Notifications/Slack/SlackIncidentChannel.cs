using System.Globalization;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Notifications.Slack;

/// <summary>One step of an incident channel (create, topic, invite, post, pin, archive) on one Slack channel config.</summary>
public sealed record SlackChannelStep(string IncidentId, string Channel, string Step, bool Succeeded, string? ErrorId, string Detail)
{
    public override string ToString() => $"{IncidentId} {Channel} {Step}: {(Succeeded ? "ok" : ErrorId)} {Detail}";
}

/// <summary>
/// The incident's own Slack channel (seed 002: create #incident-YYYY-MM-DD-NNN; seed 003: invite, pin the incident
/// template, archive afterwards), for every `slack` channel with a bot `token` and an `incidentChannel` pattern:
/// conversations.create → conversations.setTopic → conversations.invite → chat.postMessage (the initial update) →
/// pins.add on New-Incident; conversations.archive on Close-Incident.
/// Each step's outcome is kept at once in Incident.ExternalIds (slack:&lt;channel&gt; is the channel id;
/// slack:&lt;channel&gt;:&lt;step&gt; the progress), so a retry (Send-IncidentUpdate -Pending) does only what is missing
/// and nothing is created or posted twice: a create whose answer was lost is recognised by name_taken on a channel
/// created after the attempt, and a post whose answer was lost is not repeated without -Force. Every step lands on the
/// timeline; a failed step is a warning (the incident and its other notifications are not affected).
/// </summary>
/// <param name="openStore">Opens the incident store a configuration names.</param>
/// <param name="sink">Where warnings and verbose text go.</param>
/// <param name="timeline">The one writer of timeline entries.</param>
/// <param name="notifications">Resolves a channel's secrets and carries the send options (retries, timeouts).</param>
public sealed class SlackIncidentChannel(Func<IncidentOpsConfig?, IIncidentStore> openStore, IOperationSink sink, TimelineWriter timeline, NotificationService notifications)
{
    /// <summary>How far before the recorded create attempt a found channel may have been created and still be ours (clock skew).</summary>
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(2);
    private const int MaxListPages = 50;

    public static string Key(string channel) => $"slack:{channel}";
    private static string Key(string channel, string step) => $"slack:{channel}:{step}";

    /// <summary>The channels of the configuration that open an incident channel (Slack, bot token, incidentChannel).</summary>
    public static IReadOnlyList<ChannelConfig> Configured(IncidentOpsConfig? config) =>
        config?.Channels.Where(c => c.Type == ChannelType.Slack && SlackChannel.IsBot(c) && c.Option(SlackChannel.IncidentChannelKey) is not null).ToList() ?? [];

    private NotificationSender Sender => new(NotificationSender.SharedClient, sink, notifications.Options);

    // ------------------------------------------------------------------ -WhatIf

    /// <summary>The Web API calls New-Incident would make for an incident declared now (its id predicted from the store), token masked.</summary>
    public async Task<IReadOnlyList<string>> PlanOpenAsync(IncidentOpsConfig? config, NewIncidentRequest request, CancellationToken cancellationToken)
    {
        var channels = Configured(config);
        if (channels.Count == 0) return [];
        var now = DateTimeOffset.UtcNow;
        var prefix = $"INC-{now:yyyyMMdd}-";
        var existing = await openStore(config).ListAsync(cancellationToken).ConfigureAwait(false);
        var next = existing.Where(i => i.Id.StartsWith(prefix, StringComparison.Ordinal))
            .Select(i => int.TryParse(i.Id[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0).DefaultIfEmpty(0).Max() + 1;
        var severity = IncidentService.ResolveSeverity(config, request.Severity);
        var preview = new Incident
        {
            Id = $"{prefix}{next:000}", Title = request.Title, Severity = severity.Id, SeverityName = severity.Name, DeclaredAt = now,
            StartedAt = request.StartedAt ?? now, Services = request.Services, Impact = request.Impact, Commander = request.Commander,
        };
        var lines = new List<string>();
        foreach (var c in channels)
        {
            var ch = await notifications.ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false);
            var token = ch.Get(SlackChannel.TokenKey)!;
            var name = SlackChannelName.For(ch.Get(SlackChannel.IncidentChannelKey)!, preview);
            const string id = "NEW_CHANNEL_ID";
            var calls = new List<ProviderRequest>
            {
                SlackWebApi.CreateChannel(ch, token, name),
                SlackWebApi.SetTopic(ch, token, id, Topic(preview)),
            };
            var users = Users(ch);
            if (users.Count > 0) calls.Add(SlackWebApi.Invite(ch, token, id, users));
            calls.Add(SlackWebApi.PostMessage(ch, token, id, await SummaryAsync(config, c, preview, cancellationToken).ConfigureAwait(false)));
            calls.Add(SlackWebApi.Pin(ch, token, id, "SUMMARY_TS"));
            lines.Add($"{c.Name}: the incident channel #{name} (for {preview.Id}, the id the store would allocate now; NEW_CHANNEL_ID and SUMMARY_TS come from Slack's answers):");
            lines.AddRange(calls.Select(Show));
        }
        return lines;
    }

    /// <summary>The Web API calls Close-Incident would make (archive the incident's channels), token masked.</summary>
    public async Task<IReadOnlyList<string>> PlanArchiveAsync(IncidentOpsConfig? config, string incidentId, CancellationToken cancellationToken)
    {
        var channels = Configured(config);
        if (channels.Count == 0) return [];
        var incident = await openStore(config).GetAsync(incidentId, cancellationToken).ConfigureAwait(false);
        if (incident is null) return [];
        var lines = new List<string>();
        foreach (var c in channels)
        {
            if (!incident.ExternalIds.TryGetValue(Key(c.Name), out var id) || incident.ExternalIds.ContainsKey(Key(c.Name, "archived"))) continue;
            var ch = await notifications.ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false);
            lines.Add($"{c.Name}: archive #{incident.ExternalIds.GetValueOrDefault(Key(c.Name, "name")) ?? id}:");
            lines.Add(Show(SlackWebApi.Archive(ch, ch.Get(SlackChannel.TokenKey)!, id)));
        }
        return lines;
    }

    private static string Show(ProviderRequest r) =>
        SecretRedactor.Redact($"{r.Method.Method} {r.Url} (as the bot){(r.Body.Length == 0 ? "" : " " + r.Body)}");

    // ------------------------------------------------------------------ open (New-Incident)

    /// <summary>
    /// Opens the incident's channel on every configured Slack bot channel, doing only the steps not yet done.
    /// <paramref name="force"/> re-posts a summary whose earlier post may have arrived (no answer).
    /// </summary>
    public async Task<IReadOnlyList<SlackChannelStep>> OpenAsync(IncidentOpsConfig? config, string incidentId, ChangeContext context, bool force, CancellationToken cancellationToken)
    {
        var steps = new List<SlackChannelStep>();
        foreach (var c in Configured(config))
            steps.AddRange(await GuardAsync(config, c, incidentId, "open", context, () => OpenOneAsync(config, c, incidentId, context, force, cancellationToken), cancellationToken).ConfigureAwait(false));
        return steps;
    }

    /// <summary>
    /// A step that could not even start (the token reference does not resolve, the store lock stays busy) is a failed
    /// step like any other: a warning and a timeline entry, never an error that would hide the incident or other channels.
    /// </summary>
    private async Task<IReadOnlyList<SlackChannelStep>> GuardAsync(IncidentOpsConfig? config, ChannelConfig c, string incidentId, string step, ChangeContext context,
        Func<Task<List<SlackChannelStep>>> work, CancellationToken cancellationToken)
    {
        try { return await work().ConfigureAwait(false); }
        catch (IncidentOpsException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return [await RecordAsync(openStore(config), incidentId, c.Name, step, "incident channel", $"channels.{c.Name}", context, false, ex.ErrorId, ex.Message).ConfigureAwait(false)];
        }
    }

    /// <summary>How long to wait for another process (a scheduled -Pending, a second New-Incident) working on the same incident channel.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(60);

    /// <summary>The cross-process lock of one incident's channel on one Slack config: its steps run one process at a time.</summary>
    private static Task<IAsyncDisposable> ClaimAsync(IIncidentStore store, string incidentId, string channel, CancellationToken cancellationToken) =>
        store.ClaimOutboxAsync(incidentId, IncidentStores.ChannelLockName("slack-incident-" + channel), LockWait, cancellationToken);

    private async Task<List<SlackChannelStep>> OpenOneAsync(IncidentOpsConfig? config, ChannelConfig c, string incidentId, ChangeContext context, bool force, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        await using var claim = await ClaimAsync(store, incidentId, c.Name, cancellationToken).ConfigureAwait(false);
        var incident = await store.GetAsync(incidentId, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(incidentId);
        // Marked first, so Send-IncidentUpdate -Pending retries even a channel whose token did not resolve.
        if (!incident.ExternalIds.ContainsKey(Key(c.Name, "requested")))
            incident = await store.UpdateAsync(incident.Id, i => i.ExternalIds[Key(c.Name, "requested")] = Now(), CancellationToken.None).ConfigureAwait(false);
        var ch = await notifications.ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false);
        var run = new OpenRun(this, config, c, store, incident, ch, context, cancellationToken);

        var pattern = ch.Get(SlackChannel.IncidentChannelKey)!;
        if (SlackChannelName.Problem(pattern) is { } bad)
        {
            await run.FailAsync("create", "conversations.create", pattern, ConfigErrorIds.ConfigInvalidName, $"channels.{c.Name}.incidentChannel {bad}").ConfigureAwait(false);
            return run.Steps;
        }
        run.Name = incident.ExternalIds.GetValueOrDefault(Key(c.Name, "name")) ?? SlackChannelName.For(pattern, incident);
        if (!await run.CreateAsync().ConfigureAwait(false)) return run.Steps;
        await run.TopicAsync().ConfigureAwait(false);
        await run.InviteAsync().ConfigureAwait(false);
        if (await run.PostAsync(force).ConfigureAwait(false) is { } ts) await run.PinAsync(ts).ConfigureAwait(false);
        return run.Steps;
    }

    /// <summary>
    /// One opening of an incident channel on one Slack config: the incident as last written, the steps done so far, and
    /// one method per Web API step. Each step reads and writes its progress in Incident.ExternalIds, so it runs only
    /// when missing.
    /// </summary>
    private sealed class OpenRun(SlackIncidentChannel owner, IncidentOpsConfig? config, ChannelConfig c, IIncidentStore store, Incident incident,
        ResolvedChannel ch, ChangeContext context, CancellationToken cancellationToken)
    {
        private readonly NotificationSender _sender = owner.Sender;
        private readonly string _token = ch.Get(SlackChannel.TokenKey)!;
        private Incident _incident = incident;
        private string _channelId = "";

        public List<SlackChannelStep> Steps { get; } = [];
        public string Name { get; set; } = "";
        private string Target => _channelId.Length == 0 ? $"#{Name}" : $"#{Name} ({_channelId})";

        private async Task Mark(Action<Dictionary<string, string>> change) =>
            _incident = await store.UpdateAsync(_incident.Id, i => change(i.ExternalIds), CancellationToken.None).ConfigureAwait(false);

        private Task<DeliveryOutcome> SendAsync(ProviderRequest request) => _sender.SendAsync(c.Name, ChannelType.Slack, request, cancellationToken);

        private async Task Record(string step, string method, string target, bool succeeded, string? errorId, string detail) =>
            Steps.Add(await owner.RecordAsync(store, _incident.Id, c.Name, step, method, target, context, succeeded, errorId, detail).ConfigureAwait(false));

        public Task FailAsync(string step, string method, string target, string? errorId, string detail) => Record(step, method, target, false, errorId, detail);

        /// <summary>Records a Web API step; <paramref name="acceptable"/> counts a refusal that leaves things as wanted (already_pinned) as done.</summary>
        private async Task<bool> Step(string step, DeliveryOutcome outcome, string method, string ok, bool acceptable = false)
        {
            var succeeded = outcome.Delivered || acceptable;
            string? errorId = null;
            var detail = ok;
            if (!succeeded) (errorId, detail) = SlackWebApi.Describe(c.Name, method, outcome);
            await Record(step, method, Target, succeeded, errorId, detail).ConfigureAwait(false);
            return succeeded;
        }

        /// <summary>1. conversations.create, or find the channel a create whose answer was lost made. False: stop here.</summary>
        public async Task<bool> CreateAsync()
        {
            if (_incident.ExternalIds.TryGetValue(Key(c.Name), out var known)) { _channelId = known; return true; }
            var name = Name;
            var attempt = _incident.ExternalIds.TryGetValue(Key(c.Name, "creating"), out var prior) && prior.StartsWith(name + "@", StringComparison.Ordinal)
                ? DateTimeOffset.Parse(prior[(name.Length + 1)..], CultureInfo.InvariantCulture) : (DateTimeOffset?)null;
            if (attempt is null)
            {
                attempt = DateTimeOffset.UtcNow;
                await Mark(x => x[Key(c.Name, "creating")] = $"{name}@{attempt.Value:O}").ConfigureAwait(false);
            }
            var outcome = await SendAsync(SlackWebApi.CreateChannel(ch, _token, name)).ConfigureAwait(false);
            if (outcome.Delivered && ChannelId(outcome.ResponseBody) is null)
            {
                await FailAsync("create", "conversations.create", Target, SlackErrorIds.SlackApiError,
                    "Slack answered ok but without channel.id; the channel will be found by its name on the next try.").ConfigureAwait(false);
                return false;
            }
            if (outcome.Delivered)
            {
                var id = ChannelId(outcome.ResponseBody)!;
                await Mark(x => { x[Key(c.Name)] = id; x[Key(c.Name, "name")] = name; x.Remove(Key(c.Name, "creating")); }).ConfigureAwait(false);
                await Step("create", outcome, "conversations.create", $"created #{name} ({id})").ConfigureAwait(false);
                _channelId = id;
                return true;
            }
            if (SlackWebApi.ErrorCode(outcome.ResponseBody) == "name_taken")
            {
                var found = await FindAsync(_sender, ch, _token, name, _incident, attempt.Value, cancellationToken).ConfigureAwait(false);
                if (found.Id is null)
                {
                    await FailAsync("create", "conversations.create", Target, found.ErrorId, found.Error!).ConfigureAwait(false);
                    return false;
                }
                await Mark(x => { x[Key(c.Name)] = found.Id; x[Key(c.Name, "name")] = name; x.Remove(Key(c.Name, "creating")); }).ConfigureAwait(false);
                await Record("create", "conversations.create", Target, true, null,
                    $"#{name} already exists and is this incident's ({found.Id}, {found.Why}); not created again").ConfigureAwait(false);
                _channelId = found.Id;
                return true;
            }
            // Only a refusal proves the channel was not made; without an answer the attempt stays recorded.
            if (!outcome.MaybeDelivered) await Mark(x => x.Remove(Key(c.Name, "creating"))).ConfigureAwait(false);
            await Step("create", outcome, "conversations.create", "").ConfigureAwait(false);
            return false;
        }

        /// <summary>2. conversations.setTopic: seed 002's topic; it also marks the channel as this incident's.</summary>
        public async Task TopicAsync()
        {
            if (_incident.ExternalIds.ContainsKey(Key(c.Name, "topic"))) return;
            var topic = Topic(_incident);
            var outcome = await SendAsync(SlackWebApi.SetTopic(ch, _token, _channelId, topic)).ConfigureAwait(false);
            if (await Step("topic", outcome, "conversations.setTopic", $"topic: {topic}").ConfigureAwait(false))
                await Mark(x => x[Key(c.Name, "topic")] = Now()).ConfigureAwait(false);
        }

        /// <summary>3. conversations.invite: the configured responders not yet invited.</summary>
        public async Task InviteAsync()
        {
            var invited = (_incident.ExternalIds.GetValueOrDefault(Key(c.Name, "invited")) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
            var missing = Users(ch).Except(invited, StringComparer.Ordinal).ToList();
            if (missing.Count == 0) return;
            var outcome = await SendAsync(SlackWebApi.Invite(ch, _token, _channelId, missing)).ConfigureAwait(false);
            var already = SlackWebApi.ErrorCode(outcome.ResponseBody) == "already_in_channel";
            if (await Step("invite", outcome, "conversations.invite", $"invited {string.Join(", ", missing)}{(already ? " (already in the channel)" : "")}", already).ConfigureAwait(false))
                await Mark(x => x[Key(c.Name, "invited")] = string.Join(",", invited.Concat(missing))).ConfigureAwait(false);
        }

        /// <summary>4. chat.postMessage: the initial update (the incident summary), never posted twice without -Force. Returns the summary's ts, or null: stop here.</summary>
        public async Task<string?> PostAsync(bool force)
        {
            if (_incident.ExternalIds.TryGetValue(Key(c.Name, "summary"), out var posted)) return posted;
            if (_incident.ExternalIds.TryGetValue(Key(c.Name, "posting"), out var postedAt) && !force)
            {
                await FailAsync("post", "chat.postMessage", Target, SlackErrorIds.SlackPostUnknown,
                    $"The summary post of {postedAt} got no answer, so it may be in {Target} already; Slack offers no way to check, so it was not posted again. " +
                    $"Look in the channel; if it is missing, post it with Send-IncidentUpdate -Incident {_incident.Id} -Pending -Force.").ConfigureAwait(false);
                return null;
            }
            await Mark(x => x[Key(c.Name, "posting")] = Now()).ConfigureAwait(false);
            var message = await SummaryAsync(config, c, _incident, cancellationToken).ConfigureAwait(false);
            var outcome = await SendAsync(SlackWebApi.PostMessage(ch, _token, _channelId, message)).ConfigureAwait(false);
            var ts = outcome.Delivered ? ProviderPayloads.JsonString(outcome.ResponseBody, "ts") : null;
            if (outcome.Delivered || !outcome.MaybeDelivered)
                await Mark(x => { x.Remove(Key(c.Name, "posting")); if (ts is not null) x[Key(c.Name, "summary")] = ts; }).ConfigureAwait(false);
            return await Step("post", outcome, "chat.postMessage", $"posted the initial update (ts {ts})").ConfigureAwait(false) ? ts : null;
        }

        /// <summary>5. pins.add: the summary stays at the top of the channel.</summary>
        public async Task PinAsync(string ts)
        {
            if (_incident.ExternalIds.ContainsKey(Key(c.Name, "pinned"))) return;
            var outcome = await SendAsync(SlackWebApi.Pin(ch, _token, _channelId, ts)).ConfigureAwait(false);
            var already = SlackWebApi.ErrorCode(outcome.ResponseBody) == "already_pinned";
            if (await Step("pin", outcome, "pins.add", $"pinned the incident summary (ts {ts})", already).ConfigureAwait(false))
                await Mark(x => x[Key(c.Name, "pinned")] = ts).ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ archive (Close-Incident)

    /// <summary>Archives the incident's channel on every configured Slack bot channel that opened one and has not archived it.</summary>
    public async Task<IReadOnlyList<SlackChannelStep>> ArchiveAsync(IncidentOpsConfig? config, string incidentId, ChangeContext context, CancellationToken cancellationToken)
    {
        var steps = new List<SlackChannelStep>();
        foreach (var c in Configured(config))
            steps.AddRange(await GuardAsync(config, c, incidentId, "archive", context, () => ArchiveOneAsync(config, c, incidentId, context, cancellationToken), cancellationToken).ConfigureAwait(false));
        return steps;
    }

    private async Task<List<SlackChannelStep>> ArchiveOneAsync(IncidentOpsConfig? config, ChannelConfig c, string incidentId, ChangeContext context, CancellationToken cancellationToken)
    {
        var steps = new List<SlackChannelStep>();
        var store = openStore(config);
        {
            await using var claim = await ClaimAsync(store, incidentId, c.Name, cancellationToken).ConfigureAwait(false);
            var incident = await store.GetAsync(incidentId, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(incidentId);
            if (!incident.ExternalIds.TryGetValue(Key(c.Name), out var channelId) || incident.ExternalIds.ContainsKey(Key(c.Name, "archived"))) return steps;
            if (!incident.ExternalIds.ContainsKey(Key(c.Name, "archive")))
                await store.UpdateAsync(incident.Id, i => i.ExternalIds[Key(c.Name, "archive")] = Now(), CancellationToken.None).ConfigureAwait(false);
            var ch = await notifications.ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false);
            var outcome = await Sender.SendAsync(c.Name, ChannelType.Slack, SlackWebApi.Archive(ch, ch.Get(SlackChannel.TokenKey)!, channelId), cancellationToken).ConfigureAwait(false);
            var already = SlackWebApi.ErrorCode(outcome.ResponseBody) == "already_archived";
            var ok = outcome.Delivered || already;
            var (errorId, detail) = ok ? (null, $"archived{(already ? " (it already was)" : "")}") : SlackWebApi.Describe(c.Name, "conversations.archive", outcome);
            var target = $"#{incident.ExternalIds.GetValueOrDefault(Key(c.Name, "name")) ?? channelId} ({channelId})";
            if (ok) await store.UpdateAsync(incident.Id, i => i.ExternalIds[Key(c.Name, "archived")] = Now(), CancellationToken.None).ConfigureAwait(false);
            steps.Add(await RecordAsync(store, incident.Id, c.Name, "archive", "conversations.archive", target, context, ok, errorId, detail).ConfigureAwait(false));
        }
        return steps;
    }

    // ------------------------------------------------------------------ retry (Send-IncidentUpdate -Pending)

    /// <summary>
    /// Completes what an earlier New-Incident or Close-Incident left undone on the incident channels (of one incident,
    /// or of every incident in the store): missing open steps while the incident is open, a requested archive after.
    /// </summary>
    public async Task<IReadOnlyList<SlackChannelStep>> ResumeAsync(IncidentOpsConfig? config, string? incidentId, ChangeContext context, bool force, CancellationToken cancellationToken,
        string[]? onlyChannels = null)
    {
        var steps = new List<SlackChannelStep>();
        foreach (var (incident, c, archive) in await UnfinishedAsync(config, incidentId, onlyChannels, cancellationToken).ConfigureAwait(false))
            steps.AddRange(archive
                ? await GuardAsync(config, c, incident.Id, "archive", context, () => ArchiveOneAsync(config, c, incident.Id, context, cancellationToken), cancellationToken).ConfigureAwait(false)
                : await GuardAsync(config, c, incident.Id, "open", context, () => OpenOneAsync(config, c, incident.Id, context, force, cancellationToken), cancellationToken).ConfigureAwait(false));
        return steps;
    }

    /// <summary>
    /// The incident channels a retry has work on: of one incident (or every incident in the store), on the configured Slack
    /// bot channels (only those named in <paramref name="onlyChannels"/>, when given): an archive that was asked for and
    /// not done, or open steps still missing while the incident is open.
    /// </summary>
    private async Task<List<(Incident Incident, ChannelConfig Channel, bool Archive)>> UnfinishedAsync(IncidentOpsConfig? config, string? incidentId, string[]? onlyChannels,
        CancellationToken cancellationToken)
    {
        var channels = Configured(config).Where(c => onlyChannels is not { Length: > 0 } || onlyChannels.Contains(c.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        if (channels.Count == 0) return [];
        var store = openStore(config);
        IReadOnlyList<Incident> incidents = incidentId is null
            ? await store.ListAsync(cancellationToken).ConfigureAwait(false)
            : (await store.GetAsync(incidentId, cancellationToken).ConfigureAwait(false)) is { } one ? [one] : [];
        var work = new List<(Incident, ChannelConfig, bool)>();
        foreach (var incident in incidents)
            foreach (var c in channels)
            {
                var ids = incident.ExternalIds;
                if (!ids.ContainsKey(Key(c.Name, "requested"))) continue;
                if (ids.ContainsKey(Key(c.Name, "archive")) || incident.Status == IncidentStatus.Resolved)
                {
                    if (ids.ContainsKey(Key(c.Name, "archive")) && !ids.ContainsKey(Key(c.Name, "archived"))) work.Add((incident, c, true));
                    continue;
                }
                var done = ids.ContainsKey(Key(c.Name)) && ids.ContainsKey(Key(c.Name, "topic")) && ids.ContainsKey(Key(c.Name, "pinned"));
                if (done)
                {
                    // Only a responder added to `invite` since is missing; the token is not needed to know that.
                    var invite = c.Map(SlackChannel.InviteKey).Values.Select(v => v.IsReference ? null : v.GetRawUnsafe().Trim()).ToList();
                    var invited = (ids.GetValueOrDefault(Key(c.Name, "invited")) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
                    if (invite.All(u => u is not null && (u.Length == 0 || invited.Contains(u, StringComparer.Ordinal)))) continue;
                }
                work.Add((incident, c, false));
            }
        return work;
    }

    /// <summary>
    /// The Web API calls Send-IncidentUpdate -Pending would make on the incident channels (-WhatIf), token masked: only
    /// on the channels named in <paramref name="onlyChannels"/> (when given), only the steps still missing. Ids that
    /// only Slack's answers would give are shown as NEW_CHANNEL_ID and SUMMARY_TS.
    /// </summary>
    public async Task<IReadOnlyList<string>> PlanResumeAsync(IncidentOpsConfig? config, string? incidentId, string[]? onlyChannels, bool force, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        foreach (var (incident, c, archive) in await UnfinishedAsync(config, incidentId, onlyChannels, cancellationToken).ConfigureAwait(false))
        {
            ResolvedChannel ch;
            try { ch = await notifications.ResolveChannelAsync(c, cancellationToken).ConfigureAwait(false); }
            catch (IncidentOpsException ex) when (!cancellationToken.IsCancellationRequested)
            {
                lines.Add($"{c.Name}: {incident.Id}: the channel could not be resolved ({ex.ErrorId}), so the retry would record a failed step: {SecretRedactor.Redact(ex.Message)}");
                continue;
            }
            var token = ch.Get(SlackChannel.TokenKey)!;
            var ids = incident.ExternalIds;
            var id = ids.GetValueOrDefault(Key(c.Name));
            if (archive)
            {
                lines.Add($"{c.Name}: {incident.Id}: archive #{ids.GetValueOrDefault(Key(c.Name, "name")) ?? id}:");
                lines.Add(Show(SlackWebApi.Archive(ch, token, id!)));
                continue;
            }
            var pattern = ch.Get(SlackChannel.IncidentChannelKey)!;
            if (SlackChannelName.Problem(pattern) is { } bad)
            {
                lines.Add($"{c.Name}: {incident.Id}: channels.{c.Name}.incidentChannel {bad}");
                continue;
            }
            var name = ids.GetValueOrDefault(Key(c.Name, "name")) ?? SlackChannelName.For(pattern, incident);
            var calls = new List<ProviderRequest>();
            if (id is null)
            {
                // (A create without an answer is looked up with conversations.list first, so no second channel is made.)
                calls.Add(SlackWebApi.CreateChannel(ch, token, name));
                id = "NEW_CHANNEL_ID";
            }
            if (!ids.ContainsKey(Key(c.Name, "topic"))) calls.Add(SlackWebApi.SetTopic(ch, token, id, Topic(incident)));
            var invited = (ids.GetValueOrDefault(Key(c.Name, "invited")) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
            var missing = Users(ch).Where(u => !invited.Contains(u, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0) calls.Add(SlackWebApi.Invite(ch, token, id, missing));
            var note = "";
            if (!ids.TryGetValue(Key(c.Name, "summary"), out var ts))
            {
                if (ids.ContainsKey(Key(c.Name, "posting")) && !force)
                    note = " (the summary's earlier post had no answer, so it is not posted again without -Force)";
                else
                    calls.Add(SlackWebApi.PostMessage(ch, token, id, await SummaryAsync(config, c, incident, cancellationToken).ConfigureAwait(false)));
                ts = note.Length > 0 ? null : "SUMMARY_TS";
            }
            if (ts is not null && !ids.ContainsKey(Key(c.Name, "pinned"))) calls.Add(SlackWebApi.Pin(ch, token, id, ts));
            lines.Add($"{c.Name}: {incident.Id}: the missing steps of the incident channel #{name}{note}:");
            lines.AddRange(calls.Select(Show));
        }
        return lines;
    }

    /// <summary>Send-IncidentUpdate -Pending: <see cref="ResumeAsync(IncidentOpsConfig?, string?, ChangeContext, bool, CancellationToken)"/>, each step as a NotificationResult.</summary>
    public async Task<IReadOnlyList<NotificationResult>> ResumeAsync(IncidentOpsConfig? config, string? incidentId, string[]? onlyChannels, bool force, ChangeContext context,
        CancellationToken cancellationToken)
    {
        // The steps a retry completes record which command retried, not that command's parameters (they belong to the update it sends).
        var steps = await ResumeAsync(config, incidentId, context with { Parameters = null }, force, cancellationToken, onlyChannels).ConfigureAwait(false);
        return steps.Select(s => new NotificationResult
        {
            IncidentId = s.IncidentId, UpdateId = $"slack-channel-{s.Step}", Channel = s.Channel, ChannelType = ChannelType.Slack,
            Kind = s.Step == "archive" ? NotificationKind.Resolved : NotificationKind.Initial,
            Delivered = s.Succeeded, State = s.Succeeded ? DeliveryState.Delivered : s.ErrorId == SlackErrorIds.SlackPostUnknown ? DeliveryState.Unknown : DeliveryState.Pending,
            Pending = !s.Succeeded, Attempts = 1, Error = s.Succeeded ? null : $"{s.ErrorId}: {s.Detail}",
        }).ToList();
    }

    // ------------------------------------------------------------------ helpers

    private async Task<SlackChannelStep> RecordAsync(IIncidentStore store, string incidentId, string channel, string step, string method, string target,
        ChangeContext context, bool succeeded, string? errorId, string detail)
    {
        detail = SecretRedactor.Redact(detail);
        var result = new SlackChannelStep(incidentId, channel, step, succeeded, errorId, detail);
        if (succeeded) sink.Verbose($"{channel}: Slack {method} {target}: {detail}");
        else sink.Warning($"{incidentId}: the incident channel step '{step}' on '{channel}' failed ({errorId}): {detail} " +
            $"The incident is recorded; retry with Send-IncidentUpdate -Incident {incidentId} -Pending.");
        try
        {
            await timeline.AppendAsync(store, incidentId, TimelineWriter.Entry(context, "action", $"Slack {method}", $"{target} ({channel})",
                succeeded ? TimelineOutcome.Succeeded : TimelineOutcome.Failed, succeeded ? detail : $"{errorId}: {detail}"), CancellationToken.None).ConfigureAwait(false);
        }
        catch (IncidentOpsException ex)
        {
            sink.Warning($"{incidentId}: the timeline entry of Slack {method} could not be written ({ex.ErrorId}): {ex.Message}");
        }
        return result;
    }

    private sealed record Found(string? Id, string? Why, string? ErrorId, string? Error);

    /// <summary>
    /// The channel called <paramref name="name"/> (conversations.list, every page), and whether it is this incident's:
    /// its topic or purpose names the incident, or it was created no earlier than this incident's own create attempt
    /// (an attempt whose answer was lost). Any other channel of that name belongs to someone else.
    /// </summary>
    private static async Task<Found> FindAsync(NotificationSender sender, ResolvedChannel ch, string token, string name, Incident incident, DateTimeOffset attempt,
        CancellationToken cancellationToken)
    {
        string? cursor = null;
        for (var page = 0; page < MaxListPages; page++)
        {
            var outcome = await sender.SendAsync(ch.Name, ChannelType.Slack, SlackWebApi.ListChannels(ch, token, cursor), cancellationToken).ConfigureAwait(false);
            if (!outcome.Delivered)
            {
                var (id, message) = SlackWebApi.Describe(ch.Name, "conversations.list", outcome);
                return new Found(null, null, id, $"#{name} already exists (name_taken) and it could not be checked whether it is {incident.Id}'s: {message}");
            }
            using var doc = JsonDocument.Parse(outcome.ResponseBody!);
            if (doc.RootElement.TryGetProperty("channels", out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var c in list.EnumerateArray())
                {
                    if (Text(c, "name") != name) continue;
                    var id = Text(c, "id");
                    var topic = c.TryGetProperty("topic", out var t) ? Text(t, "value") : null;
                    var purpose = c.TryGetProperty("purpose", out var p) ? Text(p, "value") : null;
                    if ((topic ?? "").Contains(incident.Id, StringComparison.Ordinal) || (purpose ?? "").Contains(incident.Id, StringComparison.Ordinal))
                        return new Found(id, "its topic names the incident", null, null);
                    if (c.TryGetProperty("created", out var created) && created.TryGetInt64(out var secs) && DateTimeOffset.FromUnixTimeSeconds(secs) >= attempt - Skew)
                        return new Found(id, $"created by this incident's earlier attempt of {attempt:u}", null, null);
                    return new Found(null, null, SlackErrorIds.SlackChannelNameTaken,
                        $"A Slack channel #{name} ({id}) already exists and is not {incident.Id}'s (created {(c.TryGetProperty("created", out var cr) && cr.TryGetInt64(out var s2) ? DateTimeOffset.FromUnixTimeSeconds(s2).ToString("u", CultureInfo.InvariantCulture) : "earlier")}, its topic does not name the incident). " +
                        $"Nothing was created. Rename or archive that channel, or change channels.{ch.Name}.incidentChannel (for example add {{id}}), then retry with Send-IncidentUpdate -Incident {incident.Id} -Pending.");
                }
            cursor = doc.RootElement.TryGetProperty("response_metadata", out var md) ? Text(md, "next_cursor") : null;
            if (string.IsNullOrEmpty(cursor)) break;
        }
        return new Found(null, null, SlackErrorIds.SlackChannelNameTaken,
            $"Slack says the name #{name} is taken (name_taken), but no channel of that name is visible to the bot (it may be private or belong to another workspace of the organisation). " +
            $"Nothing was created. Change channels.{ch.Name}.incidentChannel or free the name, then retry with Send-IncidentUpdate -Incident {incident.Id} -Pending.");
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? ChannelId(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("channel", out var c) ? Text(c, "id") : null;
    }

    private static List<string> Users(ResolvedChannel ch) =>
        ch.GetMap(SlackChannel.InviteKey).OrderBy(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture)).Select(kv => kv.Value.Trim())
            .Where(u => u.Length > 0).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Seed 002's topic: "[P1] Service outage - Image optimization down", with the incident id that marks the channel as ours.</summary>
    public static string Topic(Incident incident) => $"[{incident.Severity}] {incident.Title} · {incident.Id}";

    /// <summary>The initial update posted in the incident channel: the channel's initial template, as Send-IncidentUpdate renders it.</summary>
    private static async Task<System.Text.Json.Nodes.JsonObject> SummaryAsync(IncidentOpsConfig? config, ChannelConfig c, Incident incident, CancellationToken cancellationToken)
    {
        var severity = IncidentService.Severities(config).FirstOrDefault(s => s.Id.Equals(incident.Severity, StringComparison.OrdinalIgnoreCase));
        var update = new IncidentUpdate
        {
            UpdateId = $"DECL-{incident.Id}", IncidentId = incident.Id, Kind = NotificationKind.Initial, Status = incident.Status,
            CreatedAt = incident.DeclaredAt, NextUpdateDue = incident.NextUpdateDue,
            Message = incident.Commander is null ? null : $"Incident commander: {incident.Commander}",
        };
        var template = await NotificationTemplates.ForChannelAsync(c, NotificationKind.Initial, config?.Path, cancellationToken).ConfigureAwait(false);
        var text = NotificationTemplates.Render(template, incident, update, severity, c.Name, SlackChannel.Markup);
        return SlackChannel.Blocks(incident, update, severity, text);
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
}
