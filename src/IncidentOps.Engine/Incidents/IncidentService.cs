using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>Filters for listing incidents.</summary>
public sealed class IncidentQuery
{
    public string[]? Ids { get; init; }
    public bool ActiveOnly { get; init; }
    public IncidentStatus[]? Status { get; init; }
    public string[]? Severity { get; init; }
    public DateTimeOffset? Since { get; init; }
}

/// <summary>Request to declare an incident.</summary>
public sealed class NewIncidentRequest
{
    public required string Title { get; init; }
    public required string Severity { get; init; }
    public string[] Services { get; init; } = [];
    public string? Impact { get; init; }
    public string? Commander { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>Make the new incident the active one (default).</summary>
    public bool Activate { get; init; } = true;
    /// <summary>
    /// With <see cref="Activate"/>: make it the active incident only when no open incident is active at that moment (the
    /// alerting round), never taking the pointer from an incident someone declared or activated meanwhile.
    /// </summary>
    public bool OnlyIfNoneActive { get; init; }
}

/// <summary>
/// Incident records: declare, read, change, close; notes and action items; the severity policy from the
/// configuration. Every change is written to the incident's timeline through the <see cref="TimelineWriter"/>.
/// </summary>
/// <param name="openStore">Opens the incident store a configuration names.</param>
/// <param name="sink">Where warnings and verbose text go.</param>
/// <param name="timeline">The one writer of timeline entries.</param>
public sealed partial class IncidentService(Func<IncidentOpsConfig?, IIncidentStore> openStore, IOperationSink sink, TimelineWriter timeline)
{
    // ------------------------------------------------------------ severity policy

    /// <summary>The configured severity matrix (P0–P3 by default).</summary>
    public static IReadOnlyList<SeverityLevel> Severities(IncidentOpsConfig? config) =>
        config?.Severities is { Count: > 0 } s ? s : IncidentOps.Engine.Config.DefaultSeverities.Levels;

    /// <summary>The severity with this id; unknown ids fail with SeverityUnknown listing the valid ones.</summary>
    public static SeverityLevel ResolveSeverity(IncidentOpsConfig? config, string id)
    {
        var levels = Severities(config);
        return levels.FirstOrDefault(l => string.Equals(l.Id, id?.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new IncidentOpsException(IncidentErrorIds.SeverityUnknown, IncidentOpsErrorCategory.InvalidArgument,
                $"Severity '{id}' is not defined{(config?.Path is { } p ? $" in {p}" : "")}. Valid severities: {string.Join(", ", levels.Select(l => $"{l.Id} ({l.Name})"))}.") { TargetObject = id };
    }

    // ------------------------------------------------------------ records

    public async Task<Incident> CreateAsync(IncidentOpsConfig? config, NewIncidentRequest request, ChangeContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Title))
            throw new IncidentOpsException(IncidentErrorIds.TitleMissing, IncidentOpsErrorCategory.InvalidArgument, "An incident needs a -Title that says what is broken.");
        var severity = ResolveSeverity(config, request.Severity);
        var now = DateTimeOffset.UtcNow;
        var started = (request.StartedAt ?? now).ToUniversalTime();
        if (started > now.AddMinutes(1))
            throw new IncidentOpsException(IncidentErrorIds.StartInFuture, IncidentOpsErrorCategory.InvalidArgument,
                $"-StartedAt {started:u} is in the future. Give the time the incident began (now or earlier).") { TargetObject = started };
        var store = openStore(config);
        var incident = await store.CreateAsync(id => new Incident
        {
            Id = id,
            Title = request.Title.Trim(),
            Severity = severity.Id,
            SeverityName = severity.Name,
            StartedAt = started,
            DeclaredAt = now,
            DetectedAt = now,
            Commander = request.Commander,
            Services = request.Services.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(),
            Impact = request.Impact,
            ResponseDue = now + severity.ResponseTarget,
            NextUpdateDue = severity.UpdateEvery is { } every ? now + every : null,
            AcknowledgedAt = request.Commander is null ? null : now,
            SeverityHistory = [new SeverityChange { Severity = severity.Id, At = started }],
            ConfigPath = config?.Path,
        }, cancellationToken).ConfigureAwait(false);
        await AppendAsync(store, incident.Id, context, "declared", "Declare incident", incident.Id,
            $"{severity.Id} ({severity.Name}): {incident.Title}; response due {incident.ResponseDue:u}" +
            (incident.Services.Length > 0 ? $"; services {string.Join(", ", incident.Services)}" : "") +
            (incident.Commander is null ? "" : $"; commander {incident.Commander}"), cancellationToken).ConfigureAwait(false);
        if (request.Activate && request.OnlyIfNoneActive) await IncidentStateMachine.ActivateIfNoneAsync(store, incident.Id, cancellationToken).ConfigureAwait(false);
        else if (request.Activate) await store.SetActiveIdAsync(incident.Id, cancellationToken).ConfigureAwait(false);
        sink.Verbose($"Declared {incident.Id} ({severity.Id} {severity.Name}) in {StoreRoot(store)}.");
        return incident;
    }

    public async Task<Incident> GetAsync(IncidentOpsConfig? config, string id, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        return await store.GetAsync(id.Trim(), cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(id);
    }

    /// <summary>The identity of the store this configuration resolves (what Incident.IncidentStore says of records read from it).</summary>
    public string StoreIdentity(IncidentOpsConfig? config) => openStore(config).Identity;

    /// <summary>
    /// Null when a record read from <paramref name="pipedStore"/> may be changed through this configuration; otherwise
    /// the PipelineTargetMismatch error that says which two stores differ. A record is changed only in the store it came from.
    /// <para>
    /// A file store is its folder's real path (a link or a relative spelling is the same folder). A team store is named by
    /// its address as written (postgres://host:port/db#schema); two different addresses (localhost and 127.0.0.1, a tunnel
    /// and the host) are the same store only when the servers say so: the system identifier, database and schema, and the
    /// server's start time, of what the record was read from (as this process learned it) and of what this configuration
    /// reaches now. When that cannot be established (a server not reachable, a role that may not read the system
    /// identifier, a record read in another process) the change is refused, as before. Addresses are compared exactly: a
    /// database name differing only in case is another database (before, Windows and macOS compared them without case).
    /// </para>
    /// </summary>
    public async Task<IncidentOpsException?> CheckSameStoreAsync(IncidentOpsConfig? config, string? incidentId, string? pipedStore, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(pipedStore)) return null;
        var store = openStore(config);
        var here = store.Identity;
        var team = pipedStore.Contains("://", StringComparison.Ordinal);
        var piped = team ? pipedStore.Trim() : FileIncidentStore.RealPath(pipedStore.Trim());
        string? why = null;
        if (store is PostgresIncidentStore pg && team)
        {
            if (string.Equals(here, piped, StringComparison.Ordinal)) return null;
            var known = PostgresIncidentStore.KnownInstance(piped);
            var now = known is null ? null : await pg.InstanceAsync(cancellationToken).ConfigureAwait(false);
            if (known is not null && string.Equals(known, now, StringComparison.Ordinal))
            {
                sink.Verbose($"The piped incident's store '{piped}' and this configuration's '{here}' are one database ({now}).");
                return null;
            }
            why = known is null ? $" Which database '{piped}' is could not be established in this session (read the incident through this configuration instead)."
                : now is null ? $" Which database '{here}' reaches could not be established (the server cannot be reached, or this role may not read pg_control_system())."
                : " The servers say they are different databases (or the server restarted since the incident was read: read it again).";
        }
        else if (store is not PostgresIncidentStore && !team)
        {
            var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (string.Equals(here, piped, comparison)) return null;
        }
        return new IncidentOpsException(CommonErrorIds.PipelineTargetMismatch, IncidentOpsErrorCategory.InvalidArgument,
            $"The piped incident{(string.IsNullOrWhiteSpace(incidentId) ? "" : $" {incidentId}")} was read from the store '{piped}', but this command's configuration{(config?.Path is { } p ? $" ({p})" : "")} resolves the store '{here}'." +
            (why ?? "") + " The change would be written to another store than the one the record came from, so nothing was done. Give the same -ConfigPath as the command that read it, or read the incident from this store first.")
        { TargetObject = incidentId };
    }

    /// <summary>
    /// The active incident's id, or null. A resolved incident is never the active one. With <paramref name="forChange"/> (the
    /// command changes it), a shared file store warns once when another user or machine switched it.
    /// </summary>
    public Task<string?> GetActiveIdAsync(IncidentOpsConfig? config, CancellationToken cancellationToken, bool forChange = false) =>
        IncidentStateMachine.ActiveIdAsync(openStore(config), cancellationToken, forChange);

    /// <summary>
    /// For a "no active incident" error: a hint naming the most recently resolved incident (within 7 days), since
    /// the usual reason for the error is that the incident was just closed or resolved by a status update and the
    /// next step (the report, the post-mortem fields, the export) still has to name it. Null when there is none.
    /// </summary>
    public async Task<string?> NoActiveIncidentHintAsync(IncidentOpsConfig? config, string commandName, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        var recent = (await store.ListAsync(cancellationToken).ConfigureAwait(false))
            .Where(i => i.Status == IncidentStatus.Resolved && i.ResolvedAt > DateTimeOffset.UtcNow.AddDays(-7))
            .OrderByDescending(i => i.ResolvedAt).ToList();
        if (store is FileIncidentStore fs) fs.CorruptLines.Clear();
        var unsummarised = recent.FirstOrDefault(i => string.IsNullOrWhiteSpace(i.Resolution));
        if (unsummarised is not null && unsummarised == recent[0])
            return $"{unsummarised.Id} was resolved at {unsummarised.ResolvedAt:u} (by a status update) and has no resolution summary yet; a resolved incident is not the active one, so name it: -Incident {unsummarised.Id} (for example Close-Incident -Incident {unsummarised.Id} -Resolution '<what fixed it>').";
        return recent.Count == 0 ? null
            : $"The last incident resolved was {recent[0].Id} ({recent[0].Title}) at {recent[0].ResolvedAt:u}; a resolved incident is not the active one, so name it: {commandName} -Incident {recent[0].Id}.";
    }

    public async Task<IReadOnlyList<Incident>> ListAsync(IncidentOpsConfig? config, IncidentQuery query, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        IEnumerable<Incident> result;
        if (query.ActiveOnly)
        {
            var active = await IncidentStateMachine.ActiveIdAsync(store, cancellationToken).ConfigureAwait(false);
            var one = active is null ? null : await store.GetAsync(active, cancellationToken).ConfigureAwait(false);
            result = one is null ? [] : [one];
        }
        else result = await store.ListAsync(cancellationToken).ConfigureAwait(false);
        ReportCorruption(store);
        if (query.Ids is { Length: > 0 } ids)
        {
            var patterns = ids.Select(i => new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(i.Trim()).Replace(@"\*", ".*").Replace(@"\?", ".") + "$",
                System.Text.RegularExpressions.RegexOptions.IgnoreCase)).ToList();
            result = result.Where(i => patterns.Any(p => p.IsMatch(i.Id)));
        }
        if (query.Status is { Length: > 0 } st) result = result.Where(i => st.Contains(i.Status));
        if (query.Severity is { Length: > 0 } sev)
        {
            foreach (var s in sev) ResolveSeverity(config, s);
            result = result.Where(i => sev.Contains(i.Severity, StringComparer.OrdinalIgnoreCase));
        }
        if (query.Since is { } since) result = result.Where(i => i.StartedAt >= since || i.ResolvedAt is null || i.ResolvedAt >= since);
        return result.OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Applies the changes and writes one timeline entry per changed field. With <paramref name="keepResolved"/> (a move
    /// decided while the incident was open: the alerting round's Monitoring or Investigating), a status change finds the
    /// incident resolved since and fails with IncidentResolvedMeanwhile, changing nothing: the close stands.
    /// </summary>
    public async Task<Incident> UpdateAsync(IncidentOpsConfig? config, string id, IncidentChanges changes, ChangeContext context, CancellationToken cancellationToken,
        bool keepResolved = false)
    {
        var store = openStore(config);
        SeverityLevel? severity = changes.Severity is null ? null : ResolveSeverity(config, changes.Severity);
        var entries = new List<(string Kind, string Action, string Result)>();
        var resolved = false;
        var incident = await store.UpdateAsync(id.Trim(), i =>
        {
            var now = DateTimeOffset.UtcNow;
            void Set<T>(string field, T? value, Func<T?> get, Action<T> set, string kind = "change")
            {
                if (value is null || EqualityComparer<T?>.Default.Equals(get(), value)) return;
                var before = get();
                set(value);
                entries.Add((kind, $"Set {field}", $"{field}: {Show(before)} -> {Show(value)}"));
            }
            Set("Title", changes.Title, () => i.Title, v => i.Title = v);
            if (changes.Status is { } status && status != i.Status)
            {
                if (keepResolved && i.Status == IncidentStatus.Resolved)
                    throw new IncidentOpsException(IncidentErrorIds.ResolvedMeanwhile, IncidentOpsErrorCategory.InvalidOperation,
                        $"{i.Id} was resolved at {i.ResolvedAt:u}, after the move to {status} was decided; it stays resolved and nothing was changed.") { TargetObject = i.Id };
                // Resolving needs a resolution summary (given now or already on the record), as Close-Incident does.
                if (status == IncidentStatus.Resolved && string.IsNullOrWhiteSpace(changes.Resolution ?? i.Resolution))
                    throw new IncidentOpsException(IncidentErrorIds.UseClose, IncidentOpsErrorCategory.InvalidOperation,
                        $"Resolve {i.Id} with Close-Incident -Resolution '<what fixed it>', so the record has a resolution summary.") { TargetObject = i.Id };
                var moved = IncidentStateMachine.Move(i, status, now, ResolveSeverityOrNull(config, i.Severity));
                entries.Add((status == IncidentStatus.Resolved ? "resolved" : "status", "Set Status", moved!));
                resolved = status == IncidentStatus.Resolved;
            }
            if (severity is not null && !string.Equals(severity.Id, i.Severity, StringComparison.OrdinalIgnoreCase))
            {
                entries.Add(("severity", "Set Severity", $"Severity: {i.Severity} ({i.SeverityName}) -> {severity.Id} ({severity.Name}); response due {now + severity.ResponseTarget:u}"));
                i.Severity = severity.Id;
                i.SeverityName = severity.Name;
                i.SeverityHistory.Add(new SeverityChange { Severity = severity.Id, At = now });
                if (i.AcknowledgedAt is null) i.ResponseDue = now + severity.ResponseTarget;
                i.NextUpdateDue = severity.UpdateEvery is { } every ? (i.LastUpdateAt ?? now) + every : null;
            }
            Set("Commander", changes.Commander, () => i.Commander, v => { i.Commander = v; i.AcknowledgedAt ??= now; }, "role");
            Set("Scribe", changes.Scribe, () => i.Scribe, v => i.Scribe = v, "role");
            Set("Liaison", changes.Liaison, () => i.Liaison, v => i.Liaison = v, "role");
            Set("Impact", changes.Impact, () => i.Impact, v => i.Impact = v);
            Set("UsersAffected", changes.UsersAffected, () => i.UsersAffected, v => i.UsersAffected = v);
            Set("RevenueImpact", changes.RevenueImpact, () => i.RevenueImpact, v => i.RevenueImpact = v);
            if (changes.DataLoss is { } dl && dl != i.DataLoss) { entries.Add(("change", "Set DataLoss", $"DataLoss: {Show(i.DataLoss)} -> {dl}")); i.DataLoss = dl; }
            Set("RootCause", changes.RootCause, () => i.RootCause, v => i.RootCause = v);
            Set("Resolution", changes.Resolution, () => i.Resolution, v => i.Resolution = v);
            Set("Summary", changes.Summary, () => i.Summary, v => i.Summary = v);
            SetList("Services", changes.Services, () => i.Services, v => i.Services = v);
            SetList("ContributingFactors", changes.ContributingFactors, () => i.ContributingFactors, v => i.ContributingFactors = v);
            SetList("WentWell", changes.WentWell, () => i.WentWell, v => i.WentWell = v);
            SetList("WentWrong", changes.WentWrong, () => i.WentWrong, v => i.WentWrong = v);
            SetList("LessonsLearned", changes.LessonsLearned, () => i.LessonsLearned, v => i.LessonsLearned = v);
            SetList("Prevention", changes.Prevention, () => i.Prevention, v => i.Prevention = v);
            if (changes.DetectedAt is { } d && d != i.DetectedAt) { entries.Add(("change", "Set DetectedAt", $"DetectedAt: {Show(i.DetectedAt)} -> {d.ToUniversalTime():u}")); i.DetectedAt = d.ToUniversalTime(); }
            if (changes.MitigatedAt is { } m && m != i.MitigatedAt) { entries.Add(("change", "Set MitigatedAt", $"MitigatedAt: {Show(i.MitigatedAt)} -> {m.ToUniversalTime():u}")); i.MitigatedAt = m.ToUniversalTime(); }

            void SetList(string field, string[]? value, Func<string[]> get, Action<string[]> set)
            {
                if (value is null || get().SequenceEqual(value)) return;
                entries.Add(("change", $"Set {field}", $"{field}: {string.Join("; ", value)}"));
                set(value);
            }
        }, cancellationToken).ConfigureAwait(false);
        foreach (var (kind, action, result) in entries)
            await AppendAsync(store, incident.Id, context, kind, action, incident.Id, result, cancellationToken).ConfigureAwait(false);
        if (resolved) await IncidentStateMachine.ReleaseActiveAsync(store, incident.Id, cancellationToken).ConfigureAwait(false);
        if (entries.Count == 0) sink.Verbose($"{incident.Id}: nothing to change.");
        return incident;
    }

    /// <summary>
    /// Resolves the incident; a resolution summary is required. An incident already resolved by a status update
    /// (Send-IncidentUpdate -Status Resolved) but without a resolution summary gets the summary recorded instead
    /// (its resolution time stays, unless <paramref name="resolvedAt"/> is given). It stops being the active incident.
    /// </summary>
    public async Task<Incident> CloseAsync(IncidentOpsConfig? config, string id, string resolution, string? rootCause, DateTimeOffset? resolvedAt, ChangeContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(resolution))
            throw new IncidentOpsException(IncidentErrorIds.ResolutionMissing, IncidentOpsErrorCategory.InvalidArgument,
                $"Closing {id} needs a resolution summary: Close-Incident -Resolution '<what fixed it>'.") { TargetObject = id };
        var store = openStore(config);
        var completing = false;
        var incident = await store.UpdateAsync(id.Trim(), i =>
        {
            if (i.Status == IncidentStatus.Resolved && !string.IsNullOrWhiteSpace(i.Resolution))
                throw new IncidentOpsException(IncidentErrorIds.AlreadyResolved, IncidentOpsErrorCategory.InvalidOperation,
                    $"{i.Id} was already resolved at {i.ResolvedAt:u}. Use Set-Incident -Resolution to amend the summary.") { TargetObject = i.Id };
            completing = i.Status == IncidentStatus.Resolved;
            var at = (resolvedAt ?? (completing ? i.ResolvedAt : null) ?? DateTimeOffset.UtcNow).ToUniversalTime();
            if (at < i.StartedAt)
                throw new IncidentOpsException(IncidentErrorIds.ResolvedBeforeStart, IncidentOpsErrorCategory.InvalidArgument,
                    $"-ResolvedAt {at:u} is before {i.Id} started ({i.StartedAt:u}).") { TargetObject = at };
            IncidentStateMachine.Move(i, IncidentStatus.Resolved, at);
            i.ResolvedAt = at;
            i.Resolution = resolution.Trim();
            if (rootCause is not null) i.RootCause = rootCause;
        }, cancellationToken).ConfigureAwait(false);
        await AppendAsync(store, incident.Id, context, "resolved", "Close incident", incident.Id,
            completing
                ? $"Resolution recorded for the incident resolved at {incident.ResolvedAt:u} (after {Duration.Format(incident.Duration)}): {incident.Resolution}"
                : $"Resolved after {Duration.Format(incident.Duration)}: {incident.Resolution}", cancellationToken).ConfigureAwait(false);
        await IncidentStateMachine.ReleaseActiveAsync(store, incident.Id, cancellationToken).ConfigureAwait(false);
        return incident;
    }

    /// <summary>Makes an incident the active one (or clears it with null).</summary>
    public async Task SetActiveAsync(IncidentOpsConfig? config, string? id, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        if (id is not null)
        {
            var incident = await store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(id);
            if (incident.Status == IncidentStatus.Resolved)
                throw new IncidentOpsException(IncidentErrorIds.ResolvedNotActive, IncidentOpsErrorCategory.InvalidOperation,
                    $"{incident.Id} is resolved, and a resolved incident cannot be the active one. Reopen it first: Set-Incident -Incident {incident.Id} -Status Investigating -Activate.") { TargetObject = incident.Id };
        }
        await store.SetActiveIdAsync(id, cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------ timeline and notes

    public async Task<TimelineEntry> AddNoteAsync(IncidentOpsConfig? config, string id, string text, ChangeContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new IncidentOpsException(IncidentErrorIds.NoteEmpty, IncidentOpsErrorCategory.InvalidArgument, "The note is empty. Say what you did or saw.");
        var store = openStore(config);
        // One call to the store: the append returns the record, which says whether the incident was resolved.
        var entry = TimelineWriter.Entry(context, "note", "Note", null, TimelineOutcome.Info, text.Trim());
        await timeline.AppendWithRecordAsync(store, id, entry, "the note", cancellationToken).ConfigureAwait(false);
        return entry;
    }

    /// <summary>Entries in order; corrupt lines are skipped with a warning naming file and line.</summary>
    public async Task<IReadOnlyList<TimelineEntry>> GetTimelineAsync(IncidentOpsConfig? config, string id, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        if (await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is null) throw FileIncidentStore.NotFound(id);
        var entries = await store.ReadTimelineAsync(id, cancellationToken).ConfigureAwait(false);
        ReportCorruption(store);
        return entries;
    }

    /// <summary>The incident's timeline, then each entry any writer appends, as it lands, until cancelled (Get-IncidentTimeline -Wait).</summary>
    public async Task FollowTimelineAsync(IncidentOpsConfig? config, string id, Action<TimelineEntry> onEntry, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        if (await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is null) throw FileIncidentStore.NotFound(id);
        await foreach (var entry in store.FollowTimelineAsync(id, cancellationToken).ConfigureAwait(false))
        {
            ReportCorruption(store);
            onEntry(entry);
        }
    }

    /// <summary>A record change that succeeded, written through the one timeline writer.</summary>
    private Task<TimelineEntry> AppendAsync(IIncidentStore store, string id, ChangeContext context, string kind, string action, string? target, string result, CancellationToken cancellationToken) =>
        timeline.AppendAsync(store, id, TimelineWriter.Entry(context, kind, action, target, TimelineOutcome.Succeeded, result), cancellationToken);

    // ------------------------------------------------------------ action items

    public async Task<IReadOnlyList<ActionItem>> ListActionItemsAsync(IncidentOpsConfig? config, string id, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        if (await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is null) throw FileIncidentStore.NotFound(id);
        return await store.ReadActionItemsAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ActionItem> AddActionItemAsync(IncidentOpsConfig? config, string id, string action, string? owner, DateTimeOffset? due, string? priority, ChangeContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(action))
            throw new IncidentOpsException(IncidentErrorIds.ActionItemEmpty, IncidentOpsErrorCategory.InvalidArgument, "An action item needs -Action: what will be done.");
        var store = openStore(config);
        var incident = await store.GetAsync(id, cancellationToken).ConfigureAwait(false) ?? throw FileIncidentStore.NotFound(id);
        var prio = NormalizePriority(config, priority);
        ActionItem? item = null;
        await store.ChangeActionItemsAsync(incident.Id, list =>
        {
            var next = list.Select(a => int.TryParse(a.Id.AsSpan(a.Id.LastIndexOf("-A", StringComparison.Ordinal) + 2), out var n) ? n : 0).DefaultIfEmpty(0).Max() + 1;
            item = new ActionItem { Id = $"{incident.Id}-A{next:00}", IncidentId = incident.Id, Action = action.Trim(), Owner = owner, Due = due?.ToUniversalTime(), Priority = prio };
            list.Add(item);
        }, cancellationToken).ConfigureAwait(false);
        await AppendAsync(store, incident.Id, context, "action-item", "Add action item", item!.Id,
            $"{item.Action} (owner {owner ?? "unassigned"}, priority {prio}{(due is null ? "" : $", due {due:yyyy-MM-dd}")})", cancellationToken).ConfigureAwait(false);
        return item;
    }

    public async Task<ActionItem> UpdateActionItemAsync(IncidentOpsConfig? config, string id, string itemId, ActionItemChanges changes, ChangeContext context, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        if (await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is null) throw FileIncidentStore.NotFound(id);
        var prio = changes.Priority is null ? null : NormalizePriority(config, changes.Priority);
        ActionItem? item = null;
        var described = new List<string>();
        await store.ChangeActionItemsAsync(id, list =>
        {
            item = list.FirstOrDefault(a => string.Equals(a.Id, itemId, StringComparison.OrdinalIgnoreCase))
                ?? throw new IncidentOpsException(IncidentErrorIds.ActionItemNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"No action item '{itemId}' on {id}. Known: {(list.Count == 0 ? "(none)" : string.Join(", ", list.Select(a => a.Id)))}.") { TargetObject = itemId };
            if (changes.Action is { } a && a != item.Action) { described.Add($"Action: {a}"); item.Action = a; }
            if (changes.Owner is { } o && o != item.Owner) { described.Add($"Owner: {item.Owner} -> {o}"); item.Owner = o; }
            if (changes.Due is { } d) { described.Add($"Due: {d:yyyy-MM-dd}"); item.Due = d.ToUniversalTime(); }
            if (prio is not null && prio != item.Priority) { described.Add($"Priority: {item.Priority} -> {prio}"); item.Priority = prio; }
            if (changes.Status is { } s && s != item.Status) { described.Add($"Status: {item.Status} -> {s}"); item.Status = s; }
        }, cancellationToken).ConfigureAwait(false);
        if (described.Count > 0)
            await AppendAsync(store, id, context, "action-item", "Update action item", item!.Id, string.Join("; ", described), cancellationToken).ConfigureAwait(false);
        return item!;
    }

    private static string NormalizePriority(IncidentOpsConfig? config, string? priority)
    {
        if (string.IsNullOrWhiteSpace(priority)) return "P2";
        return ResolveSeverity(config, priority).Id;
    }

    // ------------------------------------------------------------ helpers

    private static SeverityLevel? ResolveSeverityOrNull(IncidentOpsConfig? config, string id) =>
        Severities(config).FirstOrDefault(l => string.Equals(l.Id, id, StringComparison.OrdinalIgnoreCase));

    private void ReportCorruption(IIncidentStore store)
    {
        if (store is not FileIncidentStore fs) return;
        foreach (var line in fs.CorruptLines) sink.Warning($"Skipped corrupt data: {line}");
        fs.CorruptLines.Clear();
    }

    private static string StoreRoot(IIncidentStore store) => store is FileIncidentStore f ? f.Root : store.Identity;

    private static string Show(object? value) => value switch
    {
        null => "(none)",
        DateTimeOffset d => d.ToString("u"),
        _ => value.ToString() ?? "",
    };

}
