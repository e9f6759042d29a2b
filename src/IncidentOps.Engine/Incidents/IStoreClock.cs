namespace IncidentOps.Engine.Incidents;

/// <summary>
/// A store shared by several machines that has a clock of its own (the PostgreSQL server's). Teammates' clocks may
/// differ; times that several senders compare (until when a delivery may still be in flight) are taken from it.
/// </summary>
public interface IStoreClock
{
    /// <summary>The store's current time (one round trip).</summary>
    Task<DateTimeOffset> NowAsync(CancellationToken cancellationToken);
}
