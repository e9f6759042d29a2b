using System.Reflection;
using System.Runtime.ExceptionServices;
using IncidentOps.Engine.Incidents;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A real incident store with one gate: a claim of the named outbox lock first reports that it was reached and then
/// waits until the test opens the gate. So a test can stop one sender exactly where it waits for a channel, let another
/// process act, and then let the first go on, without timing.
/// </summary>
public class GatedStore : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private string _lockName = "";
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a claim of the gated lock has been asked for.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Lets the waiting claim (and every later one) go on to the real store.</summary>
    public void Open() => _open.TrySetResult();

    public static (IIncidentStore Store, GatedStore Gate) Wrap(IIncidentStore inner, string lockName)
    {
        var store = Create<IIncidentStore, GatedStore>();
        var gate = (GatedStore)(object)store;
        gate._inner = inner;
        gate._lockName = lockName;
        return (store, gate);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IIncidentStore.ClaimOutboxAsync) && args![1] as string == _lockName)
            return ClaimAsync((string)args[0]!, (string)args[1]!, (TimeSpan)args[2]!, (CancellationToken)args[3]!);
        try { return targetMethod.Invoke(_inner, args); }
        catch (TargetInvocationException ex) { ExceptionDispatchInfo.Throw(ex.InnerException!); throw; }
    }

    private async Task<IAsyncDisposable> ClaimAsync(string id, string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        _reached.TrySetResult();
        await _open.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _inner.ClaimOutboxAsync(id, name, wait, cancellationToken).ConfigureAwait(false);
    }
}
