using IncidentOps.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Redis;

namespace IncidentOps.Engine.Redis;

/// <summary>
/// redis-info: for each service with a redis setting, every INFO section as Get-RedisInfo returns it
/// (server, clients, memory, persistence, stats, replication, keyspace, with all raw fields), read through
/// the Redis service. Credentials of the connection are never saved.
/// </summary>
public sealed class RedisEvidenceSource : ServiceEvidenceSource
{
    public override string Name => "redis-info";

    protected override bool AppliesTo(ServiceTarget service) => service.Redis is not null;

    protected override async Task<object> CaptureServiceAsync(EvidenceContext context, ServiceTarget service, CancellationToken cancellationToken)
    {
        var request = new RedisConnectionRequest { Service = service, Timeout = context.Timeout };
        var sections = await context.Readers.Redis.GetInfoAsync(request, [RedisInfoSection.All], cancellationToken).ConfigureAwait(false);
        // As object, so each section serializes with its own typed properties.
        return new RedisEvidence(service.FullName, sections.Cast<object>().ToList());
    }

    /// <summary>The saved document.</summary>
    public sealed record RedisEvidence(string Service, IReadOnlyList<object> Sections);
}
