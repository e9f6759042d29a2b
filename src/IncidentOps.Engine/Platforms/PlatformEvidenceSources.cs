using IncidentOps.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Base of the Save-IncidentEvidence sources that read a service's platform (Fly.io, DigitalOcean, Kubernetes,
/// systemd) through the Platforms service, with the CLI paths of incidentops.yml (tools:). Services without a
/// platform are skipped.
/// </summary>
public abstract class PlatformEvidenceSource : ServiceEvidenceSource
{
    protected override bool AppliesTo(ServiceTarget service) => PlatformRegistry.Platform(service.Platform) is not null;

    protected override async Task<object> CaptureServiceAsync(EvidenceContext context, ServiceTarget service, CancellationToken cancellationToken)
    {
        var values = await AppTargets.FromServiceAsync(service, context.Readers.References.ResolveAsync, cancellationToken).ConfigureAwait(false);
        // As before, the evidence reads the service as configured: no kubeconfig override and no health endpoints.
        values.Remove("Kubeconfig");
        var target = PlatformRegistry.Target(service.Platform, values);
        var adapter = context.Readers.Platforms.Open(target, null, context.Config.Tools, context.Timeout);
        return new PlatformEvidence(service.FullName, target.ToString(), await ReadAsync(context.Readers, adapter, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>What Get-AppStatus, Get-AppDeployment or Get-AppLog would return for the adapter.</summary>
    protected abstract Task<object> ReadAsync(EvidenceReaders readers, IPlatformAdapter adapter, CancellationToken cancellationToken);

    /// <summary>The saved document: which service and app, and what was read.</summary>
    public sealed record PlatformEvidence(string Service, string Target, object Data);
}

/// <summary>app-status: the platform's view of each service (Get-AppStatus: state, instances, version).</summary>
public sealed class AppStatusEvidenceSource : PlatformEvidenceSource
{
    public override string Name => "app-status";

    protected override async Task<object> ReadAsync(EvidenceReaders readers, IPlatformAdapter adapter, CancellationToken cancellationToken) =>
        await adapter.GetStatusAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>app-deployments: each service's deployments or releases, newest first (Get-AppDeployment).</summary>
public sealed class AppDeploymentsEvidenceSource : PlatformEvidenceSource
{
    public override string Name => "app-deployments";

    protected override async Task<object> ReadAsync(EvidenceReaders readers, IPlatformAdapter adapter, CancellationToken cancellationToken) =>
        await adapter.GetDeploymentsAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>app-logs: each service's most recent log lines (Get-AppLog -Tail 500), saved before anything is changed.</summary>
public sealed class AppLogsEvidenceSource : PlatformEvidenceSource
{
    /// <summary>How many recent lines are saved per service.</summary>
    public const int Tail = 500;

    public override string Name => "app-logs";

    protected override async Task<object> ReadAsync(EvidenceReaders readers, IPlatformAdapter adapter, CancellationToken cancellationToken) =>
        await readers.Platforms.GetLogsAsync(adapter, new LogQuery(Tail), cancellationToken).ConfigureAwait(false);
}

/// <summary>
/// app-events: each Kubernetes service's recent events of its workload and pods (Get-AppEvent: BackOff, OOMKilling,
/// FailedScheduling, Killing), saved before anything is changed, since the cluster keeps them for an hour by default.
/// Services on platforms without events are skipped.
/// </summary>
public sealed class AppEventsEvidenceSource : PlatformEvidenceSource
{
    public override string Name => "app-events";

    protected override bool AppliesTo(ServiceTarget service) => base.AppliesTo(service) && PlatformRegistry.Platform(service.Platform) is IPlatformEventsProvider;

    protected override async Task<object> ReadAsync(EvidenceReaders readers, IPlatformAdapter adapter, CancellationToken cancellationToken) =>
        await readers.Platforms.GetEventsAsync(adapter, new EventQuery(), cancellationToken).ConfigureAwait(false);
}
