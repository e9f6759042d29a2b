using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using IncidentOps.Tests.Alerting;
using IncidentOps.Tests.Notifications;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// One writer of timeline entries with one shape: the command named on an entry is the command that really ran
/// (a status update sent by an alerting round says Invoke-ServiceAlert, not Send-IncidentUpdate), and secrets are
/// redacted by the writer whoever builds the entry.
/// </summary>
public class TimelineWriterTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void An_entry_names_the_command_of_its_context_and_masks_secrets_in_target_detail_and_parameters()
    {
        const string canary = "CANARYtimelineWr1terPw";
        using var scope = IncidentOps.SecretRedactor.BeginScope();
        IncidentOps.SecretRedactor.Register(canary);
        var context = new ChangeContext("Restart-App", new Dictionary<string, string> { ["Service"] = $"api {canary}" });
        var entry = TimelineWriter.Entry(context, "action", "Restart", $"redis://:{canary}@cache:6379", TimelineOutcome.Succeeded, $"restarted with {canary}");
        Assert.Equal(("Restart-App", "action", "Restart", TimelineOutcome.Succeeded), (entry.Cmdlet, entry.Kind, entry.Action, entry.Outcome));
        Assert.DoesNotContain(canary, entry.Target);
        Assert.DoesNotContain(canary, entry.Result);
        Assert.Equal($"api {IncidentOps.SecretRedactor.Mask}", entry.Parameters["Service"]);
        // An entry that records other facts than the command's parameters (a status update: its id and message).
        var update = TimelineWriter.Entry(context, "update", "Update", "hook", TimelineOutcome.Failed, null, new Dictionary<string, string> { ["UpdateId"] = "UPD-1" });
        Assert.Equal(["UpdateId"], update.Parameters.Keys);
        Assert.Null(update.Result);
    }

    [Fact]
    public async Task The_updates_an_Invoke_ServiceAlert_round_sends_are_recorded_as_Invoke_ServiceAlert()
    {
        using var s = new AlertingScenario();
        s.Healthy = false;
        var decisions = Enumerable.Range(0, 3)
            .Select(_ => fx.Run($"Invoke-ServiceAlert -ConfigPath '{s.ConfigPath}' -Service production/api").AssertNoErrors().Single<IncidentOps.Alerting.AlertDecision>())
            .ToList();
        var id = decisions[2].IncidentId!;
        Assert.Matches(@"^Declared INC-\d{8}-\d{3} P1, paged$", decisions[2].Decision);
        var (engine, config) = s.NewEngine();
        var timeline = await engine.Incidents.GetTimelineAsync(config, id, CancellationToken.None);
        var update = Assert.Single(timeline, e => e.Kind == "update");
        Assert.Equal("Invoke-ServiceAlert", update.Cmdlet);
        Assert.Equal(("Initial alert (Investigating)", "hook,pager", TimelineOutcome.Succeeded), (update.Action, update.Target, update.Outcome));
        Assert.Equal(["Message", "UpdateId"], update.Parameters.Keys.Order());
        // Every entry of the round names the command that ran it: the declaration, the alert, the evidence and the update.
        Assert.All(timeline, e => Assert.Equal("Invoke-ServiceAlert", e.Cmdlet));
    }

    [Fact]
    public async Task A_status_update_sent_with_Send_IncidentUpdate_is_recorded_as_Send_IncidentUpdate()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P2");
        fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Message 'Investigating the checkout errors'").AssertNoErrors();
        var update = Assert.Single(await s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Kind == "update");
        Assert.Equal("Send-IncidentUpdate", update.Cmdlet);
        Assert.Equal("Investigating the checkout errors", update.Parameters["Message"]);
    }

    [Fact]
    public async Task The_engine_records_the_command_it_is_given_for_an_update_not_a_fixed_name()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync("P2");
        var (engine, _, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Watching" }, CancellationToken.None);
        await engine.Notifications.SendAsync(prepared, null, new ChangeContext("Watch-ServiceHealth"), CancellationToken.None);
        var update = Assert.Single(await s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Kind == "update");
        Assert.Equal("Watch-ServiceHealth", update.Cmdlet);
    }
}
