namespace IncidentOps.Incidents;

/// <summary>
/// Who timeline entries are written as, for the code that runs inside a scope: unattended work (the alerting round)
/// records its steps as "alerting@host" instead of the account that happens to run the scheduler. The scope flows
/// with async calls and ends when disposed.
/// </summary>
public static class TimelineActor
{
    private static readonly AsyncLocal<string?> Current = new();

    /// <summary>The actor of entries created now: the scope's, else user@host.</summary>
    public static string? Override => Current.Value;

    /// <summary>Entries created until the returned scope is disposed carry <paramref name="actor"/>.</summary>
    public static IDisposable Use(string actor)
    {
        var previous = Current.Value;
        Current.Value = actor;
        return new Scope(previous);
    }

    private sealed class Scope(string? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
