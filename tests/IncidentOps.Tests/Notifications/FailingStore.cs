using System.Reflection;
using System.Runtime.ExceptionServices;
using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A real incident store that goes down at one chosen moment: the first outbox write that <c>tripWhen</c> accepts fails, and
/// so does every call after it (as when PostgreSQL stops or the store's folder is removed), until <see cref="Restore"/>.
/// Claims of the held lock names wait until the store is down, so a test decides which channels start after the failure.
/// </summary>
public class FailingStore : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private Func<IncidentUpdate, bool> _tripWhen = _ => false;
    private string[] _held = [];
    private volatile bool _down;
    private readonly TaskCompletionSource _tripped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the store has gone down.</summary>
    public Task Tripped => _tripped.Task;

    /// <summary>The store answers again.</summary>
    public void Restore() => _down = false;

    public static (IIncidentStore Store, FailingStore Control) Wrap(IIncidentStore inner, Func<IncidentUpdate, bool> tripWhen, params string[] heldClaims)
    {
        var store = Create<IIncidentStore, FailingStore>();
        var control = (FailingStore)(object)store;
        control._inner = inner;
        control._tripWhen = tripWhen;
        control._held = heldClaims;
        return (store, control);
    }

    private string? _watched;
    private readonly TaskCompletionSource _watchedAsked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a claim of the watched lock name (<see cref="Watch"/>) has been asked of the real store.</summary>
    public Task WatchedClaimAsked => _watchedAsked.Task;

    /// <summary>Reports (through <see cref="WatchedClaimAsked"/>) when a claim of this lock name is passed on to the real store.</summary>
    public FailingStore Watch(string lockName)
    {
        _watched = lockName;
        return this;
    }

    private static IncidentOpsException Unavailable() =>
        new(IncidentErrorIds.StoreUnavailable, IncidentOpsErrorCategory.ConnectionError, "The team store at 127.0.0.1 cannot be reached (connection refused).");

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IIncidentStore.ClaimOutboxAsync) && _held.Contains(args![1] as string))
            return HeldClaimAsync((string)args[0]!, (string)args[1]!, (TimeSpan)args[2]!, (CancellationToken)args[3]!);
        if (targetMethod.Name == nameof(IIncidentStore.ClaimOutboxAsync) && args![1] as string == _watched && !_down)
        {
            var claim = _inner.ClaimOutboxAsync((string)args[0]!, (string)args[1]!, (TimeSpan)args[2]!, (CancellationToken)args[3]!);
            _watchedAsked.TrySetResult();
            return claim;
        }
        if (!_down && !_tripped.Task.IsCompleted && targetMethod.Name == nameof(IIncidentStore.WriteOutboxEntryAsync) && _tripWhen((IncidentUpdate)args![0]!))
        {
            _down = true;
            _tripped.TrySetResult();
        }
        if (_down && targetMethod.ReturnType.IsAssignableTo(typeof(Task)) && targetMethod.Name != nameof(IIncidentStore.GetActiveIdAsync))
            return Faulted(targetMethod.ReturnType);
        if (OutboxChangeThroughWrite.Handles(targetMethod)) return OutboxChangeThroughWrite.ChangeAsync((IIncidentStore)(object)this, _inner, args!);
        try { return targetMethod.Invoke(_inner, args); }
        catch (TargetInvocationException ex) { ExceptionDispatchInfo.Throw(ex.InnerException!); throw; }
    }

    private static object Faulted(Type taskType)
    {
        if (taskType == typeof(Task)) return Task.FromException(Unavailable());
        var method = typeof(Task).GetMethod(nameof(Task.FromException), 1, [typeof(Exception)])!.MakeGenericMethod(taskType.GetGenericArguments()[0]);
        return method.Invoke(null, [Unavailable()])!;
    }

    private async Task<IAsyncDisposable> HeldClaimAsync(string id, string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        await _tripped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_down) throw Unavailable();
        return await _inner.ClaimOutboxAsync(id, name, wait, cancellationToken).ConfigureAwait(false);
    }
}
