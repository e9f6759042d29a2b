using IncidentOps.Engine.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// For the test stores that act on outbox writes (<see cref="FailingStore"/>, <see cref="SeamStore"/>): a change of an entry
/// (<see cref="IIncidentStore.ChangeOutboxEntryAsync"/>) is read from the real store and written through the test store's own
/// <see cref="IIncidentStore.WriteOutboxEntryAsync"/>, so its seam sees every write, whichever way the engine makes it. Not
/// atomic (these stores serve one sender at a time); the real stores' atomic change is tested on both stores.
/// </summary>
internal static class OutboxChangeThroughWrite
{
    public static bool Handles(System.Reflection.MethodInfo method) => method.Name == nameof(IIncidentStore.ChangeOutboxEntryAsync);

    public static async Task<IncidentUpdate?> ChangeAsync(IIncidentStore self, IIncidentStore inner, object?[] args)
    {
        var (id, updateId, change, ct) = ((string)args[0]!, (string)args[1]!, (Func<IncidentUpdate?, IncidentUpdate?>)args[2]!, (CancellationToken)args[3]!);
        var changed = change(await inner.ReadOutboxEntryAsync(id, updateId, ct).ConfigureAwait(false));
        if (changed is null) return await inner.ReadOutboxEntryAsync(id, updateId, ct).ConfigureAwait(false);
        await self.WriteOutboxEntryAsync(changed, ct).ConfigureAwait(false);
        return changed;
    }
}
