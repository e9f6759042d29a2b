using System.Diagnostics;

namespace IncidentOps.Engine;

/// <summary>
/// The deadline of the command in progress (-TimeoutSec: one deadline for the whole operation on one target,
/// counted from its start). The base cmdlet starts it for each engine call; its cancellation token fires at the
/// same moment. Steps that have a limit of their own (a CLI call, a wait for a rollout, a health verification)
/// cut it to what is left with <see cref="Cap"/>, so limits never add up past the deadline, and a wait that
/// should end with a result (not healthy within the time) ends just before the deadline cancels it.
/// </summary>
/// <remarks>Ambient (AsyncLocal) so that it reaches every step without threading a parameter through each signature.</remarks>
public static class OperationDeadline
{
    private static readonly AsyncLocal<long> EndTimestamp = new();

    /// <summary>What a step that must end with a result (not an error) leaves before the deadline.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(500);

    /// <summary>Starts the deadline for the current async flow (and the work it starts).</summary>
    public static void Start(TimeSpan budget) =>
        EndTimestamp.Value = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Clears the deadline for the current flow (engine tests, background work).</summary>
    public static void Clear() => EndTimestamp.Value = 0;

    /// <summary>Time left before the command's deadline; null when no deadline is in force.</summary>
    public static TimeSpan? Remaining
    {
        get
        {
            var end = EndTimestamp.Value;
            if (end == 0) return null;
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), end);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>A step's own limit, cut to what is left of the deadline less <paramref name="reserve"/> (never below zero).</summary>
    public static TimeSpan Cap(TimeSpan limit, TimeSpan reserve = default)
    {
        if (Remaining is not { } left) return limit;
        var available = left - reserve;
        if (available < TimeSpan.Zero) available = TimeSpan.Zero;
        return available < limit ? available : limit;
    }

    /// <summary>True when the deadline, not the step's own limit, is what ends the step.</summary>
    public static bool Bounds(TimeSpan limit) => Remaining is { } left && left <= limit;
}

/// <summary>The two timeout error ids, as Invoke-WebRequest separates OperationTimeoutReached from ConnectionTimeoutReached.</summary>
public static class DeadlineErrorIds
{
    /// <summary>The command's deadline (-TimeoutSec) passed before it finished.</summary>
    public const string OperationTimeout = "OperationTimeout";

    /// <summary>One call (a connection, a request, a CLI run) hit its own limit and was stopped.</summary>
    public const string ConnectionTimeout = "ConnectionTimeout";
}
