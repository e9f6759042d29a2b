using System.Text.Json.Nodes;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Re-sends to the public status page after an answer that proves nothing (a 5xx after the work was done, no answer,
/// a failed check): Send-IncidentUpdate -Pending never posts an update twice and never opens a second public incident.
/// </summary>
public class StatuspageResendTests
{
    private static readonly ChangeContext Context = new("Send-IncidentUpdate");

    /// <summary>How many public updates of the Statuspage incident carry this text.</summary>
    private static int Posted(StatuspageFake api, string text) =>
        api.Incidents.SelectMany(i => i["incident_updates"]!.AsArray()).Count(u => u!["body"]!.GetValue<string>().Contains(text, StringComparison.Ordinal));

    [Fact]
    public async Task A_PATCH_that_Statuspage_processed_but_answered_502_is_found_by_Pending_and_not_posted_twice()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["status"] })).Delivered);
        // The gateway answers 502 after Statuspage has applied the PATCH (the update is on the public page).
        s.Statuspage.ScriptApplies = q => q.Method == "PATCH";
        s.Statuspage.ThenHandleAndAnswer(502, "<html>502 Bad Gateway</html>");
        var failed = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["status"] }));
        Assert.False(failed.Delivered);
        Assert.Equal(1, Posted(s.StatuspageApi, "Pool exhausted"));

        var (engine, _, config) = s.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(1, Posted(s.StatuspageApi, "Pool exhausted"));
        Assert.Single(s.Statuspage.Requests, q => q.Method == "PATCH");
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, inc.Id, pendingOnly: true, CancellationToken.None));
    }

    [Fact]
    public async Task An_unanswered_PATCH_stays_Unknown_when_the_check_fails_and_the_next_Pending_still_does_not_post_it_twice()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["status"] })).Delivered);
        // Statuspage applies the PATCH, but its answer never comes.
        s.Statuspage.ScriptApplies = q => q.Method is "PATCH" or "GET";
        s.Statuspage.ThenHandleAndHang();
        var (engine, _, config) = s.NewEngine();
        // Long enough for the PATCH to reach Statuspage on a loaded machine (the test is about its answer being lost).
        engine.Notifications.Options = new NotificationOptions { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(4) };
        var prepared = await engine.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["status"] }, CancellationToken.None);
        var lost = Assert.Single(await engine.Notifications.SendAsync(prepared, null, Context, CancellationToken.None));
        Assert.Equal(DeliveryState.Unknown, lost.State);

        // The first -Pending cannot check (Statuspage answers 503 to every lookup): nothing is sent, and the outbox still
        // says the PATCH may have arrived.
        for (var i = 0; i < 4; i++) s.Statuspage.Then(503, "{\"error\":\"unavailable\"}");
        var (engine2, _, _) = s.NewEngine();
        var unchecked_ = Assert.Single(await engine2.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None));
        Assert.False(unchecked_.Delivered);
        Assert.Equal(DeliveryState.Unknown, unchecked_.State);
        // What the user reads says why, and says once what to do next.
        Assert.StartsWith($"Could not check Statuspage for an existing incident of {inc.Id} before sending (Statuspage: ", unchecked_.Error);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(unchecked_.Error!, "stays pending"));
        Assert.Single(s.Statuspage.Requests, q => q.Method == "PATCH");

        // The next -Pending can check: the update is there, so it is recorded as delivered, not posted again.
        var resent = Assert.Single(await engine2.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "PATCH");
        Assert.Equal(1, Posted(s.StatuspageApi, "Pool exhausted"));
    }

    [Fact]
    public async Task A_lost_create_of_a_resolution_is_found_among_resolved_incidents_and_no_second_public_incident_is_opened()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        // The first thing the status page hears of this incident is its resolution; Statuspage opens the (resolved)
        // incident, but the gateway answers 502.
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHandleAndAnswer(502, "<html>502 Bad Gateway</html>");
        var failed = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "Fixed by a rollback", Channels = ["status"] }));
        Assert.False(failed.Delivered);
        Assert.Equal(1, s.StatuspageApi.Creates);

        var (engine, _, config) = s.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, Context, CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal("sp-1", resent.ProviderId);
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "POST");
        Assert.Equal(1, Posted(s.StatuspageApi, "Fixed by a rollback"));
        Assert.Equal("sp-1", (await s.Store.GetAsync(inc.Id, CancellationToken.None))!.ExternalIds["statuspage:status"]);
    }

    [Fact]
    public async Task An_incident_of_another_store_with_the_same_id_opens_its_own_Statuspage_incident_and_never_updates_the_other()
    {
        using var s = new NotificationScenario();
        var mine = await s.CreateIncidentAsync("P1", title: "Checkout returns 502");
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = mine.Id, Message = "Checkout is failing", Channels = ["status"] })).Delivered);

        // A colleague's own file store (same channels, same page) numbers its first incident of the day the same.
        var otherStorePath = Path.Combine(s.Dir, "colleague-store");
        var otherConfigPath = Path.Combine(s.Dir, "colleague.yml");
        File.WriteAllText(otherConfigPath, File.ReadAllText(s.ConfigPath).Replace(s.StorePath, otherStorePath, StringComparison.Ordinal));
        var otherStore = new FileIncidentStore(otherStorePath);
        var theirs = await otherStore.CreateAsync(id => new Incident
        {
            Id = id, Title = "Search is slow", Severity = "P1", Services = ["web"], StartedAt = DateTimeOffset.UtcNow, DeclaredAt = mine.DeclaredAt.AddSeconds(3),
        }, CancellationToken.None);
        Assert.Equal(mine.Id, theirs.Id);
        var (engine, _, _) = s.NewEngine();
        var otherConfig = engine.Config.LoadOrThrow(otherConfigPath, s.Dir);
        var prepared = await engine.Notifications.PrepareAsync(otherConfig, new IncidentUpdateRequest { IncidentId = theirs.Id, Message = "Search is slow", Channels = ["status"] }, CancellationToken.None);
        var r = Assert.Single(await engine.Notifications.SendAsync(prepared, null, Context, CancellationToken.None));
        Assert.True(r.Delivered, r.Error);

        Assert.Equal(2, s.StatuspageApi.Creates);
        Assert.Equal("sp-2", r.ProviderId);
        var first = s.StatuspageApi.Incidents.Single(i => i["id"]!.GetValue<string>() == "sp-1");
        Assert.Equal("Checkout returns 502", first["name"]!.GetValue<string>());
        Assert.Single(first["incident_updates"]!.AsArray());
        Assert.DoesNotContain(s.Statuspage.Requests, q => q.Method == "PATCH");
        // And the first incident's next update still goes to its own Statuspage incident.
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = mine.Id, Status = IncidentStatus.Resolved, Message = "Fixed", Channels = ["status"] })).Delivered);
        Assert.Equal("/v1/pages/pg7x9q2kzz/incidents/sp-1", s.Statuspage.Requests.Last().Path);
    }
}
