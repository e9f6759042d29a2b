using System.Management.Automation;
using System.Runtime.CompilerServices;
using IncidentOps.Alerting;
using IncidentOps.Config;
using IncidentOps.Engine.Alerting;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Health;
using IncidentOps.Engine.Incidents;
using IncidentOps.Health;

namespace IncidentOps.Commands;

/// <summary>Runs one unattended alerting round: checks services' health and turns it into incidents, updates, pages and recovery.</summary>
/// <remarks>
/// Made to run every minute from cron, a systemd timer, a Kubernetes CronJob or an automation account: consecutive
/// runs behave as one continuous watcher, because the state between runs (consecutive failures and successes per
/// service, the open incident, when the last update went out) lives in the incident store, not in the script.
///
/// For each service the configured health endpoints are probed (or piped HealthResults are used), and the rules of
/// the `alerting` section of incidentops.yml apply (failureThreshold, successThreshold, severity, channels,
/// autoResolveAfter, evidence; defaults at the top, overrides per service):
/// - failing failureThreshold checks in a row declares an incident (unless one is already open for the service: it is
///   attached), captures the evidence (the failing health results always), sends the initial update through the
///   channels (else the severity's routing) and pages every pager among them: PagerDuty is triggered with the
///   incident's dedup key and an Opsgenie alert is created with the incident's alias (both: the incident id and
///   when it was declared, so another store's incident numbered alike gets its own alert; one alert per incident);
/// - every round while the incident is open keeps that round's health results (no bodies, redacted) as health evidence
///   (health-rounds-ENV-SERVICE-NNNN.json, a ring of 1,440 per service and incident), so the post-mortem charts latency and
///   failures over the whole incident;
/// - while it stays down, an update goes out when the severity's updateEvery says one is due, never more often;
/// - healthy successThreshold checks in a row sets the incident to Monitoring with a note of the outage window and
///   sends a recovery update (the pagers' alerts are closed: PagerDuty resolve, Opsgenie close); with autoResolveAfter
///   the incident is resolved after that long without a failure (the pagers' resolve/close finds nothing left open);
/// - failing failureThreshold checks in a row again while Monitoring reopens the same incident and pages again: the
///   same dedup_key and alias open a new PagerDuty incident and a new Opsgenie alert, which notify the on-call (a
///   trigger on an acknowledged alert would notify nobody).
///
/// A routed channel whose secret does not resolve in the job's environment (an env: variable the cron job lacks) never
/// stops the round or the page: the update goes to the channels that resolve, the broken channel's delivery stays
/// pending with the reason (outbox, timeline entry, a warning, "not reached" in the decision), and the next round or
/// Send-IncidentUpdate -Pending sends it once the reference resolves.
///
/// An https:// health endpoint whose certificate a private CA signed is trusted through its caCertificate entry, or for
/// the whole round through -CaCertificate (as in Test-ServiceHealth; it overrides the configured ones).
///
/// One AlertDecision per service says what was seen, what was done and why ("Failing 2/3, waiting",
/// "Declared INC-20261130-001 P1, paged", "Update due, sent", "Recovered 2/2, set Monitoring"). Every step lands on
/// the incident's timeline as the actor alerting@host. Overlapping runs never declare, update or page twice: each
/// service's decide-and-act step holds its alerting lock in the store.
///
/// -WhatIf prints every decision and sends, declares and changes nothing (not even the counts). A service that is
/// down is not an error; the round fails (a terminating error, so a script's exit code is non-zero) only when it
/// cannot do its job: an invalid configuration (ConfigInvalid) or an unreachable store (AlertingStoreUnavailable,
/// StoreReadOnly, StoreDiskFull). The next round carries on from the last saved state.
/// </remarks>
/// <example>
/// <code>Invoke-ServiceAlert -ErrorAction Stop</code>
/// <para>The scheduled job's one line: every configured service with health endpoints, under the rules of incidentops.yml.</para>
/// </example>
/// <example>
/// <code>Invoke-ServiceAlert production/api -WhatIf</code>
/// <para>Shows what this round would decide for production/api, and changes nothing.</para>
/// </example>
/// <example>
/// <code>Invoke-ServiceAlert -Service production/api -CaCertificate ./internal-ca.pem -ErrorAction Stop</code>
/// <para>A round for a service whose health endpoints have certificates signed by a private CA (./internal-ca.pem, the CA's PEM file): their chains are verified against that CA (host names still checked).</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService -Environment production | Test-ServiceHealth | Invoke-ServiceAlert</code>
/// <para>Applies the rules to health results probed by Test-ServiceHealth (with its options) instead of probing again.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "ServiceAlert", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ServiceSet)]
[OutputType(typeof(AlertDecision))]
public sealed class InvokeServiceAlertCommand : ConfiguredCmdlet
{
    private const string ServiceSet = "Service";
    private const string TargetSet = "InputObject";
    private const string ResultSet = "HealthResult";

    /// <summary>Services to check ("environment/service", or the name alone when unambiguous; wildcards allowed). Default: every configured service with health endpoints.</summary>
    [Parameter(Position = 0, ParameterSetName = ServiceSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Environment the -Service names are looked up in; alone, every service of that environment.</summary>
    [Parameter(ParameterSetName = ServiceSet)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Service targets from Get-IncidentOpsService; their configured health endpoints are probed.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = TargetSet)]
    public ServiceTarget[] InputObject { get; set; } = [];

    /// <summary>Health results from Test-ServiceHealth (of configured services: Service must be set); the results of one service count as one check.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ResultSet)]
    public HealthResult[] HealthResult { get; set; } = [];

    /// <summary>Seconds one health probe may take (default 10, or the endpoint's configured timeout).</summary>
    [Parameter]
    [ValidateRange(0.001, 3600)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>The CA certificate to trust for https:// health endpoints whose certificate is signed by a private CA (an internal service's PKI, cert-manager's CA issuer) or is self-signed: the path of a PEM (or DER) file. The chain is verified against it for this round's probes only, and the host name is still checked; the system's trusted roots stay trusted too. Overrides caCertificate in the services' health entries in incidentops.yml. A file that holds no certificate stops the round before any probe (HealthCaCertificateInvalid). Not used with -HealthResult, whose probes have run already (pass it to Test-ServiceHealth).</summary>
    [Parameter(ParameterSetName = ServiceSet)]
    [Parameter(ParameterSetName = TargetSet)]
    [Alias("CaCert")]
    [ValidateNotNullOrEmpty]
    public string? CaCertificate { get; set; }

    private TlsTrust? _trust;
    private readonly List<ServiceTarget> _targets = [];
    private readonly List<HealthResult> _results = [];

    protected override void BeginProcessing()
    {
        // Read once, before any probe: a CA file that holds no certificate stops the round (HealthCaCertificateInvalid), as in Test-ServiceHealth.
        if (!string.IsNullOrWhiteSpace(CaCertificate))
        {
            try { _trust = HealthService.TrustFromFile(GetUnresolvedProviderPathFromPSPath(CaCertificate)); }
            catch (IncidentOpsException ex) { ThrowTerminatingError(ToErrorRecord(ex, CaCertificate)); }
        }
        base.BeginProcessing();
    }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case TargetSet: _targets.AddRange(InputObject); break;
            case ResultSet: _results.AddRange(HealthResult.Where(r => r is not null)); break;
            default:
                if (Service is { Length: > 0 } names) _targets.AddRange(ResolveServices(Environment, names));
                else _targets.AddRange(ConfigService.FindServices(Config, Environment, "*").Where(s => s.Health.Count > 0));
                break;
        }
    }

    protected override void EndProcessing()
    {
        var config = Config;
        RunRound(config);
        base.EndProcessing();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RunRound(IncidentOpsConfig config)
    {
        var observations = new List<ServiceObservation>();
        var targets = new List<ServiceTarget>();
        foreach (var t in _targets.DistinctBy(t => t.FullName, StringComparer.OrdinalIgnoreCase))
        {
            if (t.Health.Count > 0) { targets.Add(t); continue; }
            WriteInputError(AlertingErrorIds.NoHealthEndpoint, $"The service '{t.FullName}' has no health endpoints, so alerting cannot check it. Add 'health: [https://.../health]' under it in {config.Path ?? "incidentops.yml"}.", t.FullName, IncidentOpsErrorCategory.ObjectNotFound);
        }
        if (targets.Count > 0)
        {
            try { observations.AddRange(Invoke(ct => Engine.Alerting.ProbeAsync(targets, TimeSpan.FromSeconds(TimeoutSec), _trust, ct))); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex)); }
        }
        foreach (var group in _results.GroupBy(r => r.Service ?? "", StringComparer.OrdinalIgnoreCase))
        {
            if (group.Key.Length == 0)
            {
                foreach (var r in group)
                    WriteInputError(AlertingErrorIds.ResultWithoutService, $"The health result of {r.Uri} names no service, so no alerting rules apply to it. Probe configured services (Get-IncidentOpsService | Test-ServiceHealth) or pass -Service.", r.Uri);
                continue;
            }
            ServiceTarget target;
            try { target = ConfigService.ResolveService(config, null, group.Key); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, group.Key)); continue; }
            observations.Add(AlertingService.Observe(target, group.ToList(), group.Min(r => r.Timestamp)));
        }

        var context = new ChangeContext(MyInvocation.MyCommand?.Name, SafeParameters());
        foreach (var o in observations)
        {
            var preview = Run(ct => Engine.Alerting.PreviewAsync(config, o, ct), o.Service);
            if (preview is null) continue;
            if (ShouldProcess(o.Service, preview.Decision))
            {
                if (Run(ct => Engine.Alerting.ApplyAsync(config, o, context, ct), o.Service) is { } decision) WriteObject(decision);
            }
            else if (IsWhatIf) WriteObject(preview);
        }
    }

    /// <summary>Store failures end the round (terminating: the scheduler sees a failed run); others fail this service only.</summary>
    private AlertDecision? Run(Func<CancellationToken, Task<AlertDecision>> work, string service)
    {
        try { return Invoke(work); }
        catch (IncidentOpsException ex) when (RoundFailure(ex.ErrorId))
        {
            ThrowTerminatingError(ToErrorRecord(ex, service));
            return null;
        }
        catch (IncidentOpsException ex)
        {
            WriteError(ToErrorRecord(ex, service));
            return null;
        }
    }

    private static bool RoundFailure(string id) => id is AlertingErrorIds.StoreUnavailable or AlertingErrorIds.StateCorrupt
        or StoreFaults.ReadOnly or StoreFaults.DiskFull or "StoreLockTimeout" or "IncidentRecordCorrupt" or "StoreKindNotImplemented";
}
