using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Close-Incident racing an update that was prepared while the incident was open (the alerting round's "still
/// failing", or a person's update waiting at its confirmation prompt): the close stands. The update never reopens the
/// incident, never erases its resolution time and is sent nowhere; an update prepared for an incident that was already
/// resolved still reopens it, as asked.
/// </summary>
public sealed class UpdateAfterCloseTests
{
    private static readonly ChangeContext Send = new("Send-IncidentUpdate");

    [Fact]
    public async Task An_update_prepared_while_open_does_not_reopen_an_incident_closed_before_it_was_sent()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P2");
        var (engine, sink, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "still failing" }, CancellationToken.None);
        var closed = await engine.Incidents.CloseAsync(config, inc.Id, "Rolled back the bad release", null, null, new ChangeContext("Close-Incident"), CancellationToken.None);

        var results = await engine.Notifications.SendAsync(prepared, null, Send, CancellationToken.None);

        Assert.All(results, r => Assert.False(r.Delivered));
        Assert.Empty(s.Discord.Requests);
        var after = await engine.Incidents.GetAsync(config, inc.Id, CancellationToken.None);
        Assert.Equal(IncidentStatus.Resolved, after.Status);
        Assert.Equal(closed.ResolvedAt, after.ResolvedAt);
        Assert.Contains(sink.Warnings, w => w.Contains("resolved", StringComparison.OrdinalIgnoreCase) && w.Contains(inc.Id, StringComparison.Ordinal));
        // Nothing is left pending for a later Send-IncidentUpdate -Pending to deliver.
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, inc.Id, true, CancellationToken.None));
    }

    [Fact]
    public async Task An_update_prepared_for_a_resolved_incident_still_reopens_it()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P2");
        var (engine, _, config) = s.NewEngine();
        await engine.Incidents.CloseAsync(config, inc.Id, "Rolled back", null, null, new ChangeContext("Close-Incident"), CancellationToken.None);
        var prepared = await engine.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "it is back" }, CancellationToken.None);

        var results = await engine.Notifications.SendAsync(prepared, null, Send, CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Delivered, r.Error));
        Assert.Equal(IncidentStatus.Investigating, (await engine.Incidents.GetAsync(config, inc.Id, CancellationToken.None)).Status);
    }
}
