using IncidentOps.Config;

namespace IncidentOps.Engine.Tunnels;

/// <summary>
/// The tunnels one engine (one cmdlet invocation) holds. A connection through a tunnel takes a hold once per engine and
/// keeps it until the cmdlet is disposed at the end of its pipeline (or stopped with Ctrl+C), so the cmdlets of one
/// pipeline share the tunnel and it closes when the pipeline ends. It also remembers the tunnel of the last target
/// resolved or connected to, which -WhatIf and the timeline name ("via kubectl port-forward svc/postgres").
/// </summary>
public sealed class TunnelLeases : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<TunnelSpec, TunnelLease> _held = [];
    private readonly Dictionary<TunnelSpec, TunnelSpec> _pinned = [];
    private bool _disposed;

    /// <summary>The tunnel of the target most recently resolved or connected to; null when that target is reached directly.</summary>
    public TunnelSpec? Current { get; private set; }

    /// <summary>Notes the tunnel (or none) of the target about to be used, for -WhatIf and the timeline.</summary>
    public void Note(TunnelSpec? spec) => Current = spec;

    /// <summary>The loopback port of the tunnel for <paramref name="spec"/>, opening it (or joining the open one) on first use.</summary>
    public async Task<int> PortAsync(TunnelSpec spec, TimeSpan timeout, IOperationSink sink, CancellationToken cancellationToken)
    {
        Current = spec;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_held.TryGetValue(spec, out var lease))
            {
                if (lease.IsAlive) return lease.LocalPort;
                _held.Remove(spec);
                lease.Dispose();
            }
        }
        var fresh = await TunnelRegistry.AcquireAsync(spec, timeout, sink, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_disposed)
            {
                fresh.Dispose();
                throw new OperationCanceledException("The command ended while its tunnel was opening.");
            }
            if (_held.TryGetValue(spec, out var other))
            {
                // Two connections of this engine opened it at once: keep one hold.
                fresh.Dispose();
                return other.LocalPort;
            }
            _held[spec] = fresh;
            return fresh.LocalPort;
        }
    }

    /// <summary>The tunnel a -WhatIf names: the command line with "&lt;free port&gt;" for the local port.</summary>
    public static string WouldOpen(TunnelSpec spec) => TunnelCommand.CommandLine(spec, "<free loopback port>");

    /// <summary>Lets go of every tunnel this engine holds (the last holder of each closes it).</summary>
    public void Dispose()
    {
        List<TunnelLease> leases;
        lock (_gate)
        {
            _disposed = true;
            leases = _held.Values.ToList();
            _held.Clear();
        }
        foreach (var l in leases) l.Dispose();
    }

    /// <summary>The spec of a configured tunnel for a database at host:port, or null when there is none (not pinned: see <see cref="Pin"/>).</summary>
    public static TunnelSpec? SpecFor(TunnelConfig? tunnel, ServiceTarget? service, string host, int port) =>
        tunnel is null ? null : TunnelSpec.From(tunnel, service, host, port);

    /// <summary>
    /// The spec pinned to kubectl's defaults (<see cref="TunnelSpec.Pinned"/>) the first time this engine (one cmdlet
    /// invocation) meets it, and the same pin for the rest of the command: every record of a pipeline goes to one cluster.
    /// </summary>
    public TunnelSpec Pin(TunnelSpec spec)
    {
        lock (_gate)
        {
            if (_pinned.TryGetValue(spec, out var pinned)) return pinned;
            return _pinned[spec] = spec.Pinned();
        }
    }
}
