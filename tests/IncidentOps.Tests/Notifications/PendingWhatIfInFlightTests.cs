using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Send-IncidentUpdate -Pending -WhatIf for a channel on which another sender's request may still be in flight (its claim of
/// the channel ended): the plan says exactly what a send would do (wait for it, then look and re-send; or leave it pending
/// with when to come back), and nothing is sent, locked or written.
/// </summary>
public class PendingWhatIfInFlightTests
{
    private static async Task<IncidentUpdate> InFlightEntryAsync(NotificationScenario s, Incident inc, TimeSpan inFlightFor)
    {
        var now = DateTimeOffset.UtcNow;
        var update = new IncidentUpdate
        {
            UpdateId = $"UPD-{now:yyyyMMddHHmmssfff}-abcd", IncidentId = inc.Id, Kind = NotificationKind.Initial, Status = IncidentStatus.Investigating,
            Message = "Checkout is failing", CreatedAt = now,
            Deliveries = [new ChannelDelivery { Channel = "status", ChannelType = IncidentOps.Config.ChannelType.Statuspage, State = DeliveryState.Unknown, Attempts = 1, LastAttemptAt = now, InFlightUntil = now + inFlightFor }],
        };
        await s.Incidents.WriteOutboxEntryAsync(update, CancellationToken.None);
        return update;
    }

    private static string Json(IncidentUpdate? u) => System.Text.Json.JsonSerializer.Serialize(u);

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task The_plan_says_it_would_wait_for_the_other_senders_request_then_look_and_re_send_and_nothing_changes(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var update = await InFlightEntryAsync(s, inc, TimeSpan.FromSeconds(8));
        var before = Json(await s.Incidents.ReadOutboxEntryAsync(inc.Id, update.UpdateId, CancellationToken.None));
        var (engine, _, config) = s.NewEngine();
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(30) };

        var step = Assert.Single(await engine.Notifications.PlanPendingAsync(config, inc.Id, null, force: false, CancellationToken.None));

        Assert.Equal($"status (Statuspage) for {inc.Id} {update.UpdateId}", step.Target);
        Assert.Matches(@"^Wait up to \d+ s \(until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\) for another sender's request to Statuspage in flight \(its claim of the channel ended\) to be recorded; " +
            @"if it did not deliver this update, look at Statuspage first, then re-send Initial alert \(Investigating\): POST http://127\.0\.0\.1:\d+/v1/pages/pg7x9q2kzz/incidents$", step.Action);
        Assert.DoesNotContain(NotificationScenario.ApiKeyCanary, step.Action);
        Assert.Empty(s.Statuspage.Requests);
        Assert.Equal(before, Json(await s.Incidents.ReadOutboxEntryAsync(inc.Id, update.UpdateId, CancellationToken.None)));
        // Nothing was claimed: a send can take the update at once.
        await using (await s.Incidents.ClaimOutboxAsync(inc.Id, update.UpdateId, TimeSpan.FromSeconds(5), CancellationToken.None)) { }
    }

    [Theory]
    [InlineData("file")]
    [InlineData("team")]
    public async Task A_request_in_flight_longer_than_the_deadline_is_planned_as_kept_pending_with_when_to_run_Pending(string storeKind)
    {
        using var s = NotificationScenario.On(storeKind);
        var inc = await s.CreateIncidentAsync("P1");
        var update = await InFlightEntryAsync(s, inc, TimeSpan.FromMinutes(2));
        var (engine, _, config) = s.NewEngine();
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(30) };

        var step = Assert.Single(await engine.Notifications.PlanPendingAsync(config, inc.Id, null, force: false, CancellationToken.None));

        Assert.StartsWith("Keep Initial alert (Investigating) pending, send nothing: another sender's request to Statuspage for this incident may still be in flight until ", step.Action);
        Assert.Contains($"longer than this send's deadline (-TimeoutSec 30); run Send-IncidentUpdate -Pending -Incident {inc.Id} after ", step.Action);
        Assert.Empty(s.Statuspage.Requests);
        Assert.Equal(DeliveryState.Unknown, Assert.Single((await s.Incidents.ReadOutboxEntryAsync(inc.Id, update.UpdateId, CancellationToken.None))!.Deliveries).State);
    }
}
