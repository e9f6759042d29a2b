using System.Collections;
using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Health;
using IncidentOps.Health;

namespace IncidentOps.Commands;

/// <summary>
/// What Test-ServiceHealth and Watch-ServiceHealth share: targets (URIs, service targets from the pipeline,
/// or service names through the configuration) and the request, check and connection options.
/// </summary>
public abstract class HealthProbeCmdlet : IncidentReadCmdlet
{
    protected const string UriSet = "Uri";
    protected const string ServiceSet = "Service";
    protected const string TargetSet = "InputObject";

    /// <summary>The probes collected from every input, run in EndProcessing so pipeline input fans out too.</summary>
    protected List<ProbeRequest> Requests { get; } = [];
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
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
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

    /// <summary>Seconds one probe may take, connection, TLS, redirects and body included. Default 10, or the endpoint's configured timeout: a health endpoint that takes longer than 10 s is down for its users, and a watch must keep its rhythm. Fractions are allowed (0.5).</summary>
    [Parameter]
    [ValidateRange(0.001, 3600)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Accepts any certificate (self-signed, expired, wrong host). Certificate facts and validation errors are still reported. For an emergency only: prefer -CaCertificate, which still refuses a server that is not the one you meant.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>The CA certificate to trust for an https:// endpoint whose certificate is signed by a private CA (an internal service's PKI, cert-manager's CA issuer) or is self-signed: the path of a PEM (or DER) file. The chain is verified against it for these probes only, and the host name is still checked; the system's trusted roots stay trusted too. Overrides caCertificate in the service's health entries in incidentops.yml.</summary>
    [Parameter]
    [Alias("CaCert")]
    [ValidateNotNullOrEmpty]
    public string? CaCertificate { get; set; }

    private TlsTrust? _trust;

    /// <summary>Reports a 3xx response as it is instead of following it.</summary>
    [Parameter]
    public SwitchParameter NoFollowRedirect { get; set; }

    /// <summary>How many targets are probed at once (default 32).</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>What was probed, for the timeline entry of -Record: the services, or the URIs.</summary>
    protected string ProbedTargets()
    {
        var names = Requests.Select(r => r.Service ?? r.Uri.ToString()).Distinct().ToList();
        return names.Count <= 5 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(5))} and {names.Count - 5} more";
    }

    /// <summary>Probes per target per request (Test-ServiceHealth -Count).</summary>
    protected virtual int RepeatCount => 1;

    /// <summary>Pause between repeated probes of one target.</summary>
    protected virtual TimeSpan RepeatInterval => TimeSpan.Zero;

    protected override void BeginProcessing()
    {
        try { _conditions = HealthService.ParseConditions(Condition); }
        catch (IncidentOpsException ex) { ThrowTerminatingError(ToErrorRecord(ex, ex.TargetObject)); }
        // Read once, before any probe: a CA file that holds no certificate stops the command (HealthCaCertificateInvalid).
        if (!string.IsNullOrWhiteSpace(CaCertificate) && !SkipCertificateCheck)
        {
            try { _trust = HealthService.TrustFromFile(GetUnresolvedProviderPathFromPSPath(CaCertificate)); }
            catch (IncidentOpsException ex) { ThrowTerminatingError(ToErrorRecord(ex, CaCertificate)); }
        }
        // Credentials in headers must never reach verbose text, errors or the timeline.
        if (Header is not null)
            foreach (DictionaryEntry h in Header)
                if (SecretRedactor.IsSecretName(h.Key.ToString()) && h.Value?.ToString() is { Length: > 0 } v) RegisterSecret(v);
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
            WriteInputError(HealthErrorIds.HealthEndpointNotConfigured, $"The service '{target.FullName}' has no health endpoints in the configuration. Add 'health: [https://.../health]' under it, or pass -Uri.", target.FullName, IncidentOpsErrorCategory.ObjectNotFound);
            return;
        }
        foreach (var endpoint in target.Health)
        {
            // A configured CA that cannot be read is this endpoint's error; the service's other endpoints are still probed.
            if (endpoint.CaCertificate is { } ca && _trust is null && !SkipCertificateCheck
                && !TryInvoke(ct => Engine.Health.TrustForAsync(ca, target.FullName, endpoint.Url, ct), out _, target.FullName)) continue;
            AddUri(endpoint.Url, target.FullName, endpoint);
        }
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
        Requests.Add(new ProbeRequest
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
            Trust = _trust,
            CaCertificate = endpoint?.CaCertificate,
            FollowRedirects = !NoFollowRedirect,
            Count = RepeatCount,
            Interval = RepeatInterval,
        });
    }

    private Dictionary<string, string> Headers()
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (Header is null) return headers;
        foreach (DictionaryEntry h in Header) headers[h.Key.ToString()!] = h.Value?.ToString() ?? "";
        return headers;
    }

}
