using System.Globalization;
using IncidentOps.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>What Get-IncidentMetric (and the review report) summarises.</summary>
public sealed class IncidentMetricQuery
{
    /// <summary>Start of the period (inclusive): incidents that started at or after it.</summary>
    public DateTimeOffset Since { get; init; }
    /// <summary>End of the period (exclusive).</summary>
    public DateTimeOffset Until { get; init; }
    public string[]? Severity { get; init; }
    /// <summary>Services as recorded (production/api) or by name (api).</summary>
    public string[]? Service { get; init; }
    public string[]? Environment { get; init; }
    public IncidentMetricGroupBy GroupBy { get; init; }
    /// <summary>The time overdue and pending are judged at (now by default; tests pin it).</summary>
    public DateTimeOffset? Now { get; init; }
}

/// <summary>The summaries and the per-incident figures behind them.</summary>
public sealed class IncidentMetricResult
{
    public required IReadOnlyList<IncidentMetricSummary> Summaries { get; init; }
    /// <summary>One per incident in scope, oldest first.</summary>
    public required IReadOnlyList<IncidentMetricDetail> Details { get; init; }
    /// <summary>The incidents in scope, in the order of Details.</summary>
    public required IReadOnlyList<Incident> Incidents { get; init; }
    /// <summary>The action items of the incidents in scope, by incident id.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<ActionItem>> ActionItems { get; init; }
    public DateTimeOffset Now { get; init; }
}

/// <summary>
/// Metrics across incidents (Get-IncidentMetric): counts; time to acknowledge, mitigate and resolve as p50/p90
/// (nearest rank); response-target compliance per severity; update-cadence compliance; open and overdue action
/// items per owner; the services hit most. Reads the store twice whatever its size (every record, every action-item
/// list); the cadence comes from the records' compact UpdatesSentAt, so no timeline or outbox is read (except the
/// outbox of records written before UpdatesSentAt existed).
/// </summary>
/// <param name="openStore">Opens the incident store a configuration names.</param>
/// <param name="sink">Where warnings and verbose text go.</param>
public sealed class IncidentMetricsService(Func<IncidentOpsConfig?, IIncidentStore> openStore, IOperationSink sink)
{
    /// <summary>How many services TopServices lists.</summary>
    public const int TopServiceCount = 5;

    private static readonly string[] OpenItemStatuses = ["Open", "InProgress"];

    public async Task<IncidentMetricResult> ComputeAsync(IncidentOpsConfig? config, IncidentMetricQuery query, CancellationToken cancellationToken)
    {
        if (query.Until <= query.Since)
            throw new IncidentOpsException(IncidentMetricErrorIds.PeriodInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"The period is empty: -Until {query.Until:u} is not after -Since {query.Since:u}. Give a -Since before -Until (for example -Since 30d).") { TargetObject = query.Since };
        foreach (var s in query.Severity ?? []) IncidentService.ResolveSeverity(config, s);
        var store = openStore(config);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var listing = store.ListAsync(cancellationToken);
        var items = store.ReadAllActionItemsAsync(cancellationToken);
        await Task.WhenAll(listing, items).ConfigureAwait(false);
        var read = clock.Elapsed;
        if (store is FileIncidentStore fs)
        {
            foreach (var line in fs.CorruptLines) sink.Warning($"Skipped corrupt data: {line}");
            fs.CorruptLines.Clear();
        }
        var now = query.Now ?? DateTimeOffset.UtcNow;
        var environments = EnvironmentResolver(config);
        var inScope = listing.Result
            .Where(i => i.StartedAt >= query.Since && i.StartedAt < query.Until)
            .Where(i => query.Severity is not { Length: > 0 } sev || sev.Contains(i.Severity, StringComparer.OrdinalIgnoreCase))
            .Where(i => query.Service is not { Length: > 0 } svc || i.Services.Any(s => svc.Any(f => ServiceMatches(s, f, environments))))
            .Where(i => query.Environment is not { Length: > 0 } env || environments(i).Any(e => env.Contains(e, StringComparer.OrdinalIgnoreCase)))
            .OrderBy(i => i.StartedAt).ThenBy(i => i.Id, StringComparer.Ordinal)
            .ToList();
        // Records from before the compact cadence record: their outbox says when updates went out.
        foreach (var legacy in inScope.Where(i => i.UpdatesSentAt is null && i.LastUpdateAt is not null))
        {
            var outbox = await store.ReadOutboxAsync(legacy.Id, cancellationToken).ConfigureAwait(false);
            foreach (var u in outbox.Where(u => !u.Pending)) RecordUpdateSent(legacy, u.CreatedAt);
        }
        var t1 = clock.Elapsed;
        var levels = IncidentService.Severities(config);
        var allItems = items.Result;
        var scopedItems = new Dictionary<string, IReadOnlyList<ActionItem>>(StringComparer.OrdinalIgnoreCase);
        foreach (var i in inScope)
            if (allItems.TryGetValue(i.Id, out var l) && l.Count > 0) scopedItems[i.Id] = l;
        // Each incident is measured on its own: on every core when there are many (10,000 in a year's review).
        var measured = new IncidentMetricDetail[inScope.Count];
        void MeasureAt(int n)
        {
            var i = inScope[n];
            measured[n] = Measure(i, Level(levels, i.Severity), scopedItems.TryGetValue(i.Id, out var l) ? l : [], environments(i), now);
        }
        if (inScope.Count < 512) for (var n = 0; n < inScope.Count; n++) MeasureAt(n);
        else Parallel.For(0, inScope.Count, new ParallelOptions { CancellationToken = cancellationToken }, MeasureAt);
        var details = measured.ToList();
        var t2 = clock.Elapsed;
        var rows = inScope.Zip(details, (i, d) => (Incident: i, Detail: d)).ToList();
        var summaries = new List<IncidentMetricSummary>();
        foreach (var (group, members) in Groups(query, rows, environments))
            summaries.Add(Summarize(query, group, members, scopedItems, levels, now));
        sink.Verbose($"Read {listing.Result.Count} incidents and {allItems.Count} action-item lists from {store.Identity} in {clock.Elapsed.TotalMilliseconds - (clock.Elapsed - read).TotalMilliseconds:0} ms; " +
            $"{inScope.Count} incidents in the period: selected in {(t1 - read).TotalMilliseconds:0} ms, measured in {(t2 - t1).TotalMilliseconds:0} ms, summarised in {(clock.Elapsed - t2).TotalMilliseconds:0} ms.");
        return new IncidentMetricResult { Summaries = summaries, Details = details, Incidents = inScope, ActionItems = scopedItems, Now = now };
    }

    // ------------------------------------------------------------------ one incident

    /// <summary>One incident's figures, and whether (and why not) it met its response target and its update cadence.</summary>
    public static IncidentMetricDetail Measure(Incident i, SeverityLevel? level, IReadOnlyList<ActionItem> items, IReadOnlyList<string> environments, DateTimeOffset now)
    {
        static TimeSpan? Since(DateTimeOffset? at, DateTimeOffset start) => at is { } a ? (a < start ? TimeSpan.Zero : a - start) : null;
        var target = level?.ResponseTarget ?? (i.ResponseDue is { } rd ? rd - i.DeclaredAt : TimeSpan.Zero);
        var due = i.ResponseDue ?? (level is null ? null : i.DeclaredAt + level.ResponseTarget);
        bool? met;
        string reason;
        if (due is null) { met = null; reason = $"severity {i.Severity} is not configured, so it has no response target"; }
        else if (i.AcknowledgedAt is { } ack)
        {
            met = ack <= due;
            reason = met.Value
                ? $"acknowledged {Show(ack - i.DeclaredAt)} after declaration, within the {ShowSetting(target)} target"
                : $"acknowledged {Show(ack - i.DeclaredAt)} after declaration, {Show(ack - due.Value)} after the {ShowSetting(target)} target (due {Clock(due.Value)})";
        }
        else if (i.Status != IncidentStatus.Resolved && now > due)
        {
            met = false;
            reason = $"not acknowledged; the response was due {Clock(due.Value)} ({Show(now - due.Value)} ago, {Show(target)} target)";
        }
        else { met = null; reason = $"not acknowledged yet; due {Clock(due.Value)}"; }

        var every = level?.UpdateEvery;
        var sent = (i.UpdatesSentAt ?? []).Where(t => t >= i.DeclaredAt).Order().ToArray();
        int onTime = 0, dueCount = 0;
        bool? cadenceMet = null;
        string? cadenceReason = null;
        if (every is { } e && e > TimeSpan.Zero)
        {
            var problems = new List<string>();
            var previous = i.DeclaredAt;
            for (var n = 0; n < sent.Length; n++)
            {
                var gap = sent[n] - previous;
                dueCount++;
                if (gap <= e) onTime++;
                else problems.Add($"update {n + 1} at {Clock(sent[n])} came {Show(gap)} after {(n == 0 ? "declaration" : "the previous one")} ({Show(gap - e)} late)");
                previous = sent[n];
            }
            var end = i.ResolvedAt ?? now;
            if (end - previous > e)
            {
                // The cadence called for an update that never came (before the resolution, or by now on an open incident).
                dueCount++;
                problems.Add(i.ResolvedAt is null
                    ? $"no update since {Clock(previous)}: the next was due {Clock(previous + e)}"
                    : $"no update in the {Show(end - previous)} before resolution: one was due {Clock(previous + e)}");
            }
            cadenceMet = problems.Count == 0;
            cadenceReason = problems.Count == 0
                ? sent.Length == 0 ? $"no update was due (resolved within {Show(e)})" : $"{sent.Length} update{(sent.Length == 1 ? "" : "s")}, each within {ShowSetting(e)}"
                : $"cadence {Show(e)}: " + string.Join("; ", problems.Take(3)) + (problems.Count > 3 ? $"; and {problems.Count - 3} more" : "");
        }
        var open = items.Where(IsOpen).ToList();
        return new IncidentMetricDetail
        {
            IncidentId = i.Id, Title = i.Title, Severity = i.Severity, Status = i.Status, Services = i.Services, Environments = environments.ToArray(),
            StartedAt = i.StartedAt, DeclaredAt = i.DeclaredAt, AcknowledgedAt = i.AcknowledgedAt, MitigatedAt = i.MitigatedAt ?? i.ResolvedAt, ResolvedAt = i.ResolvedAt,
            TimeToAcknowledge = Since(i.AcknowledgedAt, i.StartedAt),
            TimeToMitigate = Since(i.MitigatedAt ?? i.ResolvedAt, i.StartedAt),
            TimeToResolve = Since(i.ResolvedAt, i.StartedAt),
            ResponseTarget = target, ResponseDue = due, ResponseTargetMet = met, ResponseReason = reason,
            UpdateEvery = every, UpdatesSentAt = sent, UpdatesOnTime = onTime, UpdatesDue = dueCount, CadenceMet = cadenceMet, CadenceReason = cadenceReason,
            ActionItemsOpen = open.Count, ActionItemsOverdue = open.Count(a => IsOverdue(a, now)),
        };
    }

    /// <summary>An action item still to do (Open or InProgress).</summary>
    public static bool IsOpen(ActionItem a) => OpenItemStatuses.Contains(a.Status, StringComparer.OrdinalIgnoreCase);

    /// <summary>An open action item whose due date has passed.</summary>
    public static bool IsOverdue(ActionItem a, DateTimeOffset now) => IsOpen(a) && a.Due is { } d && d < now;

    // ------------------------------------------------------------------ groups

    private static IEnumerable<(string Group, List<(Incident Incident, IncidentMetricDetail Detail)> Rows)> Groups(
        IncidentMetricQuery query, List<(Incident Incident, IncidentMetricDetail Detail)> rows, Func<Incident, IReadOnlyList<string>> environments)
    {
        switch (query.GroupBy)
        {
            case IncidentMetricGroupBy.Week:
                // Every ISO week of the period, those without incidents included (a quiet week is a figure too).
                for (var week = WeekStart(query.Since); week < query.Until; week = week.AddDays(7))
                {
                    var w = week;
                    yield return (WeekLabel(w), rows.Where(r => WeekStart(r.Incident.StartedAt) == w).ToList());
                }
                yield break;
            case IncidentMetricGroupBy.Month:
                for (var month = new DateTimeOffset(query.Since.UtcDateTime.Year, query.Since.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero); month < query.Until; month = month.AddMonths(1))
                {
                    var m = month;
                    yield return (m.ToString("yyyy-MM", CultureInfo.InvariantCulture), rows.Where(r => r.Incident.StartedAt.UtcDateTime.Year == m.Year && r.Incident.StartedAt.UtcDateTime.Month == m.Month).ToList());
                }
                yield break;
            case IncidentMetricGroupBy.Severity:
                foreach (var g in rows.GroupBy(r => r.Incident.Severity, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
                    yield return (g.Key, g.ToList());
                yield break;
            case IncidentMetricGroupBy.Service:
                foreach (var g in rows.SelectMany(r => (r.Incident.Services.Length == 0 ? ["(none)"] : r.Incident.Services).Distinct(StringComparer.OrdinalIgnoreCase).Select(s => (Key: s, Row: r)))
                             .GroupBy(x => x.Key, StringComparer.OrdinalIgnoreCase).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
                    yield return (g.Key, g.Select(x => x.Row).ToList());
                yield break;
            case IncidentMetricGroupBy.Environment:
                foreach (var g in rows.SelectMany(r => (environments(r.Incident) is { Count: > 0 } e ? e : ["(none)"]).Select(s => (Key: s, Row: r)))
                             .GroupBy(x => x.Key, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
                    yield return (g.Key, g.Select(x => x.Row).ToList());
                yield break;
            default:
                yield return ("All", rows);
                yield break;
        }
    }

    /// <summary>Monday 00:00 UTC of the ISO week <paramref name="at"/> falls in.</summary>
    public static DateTimeOffset WeekStart(DateTimeOffset at)
    {
        var day = at.UtcDateTime.Date;
        var back = ((int)day.DayOfWeek + 6) % 7;
        return new DateTimeOffset(day.AddDays(-back), TimeSpan.Zero);
    }

    /// <summary>The ISO week as 2026-W47.</summary>
    public static string WeekLabel(DateTimeOffset weekStart) =>
        $"{ISOWeek.GetYear(weekStart.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(weekStart.UtcDateTime):00}";

    private static IncidentMetricSummary Summarize(IncidentMetricQuery query, string group, List<(Incident Incident, IncidentMetricDetail Detail)> rows,
        IReadOnlyDictionary<string, IReadOnlyList<ActionItem>> items, IReadOnlyList<SeverityLevel> levels, DateTimeOffset now)
    {
        var d = rows.Select(r => r.Detail).ToList();
        var groupItems = rows.SelectMany(r => items.TryGetValue(r.Incident.Id, out var l) ? l : []).Where(IsOpen).ToList();
        var bySeverity = d.GroupBy(x => x.Severity, StringComparer.OrdinalIgnoreCase)
            .OrderBy(g => Level(levels, g.Key)?.Rank ?? int.MaxValue).ThenBy(g => g.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g =>
            {
                var level = Level(levels, g.Key);
                var met = g.Count(x => x.ResponseTargetMet == true);
                var missed = g.Count(x => x.ResponseTargetMet == false);
                var onTime = g.Sum(x => x.UpdatesOnTime);
                var due = g.Sum(x => x.UpdatesDue);
                return new IncidentSeverityCompliance
                {
                    Severity = level?.Id ?? g.Key, Name = level?.Name, ResponseTarget = level?.ResponseTarget ?? g.First().ResponseTarget, UpdateEvery = level?.UpdateEvery,
                    Incidents = g.Count(), ResponseTargetMet = met, ResponseTargetMissed = missed, ResponsePending = g.Count(x => x.ResponseTargetMet is null),
                    ResponseTargetRate = Rate(met, met + missed), UpdatesOnTime = onTime, UpdatesDue = due, CadenceRate = level?.UpdateEvery is null ? null : Rate(onTime, due),
                    IncidentIds = g.Select(x => x.IncidentId).ToArray(),
                    MissedResponseIds = g.Where(x => x.ResponseTargetMet == false).Select(x => x.IncidentId).ToArray(),
                    MissedCadenceIds = g.Where(x => x.CadenceMet == false).Select(x => x.IncidentId).ToArray(),
                };
            }).ToArray();
        var owners = groupItems.GroupBy(a => string.IsNullOrWhiteSpace(a.Owner) ? "unassigned" : a.Owner!.Trim(), StringComparer.OrdinalIgnoreCase)
            .Select(g => new IncidentOwnerActionItems
            {
                Owner = g.Key, Open = g.Count(), Overdue = g.Count(a => IsOverdue(a, now)),
                ActionItemIds = g.Select(a => a.Id).ToArray(), OverdueIds = g.Where(a => IsOverdue(a, now)).Select(a => a.Id).ToArray(),
            })
            .OrderByDescending(o => o.Overdue).ThenByDescending(o => o.Open).ThenBy(o => o.Owner, StringComparer.OrdinalIgnoreCase).ToArray();
        var services = rows.SelectMany(r => r.Incident.Services.Distinct(StringComparer.OrdinalIgnoreCase).Select(s => (Service: s, r.Incident.Id)))
            .GroupBy(x => x.Service, StringComparer.OrdinalIgnoreCase)
            .Select(g => new IncidentServiceCount { Service = g.Key, Incidents = g.Count(), IncidentIds = g.Select(x => x.Id).ToArray() })
            .OrderByDescending(s => s.Incidents).ThenBy(s => s.Service, StringComparer.OrdinalIgnoreCase).Take(TopServiceCount).ToArray();
        var metTotal = d.Count(x => x.ResponseTargetMet == true);
        var decided = d.Count(x => x.ResponseTargetMet is not null);
        var onTimeTotal = d.Sum(x => x.UpdatesOnTime);
        var dueTotal = d.Sum(x => x.UpdatesDue);
        return new IncidentMetricSummary
        {
            GroupBy = query.GroupBy, Group = group, Since = query.Since, Until = query.Until,
            Incidents = d.Count, Open = d.Count(x => x.Status != IncidentStatus.Resolved), Resolved = d.Count(x => x.Status == IncidentStatus.Resolved),
            TimeToAcknowledgeP50 = Percentile(d.Select(x => x.TimeToAcknowledge), 50), TimeToAcknowledgeP90 = Percentile(d.Select(x => x.TimeToAcknowledge), 90),
            TimeToMitigateP50 = Percentile(d.Select(x => x.TimeToMitigate), 50), TimeToMitigateP90 = Percentile(d.Select(x => x.TimeToMitigate), 90),
            TimeToResolveP50 = Percentile(d.Select(x => x.TimeToResolve), 50), TimeToResolveP90 = Percentile(d.Select(x => x.TimeToResolve), 90),
            ResponseTargetMet = metTotal, ResponseTargetDecided = decided, ResponseTargetRate = Rate(metTotal, decided),
            UpdatesOnTime = onTimeTotal, UpdatesDue = dueTotal, CadenceRate = d.Any(x => x.UpdateEvery is not null) ? Rate(onTimeTotal, dueTotal) : null,
            BySeverity = bySeverity,
            ActionItemsOpen = groupItems.Count, ActionItemsOverdue = groupItems.Count(a => IsOverdue(a, now)), ActionItemsByOwner = owners,
            TopServices = services,
            IncidentIds = d.Select(x => x.IncidentId).ToArray(),
            MissedResponseIds = d.Where(x => x.ResponseTargetMet == false).Select(x => x.IncidentId).ToArray(),
            MissedCadenceIds = d.Where(x => x.CadenceMet == false).Select(x => x.IncidentId).ToArray(),
        };
    }

    /// <summary>
    /// The nearest-rank percentile: the value at rank ceil(p/100 × n) of the n values sorted ascending (1-based), so
    /// the result is always one of the values; null when there are none.
    /// </summary>
    public static TimeSpan? Percentile(IEnumerable<TimeSpan?> values, int p)
    {
        var sorted = values.Where(v => v is not null).Select(v => v!.Value).Order().ToList();
        if (sorted.Count == 0) return null;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    private static double? Rate(int part, int whole) => whole == 0 ? null : (double)part / whole;

    private static SeverityLevel? Level(IReadOnlyList<SeverityLevel> levels, string id) =>
        levels.FirstOrDefault(l => string.Equals(l.Id, id, StringComparison.OrdinalIgnoreCase));

    // ------------------------------------------------------------------ services and environments

    /// <summary>
    /// The environments an incident touched: the prefix of environment/service entries, or, for a bare service name, the
    /// one environment of the configuration that has a service of that name (none when it is unknown or ambiguous).
    /// </summary>
    private static Func<Incident, IReadOnlyList<string>> EnvironmentResolver(IncidentOpsConfig? config)
    {
        var byName = (config?.Services ?? []).GroupBy(s => s.Service, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Select(s => s.Environment).Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), StringComparer.OrdinalIgnoreCase);
        return i =>
        {
            var list = new List<string>();
            foreach (var s in i.Services)
            {
                var env = EnvironmentOf(s, byName);
                if (env is not null && !list.Contains(env, StringComparer.OrdinalIgnoreCase)) list.Add(env);
            }
            return list;
        };
    }

    private static string? EnvironmentOf(string service, Dictionary<string, string[]> byName)
    {
        var slash = service.IndexOf('/');
        if (slash > 0) return service[..slash];
        return byName.TryGetValue(service, out var envs) && envs.Length == 1 ? envs[0] : null;
    }

    /// <summary>
    /// A recorded service matches a filter given as environment/service (exactly, or a bare record of that service in
    /// that environment) or as a service name (in any environment).
    /// </summary>
    private static bool ServiceMatches(string recorded, string filter, Func<Incident, IReadOnlyList<string>> environments)
    {
        filter = filter.Trim();
        var name = recorded.Contains('/') ? recorded[(recorded.IndexOf('/') + 1)..] : recorded;
        if (!filter.Contains('/')) return string.Equals(name, filter, StringComparison.OrdinalIgnoreCase);
        if (string.Equals(recorded, filter, StringComparison.OrdinalIgnoreCase)) return true;
        if (recorded.Contains('/')) return false;
        var filterName = filter[(filter.IndexOf('/') + 1)..];
        var filterEnv = filter[..filter.IndexOf('/')];
        return string.Equals(name, filterName, StringComparison.OrdinalIgnoreCase)
            && environments(new Incident { Id = "x", Title = "", Severity = "", Services = [recorded] }).Contains(filterEnv, StringComparer.OrdinalIgnoreCase);
    }

    // ------------------------------------------------------------------ the compact cadence record

    /// <summary>Adds a delivered update's time to the record's UpdatesSentAt (once, in order).</summary>
    public static void RecordUpdateSent(Incident incident, DateTimeOffset at)
    {
        var list = incident.UpdatesSentAt ??= [];
        if (list.Contains(at)) return;
        list.Add(at);
        list.Sort();
    }

    // ------------------------------------------------------------------ text

    /// <summary>A duration as the module writes them (7m, 1h05m, 2d03h).</summary>
    public static string Show(TimeSpan t) => Duration.Format(t < TimeSpan.Zero ? TimeSpan.Zero : t);

    /// <summary>Show for the few configured targets and cadences, which every incident's reason names: formatted once.</summary>
    private static string ShowSetting(TimeSpan t) => Settings.GetOrAdd(t, x => Show(x));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<TimeSpan, string> Settings = new();

    private static string Clock(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}

/// <summary>Error ids of the incident metrics and the review report (a contract).</summary>
public static class IncidentMetricErrorIds
{
    /// <summary>-Until is not after -Since.</summary>
    public const string PeriodInvalid = "IncidentMetricPeriodInvalid";
    /// <summary>-Since/-Until is neither a date nor a duration.</summary>
    public const string PeriodBoundInvalid = "IncidentMetricPeriodBoundInvalid";
    /// <summary>New-IncidentReport -Kind Review was given -Incident, or -Since/-Until without -Kind Review.</summary>
    public const string ReviewParameterConflict = "ReviewReportParameterConflict";
}
