using IncidentOps.Config;

namespace IncidentOps.Engine.Tunnels;

/// <summary>
/// Where the Pg and Redis connection code asks "does this target go through a tunnel, and on which local port?". A
/// target takes its service's tunnel only when it is reached through the service's configured connection (an explicit
/// -ConnectionString goes directly).
/// </summary>
public sealed class TunnelRouter(TunnelLeases leases, IOperationSink sink)
{
    public TunnelLeases Leases => leases;

    /// <summary>The least time a tunnel gets to open (within the command's deadline).</summary>
    public static readonly TimeSpan MinimumOpenTime = TimeSpan.FromSeconds(10);

    /// <summary>The tunnel spec of a configured tunnel to host:port, noted for -WhatIf and the timeline; null (also noted) without one.</summary>
    public TunnelSpec? Resolve(TunnelConfig? tunnel, ServiceTarget? service, string host, int port)
    {
        var spec = TunnelLeases.SpecFor(tunnel, service, host, port) is { } given ? leases.Pin(given) : null;
        leases.Note(spec);
        return spec;
    }

    /// <summary>Opens (or joins) the tunnel and returns the loopback endpoint to connect to instead of host:port.</summary>
    public async Task<(string Host, int Port)> RouteAsync(TunnelSpec spec, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // A CLI that logs in and dials out needs a few seconds even when the database answers at once; the command's deadline still caps it.
        var port = await leases.PortAsync(spec, timeout < MinimumOpenTime ? MinimumOpenTime : timeout, sink, cancellationToken).ConfigureAwait(false);
        sink.Verbose($"Connecting through the tunnel ({spec.Description}) on {TunnelCommand.Loopback}:{port}.");
        return (TunnelCommand.Loopback, port);
    }
}
