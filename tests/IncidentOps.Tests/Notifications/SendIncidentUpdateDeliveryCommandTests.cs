using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>The delivery guarantees as a user sees them, through the built module in a hosted pwsh.</summary>
public class SendIncidentUpdateDeliveryCommandTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public async Task CtrlC_in_the_middle_of_a_send_then_Pending_posts_to_no_provider_twice()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        s.Slack.ThenHang();
        s.Statuspage.ScriptApplies = q => q.Method == "POST";
        s.Statuspage.ThenHandleAndHang();
        fx.Run("Get-Command Send-IncidentUpdate | Out-Null").AssertNoErrors();
        // Ctrl+C once both requests are out (the hosted pipeline's Stop is what Ctrl+C calls).
        using (var ps = System.Management.Automation.PowerShell.Create())
        {
            ps.Runspace = fx.Session.Runspace;
            ps.AddScript($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Channel incidents,status -Message 'stuck'");
            var run = ps.BeginInvoke();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((s.Slack.Requests.Count == 0 || s.StatuspageApi.Creates == 0) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            ps.Stop();
            Assert.True(run.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)));
            Assert.Equal(System.Management.Automation.PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        }
        Assert.Single(s.Slack.Requests);
        Assert.Equal(1, s.StatuspageApi.Creates);

        var outbox = fx.Run($"Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Pending").AssertNoErrors().Single<IncidentUpdate>();
        Assert.All(outbox.Deliveries, d => { Assert.Equal(DeliveryState.Unknown, d.State); Assert.Equal(1, d.Attempts); });

        var pending = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending -WarningVariable w; $w").AssertNoErrors();
        var results = pending.Objects<NotificationResult>().ToList();
        Assert.Equal(DeliveryState.Unknown, results.Single(r => r.Channel == "incidents").State);
        Assert.True(results.Single(r => r.Channel == "status").Delivered);
        Assert.Contains(pending.Output, o => o.BaseObject is System.Management.Automation.WarningRecord w && w.Message.Contains("-Pending -Force", StringComparison.Ordinal));
        // Duplicate provider posts after the interruption: none.
        Assert.Single(s.Slack.Requests);
        Assert.Equal(1, s.StatuspageApi.Creates);
        Assert.Single(s.Statuspage.Requests, q => q.Method == "POST");
        Assert.DoesNotContain(s.Statuspage.Requests, q => q.Method == "PATCH");

        var forced = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending -Force").AssertNoErrors().Single<NotificationResult>();
        Assert.Equal("incidents", forced.Channel);
        Assert.True(forced.Delivered, forced.Error);
        Assert.Equal(2, s.Slack.Requests.Count);
    }

    [Fact]
    public async Task Statuspage_WhatIf_shows_the_page_id_and_base_url_and_masks_only_the_api_key()
    {
        using var s = new NotificationScenario();
        await s.CreateIncidentAsync("P1");
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Channel status -Message 'Investigating' -WhatIf").AssertNoErrors();
        Assert.Contains($"POST {s.Statuspage.BaseUrl}/v1/pages/pg7x9q2kzz/incidents", r.HostText);
        Assert.DoesNotContain(NotificationScenario.ApiKeyCanary, r.AllText());
        Assert.Empty(s.Statuspage.Requests);
    }

    [Fact]
    public async Task Pending_drops_a_superseded_update_and_each_result_carries_the_incident_id()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        s.Slack.Then(500, "a").Then(500, "b");
        fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Channel incidents -Status Monitoring -Message 'watching' -WarningAction SilentlyContinue");
        fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Channel incidents -Status Resolved -Message 'fixed' -WarningAction SilentlyContinue");
        foreach (var f in s.OutboxFiles(inc.Id)) File.WriteAllText(f, File.ReadAllText(f).Replace("\"Superseded\"", "\"Pending\"", StringComparison.Ordinal));
        var results = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending").AssertNoErrors().Objects<NotificationResult>().ToList();
        Assert.Equal([DeliveryState.Superseded, DeliveryState.Delivered], results.Select(r => r.State));
        Assert.All(results, r => Assert.Equal(inc.Id, r.IncidentId));
        Assert.Equal(3, s.Slack.Requests.Count);
        Assert.DoesNotContain("watching", s.Slack.Requests[2].Body, StringComparison.Ordinal);
    }

    [Fact]
    public void TestIncidentOpsConfig_refuses_a_Statuspage_component_key_that_names_no_service()
    {
        using var s = new NotificationScenario(statuspageComponents: "apii: cmpapi111");
        var findings = fx.Run($"Test-IncidentOpsConfig -Path '{s.ConfigPath}' -SkipReferences").AssertNoErrors().Objects<ConfigFinding>().ToList();
        var f = Assert.Single(findings, x => x.Code == "ConfigUnknownComponent");
        Assert.Contains("Did you mean 'api'", f.Message);
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Channel status -Message m");
        Assert.Contains(r.Errors, e => e.ToString().Contains("apii", StringComparison.Ordinal));
        Assert.Empty(s.Statuspage.Requests);
    }

    [Fact]
    public async Task Pending_WhatIf_shows_each_update_and_channel_it_would_re_send_supersede_or_skip_and_changes_nothing()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["status"] })).Delivered);
        s.Slack.Then(500, "oops");
        s.Statuspage.ScriptApplies = q => q.Method == "PATCH";
        s.Statuspage.Then(503, "{}");
        var identified = await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["incidents", "status"] });
        Assert.All(identified, r => Assert.False(r.Delivered));
        var (slackBefore, statusBefore) = (s.Slack.Requests.Count, s.Statuspage.Requests.Count);
        var outboxBefore = string.Join("\n", s.OutboxFiles(inc.Id).Order().Select(File.ReadAllText));

        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        // The first line reads as a sentence (it said "Re-send pending updates every incident").
        Assert.StartsWith("What if: Re-send the pending updates of every incident", r.HostText.TrimStart());
        var send = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Channel incidents -Message 'Preview' -WhatIf").AssertNoErrors();
        Assert.StartsWith($"What if: Send Progress update to incidents (Slack) for {inc.Id}: POST", send.HostText.TrimStart());
        var updateId = identified[0].UpdateId;
        Assert.Contains($"incidents (Slack) for {inc.Id} {updateId}", r.HostText);
        Assert.Contains($"status (Statuspage) for {inc.Id} {updateId}", r.HostText);
        Assert.Contains($"PATCH {s.Statuspage.BaseUrl}/v1/pages/pg7x9q2kzz/incidents/sp-1", r.HostText);
        Assert.Contains("POST ", r.HostText);
        foreach (var canary in NotificationScenario.Canaries) Assert.DoesNotContain(canary, r.AllText());
        Assert.Equal((slackBefore, statusBefore), (s.Slack.Requests.Count, s.Statuspage.Requests.Count));
        Assert.Equal(outboxBefore, string.Join("\n", s.OutboxFiles(inc.Id).Order().Select(File.ReadAllText)));

        // -Channel narrows the plan as it narrows the re-send.
        Assert.True(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "Fix deployed", Channels = ["incidents"] })).Delivered);
        var outbox = string.Join("\n", s.OutboxFiles(inc.Id).Order().Select(File.ReadAllText));
        var r2 = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending -WhatIf -Channel status").AssertNoErrors();
        Assert.StartsWith("What if: Re-send the pending updates of every incident: only to channel status", r2.HostText.TrimStart());
        var r3 = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending -Incident {inc.Id} -WhatIf -Channel status, incidents").AssertNoErrors();
        Assert.StartsWith($"What if: Re-send the pending updates of {inc.Id}: only to channels status, incidents", r3.HostText.TrimStart());
        Assert.DoesNotContain("incidents (Slack)", r2.HostText);
        Assert.Contains($"status (Statuspage) for {inc.Id} {updateId}", r2.HostText);
        Assert.Equal(outbox, string.Join("\n", s.OutboxFiles(inc.Id).Order().Select(File.ReadAllText)));
    }

    [Fact]
    public async Task Pending_with_a_channel_name_that_is_not_configured_is_ChannelNotFound_not_a_silent_nothing_to_do()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        s.Slack.Then(500, "oops");
        Assert.False(Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["incidents"] })).Delivered);

        // The channel's type instead of its name: a user would read "no output" as "nothing pending".
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Pending -Channel slack");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ChannelNotFound,IncidentOps.Commands.SendIncidentUpdateCommand", e.FullyQualifiedErrorId);
        Assert.Contains("incidents", e.ToString());
        Assert.Single(s.Slack.Requests);
        Assert.Single(fx.Run($"Get-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Pending").AssertNoErrors().Objects<IncidentUpdate>());
    }
}

