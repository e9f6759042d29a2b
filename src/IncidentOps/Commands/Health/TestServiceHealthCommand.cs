using IncidentOps.Engine.Health;
using System.Management.Automation;
using IncidentOps.Health;

namespace IncidentOps.Commands;

/// <summary>Probes HTTP health endpoints and reports health, status, per-phase timings, JSON components and certificate facts.</summary>
/// <remarks>
/// Replaces the seeds' `curl -I .../health`, `curl -w "@curl-format.txt"`, `curl -vI | grep certificate` and
/// `for i in {1..10}; do curl ...; done` steps. Each target gets one HealthResult, written as soon as its
/// probe completes; targets are probed in parallel up to -ThrottleLimit, and Ctrl+C stops all of them at once.
///
/// A target is healthy when its status is expected (-ExpectStatus, any 2xx by default) and every -Condition
/// holds. Conditions follow Gatus: '[STATUS] == 200', '[BODY].status == ok', '[RESPONSE_TIME] &lt; 300',
/// '[HEADER].Content-Type == pat(*json*)', '[CERTIFICATE_EXPIRATION] &gt; 48h'.
///
/// An unhealthy target is a result, not an error: Healthy is $false, FailureKind is Timeout, ConnectionRefused,
/// ConnectionFailed, DnsFailure, TlsFailure, UnexpectedStatus, ConditionFailed or ProtocolError, and Reason says
/// why in words. Errors are reserved for bad input: an invalid URI (HealthUriInvalid), an unknown service
/// (ServiceNotFound), a service without health endpoints (HealthEndpointNotConfigured) or a condition that
/// does not parse (HealthConditionInvalid).
///
/// Timings are per phase, like curl's -w variables taken apart: DnsMs, ConnectMs, TlsMs, TimeToFirstByteMs
/// (from the request being sent to the response headers) and TotalMs, summed over redirects. Each probe opens
/// fresh connections, as curl does. Proxies are not used.
/// </remarks>
/// <example>
/// <code>Test-ServiceHealth https://ai-affiliate-empire.fly.dev/health, https://ai-affiliate-empire.fly.dev/health/services</code>
/// <para>Probes both endpoints in parallel; the /health/services result lists each component's status in Components.</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService -Environment production | Test-ServiceHealth | Where-Object { -not $_.Healthy }</code>
/// <para>Probes every configured health endpoint of every production service and keeps the unhealthy ones.</para>
/// </example>
/// <example>
/// <code>Test-ServiceHealth https://api.example.com/health -Condition '[BODY].status == ok', '[RESPONSE_TIME] &lt; 300', '[CERTIFICATE_EXPIRATION] &gt; 48h'</code>
/// <para>Healthy only when the JSON body says ok, the response took under 300 ms and the certificate is valid for two more days.</para>
/// </example>
/// <example>
/// <code>Test-ServiceHealth https://api.example.com/health -Count 10 -Interval 1s | Format-List SuccessRatio, MinMs, P50Ms, P95Ms, MaxMs, Failures</code>
/// <para>The seeds' availability loop: ten probes a second apart, with success ratio, latency spread and every failure reason.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "ServiceHealth", DefaultParameterSetName = UriSet)]
[OutputType(typeof(HealthResult))]
[OutputType(typeof(bool))]
public sealed class TestServiceHealthCommand : HealthProbeCmdlet
{
    /// <summary>Probes each target this many times in a row; the result carries SuccessRatio, MinMs/P50Ms/P95Ms/MaxMs and every failure.</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int Count { get; set; } = 1;

    /// <summary>Time between the probes of one target with -Count: 1s, 500ms, 00:00:02, or a number of seconds (default 1s).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The old form of -Interval, in milliseconds; kept so existing scripts keep working. It is a parameter of its own, not an alias of -Interval, because a bare number given to -Interval means seconds: -IntervalMs 10 as an alias would wait 10 seconds. Cannot be combined with -Interval.</summary>
    [Parameter]
    [ValidateRange(0, 3600000)]
    public int IntervalMs { get; set; }

    /// <summary>Returns one boolean: $true when every target is healthy.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override int RepeatCount => Count;

    protected override TimeSpan RepeatInterval =>
        MyInvocation.BoundParameters.ContainsKey(nameof(IntervalMs)) ? TimeSpan.FromMilliseconds(IntervalMs) : Interval;

    protected override void EndProcessing()
    {
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Interval)) && MyInvocation.BoundParameters.ContainsKey(nameof(IntervalMs)))
            ThrowInputError(HealthErrorIds.HealthIntervalConflict, "-Interval and -IntervalMs both set the time between probes. Use -Interval alone (for example -Interval 500ms).", IntervalMs);
        int healthy = 0, total = 0;
        void Count(HealthResult r)
        {
            Interlocked.Increment(ref total);
            if (r.Healthy) Interlocked.Increment(ref healthy);
        }
        if (Quiet)
        {
            var allHealthy = Requests.Count > 0;
            Invoke(async ct =>
            {
                await Engine.Health.ProbeManyAsync(Requests, ThrottleLimit, r => { Count(r); if (!r.Healthy) Volatile.Write(ref allHealthy, false); }, ct).ConfigureAwait(false);
                return true;
            });
            WriteObject(allHealthy);
        }
        else
        {
            InvokeStreaming<HealthResult>((emit, ct) => Engine.Health.ProbeManyAsync(Requests, ThrottleLimit, r => { Count(r); emit(r); }, ct));
        }
        if (Requests.Count > 0) RecordRead(ProbedTargets(), "Test health", $"{healthy} of {ReadSummary.Count(total, "probe")} healthy");
        base.EndProcessing();
    }
}
