using System.Diagnostics;

namespace IncidentOps.Commands;

/// <summary>
/// The deadline of one target (-TimeoutSec): the engine calls between two <see cref="Start"/>s share one limit,
/// counted from the start. Time spent at a confirmation prompt does not count (<see cref="ExcludeSince"/>).
/// </summary>
internal sealed class TargetDeadline
{
    /// <summary>End of the current target's deadline (Stopwatch timestamp); 0 when each engine call gets the full -TimeoutSec.</summary>
    private long _end;

    /// <summary>Starts the deadline of one target, counted from now (none when <paramref name="timeout"/> is null).</summary>
    public void Start(TimeSpan? timeout) =>
        _end = timeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : 0;

    /// <summary>True when the current target's deadline has passed.</summary>
    public bool Passed => _end != 0 && Stopwatch.GetTimestamp() >= _end;

    /// <summary>The time left for the next engine call: the rest of the target's deadline, or the whole <paramref name="timeout"/> when none was started.</summary>
    public TimeSpan? Remaining(TimeSpan? timeout)
    {
        if (_end == 0) return timeout;
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _end);
        return left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1);
    }

    /// <summary>Moves the deadline on by the time since <paramref name="timestamp"/> (a prompt: the deadline is for the work on the target, not for the person reading it).</summary>
    public void ExcludeSince(long timestamp)
    {
        if (_end != 0) _end += Stopwatch.GetTimestamp() - timestamp;
    }
}
