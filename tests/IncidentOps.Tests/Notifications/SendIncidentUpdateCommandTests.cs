using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

public class SendIncidentUpdateCommandTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static void AssertNoCanary(string text)
    {
        foreach (var canary in NotificationScenario.Canaries) Assert.DoesNotContain(canary, text);
    }

    [Fact]
    public async Task SendIncidentUpdate_delivers_to_every_routed_channel_and_no_secret_appears_anywhere()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P0");
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Message 'Checkout down for everyone' -NextUpdateIn 15m -Verbose").AssertNoErrors();
        var results = r.Objects<NotificationResult>().ToList();
        Assert.Equal(["incidents", "teams", "ops", "pager", "status", "audit"], results.Select(x => x.Channel));
        Assert.All(results, x => Assert.True(x.Delivered, $"{x.Channel}: {x.Error}"));
        Assert.All(results, x => Assert.Equal(NotificationKind.Initial, x.Kind));
        Assert.Single(s.Slack.Requests);
        Assert.Single(s.Teams.Requests);
        Assert.Single(s.Discord.Requests);
        Assert.Single(s.PagerDuty.Requests);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "POST");
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.Single(s.Webhook.Requests);
        Assert.Contains(r.Verbose, v => v.Contains("POST", StringComparison.Ordinal));
        AssertNoCanary(r.AllText());
        AssertNoCanary(s.StoreText());
        var after = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.Equal("sp-1", after.ExternalIds["statuspage:status"]);
        Assert.InRange(after.NextUpdateDue!.Value - after.LastUpdateAt!.Value, TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(15));
        var update = Assert.Single(await s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Kind == "update");
        Assert.Equal(TimelineOutcome.Succeeded, update.Outcome);
    }

    [Fact]
    public async Task WhatIf_shows_each_rendered_payload_with_secrets_masked_and_sends_nothing()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Message 'Investigating' -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Contains("What if:", r.HostText);
        Assert.Contains("\"blocks\":", r.HostText);
        Assert.Contains("\"event_action\":\"trigger\"", r.HostText);
        Assert.Contains("\"routing_key\":\"", r.HostText);
        AssertNoCanary(r.AllText());
        Assert.Empty(s.Slack.Requests);
        Assert.Empty(s.PagerDuty.Requests);
        Assert.Empty(s.OutboxFiles(inc.Id));
        var after = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.Null(after.LastUpdateAt);
        Assert.DoesNotContain(await s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Kind == "update");
        AssertNoCanary(s.StoreText());
    }

    [Fact]
    public async Task A_failed_send_stays_in_the_outbox_and_Pending_delivers_it_exactly_once()
    {
        using var s = new NotificationScenario();
        s.Slack.Then(503, "down");
        var inc = await s.CreateIncidentAsync("P1");
        var first = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Message 'First update'");
        var results = first.Objects<NotificationResult>().ToList();
        Assert.False(results.Single(x => x.Channel == "incidents").Delivered);
        Assert.True(results.Single(x => x.Channel == "pager").Delivered);
        Assert.Contains(first.Warnings, w => w.Contains("not delivered", StringComparison.Ordinal));
        AssertNoCanary(first.AllText());

        var pending = fx.Run($"Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Pending").AssertNoErrors();
        var entry = Assert.Single(pending.Objects<IncidentUpdate>());
        Assert.Equal(DeliveryState.Pending, entry.Deliveries.Single(d => d.Channel == "incidents").State);
        Assert.Equal(DeliveryState.Delivered, entry.Deliveries.Single(d => d.Channel == "pager").State);

        var resend = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending").AssertNoErrors();
        var again = Assert.Single(resend.Objects<NotificationResult>());
        Assert.Equal("incidents", again.Channel);
        Assert.True(again.Delivered, again.Error);
        Assert.Equal(2, s.Slack.Requests.Count);
        Assert.Single(s.PagerDuty.Requests);

        Assert.Empty(fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending").AssertNoErrors().Output);
        Assert.Equal(0, (int)fx.Run($"@(Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending).Count").Output.Single().BaseObject);
        Assert.Equal(2, s.Slack.Requests.Count);
        var outcomes = (await s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None)).Where(e => e.Kind == "update").Select(e => e.Outcome).ToList();
        Assert.Equal([TimelineOutcome.Failed, TimelineOutcome.Succeeded], outcomes);
        AssertNoCanary(s.StoreText());
    }

    [Fact]
    public async Task Incident_binds_from_the_pipeline_by_property_name()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P3", active: false);
        var r = fx.Run($"[pscustomobject]@{{ IncidentId = '{inc.Id}' }} | Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Status Identified -Message 'found it'").AssertNoErrors();
        var result = Assert.Single(r.Objects<NotificationResult>());
        Assert.Equal(inc.Id, result.IncidentId);
        Assert.Equal("audit", result.Channel);
        Assert.Equal(IncidentStatus.Identified, (await s.Store.GetAsync(inc.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Unknown_channel_and_missing_incident_have_stable_error_ids()
    {
        using var s = new NotificationScenario();
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Message m");
        Assert.Equal("NoActiveIncident,IncidentOps.Commands.SendIncidentUpdateCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        var inc = await s.CreateIncidentAsync();
        r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Channel nope -Message m");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ChannelNotFound,IncidentOps.Commands.SendIncidentUpdateCommand", e.FullyQualifiedErrorId);
        Assert.Contains("incidents", e.ToString());
        Assert.Empty(s.OutboxFiles(inc.Id));
    }

    [Fact]
    public async Task GetIncidentUpdateDue_lists_open_incidents_whose_update_is_overdue()
    {
        using var s = new NotificationScenario();
        var late = await s.CreateIncidentAsync("P0", active: false, title: "late");
        var soon = await s.CreateIncidentAsync("P1", active: false, title: "soon");
        var done = await s.CreateIncidentAsync("P1", active: false, title: "done");
        await s.Store.UpdateAsync(late.Id, i => i.NextUpdateDue = DateTimeOffset.UtcNow.AddMinutes(-5), CancellationToken.None);
        await s.Store.UpdateAsync(soon.Id, i => i.NextUpdateDue = DateTimeOffset.UtcNow.AddMinutes(30), CancellationToken.None);
        await s.Store.UpdateAsync(done.Id, i => { i.NextUpdateDue = DateTimeOffset.UtcNow.AddMinutes(-50); i.Status = IncidentStatus.Resolved; }, CancellationToken.None);
        var r = fx.Run($"Get-IncidentUpdateDue -ConfigPath '{s.ConfigPath}'").AssertNoErrors();
        var due = Assert.Single(r.Objects<IncidentUpdateDue>());
        Assert.Equal(late.Id, due.IncidentId);
        Assert.True(due.OverdueBy > TimeSpan.Zero);
        r = fx.Run($"Get-IncidentUpdateDue -ConfigPath '{s.ConfigPath}' -Within 1h").AssertNoErrors();
        Assert.Equal([late.Id, soon.Id], r.Objects<IncidentUpdateDue>().Select(d => d.IncidentId));
    }

    [Fact]
    public async Task CtrlC_stops_a_send_to_a_provider_that_never_answers_and_the_attempt_is_recorded_as_Unknown()
    {
        using var s = new NotificationScenario();
        s.Slack.ThenHang();
        var inc = await s.CreateIncidentAsync("P1");
        fx.Run("Get-Command Send-IncidentUpdate | Out-Null").AssertNoErrors();
        var (_, result) = fx.Session.RunAndStopWhen($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Channel incidents -Message 'stuck'", () => s.Slack.Requests.Count >= 1);
        Assert.True(result.Stopped);
        Assert.Single(s.Slack.Requests);
        var r = fx.Run($"Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Pending").AssertNoErrors();
        var delivery = Assert.Single(r.Objects<IncidentUpdate>()).Deliveries.Single();
        // The request had left: Slack may have posted it. Never "Pending, Attempts 0".
        Assert.Equal(DeliveryState.Unknown, delivery.State);
        Assert.Equal(1, delivery.Attempts);
        Assert.NotNull(delivery.LastAttemptAt);
    }

    [Fact]
    public async Task SendIncidentChangeEvent_posts_a_change_event_and_WhatIf_sends_nothing()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        var w = fx.Run($"Send-IncidentChangeEvent -ConfigPath '{s.ConfigPath}' -Summary 'Rolled back api' -WhatIf").AssertNoErrors();
        Assert.Contains("What if:", w.HostText);
        Assert.Empty(s.PagerDuty.Requests);
        var r = fx.Run($"Send-IncidentChangeEvent -ConfigPath '{s.ConfigPath}' -Summary 'Rolled back api' -Source api -Detail @{{ to = 'v41' }}").AssertNoErrors();
        Assert.True(Assert.Single(r.Objects<NotificationResult>()).Delivered);
        var req = Assert.Single(s.PagerDuty.Requests);
        Assert.Equal("/v2/change/enqueue", req.Path);
        Assert.Contains("\"to\":\"v41\"", req.Body);
        AssertNoCanary(r.AllText());
        Assert.Contains(await s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Action == "Send change event" && e.Outcome == TimelineOutcome.Succeeded);
        AssertNoCanary(s.StoreText());
    }
}
