using IncidentOps.Alerting;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// The unattended path: an alerting round whose update was delivered and recorded, and which died before its timeline entry,
/// leaves nothing pending, so no later round re-sends anything; the next round still adds the missing entry, once, and sends nothing.
/// </summary>
public class AlertingTimelineReconcileTests
{
    [Fact]
    public async Task The_next_alerting_round_adds_the_missing_entry_of_an_update_a_round_delivered_and_never_told_and_sends_nothing()
    {
        using var s = new AlertingScenario();
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        AlertDecision? declared = null;
        for (var i = 0; i < 3; i++)
        {
            var d = await AlertingScenario.RoundAsync(engine, config);
            if (d.Action == AlertAction.Declared) declared = d;
            s.Clock.Advance(TimeSpan.FromSeconds(10));
        }
        Assert.NotNull(declared);
        var id = declared!.IncidentId!;
        // What a round that died between its outbox record and its timeline entry leaves: the deliveries, and no entry.
        var file = Path.Combine(s.StorePath, "incidents", id, "timeline.jsonl");
        File.WriteAllLines(file, File.ReadAllLines(file).Where(l => !l.Contains("\"kind\":\"update\"", StringComparison.Ordinal)));
        Assert.DoesNotContain(await engine.Incidents.GetTimelineAsync(config, id, CancellationToken.None), e => e.Kind == "update");
        Assert.Empty(await engine.Notifications.GetUpdatesAsync(config, id, pendingOnly: true, CancellationToken.None));

        await AlertingScenario.RoundAsync(engine, config);
        await AlertingScenario.RoundAsync(engine, config);

        var entry = Assert.Single(await engine.Incidents.GetTimelineAsync(config, id, CancellationToken.None), e => e.Kind == "update");
        Assert.Contains("sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added)", entry.Result);
        Assert.Single(s.HookPosts);
        Assert.Single(s.Pages("trigger"));
    }
}
