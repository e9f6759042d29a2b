using System.Reflection;
using System.Runtime.ExceptionServices;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A real incident store that can hold one sender's next outbox write: once <see cref="HoldNextWrite"/> is called, the next
/// change of an outbox entry reports that it was reached and waits until the test lets it go (a sender whose write is slow:
/// its connection killed, a reconnect). Optionally it fails every timeline append (a sender that died before its entry).
/// </summary>
public class HeldWriteStore : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private volatile TaskCompletionSource? _armed;
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _go = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _dieOnTimeline;

    /// <summary>Completes when the held write has been asked for.</summary>
    public Task Reached => _reached.Task;

    public static (IIncidentStore Store, HeldWriteStore Control) Wrap(IIncidentStore inner)
    {
        var store = Create<IIncidentStore, HeldWriteStore>();
        var control = (HeldWriteStore)(object)store;
        control._inner = inner;
        return (store, control);
    }

    /// <summary>The next outbox change waits for <see cref="Release"/>.</summary>
    public void HoldNextWrite() => _armed = _go;

    public void Release() => _go.TrySetResult();

    /// <summary>Every timeline append from now on fails as if the process had died there (no store fault: nothing catches it).</summary>
    public void DieOnTimeline() => _dieOnTimeline = true;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IIncidentStore.ChangeOutboxEntryAsync) && Interlocked.Exchange(ref _armed, null) is { } gate)
            return HeldChangeAsync(gate.Task, args!);
        if (_dieOnTimeline && targetMethod.Name == nameof(IIncidentStore.AppendTimelineAsync))
            return Task.FromException(new InvalidOperationException("The sender died before it added its timeline entry."));
        try { return targetMethod.Invoke(_inner, args); }
        catch (TargetInvocationException ex) { ExceptionDispatchInfo.Throw(ex.InnerException!); throw; }
    }

    private async Task<IncidentUpdate?> HeldChangeAsync(Task gate, object?[] args)
    {
        _reached.TrySetResult();
        await gate.ConfigureAwait(false);
        return await _inner.ChangeOutboxEntryAsync((string)args[0]!, (string)args[1]!, (Func<IncidentUpdate?, IncidentUpdate?>)args[2]!, (CancellationToken)args[3]!).ConfigureAwait(false);
    }
}
