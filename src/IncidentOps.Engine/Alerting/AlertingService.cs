using System.Threading.Channels;
using IncidentOps.Alerting;
using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Health;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Health;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Engine.Alerting;

/// <summary>What one round saw of one service: every health result of it, reduced to healthy or not.</summary>
public sealed record ServiceObservation(ServiceTarget Target, bool Healthy, string Observed, DateTimeOffset CheckedAt, IReadOnlyList<HealthResult> Results)
{
    public string Service => Target.FullName;
}

/// <summary>
/// One unattended alerting round (Invoke-ServiceAlert) and the same rules inside a watch (Watch-ServiceHealth -Alert):
/// health results become incidents, updates on the severity's cadence, pages, recovery and (optionally) resolution.
/// State between runs lives in the incident store (<see cref="IAlertStateStore"/>); the service's alerting lock is
/// held across the whole decide-and-act step, so overlapping runs never declare, update or page twice. Every step
/// lands on the incident's timeline as the actor alerting@host.
/// </summary>
/// <param name="openStore">Opens the configuration's incident store (also where the alerting state and the round samples live).</param>
/// <param name="sink">Verbose text and warnings of a round.</param>
/// <param name="health">Probes the services' health endpoints (and runs the watch of Watch-ServiceHealth -Alert).</param>
/// <param name="incidents">Declares, updates, notes and closes the incidents a round decides on.</param>
/// <param name="notifications">Sends the updates and pages (and finishes the ones a failed round left pending).</param>
/// <param name="evidence">Captures the evidence of a declared incident.</param>
/// <param name="timeline">Writes the round's own timeline entries.</param>
public sealed class AlertingService(Func<IncidentOpsConfig?, IIncidentStore> openStore, IOperationSink sink, HealthService health, IncidentService incidents,
    NotificationService notifications, EvidenceService evidence, TimelineWriter timeline)
{
    /// <summary>The actor of the timeline entries a round writes (with the host: alerting@host).</summary>
    public const string ActorName = "alerting";

    /// <summary>The round's clock (tests inject a fake one instead of sleeping).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>
    /// How far the store's clock is ahead of this machine's (<see cref="MeasureStoreClockSkewAsync"/> by default). Hosts
    /// that take turns on one team store have clocks of their own; a round keeps the service's state in the store's time,
    /// so one host's clock running ahead or behind neither makes another host's results look stale (ignored) nor its
    /// quiet time look longer than it was (an early resolution, and a second incident for the same outage).
    /// </summary>
    public Func<IIncidentStore, CancellationToken, Task<TimeSpan>> StoreClockSkew { get; set; } = MeasureStoreClockSkewAsync;

    /// <summary>Clocks this close count as the same: a skew below it is taken as none.</summary>
    public static readonly TimeSpan ClockTolerance = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The store's clock minus this machine's (midpoint of the round trip), for a store with a clock (PostgreSQL); zero for
    /// the file store, within <see cref="ClockTolerance"/>, or when the store's clock cannot be read (the round then fails
    /// on its own store call, saying why).
    /// </summary>
    public static async Task<TimeSpan> MeasureStoreClockSkewAsync(IIncidentStore store, CancellationToken cancellationToken)
    {
        if (store is not IStoreClock clock) return TimeSpan.Zero;
        try
        {
            var before = DateTimeOffset.UtcNow;
            var at = await clock.NowAsync(cancellationToken).ConfigureAwait(false);
            var after = DateTimeOffset.UtcNow;
            var skew = at - (before + (after - before) / 2);
            return skew.Duration() < ClockTolerance ? TimeSpan.Zero : skew;
        }
        catch (IncidentOpsException ex) when (ex.ErrorId is IncidentErrorIds.StoreUnavailable or IncidentErrorIds.StoreTimeout) { return TimeSpan.Zero; }
    }

    private async Task<TimeSpan> SkewAsync(IncidentOpsConfig config, CancellationToken cancellationToken)
    {
        var skew = await StoreClockSkew(OpenIncidentStore(config), cancellationToken).ConfigureAwait(false);
        if (skew != TimeSpan.Zero) sink.Verbose($"The incident store's clock is {IncidentOps.Duration.Format(skew.Duration())} {(skew > TimeSpan.Zero ? "ahead of" : "behind")} this machine's; the alerting state is kept in the store's time.");
        return skew;
    }

    /// <summary>How long a round waits for a service's alerting lock held by an overlapping round.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the evidence capture at declaration may take per source and service.</summary>
    public TimeSpan EvidenceTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public static string Actor => $"{ActorName}@{System.Environment.MachineName}";

    /// <summary>The alerting state store of the configuration's incident store.</summary>
    public IAlertStateStore OpenState(IncidentOpsConfig config)
    {
        var store = OpenIncidentStore(config);
        return store switch
        {
            FileIncidentStore file => new FileAlertStateStore(Path.Combine(file.Root, "alerting")),
            PostgresIncidentStore team => new PostgresAlertStateStore(team),
            _ => throw new InvalidOperationException($"No alerting state store for {store.GetType().Name}."),
        };
    }

    private IIncidentStore OpenIncidentStore(IncidentOpsConfig config)
    {
        try { return openStore(config); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException || ex is IncidentOpsException { ErrorId: IncidentErrorIds.StoreUnavailable })
        {
            throw new IncidentOpsException(AlertingErrorIds.StoreUnavailable, IncidentOpsErrorCategory.ResourceUnavailable,
                $"The incident store '{config.Store.Path ?? FileIncidentStore.DefaultRoot()}' cannot be opened: {ex.Message}. Check store.path in {config.Path ?? "incidentops.yml"} " +
                "(it must be a folder this user can write); the round did nothing.", ex) { TargetObject = config.Store.Path };
        }
    }

    // ------------------------------------------------------------------ probing

    /// <summary>The probes of a service's configured health endpoints (their expectStatus, method, conditions and timeout).</summary>
    /// <param name="trust">The CA of -CaCertificate, already read: trusted for every endpoint, over each endpoint's configured caCertificate.</param>
    public static IReadOnlyList<ProbeRequest> ProbesFor(ServiceTarget service, TimeSpan timeout, TlsTrust? trust = null) =>
        service.Health.Select(e => new ProbeRequest
        {
            Trust = trust,
            Uri = HealthService.ParseUri(e.Url),
            Service = service.FullName,
            Method = e.Method ?? "GET",
            ExpectStatus = e.ExpectStatus,
            Conditions = HealthService.ParseConditions(e.Conditions),
            Timeout = e.Timeout ?? timeout,
            CaCertificate = e.CaCertificate,
        }).ToList();

    /// <summary>Probes every endpoint of every service (in parallel) and reduces each service's results to one observation.</summary>
    public Task<IReadOnlyList<ServiceObservation>> ProbeAsync(IReadOnlyList<ServiceTarget> services, TimeSpan timeout, CancellationToken cancellationToken) =>
        ProbeAsync(services, timeout, null, cancellationToken);

    /// <summary>As <see cref="ProbeAsync(IReadOnlyList{ServiceTarget}, TimeSpan, CancellationToken)"/>, trusting the CA of -CaCertificate.</summary>
    /// <param name="trust">-CaCertificate (already read), or null for each endpoint's configured caCertificate and the system's roots.</param>
    public async Task<IReadOnlyList<ServiceObservation>> ProbeAsync(IReadOnlyList<ServiceTarget> services, TimeSpan timeout, TlsTrust? trust,
        CancellationToken cancellationToken)
    {
        var requests = new List<ProbeRequest>();
        foreach (var s in services)
        {
            if (s.Health.Count == 0)
                throw new IncidentOpsException(AlertingErrorIds.NoHealthEndpoint, IncidentOpsErrorCategory.ObjectNotFound,
                    $"The service '{s.FullName}' has no health endpoints, so alerting cannot check it. Add 'health: [https://.../health]' under it.") { TargetObject = s.FullName };
            requests.AddRange(ProbesFor(s, timeout, trust));
        }
        var at = Clock.GetUtcNow();
        var results = new List<HealthResult>();
        await health.ProbeManyAsync(requests, 32, r => { lock (results) results.Add(r); }, cancellationToken).ConfigureAwait(false);
        return services.Select(s => Observe(s, results.Where(r => r.Service == s.FullName).ToList(), at)).ToList();
    }

    /// <summary>One observation from a service's results: healthy when every result is.</summary>
    public static ServiceObservation Observe(ServiceTarget service, IReadOnlyList<HealthResult> results, DateTimeOffset checkedAt)
    {
        var failing = results.Where(r => !r.Healthy).ToList();
        var healthy = results.Count > 0 && failing.Count == 0;
        var observed = results.Count == 0 ? "no result"
            : healthy ? (results.Count == 1 ? "healthy" : $"healthy ({results.Count} checks)")
            : string.Join("; ", failing.Select(r => $"{SecretRedactor.Redact(r.Uri)}: {(r.Reason ?? r.FailureKind.ToString()).TrimEnd('.')}"));
        return new ServiceObservation(service, healthy, observed, checkedAt, results);
    }

    // ------------------------------------------------------------------ decide (preview) and apply

    /// <summary>What the round would do, from the saved state, without locking or changing anything (-WhatIf).</summary>
    public async Task<AlertDecision> PreviewAsync(IncidentOpsConfig config, ServiceObservation observation, CancellationToken cancellationToken)
    {
        var rule = AlertRules.For(config, observation.Service);
        var state = await OpenState(config).GetAsync(observation.Service, cancellationToken).ConfigureAwait(false) ?? new ServiceAlertState { Service = observation.Service };
        if (state.IncidentId is { } id && !await IsOpenAsync(config, id, cancellationToken).ConfigureAwait(false)) Clear(state);
        var skew = await SkewAsync(config, cancellationToken).ConfigureAwait(false);
        var plan = AlertDecider.Decide(state, observation.Healthy, observation.Observed, observation.CheckedAt + skew, Clock.GetUtcNow() + skew, rule);
        var text = plan.Step switch
        {
            AlertStep.Declare => $"{plan.Decision} and send the initial update{(PagesOn(config, rule) ? ", page" : "")}",
            AlertStep.Update => plan.Decision.Replace(": send", ": would send", StringComparison.Ordinal),
            _ => plan.Decision,
        };
        return ToDecision(observation, plan.State, rule, plan.Action, text, whatIf: true);
    }

    /// <summary>
    /// Carries out the rules for one service under its alerting lock: reads the state, reconciles it with the incident
    /// (resolved by a person: start afresh; updates left pending by a failed round: delivered first), decides, acts, and
    /// saves the state after every step that changed the world, so a round that dies half-way is finished by the next.
    /// </summary>
    public async Task<AlertDecision> ApplyAsync(IncidentOpsConfig config, ServiceObservation observation, ChangeContext context, CancellationToken cancellationToken)
    {
        using var actor = TimelineActor.Use(Actor);
        using var evidence = HealthResultEvidenceSource.Observed(new Dictionary<string, IReadOnlyList<HealthResult>>(StringComparer.OrdinalIgnoreCase) { [observation.Service] = observation.Results });
        var rule = AlertRules.For(config, observation.Service);
        try
        {
            var states = OpenState(config);
            await using var lease = await states.LockAsync(observation.Service, LockTimeout, cancellationToken).ConfigureAwait(false);
            var state = lease.State;
            // Every time this round stores or compares with stored ones is in the store's time (see StoreClockSkew).
            var skew = await SkewAsync(config, cancellationToken).ConfigureAwait(false);
            observation = observation with { CheckedAt = observation.CheckedAt + skew };
            var pagedLate = new List<string>();
            var resentNote = "";
            if (state.IncidentId is { } open)
            {
                if (!await IsOpenAsync(config, open, cancellationToken).ConfigureAwait(false))
                {
                    sink.Verbose($"{observation.Service}: {open} was resolved outside alerting; the next outage declares a new incident.");
                    Clear(state);
                    await lease.SaveAsync(state, cancellationToken).ConfigureAwait(false);
                }
                else if ((await notifications.GetUpdatesAsync(config, open, true, cancellationToken).ConfigureAwait(false)) is { Count: > 0 } pending)
                {
                    // A round that failed half-way left an update undelivered: deliver it (idempotently) before anything new.
                    var resent = await notifications.SendPendingAsync(config, open, null, context, cancellationToken).ConfigureAwait(false);
                    // A page that round could not confirm (no answer from the pager) and this one delivered or found
                    // delivered (Opsgenie's alias lookup) is this round's page: the first round that knows it lands says so.
                    pagedLate = resent.Where(r => r.Delivered && ChannelProviders.IsAlertingPager(r.ChannelType)
                            && pending.FirstOrDefault(u => u.UpdateId == r.UpdateId) is { } u && IsPage(u.Kind, u.Status))
                        .Select(r => r.Channel).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                    // The update it sent counts for the cadence, even though that round could not record it.
                    state.LastUpdateAt ??= Clock.GetUtcNow() + skew;
                    // What the re-send did, for every channel (a scheduled run may keep the decisions and lose the warnings).
                    var reached = resent.Where(r => r.Delivered && !pagedLate.Contains(r.Channel, StringComparer.OrdinalIgnoreCase)).ToList();
                    var missing = resent.Where(r => r.Pending).Select(r => r.Channel).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                    if (reached.Count > 0) resentNote += $"; re-sent {reached.Count} pending update(s) to {string.Join(", ", reached.Select(r => r.Channel).Distinct(StringComparer.OrdinalIgnoreCase))}";
                    if (missing.Count > 0) resentNote += $"; {string.Join(", ", missing)} still not reached (re-sent next round)";
                }
                else
                    // A round that died after recording an update delivered and before its timeline entry: the entry is added now.
                    try { await notifications.ReconcileTimelineAsync(config, open, context, cancellationToken).ConfigureAwait(false); }
                    catch (IncidentOpsException ex) { sink.Verbose($"{open}: the timeline's missing update entries could not be added this round ({ex.Message}); the next round tries again."); }
            }
            if (state.UndeliveredIncidentId is { } closed && !closed.Equals(state.IncidentId, StringComparison.OrdinalIgnoreCase))
            {
                // A resolution (or an earlier update) of an incident this service's rounds resolved never reached some channel:
                // the round that resolved it said the next round re-sends it.
                if ((await notifications.GetUpdatesAsync(config, closed, true, cancellationToken).ConfigureAwait(false)).Count > 0)
                    await notifications.SendPendingAsync(config, closed, null, context, cancellationToken).ConfigureAwait(false);
                if ((await notifications.GetUpdatesAsync(config, closed, true, cancellationToken).ConfigureAwait(false)).Count == 0)
                    state.UndeliveredIncidentId = null;
            }
            var now = Clock.GetUtcNow() + skew;
            var (incidentBefore, severityBefore) = (state.IncidentId, state.Severity);
            var plan = AlertDecider.Decide(state, observation.Healthy, observation.Observed, observation.CheckedAt, now, rule);
            state = plan.State;
            state.Host = System.Environment.MachineName;
            // The incident already open when the round began keeps its samples now, so the round number rides on this save.
            var sampledEarly = state.IncidentId is { } openBefore && await RecordSamplesAsync(config, observation, openBefore, state, cancellationToken).ConfigureAwait(false);
            await lease.SaveAsync(state, cancellationToken).ConfigureAwait(false);
            var (action, text, sent, paged) = plan.Step switch
            {
                AlertStep.Declare => await DeclareAsync(config, observation, rule, state, lease, context, now, skew, cancellationToken).ConfigureAwait(false),
                AlertStep.Update => await UpdateAsync(config, observation, rule, state, lease, context, now, cancellationToken).ConfigureAwait(false),
                AlertStep.Recover => await RecoverAsync(config, observation, rule, state, lease, context, now, skew, cancellationToken).ConfigureAwait(false),
                AlertStep.Reopen => await ReopenAsync(config, observation, rule, state, lease, context, now, cancellationToken).ConfigureAwait(false),
                AlertStep.Resolve => await ResolveAsync(config, observation, rule, state, lease, context, now, skew, cancellationToken).ConfigureAwait(false),
                _ => (plan.Action, plan.Decision, 0, false),
            };
            if (pagedLate.Count > 0)
            {
                paged = true;
                text += $"; page to {string.Join(", ", pagedLate)} confirmed (an earlier round had no answer)";
            }
            text += resentNote;
            // An incident this round declared or attached to, or the active one that names the service, keeps them too.
            if (!sampledEarly && (state.IncidentId ?? await OpenIncidentForAsync(config, observation.Service, cancellationToken).ConfigureAwait(false)) is { } sampled
                && await RecordSamplesAsync(config, observation, sampled, state, cancellationToken).ConfigureAwait(false))
                await lease.SaveAsync(state, cancellationToken).ConfigureAwait(false);
            return ToDecision(observation, state, rule, action, text, whatIf: false, sent, paged,
                resolved: action == AlertAction.Resolved ? (incidentBefore, severityBefore) : null);
        }
        // An update whose deliveries the store failed to record (UpdateDeliveryNotRecorded) is the same store failure; its message says what each channel got.
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException || ex is IncidentOpsException { ErrorId: IncidentErrorIds.StoreUnavailable or NotificationErrorIds.DeliveryNotRecorded })
        {
            throw new IncidentOpsException(AlertingErrorIds.StoreUnavailable, IncidentOpsErrorCategory.ResourceUnavailable,
                $"The incident store could not be read or written while alerting on {observation.Service}: {ex.Message}. The round stopped for this service; " +
                "the next round carries on from the last saved state (it neither loses the outage nor declares it twice).", ex) { TargetObject = observation.Service };
        }
    }

    /// <summary>
    /// Keeps the round's health results for the incident (<see cref="RoundHealthSamples"/>). Samples are for the
    /// post-mortem's picture: a store that fails here is a warning, never a reason to undo or fail the round's decision.
    /// </summary>
    /// <returns>True when samples were stored (the state's round number moved on and must be saved).</returns>
    private async Task<bool> RecordSamplesAsync(IncidentOpsConfig config, ServiceObservation o, string incidentId, ServiceAlertState state, CancellationToken ct)
    {
        var (before, rounds) = (state.SamplesIncidentId, state.SampleRounds);
        try
        {
            return await RoundHealthSamples.RecordAsync(OpenIncidentStore(config), state, incidentId, o, Clock.GetUtcNow(), ct).ConfigureAwait(false) is not null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IncidentOpsException)
        {
            (state.SamplesIncidentId, state.SampleRounds) = (before, rounds);
            sink.Warning($"{incidentId}: the health samples of this round of {o.Service} were not kept ({(ex as IncidentOpsException)?.ErrorId ?? ex.GetType().Name}): {SecretRedactor.Redact(ex.Message)}");
            return false;
        }
    }

    /// <summary>The active incident when it is open and names the service (a person declared it; alerting found it clear).</summary>
    private async Task<string?> OpenIncidentForAsync(IncidentOpsConfig config, string service, CancellationToken ct)
    {
        if (await incidents.GetActiveIdAsync(config, ct).ConfigureAwait(false) is not { } active) return null;
        var incident = await OpenIncidentStore(config).GetAsync(active, ct).ConfigureAwait(false);
        return incident is not null && incident.Status != IncidentStatus.Resolved && incident.Services.Contains(service, StringComparer.OrdinalIgnoreCase) ? active : null;
    }

    private async Task<(AlertAction, string, int, bool)> DeclareAsync(IncidentOpsConfig config, ServiceObservation o, ResolvedAlertRule rule, ServiceAlertState state,
        IAlertStateLease lease, ChangeContext context, DateTimeOffset now, TimeSpan skew, CancellationToken ct)
    {
        var f = $"{state.ConsecutiveFailures}/{rule.FailureThreshold}";
        state.OutageStartedAt = state.FailingSince ?? o.CheckedAt;
        // An incident someone (or a round that died before saving) already opened for this service is taken over, never doubled.
        var existing = (await incidents.ListAsync(config, new IncidentQuery { Status = [IncidentStatus.Investigating, IncidentStatus.Identified, IncidentStatus.Monitoring] }, ct).ConfigureAwait(false))
            .Where(i => i.Services.Contains(o.Service, StringComparer.OrdinalIgnoreCase)).OrderBy(i => i.StartedAt).FirstOrDefault();
        if (existing is not null)
        {
            state.Phase = AlertPhase.Down;
            state.IncidentId = existing.Id;
            state.Severity = existing.Severity;
            await lease.SaveAsync(state, ct).ConfigureAwait(false);
            await RecordAsync(config, existing.Id, context, o.Service, $"Failing {f} since {state.OutageStartedAt:u}: {o.Observed}. Attached to the open incident instead of declaring another.", ct).ConfigureAwait(false);
            var hasUpdates = (await notifications.GetUpdatesAsync(config, existing.Id, false, ct).ConfigureAwait(false)).Count > 0;
            var (s, p, note) = hasUpdates ? (0, false, "") : await SendAsync(config, existing.Id, rule, NotificationKind.Initial, IncidentStatus.Investigating,
                InitialMessage(o, state, rule), includePager: true, context, ct).ConfigureAwait(false);
            if (!hasUpdates) { state.LastUpdateAt = now; await lease.SaveAsync(state, ct).ConfigureAwait(false); }
            return (AlertAction.Attached, $"Failing {f}, attached to {existing.Id}{(hasUpdates ? "" : ", initial update sent" + (p ? ", paged" : "") + note)}", s, p);
        }

        var reason = (o.Results.FirstOrDefault(r => !r.Healthy)?.Reason ?? "health check failed").TrimEnd('.');
        var incident = await incidents.CreateAsync(config, new NewIncidentRequest
        {
            Title = $"{o.Service} is failing its health checks ({Short(reason, 80)})",
            Severity = rule.Severity.Id,
            Services = [o.Service],
            Impact = $"{o.Service} failed {state.ConsecutiveFailures} consecutive health checks",
            StartedAt = state.OutageStartedAt - skew, // the record is in this machine's time, as every command writes it
            // Active only when no open incident is, decided as it is set: a person who declared one meanwhile keeps theirs.
            Activate = true, OnlyIfNoneActive = true,
        }, context, ct).ConfigureAwait(false);
        // Saved before anything is sent: a round that dies from here on is finished by the next, never declared again.
        state.Phase = AlertPhase.Down;
        state.IncidentId = incident.Id;
        state.Severity = incident.Severity;
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        await RecordAsync(config, incident.Id, context, o.Service, $"Failing {f} since {state.OutageStartedAt:u}: {o.Observed}.", ct).ConfigureAwait(false);
        try
        {
            await evidence.SaveAsync(config, incident.Id, [o.Target], rule.Evidence, EvidenceTimeout, context, ct).ConfigureAwait(false);
        }
        catch (IncidentOpsException ex) when (ex.ErrorId is not (StoreFaults.ReadOnly or StoreFaults.DiskFull))
        {
            // Evidence that could not be captured must not hold back the initial update and the page.
            sink.Warning($"{incident.Id}: evidence was not captured ({ex.ErrorId}): {ex.Message}");
        }
        var (sent, paged, failed) = await SendAsync(config, incident.Id, rule, NotificationKind.Initial, IncidentStatus.Investigating, InitialMessage(o, state, rule), includePager: true, context, ct).ConfigureAwait(false);
        state.LastUpdateAt = now;
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        return (AlertAction.Declared, $"Declared {incident.Id} {incident.Severity}{(paged ? ", paged" : "")}{failed}", sent, paged);
    }

    private async Task<(AlertAction, string, int, bool)> UpdateAsync(IncidentOpsConfig config, ServiceObservation o, ResolvedAlertRule rule, ServiceAlertState state,
        IAlertStateLease lease, ChangeContext context, DateTimeOffset now, CancellationToken ct)
    {
        var down = now - (state.OutageStartedAt ?? now);
        var message = $"{o.Service} is still failing its health checks: down for {IncidentOps.Duration.Format(down)} ({state.ConsecutiveFailures} consecutive failed checks). Latest: {o.Observed}.";
        // The pagers (PagerDuty, Opsgenie) were paged at declaration; a progress update is for the people following the incident, not a new page.
        // (A round that died between declaring and the initial update left no update at all: that one is sent now, and pages.)
        var first = (await notifications.GetUpdatesAsync(config, state.IncidentId!, false, ct).ConfigureAwait(false)).Count == 0;
        // A cause the on-call already announced (Identified) stays announced: "still failing" is progress, not a step back to
        // Investigating on the status page and in the channels.
        var status = (await OpenIncidentStore(config).GetAsync(state.IncidentId!, ct).ConfigureAwait(false))?.Status == IncidentStatus.Identified
            ? IncidentStatus.Identified : IncidentStatus.Investigating;
        var (sent, paged, failed) = first
            ? await SendAsync(config, state.IncidentId!, rule, NotificationKind.Initial, IncidentStatus.Investigating, InitialMessage(o, state, rule), includePager: true, context, ct).ConfigureAwait(false)
            : await SendAsync(config, state.IncidentId!, rule, NotificationKind.Update, status, message, includePager: false, context, ct).ConfigureAwait(false);
        state.LastUpdateAt = now;
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        return (AlertAction.Updated, first ? $"Initial update sent{(paged ? ", paged" : "")}{failed}" : $"Update due, sent{failed}", sent, paged);
    }

    private async Task<(AlertAction, string, int, bool)> RecoverAsync(IncidentOpsConfig config, ServiceObservation o, ResolvedAlertRule rule, ServiceAlertState state,
        IAlertStateLease lease, ChangeContext context, DateTimeOffset now, TimeSpan skew, CancellationToken ct)
    {
        var id = state.IncidentId!;
        state.Phase = AlertPhase.Recovered;
        state.RecoveredAt = state.HealthySince ?? o.CheckedAt;
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        var window = OutageWindow(state);
        // Mitigated when it recovered (the first healthy check of the streak), not when this round noticed; within a
        // second the two are the same and a second timeline entry would only be noise.
        var mitigated = (now - state.RecoveredAt!.Value).Duration() > TimeSpan.FromSeconds(1) ? state.RecoveredAt - skew : null;
        try { await incidents.UpdateAsync(config, id, new IncidentChanges { Status = IncidentStatus.Monitoring, MitigatedAt = mitigated }, context, ct, keepResolved: true).ConfigureAwait(false); }
        catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.ResolvedMeanwhile) { return await LeftResolvedAsync(o, state, lease, id, ct).ConfigureAwait(false); }
        await incidents.AddNoteAsync(config, id, $"Recovered: {state.ConsecutiveSuccesses} consecutive healthy checks of {o.Service} since {state.RecoveredAt:u}. {window}", context, ct).ConfigureAwait(false);
        var (sent, _, failed) = await SendAsync(config, id, rule, NotificationKind.Update, IncidentStatus.Monitoring,
            $"{o.Service} has recovered: its health checks pass again ({state.ConsecutiveSuccesses} in a row). {window} We are monitoring.", includePager: true, context, ct).ConfigureAwait(false);
        state.LastUpdateAt = now;
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        return (AlertAction.Recovered, $"Recovered {state.ConsecutiveSuccesses}/{rule.SuccessThreshold}, set Monitoring{failed}", sent, false);
    }

    private async Task<(AlertAction, string, int, bool)> ReopenAsync(IncidentOpsConfig config, ServiceObservation o, ResolvedAlertRule rule, ServiceAlertState state,
        IAlertStateLease lease, ChangeContext context, DateTimeOffset now, CancellationToken ct)
    {
        var id = state.IncidentId!;
        state.Phase = AlertPhase.Down;
        state.RecoveredAt = null;
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        try { await incidents.UpdateAsync(config, id, new IncidentChanges { Status = IncidentStatus.Investigating }, context, ct, keepResolved: true).ConfigureAwait(false); }
        catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.ResolvedMeanwhile) { return await LeftResolvedAsync(o, state, lease, id, ct).ConfigureAwait(false); }
        await RecordAsync(config, id, context, o.Service, $"Failing again {state.ConsecutiveFailures}/{rule.FailureThreshold} since {state.FailingSince:u}: {o.Observed}.", ct).ConfigureAwait(false);
        var (sent, paged, failed) = await SendAsync(config, id, rule, NotificationKind.Update, IncidentStatus.Investigating,
            $"{o.Service} is failing its health checks again ({state.ConsecutiveFailures} in a row): {o.Observed}.", includePager: true, context, ct).ConfigureAwait(false);
        state.LastUpdateAt = now;
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        return (AlertAction.Reopened, $"Failing again {state.ConsecutiveFailures}/{rule.FailureThreshold}, reopened {id}{failed}", sent, paged);
    }

    /// <summary>
    /// Someone resolved the incident after this round found it open (Close-Incident at the same moment): the close
    /// stands, the round lets go of it, and the next outage declares a new incident.
    /// </summary>
    private async Task<(AlertAction, string, int, bool)> LeftResolvedAsync(ServiceObservation o, ServiceAlertState state, IAlertStateLease lease, string id, CancellationToken ct)
    {
        sink.Verbose($"{o.Service}: {id} was resolved outside alerting while this round ran; it stays resolved, and the next outage declares a new incident.");
        Clear(state);
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        return (AlertAction.None, $"{id} was resolved outside alerting; left resolved", 0, false);
    }

    private async Task<(AlertAction, string, int, bool)> ResolveAsync(IncidentOpsConfig config, ServiceObservation o, ResolvedAlertRule rule, ServiceAlertState state,
        IAlertStateLease lease, ChangeContext context, DateTimeOffset now, TimeSpan skew, CancellationToken ct)
    {
        var id = state.IncidentId!;
        var quiet = now - (state.LastFailureAt ?? state.RecoveredAt ?? now);
        var window = OutageWindow(state);
        // The resolved update first (it resolves PagerDuty, closes the Opsgenie alert and tells the audience), then the resolution summary.
        var (sent, _, failed) = await SendAsync(config, id, rule, NotificationKind.Resolved, IncidentStatus.Resolved,
            $"{o.Service} has been healthy for {IncidentOps.Duration.Format(quiet)} since it recovered. {window} Resolved.", includePager: true, context, ct).ConfigureAwait(false);
        await incidents.CloseAsync(config, id,
            $"Resolved by alerting after {IncidentOps.Duration.Format(quiet)} without a failed health check (autoResolveAfter {IncidentOps.Duration.Format(rule.AutoResolveAfter)}). {window}",
            null, now - skew, context, ct).ConfigureAwait(false);
        // A channel the resolution did not reach (its update stays pending) is re-sent by the next rounds, which no longer
        // follow this incident otherwise.
        if ((await notifications.GetUpdatesAsync(config, id, true, ct).ConfigureAwait(false)).Count > 0) state.UndeliveredIncidentId = id;
        Clear(state);
        state.LastUpdateAt = now;
        await lease.SaveAsync(state, ct).ConfigureAwait(false);
        return (AlertAction.Resolved, $"Resolved {id} after {IncidentOps.Duration.Format(quiet)} quiet{failed}", sent, false);
    }

    /// <summary>
    /// Sends one update through the rule's channels (else the severity's routing). Returns the channels reached,
    /// whether a pager was triggered (every routed pager is: PagerDuty and Opsgenie alike), and a note when a channel was not reached (its update stays pending and the
    /// next round re-sends it).
    /// </summary>
    private async Task<(int Sent, bool Paged, string Note)> SendAsync(IncidentOpsConfig config, string incidentId, ResolvedAlertRule rule, NotificationKind kind,
        IncidentStatus status, string message, bool includePager, ChangeContext context, CancellationToken ct)
    {
        var names = rule.Channels ?? (config.Routing.TryGetValue(rule.Severity.Id, out var routed) ? routed : []);
        var channels = names.Select(n => config.Channels.FirstOrDefault(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase)))
            .Where(c => c is not null && (includePager || !ChannelProviders.IsAlertingPager(c.Type))).Select(c => c!.Name).ToArray();
        if (channels.Length == 0)
        {
            sink.Warning($"{incidentId}: no channel for the {kind} update (alerting.channels, or routing.{rule.Severity.Id}); nothing was sent.");
            return (0, false, $" (no channel routed for {rule.Severity.Id})");
        }
        var prepared = await notifications.PrepareAsync(config, new IncidentUpdateRequest
        {
            IncidentId = incidentId, Kind = kind, Status = status, Message = message, Channels = channels,
        }, ct).ConfigureAwait(false);
        // Unattended: a channel whose reference does not resolve here stays pending (and is warned about); the others, the pager
        // first of all, are sent the update.
        var results = await notifications.SendResolvableAsync(prepared, context, ct).ConfigureAwait(false);
        var delivered = results.Where(r => r.Delivered).ToList();
        var paged = delivered.Any(r => ChannelProviders.IsAlertingPager(r.ChannelType) && IsPage(kind, status));
        var missed = results.Where(r => !r.Delivered).Select(r => r.Channel).ToList();
        return (delivered.Count, paged, missed.Count == 0 ? "" : $" ({string.Join(", ", missed)} not reached; re-sent next round)");
    }

    /// <summary>Whether an update sent to a pager pages someone: the initial one, or one that (re)opens the incident.</summary>
    private static bool IsPage(NotificationKind kind, IncidentStatus status) => kind == NotificationKind.Initial || status == IncidentStatus.Investigating;

    private async Task RecordAsync(IncidentOpsConfig config, string incidentId, ChangeContext context, string service, string text, CancellationToken ct) =>
        await timeline.AppendAsync(config, incidentId, TimelineWriter.Entry(context, "alerting", "Health alert", service, TimelineOutcome.Info, text), ct).ConfigureAwait(false);

    private async Task<bool> IsOpenAsync(IncidentOpsConfig config, string id, CancellationToken ct)
    {
        var incident = await OpenIncidentStore(config).GetAsync(id, ct).ConfigureAwait(false);
        return incident is not null && incident.Status != IncidentStatus.Resolved;
    }

    private static void Clear(ServiceAlertState state)
    {
        state.Phase = AlertPhase.Clear;
        state.IncidentId = null;
        state.Severity = null;
        state.OutageStartedAt = null;
        state.RecoveredAt = null;
    }

    private static bool PagesOn(IncidentOpsConfig config, ResolvedAlertRule rule) =>
        (rule.Channels ?? (config.Routing.TryGetValue(rule.Severity.Id, out var r) ? r : []))
        .Any(n => config.Channels.Any(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase) && ChannelProviders.IsAlertingPager(c.Type)));

    private static string OutageWindow(ServiceAlertState s) =>
        s.OutageStartedAt is { } start && s.RecoveredAt is { } end
            ? $"The outage lasted {IncidentOps.Duration.Format(end - start)} ({start:u} to {end:u})."
            : "";

    private static string InitialMessage(ServiceObservation o, ServiceAlertState state, ResolvedAlertRule rule) =>
        $"{o.Service} is failing its health checks: {state.ConsecutiveFailures} consecutive failures since {state.OutageStartedAt:u} (threshold {rule.FailureThreshold}). {o.Observed}.";

    private static string Short(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static AlertDecision ToDecision(ServiceObservation o, ServiceAlertState s, ResolvedAlertRule rule, AlertAction action, string text, bool whatIf, int sent = 0, bool paged = false,
        (string? Id, string? Severity)? resolved = null) => new()
    {
        Service = o.Service, Healthy = o.Healthy, Observed = o.Observed, ConsecutiveFailures = s.ConsecutiveFailures, ConsecutiveSuccesses = s.ConsecutiveSuccesses,
        FailureThreshold = rule.FailureThreshold, SuccessThreshold = rule.SuccessThreshold, Action = action,
        // A resolved incident is no longer the service's open one, but the decision still names it.
        IncidentId = s.IncidentId ?? resolved?.Id,
        Severity = s.Severity ?? resolved?.Severity ?? (action is AlertAction.Declared or AlertAction.Waiting ? rule.Severity.Id : null),
        Decision = SecretRedactor.Redact(text), UpdatesSent = sent, Paged = paged, WhatIf = whatIf, Timestamp = o.CheckedAt,
    };

    // ------------------------------------------------------------------ watch

    /// <summary>
    /// Watch-ServiceHealth -Alert: the watch writes its results as usual, and each completed round of a configured
    /// service (all of its endpoints reported) goes through the same rules as a scheduled round; the decisions are
    /// written as they are made. With <paramref name="whatIf"/> the decisions are previews and nothing changes.
    /// </summary>
    public async Task<HealthWatchSummary> WatchAsync(IncidentOpsConfig config, IReadOnlyList<ProbeRequest> requests, WatchOptions options, bool whatIf,
        ChangeContext context, Action<object> emit, CancellationToken cancellationToken)
    {
        var targets = requests.Where(r => r.Service is not null).Select(r => r.Service!).Distinct(StringComparer.OrdinalIgnoreCase)
            .ToDictionary(s => s, s => ConfigService.ResolveService(config, null, s), StringComparer.OrdinalIgnoreCase);
        var expected = requests.Where(r => r.Service is not null).GroupBy(r => r.Service!, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        var buffers = new Dictionary<string, List<HealthResult>>(StringComparer.OrdinalIgnoreCase);
        var queue = Channel.CreateUnbounded<ServiceObservation>(new UnboundedChannelOptions { SingleReader = true });
        var consumer = Task.Run(async () =>
        {
            await foreach (var o in queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try { emit(whatIf ? await PreviewAsync(config, o, cancellationToken).ConfigureAwait(false) : await ApplyAsync(config, o, context, cancellationToken).ConfigureAwait(false)); }
                catch (IncidentOpsException ex) { sink.Warning($"Alerting on {o.Service} failed ({ex.ErrorId}): {ex.Message}"); }
            }
        }, CancellationToken.None);
        HealthWatchSummary summary;
        try
        {
            summary = await health.WatchAsync(requests, options, r =>
            {
                emit(r);
                if (r.Service is null || !targets.TryGetValue(r.Service, out var target)) return;
                lock (buffers)
                {
                    if (!buffers.TryGetValue(r.Service, out var list)) buffers[r.Service] = list = [];
                    list.Add(r);
                    if (list.Count < expected[r.Service]) return;
                    buffers.Remove(r.Service);
                    queue.Writer.TryWrite(Observe(target, list, Clock.GetUtcNow()));
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            queue.Writer.TryComplete();
        }
        try { await consumer.ConfigureAwait(false); }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        return summary;
    }
}
