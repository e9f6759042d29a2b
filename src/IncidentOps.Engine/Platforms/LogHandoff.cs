namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The bounded hand-off between the threads that read followed logs and the pipeline thread that writes their entries
/// (Get-AppLog -Follow). At most <see cref="Capacity"/> entries wait to be written; a reader that finds it full waits,
/// so it stops reading the CLI's stdout, the OS pipe fills and the CLI blocks on its next write. A slow consumer
/// (<c>Get-AppLog -Follow | ForEach-Object { Start-Sleep 1; $_ }</c>) therefore slows the CLI down instead of growing
/// memory without bound, and no entry is dropped. The wait ends at once when its token is cancelled (Ctrl+C,
/// -TimeoutSec, the pipeline stopped early).
/// </summary>
public sealed class LogHandoff(int capacity = LogHandoff.DefaultCapacity)
{
    /// <summary>How many entries may wait for the pipeline thread by default (all followed services together).</summary>
    public const int DefaultCapacity = 64;

    private readonly SemaphoreSlim _free = new(capacity, capacity);
    private int _waiting;
    private int _peak;

    /// <summary>The most entries that may wait to be written at once.</summary>
    public int Capacity { get; } = capacity;

    /// <summary>Entries handed over and not yet written.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The most entries that ever waited at once (never above <see cref="Capacity"/>).</summary>
    public int Peak => Volatile.Read(ref _peak);

    /// <summary>
    /// Hands <paramref name="entry"/> to <paramref name="post"/> (which queues work for the consumer's thread) once there
    /// is room, waiting until there is; the queued work runs <paramref name="write"/> and then frees the room.
    /// </summary>
    public async ValueTask HandAsync<T>(T entry, Action<Action> post, Action<T> write, CancellationToken cancellationToken)
    {
        await _free.WaitAsync(cancellationToken).ConfigureAwait(false);
        var now = Interlocked.Increment(ref _waiting);
        for (var peak = Peak; now > peak; peak = Peak)
            if (Interlocked.CompareExchange(ref _peak, now, peak) == peak) break;
        post(() =>
        {
            try { write(entry); }
            finally
            {
                Interlocked.Decrement(ref _waiting);
                _free.Release();
            }
        });
    }
}
