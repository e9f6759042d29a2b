using System.Collections;
using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine.Health;
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
/// <code>Test-ServiceHealth https://api.example.com/health -Count 10 -IntervalMs 1000 | Format-List SuccessRatio, MinMs, P50Ms, P95Ms, MaxMs, Failures</code>
/// <para>The seeds' availability loop: ten probes a second apart, with success ratio, latency spread and every failure reason.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "ServiceHealth", DefaultParameterSetName = UriSet)]
[OutputType(typeof(HealthResult))]
[OutputType(typeof(bool))]
public sealed class TestServiceHealthCommand : ConfiguredCmdlet
{
    private const string UriSet = "Uri";
    private const string ServiceSet = "Service";
    private const string TargetSet = "InputObject";

    private readonly List<ProbeRequest> _requests = [];
    private IReadOnlyList<HealthCondition>? _conditions;

    /// <summary>URIs to probe (absolute http:// or https://). Accepts strings from the pipeline.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public string[] Uri { get; set; } = [];

    /// <summary>Service targets from Get-IncidentOpsService; each configured health endpoint is probed with its expectStatus, method, conditions and timeout.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = TargetSet)]
    public ServiceTarget[] InputObject { get; set; } = [];

    /// <summary>Service names ("environment/service", or the name alone when unambiguous; wildcards allowed) whose configured health endpoints are probed. With -Environment alone, every service of that environment.</summary>
    [Parameter(ParameterSetName = ServiceSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Environment the -Service names are looked up in.</summary>
    [Parameter(ParameterSetName = ServiceSet)]
    public string? Environment { get; set; }

    /// <summary>HTTP method (GET by default, or the endpoint's configured method).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Method { get; set; }

    /// <summary>Request headers, e.g. @{ Authorization = 'Bearer ...'; Accept = 'application/json' }. Values are never written to output.</summary>
    [Parameter]
    public IDictionary? Header { get; set; }

    /// <summary>Request body (sent with methods other than GET and HEAD); JSON bodies get Content-Type application/json unless -Header sets one.</summary>
    [Parameter]
    public string? Body { get; set; }

    /// <summary>Status codes that count as healthy. Defaults to any 2xx (or the endpoint's configured expectStatus).</summary>
    [Parameter]
    [ValidateRange(100, 599)]
    public int[]? ExpectStatus { get; set; }

    /// <summary>Gatus-style conditions that must all hold: '[STATUS] == 200', '[BODY].status == ok', '[RESPONSE_TIME] &lt; 300', '[HEADER].X == y', '[CERTIFICATE_EXPIRATION] &gt; 48h'. Added to configured conditions.</summary>
    [Parameter]
    public string[]? Condition { get; set; }

    /// <summary>Seconds one probe may take, connection, TLS, redirects and body included (default 10, or the endpoint's configured timeout).</summary>
    [Parameter]
    [ValidateRange(0.001, 3600)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Accepts any certificate (self-signed, expired, wrong host). Certificate facts and validation errors are still reported.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Reports a 3xx response as it is instead of following it.</summary>
    [Parameter]
    public SwitchParameter NoFollowRedirect { get; set; }

    /// <summary>Probes each target this many times in a row; the result carries SuccessRatio, MinMs/P50Ms/P95Ms/MaxMs and every failure.</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int Count { get; set; } = 1;

    /// <summary>Milliseconds between the probes of one target with -Count.</summary>
    [Parameter]
    [ValidateRange(0, 3600000)]
    public int IntervalMs { get; set; } = 1000;

    /// <summary>How many targets are probed at once (default 32).</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>Returns one boolean: $true when every target is healthy.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void BeginProcessing()
    {
        try { _conditions = HealthService.ParseConditions(Condition); }
        catch (IncidentOpsException ex) { ThrowTerminatingError(ToErrorRecord(ex, ex.TargetObject)); }
        // Credentials in headers must never reach verbose text, errors or the timeline.
        if (Header is not null)
            foreach (DictionaryEntry h in Header)
                if (IsSecretHeader(h.Key.ToString()) && h.Value?.ToString() is { Length: > 0 } v) SecretRedactor.Register(v);
        base.BeginProcessing();
    }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case UriSet:
                foreach (var u in Uri) AddUri(u, null, null);
                break;
            case TargetSet:
                foreach (var target in InputObject) AddService(target);
                break;
            default:
                foreach (var target in ResolveServices(Environment, Service is { Length: > 0 } ? Service : ["*"])) AddService(target);
                break;
        }
    }

    private void AddService(ServiceTarget target)
    {
        if (target.Health.Count == 0)
        {
            WriteInputError("HealthEndpointNotConfigured", $"The service '{target.FullName}' has no health endpoints in the configuration. Add 'health: [https://.../health]' under it, or pass -Uri.", target.FullName, IncidentOpsErrorCategory.ObjectNotFound);
            return;
        }
        foreach (var endpoint in target.Health) AddUri(endpoint.Url, target.FullName, endpoint);
    }

    private void AddUri(string value, string? service, HealthEndpoint? endpoint)
    {
        Uri uri;
        try { uri = HealthService.ParseUri(value); }
        catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, value)); return; }
        IReadOnlyList<HealthCondition> configured;
        try { configured = HealthService.ParseConditions(endpoint?.Conditions); }
        catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, service ?? value)); return; }
        var bound = MyInvocation.BoundParameters;
        _requests.Add(new ProbeRequest
        {
            Uri = uri,
            Service = service,
            Method = Method ?? endpoint?.Method ?? "GET",
            Headers = Headers(),
            Body = Body,
            ExpectStatus = ExpectStatus ?? endpoint?.ExpectStatus,
            Conditions = [.. configured, .. _conditions ?? []],
            Timeout = !bound.ContainsKey(nameof(TimeoutSec)) && endpoint?.Timeout is { } t ? t : TimeSpan.FromSeconds(TimeoutSec),
            SkipCertificateCheck = SkipCertificateCheck,
            FollowRedirects = !NoFollowRedirect,
            Count = Count,
            Interval = TimeSpan.FromMilliseconds(IntervalMs),
        });
    }

    private static bool IsSecretHeader(string? name) => name is not null &&
        (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.Equals("Cookie", StringComparison.OrdinalIgnoreCase)
         || name.Contains("Token", StringComparison.OrdinalIgnoreCase) || name.Contains("Key", StringComparison.OrdinalIgnoreCase)
         || name.Contains("Secret", StringComparison.OrdinalIgnoreCase) || name.Contains("Auth", StringComparison.OrdinalIgnoreCase));

    private Dictionary<string, string> Headers()
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (Header is null) return headers;
        foreach (DictionaryEntry h in Header) headers[h.Key.ToString()!] = h.Value?.ToString() ?? "";
        return headers;
    }

    protected override void EndProcessing()
    {
        if (Quiet)
        {
            var allHealthy = _requests.Count > 0;
            Invoke(async ct =>
            {
                await Engine.Health.ProbeManyAsync(_requests, ThrottleLimit, r => { if (!r.Healthy) Volatile.Write(ref allHealthy, false); }, ct).ConfigureAwait(false);
                return true;
            });
            WriteObject(allHealthy);
        }
        else
        {
            InvokeStreaming<HealthResult>((emit, ct) => Engine.Health.ProbeManyAsync(_requests, ThrottleLimit, emit, ct));
        }
        base.EndProcessing();
    }
}
