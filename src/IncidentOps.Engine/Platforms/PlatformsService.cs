using System.Diagnostics;
using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Engine.Health;
using IncidentOps.Health;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>How a followed log ended: the entries shown, and whether -TimeoutSec ended it (else the CLI ended its stream).</summary>
public sealed record LogFollowResult(int Entries, bool TimedOut, TimeSpan Elapsed);

/// <summary>The outcome of a health verification: whether it passed and what was checked (one line for the steps).</summary>
public sealed record HealthVerdict(bool Healthy, string Detail, bool UsedHealthChecks);

/// <summary>The Platforms area: opens the adapter for a target and runs the runbook steps common to all platforms.</summary>
public sealed partial class PlatformsService(IOperationSink sink, HealthService? health = null)
{
    private readonly HealthService _health = health ?? new HealthService(sink);

    /// <summary>The DigitalOcean API base; null: DIGITALOCEAN_API_URL or the real API, read when a DigitalOcean app is opened (tests point it at a loopback server).</summary>
    public Uri? DigitalOceanApi { get; set; }

    /// <summary>
    /// The instance count Set-AppScale -Count changes from, read with the adapter's timeout. A count that cannot be read
    /// (the CLI failed, timed out, or answered something unexpected) is a reading without a count that says why: the
    /// scale is then confirmed as a large one, never refused for it.
    /// </summary>
    public async Task<ScaleReading> ReadInstanceCountAsync(IPlatformAdapter adapter, CancellationToken cancellationToken)
    {
        try { return new ScaleReading(await adapter.GetInstanceCountAsync(cancellationToken).ConfigureAwait(false), null); }
        catch (IncidentOpsException ex)
        {
            // One line for the prompt: the CLI's own words (stderr) are on the lines after the first, and say the most.
            var why = string.Join(": ", ex.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');
            if (why.Length > 300) why = why[..297] + "...";
            sink.Verbose($"The current instance count of {adapter.Target} could not be read ({ex.ErrorId}): {why}.");
            return new ScaleReading(null, why);
        }
    }

    /// <summary>Opens the adapter of a target through its platform's provider (PlatformRegistry), after checking every name it hands a CLI.</summary>
    public IPlatformAdapter Open(AppTarget target, ToolPaths? paths, ToolPaths? configured, TimeSpan timeout)
    {
        TargetNames.CheckCommon(target);
        return PlatformRegistry.Open(target, new ProviderContext(new ProcessRunner(sink, new ToolResolver(paths, configured)), timeout, sink, this));
    }

    // The cmdlets reach a platform only through this service: reads, and the plans of changes (what -WhatIf prints).
    public Task<AppStatus> GetStatusAsync(IPlatformAdapter adapter, CancellationToken ct) => adapter.GetStatusAsync(ct);
    public Task<IReadOnlyList<AppDeployment>> GetDeploymentsAsync(IPlatformAdapter adapter, CancellationToken ct) => adapter.GetDeploymentsAsync(ct);
    public PlannedChange PlanRestart(IPlatformAdapter adapter, string? instance, bool wait) => adapter.PlanRestart(instance, wait);
    public PlannedChange PlanScale(IPlatformAdapter adapter, int? count, string? size) => adapter.PlanScale(count, size);
    public PlannedChange PlanSetSettings(IPlatformAdapter adapter, IReadOnlyDictionary<string, string> values, bool secret)
    {
        // The name goes into NAME=value (kubectl set env's argument, flyctl's stdin line, an app spec's key): one that is
        // not a variable name could be read as an option (--context=prod-eu: another cluster) or name another setting.
        foreach (var key in values.Keys.Where(k => !SettingName().IsMatch(k)))
            throw new IncidentOpsException(PlatformErrorIds.AppSettingInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"-Setting names '{(key.Length > 80 ? key[..80] + "…" : key)}', which is not an environment variable name: use letters, digits, '_', '.' and '-', starting with a letter or '_' (for example PAYMENT_PROVIDER). Nothing was changed on {adapter.Target}.")
            { TargetObject = key };
        return adapter.PlanSetSettings(values, secret);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.-]*\z")]
    private static partial System.Text.RegularExpressions.Regex SettingName();
    public PlannedChange PlanFinishRollback(IPlatformAdapter adapter, bool commit) => adapter.PlanFinishRollback(commit);

    /// <summary>
    /// The events of the app's workload and its instances (Get-AppEvent), oldest first; PlatformOperationNotSupported
    /// on a platform that keeps none.
    /// </summary>
    public Task<IReadOnlyList<AppEvent>> GetEventsAsync(IPlatformAdapter adapter, EventQuery query, CancellationToken ct) =>
        adapter is IPlatformEvents events ? events.GetEventsAsync(query, ct)
            : throw new IncidentOpsException(PlatformErrorIds.PlatformOperationNotSupported, IncidentOpsErrorCategory.NotImplemented,
                $"{adapter.Target} has no event stream: Get-AppEvent reads Kubernetes Events (kubectl get events). For {adapter.Target.Platform}, Get-AppStatus shows each instance's state and last exit (OOMKilled, exit codes) and Get-AppLog the platform's log.") { TargetObject = adapter.Target.ToString() };

    /// <summary>
    /// The releases a rollback can go to, without the current one: what -ToVersion completes from. Successful
    /// releases come first (the last good one leads), then the failed ones, each group newest first.
    /// The whole lookup (process start included) is bounded by timeout, because a user is waiting at the prompt.
    /// </summary>
    public async Task<IReadOnlyList<AppDeployment>> GetRollbackChoicesAsync(AppTarget target, ToolPaths? paths, ToolPaths? configured, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var lookup = Task.Run(async () => await Open(target, paths, configured, timeout).GetDeploymentsAsync(cts.Token).ConfigureAwait(false), cts.Token);
        var finished = await Task.WhenAny(lookup, Task.Delay(timeout, ct)).ConfigureAwait(false);
        if (finished != lookup) { cts.Cancel(); return []; }
        try { return (await lookup.ConfigureAwait(false)).Where(d => !d.IsCurrent).OrderBy(d => !d.Succeeded).ToList(); }
        // Out of time (the lookup's own cancel or the CLI's timeout): nothing to offer. The caller's cancel still propagates.
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return []; }
        catch (IncidentOpsException ex) when (ex.ErrorId == PlatformErrorIds.PlatformCommandTimedOut) { return []; }
    }

    /// <summary>
    /// Logs with the filters applied (LogFilter: -Since, -Pattern as a case-insensitive regex like the seeds' grep -i,
    /// -Level, -Instance). Credentials inside log lines are masked, as in the evidence copy of the same lines, unless
    /// <paramref name="redact"/> is false (Get-AppLog -NoRedaction).
    /// </summary>
    public async Task<IReadOnlyList<AppLogEntry>> GetLogsAsync(IPlatformAdapter adapter, LogQuery query, CancellationToken ct, bool redact = true)
    {
        var filter = LogFilter.Create(query);
        var entries = (await adapter.GetLogsAsync(query, ct).ConfigureAwait(false)).Where(filter.Matches);
        return redact ? entries.Select(Redacted).ToList() : entries.ToList();
    }

    /// <summary>
    /// Follows an app's log (Get-AppLog -Follow): every entry that passes the same filters as a read goes to
    /// <paramref name="emit"/> as the CLI prints it, redacted unless asked not to. It runs until the CLI ends its stream,
    /// <paramref name="ct"/> is cancelled (Ctrl+C, the pipeline stopped: OperationCanceledException) or
    /// <paramref name="duration"/> passes, which is the end the user asked for: it returns normally, saying so.
    /// The CLI is killed on every way out. The CLI is read no faster than <paramref name="emit"/> completes: hand the
    /// entries on through a <see cref="LogHandoff"/>, whose wait (when the consumer lags) holds the CLI back.
    /// </summary>
    public async Task<LogFollowResult> FollowLogsAsync(IPlatformAdapter adapter, LogQuery query, TimeSpan? duration, Func<AppLogEntry, CancellationToken, ValueTask> emit, CancellationToken ct, bool redact = true)
    {
        var filter = LogFilter.Create(query);
        var count = 0;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (duration is { } d) limit.CancelAfter(d);
        var started = Stopwatch.StartNew();
        try
        {
            await adapter.FollowLogsAsync(query, async (e, token) =>
            {
                if (!filter.Matches(e)) return;
                // Counted once handed on: an entry still waiting for room when the follow ends was not shown.
                await emit(redact ? Redacted(e) : e, token).ConfigureAwait(false);
                count++;
            }, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            sink.Verbose($"Stopped following the log of {adapter.Target} after {duration!.Value.TotalSeconds:0.###} s (-TimeoutSec), as asked; {count} entr{(count == 1 ? "y" : "ies")} shown. The CLI was stopped.");
            return new LogFollowResult(count, true, started.Elapsed);
        }
        sink.Verbose($"The log stream of {adapter.Target} ended after {started.Elapsed.TotalSeconds:0.#} s; {count} entr{(count == 1 ? "y" : "ies")} shown.");
        return new LogFollowResult(count, false, started.Elapsed);
    }

    private static AppLogEntry Redacted(AppLogEntry e)
    {
        var message = SecretRedactor.Redact(e.Message);
        return message == e.Message ? e : new AppLogEntry { Platform = e.Platform, Name = e.Name, Timestamp = e.Timestamp, Instance = e.Instance, Level = e.Level, Message = message };
    }

    /// <summary>
    /// An app's settings. A value that is named like a secret or carries a credential is marked IsSecret and shown
    /// masked (or not at all), unless <paramref name="redact"/> is false (Get-AppSetting -NoRedaction).
    /// </summary>
    public async Task<IReadOnlyList<AppSetting>> GetSettingsAsync(IPlatformAdapter adapter, bool redact, CancellationToken ct)
    {
        var settings = await adapter.GetSettingsAsync(ct).ConfigureAwait(false);
        return settings.Select(s =>
        {
            var (value, secret) = SecretRedactor.RedactSetting(s.Key, s.Value, s.IsSecret);
            if (!redact) value = s.Value;
            return value == s.Value && secret == s.IsSecret ? s : new AppSetting { Platform = s.Platform, Name = s.Name, Key = s.Key, Value = value, IsSecret = secret };
        }).ToList();
    }

    /// <summary>Runs a planned change; with wait, verifies the app is healthy again (see VerifyHealthyAsync) or the timeout passes.</summary>
    public async Task<AppActionResult> RunChangeAsync(IPlatformAdapter adapter, string action, PlannedChange change, bool wait, TimeSpan timeout, CancellationToken ct)
    {
        var output = await change.Execute(ct).ConfigureAwait(false);
        AppState? after = null;
        if (wait)
        {
            var verdict = await VerifyHealthyAsync(adapter, timeout, ct).ConfigureAwait(false);
            after = verdict.Healthy ? AppState.Healthy
                : verdict.UsedHealthChecks ? AppState.Degraded
                : (await adapter.GetStatusAsync(ct).ConfigureAwait(false)).State;
            output = string.Join(Environment.NewLine, new[] { output, verdict.Detail }.Where(o => o.Length > 0));
        }
        return new AppActionResult
        {
            Platform = adapter.Target.Platform, Name = adapter.Target.Name, Action = action, Commands = change.Commands,
            Succeeded = !wait || after == AppState.Healthy, StateAfter = after, Output = SecretRedactor.Redact(output),
        };
    }

    /// <summary>
    /// Verifies the app is healthy: the configured service's health checks through the health engine until all pass
    /// or the timeout passes; without configured health endpoints, the platform status (Get-AppStatus) instead.
    /// </summary>
    /// <summary>
    /// What a verification leaves before the command's deadline: stopping a status call that hangs (killing its
    /// process tree) and recording the result must fit in it, so the rollback's result is not lost to the deadline.
    /// </summary>
    private static readonly TimeSpan VerifyReserve = TimeSpan.FromSeconds(1);

    public async Task<HealthVerdict> VerifyHealthyAsync(IPlatformAdapter adapter, TimeSpan timeout, CancellationToken ct)
    {
        // A verification ends with a verdict (healthy or not), so it must finish before the command's deadline cancels it.
        var asked = timeout;
        timeout = OperationDeadline.Cap(timeout, VerifyReserve);
        var target = adapter.Target;
        if (target.Health.Count == 0)
        {
            sink.Verbose($"{target} has no health endpoints in the configuration (health: under the service); verifying with the platform status instead.");
            var healthy = await WaitHealthyAsync(adapter, timeout, ct).ConfigureAwait(false);
            return new HealthVerdict(healthy, healthy ? "verified: healthy (platform status)" : $"verified: not healthy within {asked.TotalSeconds:0} s (platform status)", false);
        }
        return await WaitHealthChecksAsync(target, timeout, asked, ct).ConfigureAwait(false);
    }

    /// <summary>Probes every configured health endpoint each round (backing off 1, 2, 4, 5 s) until all are healthy or the timeout passes.</summary>
    private async Task<HealthVerdict> WaitHealthChecksAsync(AppTarget target, TimeSpan timeout, TimeSpan asked, CancellationToken ct)
    {
        var endpoints = target.Health.Select(e => (Endpoint: e, Uri: HealthService.ParseUri(e.Url), Conditions: HealthService.ParseConditions(e.Conditions))).ToList();
        sink.Verbose($"Verifying {target} with its {endpoints.Count} configured health check(s): {string.Join(", ", endpoints.Select(e => e.Uri))}");
        var sw = Stopwatch.StartNew();
        var attempt = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var remaining = timeout - sw.Elapsed;
            if (remaining < TimeSpan.FromMilliseconds(100)) remaining = TimeSpan.FromMilliseconds(100);
            var requests = endpoints.Select(e => new ProbeRequest
            {
                Uri = e.Uri, Service = target.Service, Method = e.Endpoint.Method ?? "GET", ExpectStatus = e.Endpoint.ExpectStatus, Conditions = e.Conditions, CaCertificate = e.Endpoint.CaCertificate,
                Timeout = e.Endpoint.Timeout is { } t && t < remaining ? t : remaining < TimeSpan.FromSeconds(10) ? remaining : TimeSpan.FromSeconds(10),
            }).ToList();
            var results = new List<HealthResult>();
            await _health.ProbeManyAsync(requests, 4, r => { lock (results) results.Add(r); }, ct).ConfigureAwait(false);
            attempt++;
            var summary = string.Join(", ", results.OrderBy(r => r.Uri, StringComparer.Ordinal).Select(r => $"{r.Uri} {(r.Healthy ? "healthy" : r.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? r.Reason ?? "unhealthy")}"));
            var allHealthy = results.Count == requests.Count && results.All(r => r.Healthy);
            sink.Progress(new OperationProgress(62, $"Verifying {target.Name}", $"round {attempt}: {summary}"));
            if (allHealthy)
            {
                sink.Progress(new OperationProgress(62, $"Verifying {target.Name}", "healthy", Completed: true));
                return new HealthVerdict(true, $"verified: healthy after {attempt} round(s) of health checks ({summary})", true);
            }
            sink.Verbose($"Health checks of {target.Name}, round {attempt}: {summary}");
            if (sw.Elapsed >= timeout)
            {
                sink.Progress(new OperationProgress(62, $"Verifying {target.Name}", "not healthy", Completed: true));
                return new HealthVerdict(false, $"verified: not healthy within {asked.TotalSeconds:0} s ({summary})", true);
            }
            var delay = TimeSpan.FromSeconds(Math.Min(5, 1 << Math.Min(attempt - 1, 3)));
            if (delay > timeout - sw.Elapsed) delay = timeout - sw.Elapsed;
            if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Polls Get-AppStatus until Healthy; false when the timeout passes first.</summary>
    public async Task<bool> WaitHealthyAsync(IPlatformAdapter adapter, TimeSpan timeout, CancellationToken ct)
    {
        timeout = OperationDeadline.Cap(timeout, VerifyReserve);
        var sw = Stopwatch.StartNew();
        var attempt = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            AppStatus status;
            using (var poll = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                // A status call that hangs ends the wait with "not healthy", not with the command's deadline.
                poll.CancelAfter(timeout - sw.Elapsed > TimeSpan.Zero ? timeout - sw.Elapsed : TimeSpan.Zero);
                try { status = await adapter.GetStatusAsync(poll.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return false; }
            }
            sink.Progress(new OperationProgress(61, $"Waiting for {adapter.Target.Name}", $"{status.State} {status.ReadyInstances}/{status.DesiredInstances} ready"));
            if (status.State == AppState.Healthy) { sink.Progress(new OperationProgress(61, $"Waiting for {adapter.Target.Name}", "healthy", Completed: true)); return true; }
            if (sw.Elapsed >= timeout) return false;
            var delay = TimeSpan.FromSeconds(Math.Min(10, 1 << Math.Min(attempt++, 3)));
            if (delay > timeout - sw.Elapsed) delay = timeout - sw.Elapsed;
            if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Prepares a rollback, the one path for every platform: reads the history, chooses the target (RollbackChoice),
    /// has the adapter plan the commands, and adds the notes on the choice to the plan's warnings.
    /// </summary>
    public async Task<PreparedRollback> PrepareRollbackAsync(IPlatformAdapter adapter, string? toVersion, CancellationToken ct)
    {
        var history = await adapter.GetDeploymentsAsync(ct).ConfigureAwait(false);
        var choice = RollbackChoice.Choose(adapter.Target, history, toVersion, sink);
        var prepared = adapter.PlanRollback(choice.From, choice.To);
        if (choice.Notes.Count == 0) return prepared;
        var p = prepared.Plan;
        return prepared with { Plan = new RollbackPlan { Target = p.Target, From = p.From, To = p.To, ToImage = p.ToImage, Commands = p.Commands, Warnings = [.. p.Warnings, .. choice.Notes] } };
    }

    /// <summary>Performs a prepared rollback and, when asked, verifies the app is healthy afterwards.</summary>
    public async Task<RollbackResult> RollbackAsync(IPlatformAdapter adapter, PreparedRollback prepared, bool verifyHealth, TimeSpan timeout, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var plan = prepared.Plan;
        // The plan was made before the confirmation, which can stay open for minutes: read the history again, so a
        // release deployed meanwhile is never replaced by the plan's older target. The platform's own read-only checks
        // run first, so nothing but the change itself follows the re-check.
        if (prepared.CheckFirst is { } check) await check(ct).ConfigureAwait(false);
        RollbackChoice.EnsureStillCurrent(adapter.Target, plan, await adapter.GetDeploymentsAsync(ct).ConfigureAwait(false));
        sink.Verbose($"Rolling back {adapter.Target}: {plan.From} -> {plan.To}");
        var steps = (await prepared.Execute(ct).ConfigureAwait(false)).ToList();
        bool? healthy = null;
        if (verifyHealth)
        {
            var verdict = await VerifyHealthyAsync(adapter, timeout, ct).ConfigureAwait(false);
            healthy = verdict.Healthy;
            steps.Add(verdict.Detail);
        }
        return new RollbackResult
        {
            Platform = adapter.Target.Platform, Name = adapter.Target.Name, From = plan.From, To = plan.To, ToImage = plan.ToImage,
            Succeeded = healthy ?? true, HealthyAfter = healthy, Duration = sw.Elapsed, Steps = steps.Select(SecretRedactor.Redact).ToList(), Warnings = plan.Warnings,
        };
    }
}
