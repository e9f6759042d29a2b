using IncidentOps.Alerting;
using IncidentOps.Engine;
using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Incidents;
using IncidentOps.Health;
using IncidentOps.Incidents;
using Xunit;
using Xunit.Abstractions;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// Every alerting round while the service's incident is open keeps its health samples for the post-mortem (a ring of
/// small "health-rounds-" evidence documents per service and incident), on the file store and on the team store.
/// </summary>
public class AlertingRoundSampleTests(ITestOutputHelper output)
{
    private const string Rules = "failureThreshold: 2\n  successThreshold: 2\n  severity: P1\n  autoResolveAfter: 3m";

    private static AlertingScenario Scenario(bool team) => team ? AlertingScenario.OnTeamStore(alerting: Rules) : new AlertingScenario(Rules);

    private static async Task<IReadOnlyList<StoredEvidence>> RoundSamplesAsync(IncidentOpsEngine engine, IncidentOps.Config.IncidentOpsConfig config, string id) =>
        (await engine.OpenStore(config).ListEvidenceAsync(id, CancellationToken.None)).Where(e => RoundHealthSamples.IsRoundSample(e.Name)).ToList();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_round_while_the_incident_is_open_keeps_its_samples_none_after_it_is_closed_and_the_post_mortem_charts_them_all(bool team)
    {
        using var s = Scenario(team);
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        var decisions = new List<AlertDecision>();
        async Task<AlertDecision> Round()
        {
            var d = await AlertingScenario.RoundAsync(engine, config);
            decisions.Add(d);
            s.Clock.Advance(TimeSpan.FromMinutes(1));
            return d;
        }

        Assert.Equal(AlertAction.Waiting, (await Round()).Action);       // 1/2: no incident yet, nothing kept
        var declared = await Round();
        Assert.Equal(AlertAction.Declared, declared.Action);
        var id = declared.IncidentId!;
        Assert.Single(await RoundSamplesAsync(engine, config, id));      // the declaring round
        for (var i = 0; i < 3; i++) await Round();                       // still down: each round adds one
        Assert.Equal(4, (await RoundSamplesAsync(engine, config, id)).Count);
        s.Healthy = true;
        AlertDecision last;
        do last = await Round(); while (last.Action != AlertAction.Resolved && decisions.Count < 20);
        Assert.Equal(AlertAction.Resolved, last.Action);
        var whileOpen = decisions.Count - 1;                             // every round from the declaration to the resolution
        var kept = await RoundSamplesAsync(engine, config, id);
        Assert.Equal(whileOpen, kept.Count);

        // After it is closed: rounds go on, and the closed incident gets no more samples.
        for (var i = 0; i < 3; i++) Assert.Equal(AlertAction.None, (await Round()).Action);
        Assert.Equal(whileOpen, (await RoundSamplesAsync(engine, config, id)).Count);

        // Each round's document holds that round's results, without bodies.
        var store = engine.OpenStore(config);
        var texts = await Task.WhenAll(kept.Select(e => store.ReadEvidenceAsync(id, e.Name, CancellationToken.None)));
        Assert.Equal(4, texts.Count(t => t!.Contains("\"statusCode\": 503")));
        Assert.All(texts, t => Assert.DoesNotContain("\"body\"", t!));
        Assert.All(texts, t => Assert.DoesNotContain("CANARY", t!));
        output.WriteLine($"{(team ? "team" : "file")} store: {kept.Count} round documents, {kept.Sum(e => e.Bytes)} bytes ({kept.Average(e => e.Bytes):0} per round of one endpoint)");

        // The post-mortem's health chart has one point per round, from the declaration to the resolution, failures included.
        var points = await engine.Reports.ReadHealthSamplesAsync(config, id, CancellationToken.None);
        Assert.Equal(whileOpen, points.Count);
        Assert.Equal(4, points.Count(p => !p.Healthy));
        Assert.Equal(points.OrderBy(p => p.At).Select(p => p.At), points.Select(p => p.At));
        var html = (await engine.Reports.RenderAsync(config, id, IncidentReportKind.PostMortem, IncidentReportFormat.Html, "seed", null, CancellationToken.None)).Content;
        Assert.Equal(whileOpen, System.Text.RegularExpressions.Regex.Matches(html, "class=\"point point-").Count);
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(html, "class=\"point point-failed\"").Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Previewed_rounds_keep_no_samples(bool team)
    {
        using var s = Scenario(team);
        var (engine, config) = s.NewEngine();
        s.Healthy = false;
        AlertDecision d;
        do d = await AlertingScenario.RoundAsync(engine, config); while (d.Action != AlertAction.Declared);
        var before = await RoundSamplesAsync(engine, config, d.IncidentId!);
        var target = config.Services.Single();
        for (var i = 0; i < 3; i++)
        {
            s.Clock.Advance(TimeSpan.FromMinutes(1));
            var o = (await engine.Alerting.ProbeAsync([target], TimeSpan.FromSeconds(5), CancellationToken.None)).Single();
            Assert.True((await engine.Alerting.PreviewAsync(config, o, CancellationToken.None)).WhatIf);
        }
        var after = await RoundSamplesAsync(engine, config, d.IncidentId!);
        Assert.Equal(before.Select(e => (e.Name, e.Sha256)), after.Select(e => (e.Name, e.Sha256)));
        Assert.Equal(1, (await engine.Alerting.OpenState(config).GetAsync("production/api", CancellationToken.None))!.SampleRounds);
    }

    [Fact]
    public async Task Rounds_of_a_healthy_service_keep_samples_for_the_open_active_incident_that_names_it_and_stop_when_it_is_closed()
    {
        using var s = new AlertingScenario(Rules);
        var (engine, config) = s.NewEngine();
        var human = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "Slow checkout", Severity = "P2", Services = ["production/api"], Activate = true },
            ChangeContext.Engine, CancellationToken.None);
        for (var i = 0; i < 3; i++) { Assert.Equal(AlertAction.None, (await AlertingScenario.RoundAsync(engine, config)).Action); s.Clock.Advance(TimeSpan.FromMinutes(1)); }
        Assert.Equal(3, (await RoundSamplesAsync(engine, config, human.Id)).Count);
        await engine.Incidents.CloseAsync(config, human.Id, "Fixed", null, null, ChangeContext.Engine, CancellationToken.None);
        await AlertingScenario.RoundAsync(engine, config);
        Assert.Equal(3, (await RoundSamplesAsync(engine, config, human.Id)).Count);
        // An incident that does not name the service gets nothing from its rounds.
        var other = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "Billing", Severity = "P2", Services = ["production/billing"], Activate = true },
            ChangeContext.Engine, CancellationToken.None);
        await AlertingScenario.RoundAsync(engine, config);
        Assert.Empty(await RoundSamplesAsync(engine, config, other.Id));
    }

    [Fact]
    public async Task The_ring_is_capped_the_newest_round_replaces_the_oldest_and_secrets_in_a_probed_url_are_not_stored()
    {
        using var s = new AlertingScenario(Rules);
        var (engine, config) = s.NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "API", Severity = "P2", Services = ["production/api"] },
            ChangeContext.Engine, CancellationToken.None);
        var store = engine.OpenStore(config);
        var target = config.Services.Single();
        HealthResult Result(int n) => new()
        {
            Service = target.FullName, Uri = $"http://127.0.0.1:9/health?token=CANARYr0undT0k3n{n}", Healthy = n % 2 == 0, StatusCode = n % 2 == 0 ? 200 : 503,
            TotalMs = 10 + n, Timestamp = s.Clock.Now.AddSeconds(n), BodyText = "{\"secret\":\"CANARYb0dy\"}",
        };
        // A state about to fill the ring: the next round takes the last slot, the one after wraps to slot 0.
        var state = new ServiceAlertState { Service = target.FullName, SamplesIncidentId = incident.Id, SampleRounds = RoundHealthSamples.MaxRounds - 1 };
        foreach (var n in new[] { 1, 2, 3 })
            await RoundHealthSamples.RecordAsync(store, state, incident.Id, AlertingService.Observe(target, [Result(n)], s.Clock.Now), s.Clock.Now, CancellationToken.None);
        Assert.Equal(RoundHealthSamples.MaxRounds + 2, state.SampleRounds);
        var names = (await RoundSamplesAsync(engine, config, incident.Id)).Select(e => e.Name).ToList();
        Assert.Equal(["health-rounds-production-api-0000.json", "health-rounds-production-api-0001.json", "health-rounds-production-api-1439.json"], names);
        var first = await store.ReadEvidenceAsync(incident.Id, names[0], CancellationToken.None);
        Assert.Contains("\"totalMs\": 12", first!);                      // slot 0 holds round MaxRounds (the second write)
        foreach (var name in names)
        {
            var text = await store.ReadEvidenceAsync(incident.Id, name, CancellationToken.None);
            Assert.DoesNotContain("CANARY", text!);
        }
        // A new incident starts its own ring at slot 0.
        var next = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "API again", Severity = "P2", Services = ["production/api"] },
            ChangeContext.Engine, CancellationToken.None);
        await RoundHealthSamples.RecordAsync(store, state, next.Id, AlertingService.Observe(target, [Result(4)], s.Clock.Now), s.Clock.Now, CancellationToken.None);
        Assert.Equal((next.Id, 1L), (state.SamplesIncidentId, state.SampleRounds));
        Assert.Equal(["health-rounds-production-api-0000.json"], (await RoundSamplesAsync(engine, config, next.Id)).Select(e => e.Name));
    }
}
