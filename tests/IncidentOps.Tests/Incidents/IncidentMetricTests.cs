using System.IO.Compression;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// Issue 19: a fixture of incidents with known answers (examples/data/incidents-2026-10, imported through
/// Import-Incident's engine call as a team would move incidents) gives exactly the expected metrics and review, on the
/// file store and on the real PostgreSQL team store. The answers are worked out by hand in the fixture's README.md.
/// </summary>
public abstract class IncidentMetricFixtureContract
{
    /// <summary>October 2026, judged at midnight after it (overdue and pending are judged at this time).</summary>
    protected static readonly DateTimeOffset Since = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    protected static readonly DateTimeOffset Until = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    protected static readonly DateTimeOffset Now = Until;

    /// <summary>A configuration whose store is fresh and empty (file or PostgreSQL), with the default severity matrix.</summary>
    protected abstract IncidentOpsConfig NewConfig();

    protected static string FixtureArchive()
    {
        var zip = Path.Combine(Paths.TempDir("io-metrics-fixture"), "incidents-2026-10.zip");
        ZipFile.CreateFromDirectory(Path.Combine(Paths.Examples, "data", "incidents-2026-10"), zip);
        return zip;
    }

    private async Task<(IncidentOpsEngine Engine, IncidentOpsConfig Config)> Imported()
    {
        var config = NewConfig();
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        if (config.Store.Kind == StoreKind.Postgres) await engine.Incidents.InitializeStoreAsync(config, CancellationToken.None);
        var imported = await engine.Incidents.ImportAsync(config, FixtureArchive(), null, planOnly: false, CancellationToken.None);
        Assert.Equal(7, imported.Count(t => t.Action == "Imported"));
        // The archive's records predate the compact cadence record: the import makes it from the delivered updates.
        var kept = await engine.OpenStore(config).GetAsync("INC-20261005-001", CancellationToken.None);
        Assert.Equal(["10:20", "10:50", "11:15", "11:40"], kept!.UpdatesSentAt!.Select(t => t.ToUniversalTime().ToString("HH:mm")));
        return (engine, config);
    }

    private static IncidentMetricQuery October(IncidentMetricGroupBy groupBy = IncidentMetricGroupBy.None) =>
        new() { Since = Since, Until = Until, Now = Now, GroupBy = groupBy };

    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);

    [Fact]
    public async Task The_fixture_gives_exactly_the_expected_metrics()
    {
        var (engine, config) = await Imported();
        var result = await engine.Metrics.ComputeAsync(config, October(), CancellationToken.None);
        var s = Assert.Single(result.Summaries);

        Assert.Equal("All", s.Group);
        // The staging incident of 2026-09-28 is before the period.
        Assert.Equal(["INC-20261005-001", "INC-20261012-001", "INC-20261020-001", "INC-20261027-001", "INC-20261029-001", "INC-20261031-001"], s.IncidentIds);
        Assert.Equal((6, 1, 5), (s.Incidents, s.Open, s.Resolved));
        // Nearest rank over 5 values: p50 is the 3rd, p90 the 5th.
        Assert.Equal((M(20), M(60)), (s.TimeToAcknowledgeP50, s.TimeToAcknowledgeP90));
        Assert.Equal((M(90), M(120)), (s.TimeToMitigateP50, s.TimeToMitigateP90));
        Assert.Equal((M(120), M(150)), (s.TimeToResolveP50, s.TimeToResolveP90));
        Assert.Equal((4, 6), (s.ResponseTargetMet, s.ResponseTargetDecided));
        Assert.Equal(4 / 6.0, s.ResponseTargetRate);
        Assert.Equal(["INC-20261012-001", "INC-20261031-001"], s.MissedResponseIds);
        Assert.Equal((11, 15), (s.UpdatesOnTime, s.UpdatesDue));
        Assert.Equal(["INC-20261012-001", "INC-20261020-001", "INC-20261031-001"], s.MissedCadenceIds);

        Assert.Equal(["P0", "P1", "P2", "P3"], s.BySeverity.Select(b => b.Severity));
        var p1 = s.BySeverity[1];
        Assert.Equal((M(15), M(30)), (p1.ResponseTarget, p1.UpdateEvery!.Value));
        Assert.Equal((3, 1, 2, 0), (p1.Incidents, p1.ResponseTargetMet, p1.ResponseTargetMissed, p1.ResponsePending));
        Assert.Equal((6, 9), (p1.UpdatesOnTime, p1.UpdatesDue));
        Assert.Equal(["INC-20261012-001", "INC-20261031-001"], p1.MissedResponseIds);
        Assert.Equal((1, 0, 4, 4), (s.BySeverity[0].ResponseTargetMet, s.BySeverity[0].ResponseTargetMissed, s.BySeverity[0].UpdatesOnTime, s.BySeverity[0].UpdatesDue));
        Assert.Equal((1, 1, 2), (s.BySeverity[2].UpdatesOnTime, s.BySeverity[2].ResponseTargetMet, s.BySeverity[2].UpdatesDue));
        Assert.Null(s.BySeverity[3].UpdateEvery);
        Assert.Null(s.BySeverity[3].CadenceRate);

        Assert.Equal((5, 3), (s.ActionItemsOpen, s.ActionItemsOverdue));
        Assert.Equal([("alice", 2, 2), ("bob", 2, 1), ("unassigned", 1, 0)], s.ActionItemsByOwner.Select(o => (o.Owner, o.Open, o.Overdue)));
        Assert.Equal(["INC-20261005-001-A01", "INC-20261027-001-A01"], s.ActionItemsByOwner[0].OverdueIds);
        Assert.Equal([("production/api", 3), ("production/portfolio", 2), ("production/marketing", 1)], s.TopServices.Select(t => (t.Service, t.Incidents)));
        Assert.Equal(["INC-20261005-001", "INC-20261012-001", "INC-20261031-001"], s.TopServices[0].IncidentIds);
    }

    [Fact]
    public async Task A_P1_that_missed_its_response_target_and_one_that_kept_its_cadence_say_why()
    {
        var (engine, config) = await Imported();
        var details = (await engine.Metrics.ComputeAsync(config, October(), CancellationToken.None)).Details.ToDictionary(d => d.IncidentId);

        var late = details["INC-20261012-001"];
        Assert.False(late.ResponseTargetMet);
        Assert.Equal(M(32), late.TimeToAcknowledge);
        Assert.Equal("acknowledged 27m after declaration, 12m after the 15m target (due 2026-10-12 14:20 UTC)", late.ResponseReason);
        Assert.False(late.CadenceMet);
        Assert.Equal((2, 4), (late.UpdatesOnTime, late.UpdatesDue));
        Assert.Equal("cadence 30m: update 1 at 2026-10-12 14:40 UTC came 35m after declaration (5m late); update 3 at 2026-10-12 16:00 UTC came 55m after the previous one (25m late)", late.CadenceReason);

        var kept = details["INC-20261005-001"];
        Assert.True(kept.ResponseTargetMet);
        Assert.True(kept.CadenceMet);
        Assert.Equal((4, 4), (kept.UpdatesOnTime, kept.UpdatesDue));
        Assert.Equal("4 updates, each within 30m", kept.CadenceReason);
        Assert.Equal((M(10), M(60), M(100)), (kept.TimeToAcknowledge!.Value, kept.TimeToMitigate!.Value, kept.TimeToResolve!.Value));
        Assert.Equal((2, 1), (kept.ActionItemsOpen, kept.ActionItemsOverdue));

        var open = details["INC-20261031-001"];
        Assert.False(open.ResponseTargetMet);
        Assert.Equal("not acknowledged; the response was due 2026-10-31 22:15 UTC (1h45m ago, 15m target)", open.ResponseReason);
        Assert.Equal("cadence 30m: no update since 2026-10-31 22:00 UTC: the next was due 2026-10-31 22:30 UTC", open.CadenceReason);

        var slow = details["INC-20261020-001"];
        Assert.Equal("cadence 1h: no update in the 1h40m before resolution: one was due 2026-10-20 10:50 UTC", slow.CadenceReason);
        Assert.Null(details["INC-20261029-001"].CadenceMet);
    }

    [Fact]
    public async Task Groups_and_filters_keep_the_figures_traceable()
    {
        var (engine, config) = await Imported();
        var weeks = (await engine.Metrics.ComputeAsync(config, October(IncidentMetricGroupBy.Week), CancellationToken.None)).Summaries;
        Assert.Equal([("2026-W40", 0), ("2026-W41", 1), ("2026-W42", 1), ("2026-W43", 1), ("2026-W44", 3)], weeks.Select(w => (w.Group, w.Incidents)));
        var months = (await engine.Metrics.ComputeAsync(config, October(IncidentMetricGroupBy.Month), CancellationToken.None)).Summaries;
        Assert.Equal(6, Assert.Single(months).Incidents);
        var bySeverity = (await engine.Metrics.ComputeAsync(config, October(IncidentMetricGroupBy.Severity), CancellationToken.None)).Summaries;
        Assert.Equal([("P0", 1), ("P1", 3), ("P2", 1), ("P3", 1)], bySeverity.Select(g => (g.Group, g.Incidents)));
        var services = (await engine.Metrics.ComputeAsync(config, new IncidentMetricQuery { Since = Since, Until = Until, Now = Now, Service = ["api"] }, CancellationToken.None)).Summaries[0];
        Assert.Equal(["INC-20261005-001", "INC-20261012-001", "INC-20261031-001"], services.IncidentIds);
        var environments = (await engine.Metrics.ComputeAsync(config, new IncidentMetricQuery { Since = Since - TimeSpan.FromDays(7), Until = Until, Now = Now, Environment = ["staging"] }, CancellationToken.None)).Summaries[0];
        Assert.Equal(["INC-20260928-001"], environments.IncidentIds);
        var p1 = (await engine.Metrics.ComputeAsync(config, new IncidentMetricQuery { Since = Since, Until = Until, Now = Now, Severity = ["p1"] }, CancellationToken.None)).Summaries[0];
        Assert.Equal((3, 1), (p1.Incidents, p1.ResponseTargetMet));
    }

    [Fact]
    public async Task The_review_covers_metrics_incidents_overdue_items_steps_used_and_chart_data()
    {
        var (engine, config) = await Imported();
        var review = await engine.Reports.BuildReviewAsync(config, Since, Until, Now, CancellationToken.None);
        Assert.Equal(6, review.Incidents.Count);
        Assert.Equal(["INC-20261012-001-A01", "INC-20261005-001-A01", "INC-20261027-001-A01"], review.OverdueActionItems.Select(a => a.Id));
        Assert.Equal(
            [("Send-IncidentUpdate", 13, 4), ("Clear-RedisDatabase", 2, 1), ("Invoke-Rollback", 2, 2), ("Restart-App", 2, 2), ("Stop-IdleConnection", 2, 1), ("Stop-PgBackend", 1, 1)],
            review.RunbookSteps.Select(r => (r.Cmdlet, r.Uses, r.IncidentIds.Length)));
        var restart = review.RunbookSteps.Single(r => r.Cmdlet == "Restart-App");
        Assert.Equal((1, 1, 0), (restart.Succeeded, restart.Failed, restart.Previewed));
        Assert.Equal(1, review.RunbookSteps.Single(r => r.Cmdlet == "Stop-PgBackend").Previewed);

        var charts = review.Charts;
        Assert.Equal(["P0", "P1", "P2", "P3"], charts.Severities);
        Assert.Equal(["2026-W40", "2026-W41", "2026-W42", "2026-W43", "2026-W44"], charts.IncidentsPerWeek.Select(w => w.Week));
        var w44 = charts.IncidentsPerWeek[4];
        Assert.Equal((1, 1, 0, 1, 3), (w44.BySeverity["P0"], w44.BySeverity["P1"], w44.BySeverity["P2"], w44.BySeverity["P3"], w44.Total));
        Assert.Equal([M(100), M(130), M(150), M(50), M(120)], charts.TimeToResolve.Select(t => t.TimeToResolve));
        Assert.Equal([("P0", 1, 0), ("P1", 1, 2), ("P2", 1, 0), ("P3", 1, 0)], charts.ResponseCompliance.Select(c => (c.Severity, c.Met, c.Missed)));
    }

    [Fact]
    public async Task The_review_renders_in_markdown_and_html_with_each_charts_numbers_as_a_table()
    {
        var (engine, config) = await Imported();
        var model = await engine.Reports.BuildReviewAsync(config, Since, Until, Now, CancellationToken.None);
        var md = ReviewReportRenderer.Markdown(model);
        Assert.Contains("# Incident Review: 2026-10-01 to 2026-11-01", md);
        Assert.Contains("| Time to resolve (p50 / p90) | 2h / 2h30m |", md);
        Assert.Contains("| Response target met | 4 of 6 (66.7%) | missed: INC-20261012-001, INC-20261031-001 |", md);
        Assert.Contains("| Updates within cadence | 11 of 15 (73.3%) |", md);
        Assert.Contains("| 2026-W44 | 2026-10-26 | 1 | 1 | 0 | 1 | 3 |", md);
        Assert.Contains("| P1 | 15m | 1 | 2 | 0 | 33.3% |", md);
        Assert.Contains("| 2026-10-12 14:00 | INC-20261012-001 | P1 | 2h10m | 130 |", md);
        Assert.Contains("| Send-IncidentUpdate | 13 | 13 | 0 | 0 |", md);
        Assert.Contains("| INC-20261012-001-A01 | INC-20261012-001 | Alert on max_connections headroom | bob | 2026-10-19 |", md);

        var html = ReviewReportRenderer.Html(model);
        Assert.Contains("<section class=\"charts\">", html);
        foreach (var id in new[] { ReviewChartData.IncidentsPerWeekId, ReviewChartData.TimeToResolveId, ReviewChartData.ResponseComplianceId })
            Assert.Contains($"<figure class=\"chart\" data-chart=\"{id}\"", html);
        Assert.Contains("<tr><td>2026-W44</td><td>2026-10-26</td><td>1</td><td>1</td><td>0</td><td>1</td><td>3</td></tr>", html);
        Assert.DoesNotContain("<script", html);
        // Self-contained: the only URL is the SVG namespace name, which is never fetched.
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(html, "<svg xmlns=\"http://www.w3.org/2000/svg\"").Count);
        Assert.DoesNotContain("http", html.Replace("xmlns=\"http://www.w3.org/2000/svg\"", ""));
    }
}

public sealed class FileStoreIncidentMetricTests : IncidentMetricFixtureContract
{
    protected override IncidentOpsConfig NewConfig() =>
        new() { Severities = DefaultSeverities.Levels, Store = new StoreConfig { Path = Paths.TempDir("io-metrics") } };
}

/// <summary>The same known answers from the real PostgreSQL team store (INCIDENTOPS_TEST_PG), a schema per test.</summary>
public sealed class PostgresStoreIncidentMetricTests : IncidentMetricFixtureContract, IDisposable
{
    private readonly List<string> _schemas = [];

    protected override IncidentOpsConfig NewConfig()
    {
        var schema = $"metrics_{Guid.NewGuid():N}"[..16];
        _schemas.Add(schema);
        return new IncidentOpsConfig
        {
            Severities = DefaultSeverities.Levels,
            Store = new StoreConfig { Kind = StoreKind.Postgres, Path = Paths.TempDir("io-metrics-pg"), Schema = schema, ConnectionString = new ConfigValue(TestServers.PostgresConnectionString, false, null, isConnection: true) },
        };
    }

    public void Dispose()
    {
        foreach (var s in _schemas) PgStores.Drop(s);
    }
}

/// <summary>The compact cadence record (Incident.UpdatesSentAt) that lets Get-IncidentMetric skip every outbox.</summary>
public sealed class UpdateCadenceRecordTests
{
    [Fact]
    public async Task An_update_is_recorded_once_on_the_record_when_every_channel_has_it_and_not_while_one_lacks_it()
    {
        using var s = new IncidentOps.Tests.Notifications.NotificationScenario();
        var inc = await s.CreateIncidentAsync("P1");
        await s.SendAsync(new IncidentOps.Notifications.IncidentUpdateRequest { IncidentId = inc.Id, Message = "one" });
        var first = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!.UpdatesSentAt;
        Assert.Single(first!);
        s.Slack.Then(500, "oops");
        await s.SendAsync(new IncidentOps.Notifications.IncidentUpdateRequest { IncidentId = inc.Id, Message = "two" });
        Assert.Equal(first, (await s.Store.GetAsync(inc.Id, CancellationToken.None))!.UpdatesSentAt);
        var (engine, _, config) = s.NewEngine();
        await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
        var after = (await s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.Equal(2, after.UpdatesSentAt!.Count);
        Assert.Equal(after.LastUpdateAt, after.UpdatesSentAt[^1]);
        // What the metrics read from the record is what the outbox says was delivered.
        var delivered = (await s.Store.ReadOutboxAsync(inc.Id, CancellationToken.None)).Where(u => !u.Pending).Select(u => u.CreatedAt).Order();
        Assert.Equal(delivered, after.UpdatesSentAt);
    }
}

/// <summary>The review report escapes what people typed per format and masks credentials (as ReportEscapingTests does for post-mortems).</summary>
public sealed class ReviewReportEscapingTests
{
    private const string Title = "Cache <img src=x onerror=alert(1)>\n# Forged heading | forged cell";

    private static async Task<ReviewReportModel> Review()
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var ctx = new ChangeContext("Test");
        var i = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = Title, Severity = "P1", Services = ["production/api"] }, ctx, CancellationToken.None);
        await engine.Incidents.AddActionItemAsync(config, i.Id, "rotate postgres://app:CANARYr3v13wP4ss@db/x\n## Forged", "bob <b>", DateTimeOffset.UtcNow.AddDays(-1), "P1", ctx, CancellationToken.None);
        await engine.Timeline.RecordAsync(new TimelineEntry { Kind = "action", Cmdlet = "Restart-App", Action = "Restart", Target = "production/api", Outcome = TimelineOutcome.Succeeded }, i.Id, config, CancellationToken.None);
        await engine.Incidents.CloseAsync(config, i.Id, "flushed", null, null, ctx, CancellationToken.None);
        return await engine.Reports.BuildReviewAsync(config, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1), null, CancellationToken.None);
    }

    [Fact]
    public async Task Markdown_review_values_cannot_forge_headings_cells_or_raw_html_and_credentials_are_masked()
    {
        var md = ReviewReportRenderer.Markdown(await Review());
        var lines = md.Split('\n');
        Assert.Single(lines, l => l.StartsWith("# ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.TrimStart('#', ' ').StartsWith("Forged", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"(?<!\\)<(img|b)\b", md);
        Assert.Contains(@"Cache \<img src=x onerror=alert(1)\> \# Forged heading \| forged cell", md);
        Assert.Contains(@"rotate postgres://app:********@db/x \#\# Forged | bob \<b\>", md);
        Assert.DoesNotContain("CANARYr3v13wP4ss", md);
        Assert.Contains("| Restart-App | 1 | 1 | 0 | 0 |", md);
    }

    [Fact]
    public async Task Html_review_escapes_every_value_and_masks_credentials()
    {
        var html = ReviewReportRenderer.Html(await Review());
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<b>", html);
        Assert.Contains("Cache &lt;img src=x onerror=alert(1)&gt;", html);
        Assert.DoesNotContain("CANARYr3v13wP4ss", html);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "<h1>"));
    }
}
