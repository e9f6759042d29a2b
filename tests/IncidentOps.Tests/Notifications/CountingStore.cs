using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using IncidentOps.Engine.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A real incident store that records every call made to it (each is at least one round trip to a team store) with the
/// incident it was about; with <c>everyIncident</c> it names every incident for -Pending's work as the file store (and every
/// store before <see cref="IIncidentStore.ListOutboxWorkAsync"/>) did: the old path, run against the same data.
/// </summary>
public class CountingStore : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private bool _everyIncident;

    /// <summary>Each call: the store method and the incident id it was about (null: none, a listing).</summary>
    public ConcurrentQueue<(string Method, string? Id)> Calls { get; } = new();

    public static (IIncidentStore Store, CountingStore Control) Wrap(IIncidentStore inner, bool everyIncident = false)
    {
        var store = Create<IIncidentStore, CountingStore>();
        var control = (CountingStore)(object)store;
        control._inner = inner;
        control._everyIncident = everyIncident;
        return (store, control);
    }

    public int Count(string method) => Calls.Count(c => c.Method == method);

    /// <summary>The incidents any call was about.</summary>
    public IReadOnlySet<string> Touched => Calls.Where(c => c.Id is not null).Select(c => c.Id!).ToHashSet(StringComparer.OrdinalIgnoreCase);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var id = args is { Length: > 0 } ? args[0] switch { string s => s, IncidentUpdate u => u.IncidentId, _ => null } : null;
        Calls.Enqueue((targetMethod!.Name, id));
        if (_everyIncident && targetMethod.Name == nameof(IIncidentStore.ListOutboxWorkAsync)) return EveryIncidentAsync((CancellationToken)args![0]!);
        try { return targetMethod.Invoke(_inner, args); }
        catch (TargetInvocationException ex) { ExceptionDispatchInfo.Throw(ex.InnerException!); throw; }
    }

    private async Task<IReadOnlyList<string>> EveryIncidentAsync(CancellationToken cancellationToken)
    {
        Calls.Enqueue((nameof(IIncidentStore.ListAsync), null));
        return (await _inner.ListAsync(cancellationToken).ConfigureAwait(false)).Select(i => i.Id).ToList();
    }
}
