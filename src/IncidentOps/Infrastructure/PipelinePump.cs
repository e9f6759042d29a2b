using System.Collections.Concurrent;
using System.Management.Automation;
using System.Runtime.ExceptionServices;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;

namespace IncidentOps.Commands;

/// <summary>
/// The pump: runs one engine call on the thread pool while the pipeline thread runs the verbose/warning/progress
/// reports (and Get-Secret calls) the engine queued with <see cref="Post"/>, under the command's deadline. Ctrl+C
/// returns at once with PipelineStoppedException; the deadline gives OperationTimeout. Only the pipeline thread
/// calls <see cref="Run{T}"/> and <see cref="Drain"/>; any thread may call <see cref="Post"/>.
/// </summary>
internal sealed class PipelinePump(Func<string?> commandName) : IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();

    /// <summary>How long an engine call may take to wind down after Ctrl+C (the cmdlet returns within 250 ms).</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(100);
    /// <summary>How long an engine call may take to wind down after the deadline or after writing to the pipeline failed.</summary>
    private static readonly TimeSpan SettleGrace = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Runs an engine call to completion while running its queued reports on this (the pipeline) thread, with an
    /// explicit deadline (null: none). <paramref name="stop"/> is the cmdlet's Ctrl+C token. Any way out other than
    /// Ctrl+C or the deadline (writing to the pipeline threw: Select-Object -First, -WarningAction Stop) cancels the
    /// engine call and waits for it to wind down first, so no work continues after the cmdlet returns.
    /// </summary>
    public T Run<T>(Func<CancellationToken, Task<T>> work, TimeSpan? deadline, CancellationToken stop, RedactionScope scope)
    {
        if (stop.IsCancellationRequested) throw new PipelineStoppedException();
        var operation = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var budget = deadline is { } d && d > TimeSpan.Zero ? d : (TimeSpan?)null;
        if (budget is { } b) operation.CancelAfter(b);
        var token = operation.Token;
        var task = Task.Run(() =>
        {
            SecretRedactor.Enter(scope);
            if (budget is { } b2) OperationDeadline.Start(b2);
            return work(token);
        }, CancellationToken.None);
        bool finished;
        try
        {
            finished = Pump(task, token, stop);
        }
        catch
        {
            // Ctrl+C, or writing to the pipeline threw: stop the engine work before leaving, so nothing runs on.
            // (Not disposed here: its callbacks may still be running on another thread.)
            _ = operation.CancelAsync();
            Settle(task, stop.IsCancellationRequested ? StopGrace : SettleGrace);
            if (stop.IsCancellationRequested) throw new PipelineStoppedException();
            throw;
        }
        // The deadline fired while the call was failing (its OperationCanceledException won the race to the pump).
        if (finished && budget is not null && !task.IsCompletedSuccessfully && operation.IsCancellationRequested && !stop.IsCancellationRequested)
            finished = false;
        if (!finished)
        {
            // The deadline passed: the engine call is cancelled through the token; let it wind down (briefly).
            Settle(task, SettleGrace);
            Drain();
            if (!task.IsCompletedSuccessfully) throw DeadlinePassed(budget!.Value, task.Exception?.InnerException);
        }
        operation.Dispose();
        return Unwrap(task, stop);
    }

    /// <summary>Queues work for the pipeline thread, which runs it at its next pump or drain (never on the calling thread).</summary>
    public void Post(Action action)
    {
        try { _queue.Add(action); }
        catch (ObjectDisposedException) { }
        catch (InvalidOperationException) { }
    }

    /// <summary>Runs every queued report now (on the pipeline thread).</summary>
    public void Drain()
    {
        while (_queue.TryTake(out var action)) action();
    }

    public void Dispose() => _queue.Dispose();

    /// <summary>Runs queued reports until the task completes (true) or the token is cancelled (false).</summary>
    private bool Pump(Task task, CancellationToken token, CancellationToken stop)
    {
        if (task.IsCompleted) { Drain(); return true; }
        // A wake-up of its own for this call (a stale one from an earlier, abandoned call must not end this one).
        var marker = new object();
        Action wake = () => GC.KeepAlive(marker);
        task.ContinueWith(_ => { try { _queue.Add(wake); } catch (ObjectDisposedException) { } catch (InvalidOperationException) { } }, TaskContinuationOptions.ExecuteSynchronously);
        try
        {
            while (true)
            {
                var action = _queue.Take(token);
                if (ReferenceEquals(action, wake)) break;
                action();
            }
        }
        catch (OperationCanceledException)
        {
            if (task.IsCompleted) { Drain(); return true; }
            // Ctrl+C: the engine call is cancelled through the token; do not wait for it.
            if (stop.IsCancellationRequested) throw new PipelineStoppedException();
            return false;
        }
        Drain();
        return true;
    }

    /// <summary>The command's deadline passed before its engine call finished.</summary>
    private IncidentOpsException DeadlinePassed(TimeSpan budget, Exception? cause)
    {
        var detail = cause is IncidentOpsException or OperationCanceledException && cause.Message != new OperationCanceledException().Message
            ? $" ({cause.Message})" : "";
        return new IncidentOpsException(DeadlineErrorIds.OperationTimeout, IncidentOpsErrorCategory.OperationTimeout,
            $"{commandName() ?? "The command"} did not finish within its deadline of {budget.TotalSeconds:0.###} s (-TimeoutSec) and was stopped{detail}. Raise -TimeoutSec if the target is known to be slow.", cause);
    }

    /// <summary>Waits (bounded) for a cancelled engine call to finish, without throwing.</summary>
    private static void Settle(Task task, TimeSpan grace)
    {
        try { task.Wait(grace); }
        catch (AggregateException) { /* its outcome is read by the caller, or no longer matters */ }
    }

    private static T Unwrap<T>(Task<T> task, CancellationToken token)
    {
        if (task.IsCompletedSuccessfully) return task.Result;
        if (token.IsCancellationRequested) throw new PipelineStoppedException();
        var ex = task.Exception?.InnerExceptions.Count == 1 ? task.Exception.InnerException! : (Exception?)task.Exception ?? new OperationCanceledException();
        switch (ex)
        {
            case IncidentOpsException:
            case PipelineStoppedException:
                ExceptionDispatchInfo.Capture(ex).Throw();
                break;
            case OperationCanceledException when token.IsCancellationRequested:
                throw new PipelineStoppedException();
            case OperationCanceledException or TimeoutException:
                throw new IncidentOpsException(DeadlineErrorIds.ConnectionTimeout, IncidentOpsErrorCategory.OperationTimeout,
                    $"A call to the target did not finish in time and was stopped ({ex.Message}). Raise -TimeoutSec if the target is known to be slow.", ex);
        }
        throw new IncidentOpsException(CommonErrorIds.UnexpectedError, IncidentOpsErrorCategory.NotSpecified,
            $"Unexpected {ex.GetType().Name}: {ex.Message}", ex);
    }
}
