using IncidentOps.Alerting;
using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// Unattended alerting pages whatever else is broken. Before, one routed channel whose env:/file:/secret: reference did not
/// resolve in the cron job's environment (a status webhook's URL, a Statuspage key) made the whole round fail with
/// ConfigReferenceUnresolved: the incident was declared and nobody was paged, round after round. Now the channels that
/// resolve are sent the update, the broken one is kept Pending in the outbox with the reason (so the next round or
/// Send-IncidentUpdate -Pending sends it once the reference resolves), and the round's decision and warning say so.
/// </summary>
public sealed class AlertingUnresolvedChannelTests
{
    private static readonly TimeSpan Ten = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_channel_whose_reference_does_not_resolve_does_not_stop_the_page_and_is_sent_once_it_resolves()
    {
        var variable = "IO_ALERT_BROKEN_" + Guid.NewGuid().ToString("N")[..8];
        using var s = new AlertingScenario(p1: "hook, pager, status");
        using var status = new Notifications.ProviderStub(200, "");
        File.WriteAllText(s.ConfigPath, File.ReadAllText(s.ConfigPath).Replace("channels:\n", $"channels:\n  status: {{ type: webhook, url: 'env:{variable}' }}\n"));
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        AlertDecision? declared = null;
        for (var i = 0; i < 3 && declared is null; i++)
        {
            var d = await AlertingScenario.RoundAsync(engine, config);
            if (d.Action == AlertAction.Declared) declared = d;
            s.Clock.Advance(Ten);
        }

        Assert.NotNull(declared);
        Assert.Single(s.Pages("trigger"));      // paged, although the status channel cannot be resolved
        Assert.Single(s.HookPosts);
        Assert.Contains("status not reached", declared!.Decision);
        var sink = (CollectingSink)engine.Sink;
        Assert.Contains(sink.Warnings, w => w.Contains("'status'") && w.Contains(variable) && w.Contains("stays pending"));
        var update = Assert.Single(await engine.Notifications.GetUpdatesAsync(config, declared.IncidentId!, false, CancellationToken.None));
        var broken = Assert.Single(update.Deliveries, d => d.Channel == "status");
        Assert.Equal(DeliveryState.Pending, broken.State);
        Assert.Contains(variable, broken.Error);
        var timeline = await engine.Incidents.GetTimelineAsync(config, declared.IncidentId!, CancellationToken.None);
        Assert.Contains(timeline, e => e.Kind == "update" && e.Result!.Contains("status: NOT delivered") && e.Result.Contains("pager: delivered ("));

        // -Pending while the reference still does not resolve: the other incidents' work goes on, and it says why this one waits.
        var unresolved = new List<IncidentOpsException>();
        var results = await engine.Notifications.SendPendingAsync(config, null, null, false, new ChangeContext("Send-IncidentUpdate"), CancellationToken.None, unresolved);
        var waiting = Assert.Single(results);
        Assert.Equal(("status", true, false), (waiting.Channel, waiting.Pending, waiting.Delivered));
        Assert.Contains(variable, Assert.Single(unresolved).Message);
        Assert.Empty(status.Requests);

        // The same through the cmdlet: the waiting delivery's result, then one ConfigReferenceUnresolved error naming the channel.
        using (var session = new PwshSession())
        {
            var r = session.Run("Send-IncidentUpdate -Pending -ConfigPath $path -Confirm:$false", new Dictionary<string, object?> { ["path"] = s.ConfigPath });
            Assert.Null(r.Terminating);
            var shown = Assert.Single(r.Objects<NotificationResult>());
            Assert.Equal(("status", DeliveryState.Pending), (shown.Channel, shown.State));
            var error = Assert.Single(r.Errors);
            Assert.Equal("ConfigReferenceUnresolved,IncidentOps.Commands.SendIncidentUpdateCommand", error.FullyQualifiedErrorId);
            Assert.Equal("status", error.TargetObject);
            Assert.Contains($"the environment variable {variable} is not set", error.Exception.Message);
            Assert.Contains("Its delivery stays pending", error.Exception.Message);
            Assert.Empty(status.Requests);
        }

        // Once it resolves, -Pending sends it, once.
        Environment.SetEnvironmentVariable(variable, status.BaseUrl + "/status");
        try
        {
            var sent = await engine.Notifications.SendPendingAsync(config, null, null, false, new ChangeContext("Send-IncidentUpdate"), CancellationToken.None, null);
            Assert.Equal(("status", true), (Assert.Single(sent).Channel, sent[0].Delivered));
            Assert.Single(status.Requests);
            Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, declared.IncidentId!, true, CancellationToken.None));
        }
        finally { Environment.SetEnvironmentVariable(variable, null); }
    }
}
