using System.Diagnostics;
using IncidentOps.Health;

namespace IncidentOps.Engine.Health;

/// <summary>Options of a watch: how often, how long, and what ends it early.</summary>
public sealed class WatchOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Zero means until the Until condition holds or the caller cancels.</summary>
    public TimeSpan Duration { get; init; }
    public WatchUntil Until { get; init; }
    public int Consecutive { get; init; } = 1;
    public int ThrottleLimit { get; init; } = 32;
}
