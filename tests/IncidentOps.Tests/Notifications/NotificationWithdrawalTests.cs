using System.Reflection;
using System.Runtime.ExceptionServices;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Engine.Notifications.Slack;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A real incident store with two seams for one update: the second write of its outbox entry fails (an interruption or a
/// store error between two writes), and a hook runs just before the incident record is updated (another shell acting in
/// that moment).
/// </summary>
public class SeamStore : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private string _updateId = "";
    private int _writes;

    /// <summary>Runs once, before the first UpdateAsync is passed on.</summary>
    public Func<IIncidentStore, Task>? BeforeUpdate { get; set; }

    /// <summary>Runs once, after the first UpdateAsync has been passed on (the store breaking right then).</summary>
    public Func<Task>? AfterUpdate { get; set; }

    /// <summary>When true, the second write of the update's outbox entry throws OperationCanceledException instead of writing.</summary>
    public bool FailSecondWrite { get; set; }

    public int Writes => _writes;

    public static (IIncidentStore Store, SeamStore Seam) Wrap(IIncidentStore inner, string updateId)
    {
        var store = Create<IIncidentStore, SeamStore>();
        var seam = (SeamStore)(object)store;
        seam._inner = inner;
        seam._updateId = updateId;
        return (store, seam);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IIncidentStore.WriteOutboxEntryAsync) && args![0] is IncidentUpdate u && u.UpdateId == _updateId
            && Interlocked.Increment(ref _writes) == 2 && FailSecondWrite)
            return Task.FromException(new OperationCanceledException("interrupted between the two writes"));
        if (OutboxChangeThroughWrite.Handles(targetMethod)) return OutboxChangeThroughWrite.ChangeAsync((IIncidentStore)(object)this, _inner, args!);
        if (targetMethod.Name == nameof(IIncidentStore.UpdateAsync) && BeforeUpdate is { } hook)
        {
            BeforeUpdate = null;
            return UpdateAfterAsync(hook, (string)args![0]!, (Action<Incident>)args[1]!, (CancellationToken)args[2]!);
        }
        try { return targetMethod.Invoke(_inner, args); }
        catch (TargetInvocationException ex) { ExceptionDispatchInfo.Throw(ex.InnerException!); throw; }
    }

    private async Task<Incident> UpdateAfterAsync(Func<IIncidentStore, Task> hook, string id, Action<Incident> change, CancellationToken cancellationToken)
    {
        await hook(_inner);
        var updated = await _inner.UpdateAsync(id, change, cancellationToken);
        if (AfterUpdate is { } after)
        {
            AfterUpdate = null;
            await after();
        }
        return updated;
    }
}

/// <summary>
/// An update prepared while the incident was open and withdrawn because the incident was resolved meanwhile is never left
/// pending by an interruption, so a later Send-IncidentUpdate -Pending never posts it; on the file and the team store.
/// </summary>
public class NotificationWithdrawalTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    private static NotificationService Through(NotificationScenario s, IIncidentStore store)
    {
        var (engine, _, _) = s.NewEngine();
        return new NotificationService(_ => store, engine.Sink, engine.References, engine.Timeline, NotificationSender.SharedClient,
            new Lazy<SlackIncidentChannel>(() => engine.IncidentChannels)) { Options = engine.Notifications.Options };
    }

    private static async Task AssertNeverPostedAsync(NotificationScenario s, string incidentId, string updateId)
    {
        var entry = await s.Incidents.ReadOutboxEntryAsync(incidentId, updateId, CancellationToken.None);
        Assert.NotNull(entry);
        Assert.False(entry.Pending, string.Join(", ", entry.Deliveries));
        Assert.All(entry.Deliveries, d => Assert.Equal(DeliveryState.Superseded, d.State));
        Assert.All(entry.Deliveries, d => Assert.Contains("was resolved", d.Error));

        // A later -Pending does not post the withdrawn update.
        var before = s.Slack.Requests.Count;
        var (engine, _, config) = s.NewEngine();
        var resent = await engine.Notifications.SendPendingAsync(config, incidentId, null, Context, CancellationToken.None);
        Assert.DoesNotContain(resent, r => r.UpdateId == updateId && r.Delivered);
        Assert.Equal(before, s.Slack.Requests.Count);
        Assert.Equal(IncidentStatus.Resolved, (await s.Incidents.GetAsync(incidentId, CancellationToken.None))!.Status);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task An_update_of_an_incident_resolved_before_it_was_sent_is_withdrawn_in_one_write(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        // Prepared (waiting at its confirmation) while the incident is open ...
        var (engine, _, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["incidents"] }, CancellationToken.None);
        // ... while another shell resolves it.
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "Fixed", Channels = ["incidents"] })).Delivered);
        var posted = s.Slack.Requests.Count;

        // Before: written Pending, then marked Superseded by a second write; an interruption there left it pending.
        var (store, seam) = SeamStore.Wrap(s.Incidents, prepared.Update.UpdateId);
        seam.FailSecondWrite = true;
        try { await Through(s, store).SendAsync(prepared, null, Context, CancellationToken.None); }
        catch (OperationCanceledException) { /* the interruption the seam injects */ }

        Assert.Equal(1, seam.Writes);
        Assert.Equal(posted, s.Slack.Requests.Count);
        await AssertNeverPostedAsync(s, inc.Id, prepared.Update.UpdateId);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task An_incident_resolved_while_the_update_is_being_written_and_a_Ctrl_C_then_still_leave_it_withdrawn(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var (engine, _, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["incidents"] }, CancellationToken.None);
        var posted = s.Slack.Requests.Count;

        // The incident is resolved in the moment between the update's outbox write and its status move, and the person
        // presses Ctrl+C right then. Before: the withdrawal's write took the cancelled token and never happened.
        using var ctrlC = new CancellationTokenSource();
        var (store, seam) = SeamStore.Wrap(s.Incidents, prepared.Update.UpdateId);
        seam.BeforeUpdate = async inner =>
        {
            await inner.UpdateAsync(inc.Id, i => IncidentStateMachine.Move(i, IncidentStatus.Resolved, DateTimeOffset.UtcNow), CancellationToken.None);
            ctrlC.Cancel();
        };
        try { await Through(s, store).SendAsync(prepared, null, Context, ctrlC.Token); }
        catch (OperationCanceledException) { /* Ctrl+C */ }

        Assert.Equal(posted, s.Slack.Requests.Count);
        await AssertNeverPostedAsync(s, inc.Id, prepared.Update.UpdateId);
    }

    /// <summary>
    /// The known defect: the incident is resolved while the update is being written, and the store fails right then (its
    /// folder gone, PostgreSQL down), so the withdrawal cannot be written. Before, the entry stayed Pending and the next
    /// Send-IncidentUpdate -Pending (or alerting round) posted the stale update to Slack and to the public status page.
    /// </summary>
    private static async Task AStoreErrorOnTheWithdrawalNeverLetsItBeSentLaterAsync(NotificationScenario s, Func<Task> breakStore, Action repairStore)
    {
        var inc = await s.CreateIncidentAsync("P1");
        var (engine, _, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest
        {
            IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["incidents", "status"],
        }, CancellationToken.None);
        var (slack, statuspage) = (s.Slack.Requests.Count, s.Statuspage.Requests.Count);

        var (store, seam) = SeamStore.Wrap(s.Incidents, prepared.Update.UpdateId);
        seam.BeforeUpdate = inner => inner.UpdateAsync(inc.Id, i => IncidentStateMachine.Move(i, IncidentStatus.Resolved, DateTimeOffset.UtcNow), CancellationToken.None);
        seam.AfterUpdate = breakStore;
        var error = await Assert.ThrowsAsync<IncidentOpsException>(() => Through(s, store).SendAsync(prepared, null, Context, CancellationToken.None));

        Assert.Equal(NotificationErrorIds.WithdrawalNotRecorded, error.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.WriteError, error.Category);
        Assert.Contains(prepared.Update.UpdateId, error.Message);
        Assert.Contains("will never be sent", error.Message);
        Assert.Contains($"Send-IncidentUpdate -Pending -Incident {inc.Id}", error.Message);
        Assert.Equal(IncidentErrorIds.StoreUnavailable, Assert.IsType<IncidentOpsException>(error.InnerException).ErrorId);
        Assert.Equal((slack, statuspage), (s.Slack.Requests.Count, s.Statuspage.Requests.Count));

        // The store is back; its entry still reads Pending, as the failed write left it.
        repairStore();
        Assert.True((await s.Incidents.ReadOutboxEntryAsync(inc.Id, prepared.Update.UpdateId, CancellationToken.None))!.Pending);
        var (next, sink, nextConfig) = s.NewEngine();
        var resent = await next.Notifications.SendPendingAsync(nextConfig, inc.Id, null, new ChangeContext("Invoke-ServiceAlert"), CancellationToken.None);

        Assert.Equal(["incidents", "status"], resent.Select(r => r.Channel).Order());
        Assert.All(resent, r => Assert.Equal((DeliveryState.Superseded, false, false), (r.State, r.Delivered, r.Pending)));
        Assert.Equal((slack, statuspage), (s.Slack.Requests.Count, s.Statuspage.Requests.Count));
        Assert.Empty(s.StatuspageApi.Incidents);
        await AssertNeverPostedAsync(s, inc.Id, prepared.Update.UpdateId);
    }

    [Fact]
    public async Task The_file_store_folder_gone_while_the_withdrawal_is_written_never_lets_the_update_be_sent_later()
    {
        using var s = new NotificationScenario();
        var aside = s.StorePath + ".unmounted";
        await AStoreErrorOnTheWithdrawalNeverLetsItBeSentLaterAsync(s,
            () => { Directory.Move(s.StorePath, aside); return Task.CompletedTask; },
            () => Directory.Move(aside, s.StorePath));
    }

    [Fact]
    public async Task PostgreSQL_down_while_the_withdrawal_is_written_never_lets_the_update_be_sent_later()
    {
        using var pg = new IncidentOps.Tests.Incidents.PrivatePostgres();
        using var s = NotificationScenario.OnTeamServer(pg.ConnectionString);
        await AStoreErrorOnTheWithdrawalNeverLetsItBeSentLaterAsync(s, () => { pg.Stop(); return Task.CompletedTask; }, pg.Start);
    }
}
