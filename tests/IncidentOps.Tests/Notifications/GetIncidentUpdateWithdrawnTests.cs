using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// An update withdrawn because its incident was resolved after it was prepared, whose withdrawal the store failed to record
/// (UpdateWithdrawalNotRecorded), is never sent: Get-IncidentUpdate shows it withdrawn, not pending, before any -Pending records it.
/// </summary>
public class GetIncidentUpdateWithdrawnTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public async Task An_update_whose_withdrawal_was_not_recorded_is_not_listed_by_Get_IncidentUpdate_Pending_once_its_incident_is_resolved()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        // As a failed withdrawal leaves it: the entry written Pending, then the incident resolved (the withdrawal's write failed).
        var now = DateTimeOffset.UtcNow;
        var update = new IncidentUpdate
        {
            UpdateId = $"UPD-{now:yyyyMMddHHmmssfff}-beef", IncidentId = inc.Id, Kind = NotificationKind.Update, Status = IncidentStatus.Identified,
            Message = "Pool exhausted", CreatedAt = now,
            Deliveries = [new ChannelDelivery { Channel = "incidents", ChannelType = IncidentOps.Config.ChannelType.Slack }],
        };
        await s.Incidents.WriteOutboxEntryAsync(update, CancellationToken.None);
        await s.Incidents.UpdateAsync(inc.Id, i => IncidentStateMachine.Move(i, IncidentStatus.Resolved, now.AddSeconds(1)), CancellationToken.None);
        Assert.True((await s.Incidents.ReadOutboxEntryAsync(inc.Id, update.UpdateId, CancellationToken.None))!.Pending);

        var pending = fx.Run($"Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Pending").AssertNoErrors();
        Assert.Empty(pending.Objects<IncidentUpdate>());

        var all = fx.Run($"Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id}").AssertNoErrors();
        var shown = Assert.Single(all.Objects<IncidentUpdate>());
        var d = Assert.Single(shown.Deliveries);
        Assert.Equal(DeliveryState.Superseded, d.State);
        Assert.StartsWith($"Not sent: {inc.Id} was resolved at ", d.Error);
        // Shown, not written: the store still reads Pending until a -Pending records it, and nothing was sent.
        Assert.True((await s.Incidents.ReadOutboxEntryAsync(inc.Id, update.UpdateId, CancellationToken.None))!.Pending);
        Assert.Empty(s.Slack.Requests);
    }
}
