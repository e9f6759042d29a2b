using System.Management.Automation;
using IncidentOps.Engine.Health;
using IncidentOps.Health;

namespace IncidentOps.Commands;

/// <summary>Probes health endpoints every few seconds, writing each result as it arrives and a summary at the end.</summary>
/// <remarks>
/// Replaces the seeds' `watch -n 5 curl ...` while a fix rolls out and "monitor for 30 minutes" after it. Every
/// -IntervalSec all targets are probed (in parallel, up to -ThrottleLimit) with the same options as
/// Test-ServiceHealth; each HealthResult is written as soon as it completes, and progress shows elapsed and
/// remaining time and the last state.
///
/// The watch ends after -DurationSec, or as soon as every target is healthy (-UntilHealthy) or any target is
/// unhealthy (-UntilUnhealthy) for -Consecutive rounds in a row, or on Ctrl+C. Without -DurationSec and without an
/// -Until switch it runs until Ctrl+C. It then writes a HealthWatchSummary: rounds, samples, failures, first and
/// last failure times, the longest outage and why it stopped.
/// </remarks>
/// <example>
/// <code>Watch-ServiceHealth https://ai-affiliate-empire.fly.dev/health -IntervalSec 5 -UntilHealthy -Consecutive 3</code>
/// <para>While a fix rolls out: probes every 5 seconds and stops once three rounds in a row were healthy.</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService production/api | Watch-ServiceHealth -IntervalSec 30 -DurationSec 1800 | Select-Object -Last 1</code>
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
    /// <summary>Seconds between the starts of two rounds of probes (default 5).</summary>
    [Parameter]
    [ValidateRange(0.01, 86400)]
    public double IntervalSec { get; set; } = 5;

    /// <summary>How long to watch, in seconds. Omitted: until an -Until switch is satisfied or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.01, 604800)]
    public double DurationSec { get; set; }

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

    protected override void EndProcessing()
    {
        if (UntilHealthy && UntilUnhealthy)
            ThrowInputError("HealthWatchConflictingStop", "-UntilHealthy and -UntilUnhealthy cannot be used together. Pick the state that should end the watch.", null);
        if (Requests.Count > 0)
        {
            var options = new WatchOptions
            {
                Interval = TimeSpan.FromSeconds(IntervalSec),
                Duration = TimeSpan.FromSeconds(DurationSec),
                Until = UntilHealthy ? WatchUntil.Healthy : UntilUnhealthy ? WatchUntil.Unhealthy : WatchUntil.None,
                Consecutive = Consecutive,
                ThrottleLimit = ThrottleLimit,
            };
            HealthWatchSummary? summary = null;
            if (Alert) summary = WatchAndAlert(options);
            else InvokeStreaming<HealthResult>(async (emit, ct) => summary = await Engine.Health.WatchAsync(Requests, options, emit, ct).ConfigureAwait(false));
            if (summary is not null)
            {
                WriteObject(summary);
                RecordRead(ProbedTargets(), "Watch health", summary.ToString());
            }
        }
        base.EndProcessing();
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
        InvokeStreaming<object>(async (emit, ct) => summary = await Engine.Alerting.WatchAsync(config, Requests, options, !apply, context, emit, ct).ConfigureAwait(false));
        return summary;
    }
}
