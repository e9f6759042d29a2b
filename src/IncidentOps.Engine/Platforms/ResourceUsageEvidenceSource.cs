using IncidentOps.Engine.Incidents;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// app-resource-usage: CPU, memory (used and limit), restarts and, where the platform has them, disk and network of
/// each instance of each platform service (Get-AppResourceUsage), saved before anything is changed.
/// </summary>
public sealed class AppResourceUsageEvidenceSource : PlatformEvidenceSource
{
    public override string Name => "app-resource-usage";

    protected override async Task<object> ReadAsync(EvidenceReaders readers, IPlatformAdapter adapter, CancellationToken cancellationToken) =>
        await readers.ResourceUsage.GetAsync(adapter, cancellationToken).ConfigureAwait(false);
}
