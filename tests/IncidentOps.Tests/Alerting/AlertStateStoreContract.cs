using IncidentOps.Engine.Alerting;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// The contract of <see cref="IAlertStateStore"/> (see its doc comment). Every implementation gets a subclass that
/// says how to open a fresh store; a PostgreSQL store adds one subclass, nothing else.
/// </summary>
public abstract class AlertStateStoreContract
{
    /// <summary>A fresh, empty store; two calls with the same <paramref name="shared"/> key open the same store (two processes).</summary>
    protected abstract IAlertStateStore Open(string shared);

    private readonly string _key = Guid.NewGuid().ToString("N");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_unknown_service_starts_clear_and_reads_as_null()
    {
        var store = Open(_key);
        Assert.Null(await store.GetAsync("production/api", CancellationToken.None));
        await using var lease = await store.LockAsync("production/api", Wait, CancellationToken.None);
        Assert.Equal(AlertPhase.Clear, lease.State.Phase);
        Assert.Equal("production/api", lease.State.Service);
        Assert.Equal(0, lease.State.ConsecutiveFailures);
    }

    [Fact]
    public async Task A_saved_state_survives_and_is_seen_by_another_instance()
    {
        var at = new DateTimeOffset(2026, 11, 30, 3, 0, 0, TimeSpan.Zero);
        await using (var lease = await Open(_key).LockAsync("production/api", Wait, CancellationToken.None))
        {
            var s = lease.State;
            s.Phase = AlertPhase.Down; s.ConsecutiveFailures = 4; s.IncidentId = "INC-20261130-001"; s.OutageStartedAt = at; s.LastUpdateAt = at.AddMinutes(1);
            await lease.SaveAsync(s, CancellationToken.None);
        }
        var other = Open(_key);
        var read = await other.GetAsync("production/api", CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal((AlertPhase.Down, 4, "INC-20261130-001", at, at.AddMinutes(1)), (read.Phase, read.ConsecutiveFailures, read.IncidentId, read.OutageStartedAt!.Value, read.LastUpdateAt!.Value));
        await using var again = await other.LockAsync("production/api", Wait, CancellationToken.None);
        Assert.Equal("INC-20261130-001", again.State.IncidentId);
    }

    [Fact]
    public async Task Saving_one_service_leaves_the_others_whole()
    {
        var store = Open(_key);
        foreach (var (name, n) in new[] { ("production/api", 1), ("production/web", 2), ("staging/api", 3) })
        {
            await using var lease = await store.LockAsync(name, Wait, CancellationToken.None);
            lease.State.ConsecutiveFailures = n;
            await lease.SaveAsync(lease.State, CancellationToken.None);
        }
        var all = await store.ListAsync(CancellationToken.None);
        Assert.Equal(["production/api", "production/web", "staging/api"], all.Select(s => s.Service));
        Assert.Equal([1, 2, 3], all.Select(s => s.ConsecutiveFailures));
    }

    [Fact]
    public async Task A_held_service_lock_makes_the_second_holder_wait_then_fail_with_AlertingStateBusy()
    {
        await using var first = await Open(_key).LockAsync("production/api", Wait, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => Open(_key).LockAsync("production/api", TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.Equal(AlertingErrorIds.StateBusy, ex.ErrorId);
        Assert.Contains("production/api", ex.Message);
        // Another service is not held up by it.
        await using var other = await Open(_key).LockAsync("production/web", TimeSpan.FromMilliseconds(300), CancellationToken.None);
    }

    [Fact]
    public async Task The_lock_is_released_on_dispose_and_the_next_holder_sees_the_save()
    {
        var store = Open(_key);
        var first = await store.LockAsync("production/api", Wait, CancellationToken.None);
        var second = Task.Run(async () =>
        {
            await using var lease = await Open(_key).LockAsync("production/api", Wait, CancellationToken.None);
            return lease.State.ConsecutiveFailures;
        });
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        first.State.ConsecutiveFailures = 7;
        await first.SaveAsync(first.State, CancellationToken.None);
        await first.DisposeAsync();
        Assert.Equal(7, await second.WaitAsync(Wait));
    }

    [Fact]
    public async Task Concurrent_read_modify_save_under_the_lock_loses_no_increment()
    {
        async Task Bump()
        {
            for (var i = 0; i < 10; i++)
            {
                await using var lease = await Open(_key).LockAsync("production/api", TimeSpan.FromSeconds(30), CancellationToken.None);
                lease.State.ConsecutiveFailures++;
                await lease.SaveAsync(lease.State, CancellationToken.None);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(Bump)));
        Assert.Equal(40, (await Open(_key).GetAsync("production/api", CancellationToken.None))!.ConsecutiveFailures);
    }
}

/// <summary>The contract against the file store's alerting state (alerting/state.json under the store's folder).</summary>
public sealed class FileAlertStateStoreContractTests : AlertStateStoreContract
{
    private static readonly string Root = Paths.TempDir("io-alertstate");

    protected override IAlertStateStore Open(string shared) => new FileAlertStateStore(Path.Combine(Root, shared, "alerting"));

    [Fact]
    public async Task A_damaged_state_file_fails_with_AlertingStateCorrupt_and_says_what_to_do()
    {
        var dir = Path.Combine(Root, Guid.NewGuid().ToString("N"), "alerting");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "state.json"), "[{\"service\":");
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => new FileAlertStateStore(dir).GetAsync("production/api", CancellationToken.None));
        Assert.Equal(AlertingErrorIds.StateCorrupt, ex.ErrorId);
        Assert.Contains("Move it aside", ex.Message);
    }
}
