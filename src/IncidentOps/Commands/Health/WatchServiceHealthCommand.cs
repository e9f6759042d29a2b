using System.Management.Automation;
using IncidentOps.Engine.Health;
using IncidentOps.Health;

namespace IncidentOps.Commands;

/// <summary>Probes health endpoints every few seconds, writing each result as it arrives and a summary at the end.</summary>
/// <remarks>
/// Replaces the seeds' `watch -n 5 curl ...` while a fix rolls out and "monitor for 30 minutes" after it. Every
/// -Interval all targets are probed (in parallel, up to -ThrottleLimit) with the same options as
/// Test-ServiceHealth; each HealthResult is written as soon as it completes, and progress shows elapsed and
/// remaining time and the last state.
///
/// The watch ends after -Duration, or as soon as every target is healthy (-UntilHealthy) or any target is
/// unhealthy (-UntilUnhealthy) for -Consecutive rounds in a row, or on Ctrl+C. Without -Duration and without an
/// -Until switch it runs until Ctrl+C. It then writes a HealthWatchSummary: rounds, samples, failures, first and
/// last failure times, the longest outage and why it stopped.
///
/// With -Record the watch goes on the incident's timeline, and its samples are kept as the incident's health evidence:
/// the HTML post-mortem (New-IncidentReport -Format Html) charts their latency and failures over time.
/// </remarks>
/// <example>
/// <code>Watch-ServiceHealth https://ai-affiliate-empire.fly.dev/health -Interval 5s -UntilHealthy -Consecutive 3</code>
/// <para>While a fix rolls out: probes every 5 seconds and stops once three rounds in a row were healthy.</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService production/api | Watch-ServiceHealth -Interval 30s -Duration 30m | Select-Object -Last 1</code>
/// <para>After the fix: watches the service for 30 minutes and keeps the summary (failures, longest outage).</para>
/// </example>
/// <example>
/// <code>Watch-ServiceHealth -Service production/api -IntervalSec 60 -Alert</code>
/// <para>The on-call engineer's watch with the scheduled job's rules: declares, updates and recovers incidents exactly as Invoke-ServiceAlert would, and writes each AlertDecision.</para>
/// </example>
[Cmdlet(VerbsCommon.Watch, "ServiceHealth", DefaultParameterSetName = UriSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HealthResult), typeof(HealthWatchSummary), typeof(IncidentOps.Alerting.AlertDecision))]
public sealed class WatchServiceHealthCommand : HealthProbeCmdlet
{
    /// <summary>Time between the starts of two rounds of probes: 5s, 1m, 00:00:30, or a number of seconds (default 5s). The old name -IntervalSec still works (a bare number is seconds, as before).</summary>
    [Parameter]
    [Alias("IntervalSec")]
    [DurationTransformation]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to watch: 30m, 1h, 00:10:00, or a number of seconds. Omitted: until an -Until switch is satisfied or Ctrl+C. The old name -DurationSec still works (a bare number is seconds, as before).</summary>
    [Parameter]
    [Alias("DurationSec")]
    [DurationTransformation]
    public TimeSpan? Duration { get; set; }

    /// <summary>Stops once every target has been healthy for -Consecutive rounds in a row.</summary>
    [Parameter]
    public SwitchParameter UntilHealthy { get; set; }

    /// <summary>Stops once some target has been unhealthy for -Consecutive rounds in a row.</summary>
    [Parameter]
    public SwitchParameter UntilUnhealthy { get; set; }

    /// <summary>Rounds in a row the -UntilHealthy or -UntilUnhealthy state must hold (default 1).</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int Consecutive { get; set; } = 1;

    /// <summary>Applies the alerting rules of incidentops.yml (the same as Invoke-ServiceAlert, state in the incident store) to each round of each configured service, and writes an AlertDecision per service and round. With -WhatIf the decisions are previews and nothing is declared, sent or changed.</summary>
    [Parameter]
    public SwitchParameter Alert { get; set; }

    /// <summary>The shortest -Interval (the old -IntervalSec allowed 0.01).</summary>
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(10);

    protected override void EndProcessing()
    {
        if (UntilHealthy && UntilUnhealthy)
            ThrowInputError(HealthErrorIds.HealthWatchConflictingStop, "-UntilHealthy and -UntilUnhealthy cannot be used together. Pick the state that should end the watch.", null);
        if (Interval < MinimumInterval)
            ThrowInputError(HealthErrorIds.HealthWatchIntervalTooShort, $"-Interval {IncidentOps.Duration.Format(Interval)} is shorter than {MinimumInterval.TotalMilliseconds:0} ms; a watch that fast would only measure itself. Use 1s or more (for example -Interval 5s).", Interval);
        if (Duration is { } d && d <= TimeSpan.Zero)
            ThrowInputError(HealthErrorIds.HealthWatchDurationNotPositive, "-Duration 0 would end the watch before its first round. Omit -Duration to watch until an -Until switch or Ctrl+C, or give a length (for example -Duration 30m).", d);
        if (Requests.Count > 0)
        {
            var options = new WatchOptions
            {
                Interval = Interval,
                Duration = Duration ?? TimeSpan.Zero,
                Until = UntilHealthy ? WatchUntil.Healthy : UntilUnhealthy ? WatchUntil.Unhealthy : WatchUntil.None,
                Consecutive = Consecutive,
                ThrottleLimit = ThrottleLimit,
            };
            HealthWatchSummary? summary = null;
            if (Alert) summary = WatchAndAlert(options);
            else InvokeStreaming<HealthResult>(async (emit, ct) => summary = await Engine.Health.WatchAsync(Requests, options, r => { Keep(r); emit(r); }, ct).ConfigureAwait(false));
            if (summary is not null)
            {
                WriteObject(summary);
                if (RecordRead(ProbedTargets(), "Watch health", summary.ToString()) is { } incidentId && !IsWhatIf) SaveSamples(incidentId);
            }
        }
        base.EndProcessing();
    }

    /// <summary>The samples of this watch, kept for -Record (the post-mortem charts their latency and failures).</summary>
    private readonly List<HealthResult> _samples = [];

    private void Keep(HealthResult result)
    {
        if (!RecordRequested) return;
        lock (_samples) _samples.Add(result);
    }

    /// <summary>-Record: the watch's samples go to the incident as health evidence, beside the timeline entry of the watch.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void SaveSamples(string incidentId)
    {
        List<HealthResult> samples;
        lock (_samples) samples = [.. _samples];
        IncidentOps.Config.IncidentOpsConfig? config = null;
        try { config = Engine.Config.LoadOrThrow(ConfigPath is null ? null : ResolvePath(ConfigPath), CurrentDirectory); }
        catch (IncidentOpsException) { /* the timeline entry went to the default store: so do its samples */ }
        var context = new IncidentOps.Engine.Incidents.ChangeContext(MyInvocation.MyCommand?.Name, SafeParameters());
        if (TryInvoke(ct => Engine.Evidence.SaveHealthSamplesAsync(config, incidentId, samples, context, ct), out var saved, incidentId) && saved is not null)
            WriteVerbose($"Kept {samples.Count} health sample(s) on {incidentId} as {saved.Path}.");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private HealthWatchSummary? WatchAndAlert(WatchOptions options)
    {
        var services = Requests.Where(r => r.Service is not null).Select(r => r.Service).Distinct().Count();
        if (services == 0)
            ThrowInputError(IncidentOps.Engine.Alerting.AlertingErrorIds.ResultWithoutService, "-Alert applies the alerting rules of configured services: pass -Service or pipe Get-IncidentOpsService, not -Uri.", null);
        var apply = ShouldProcess($"{services} service(s)", "Apply the alerting rules (declare, update, page, recover)");
        if (!apply && !IsWhatIf) return null;
        var config = Config;
        var context = new IncidentOps.Engine.Incidents.ChangeContext(MyInvocation.MyCommand?.Name, SafeParameters());
        HealthWatchSummary? summary = null;
        InvokeStreaming<object>(async (emit, ct) => summary = await Engine.Alerting.WatchAsync(config, Requests, options, !apply, context, o => { if (o is HealthResult r) Keep(r); emit(o); }, ct).ConfigureAwait(false));
        return summary;
    }
}
