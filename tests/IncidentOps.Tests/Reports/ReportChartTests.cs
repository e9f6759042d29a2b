using System.Xml.Linq;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Reports.Charts;
using IncidentOps.Health;
using IncidentOps.Incidents;
using IncidentOps.Tests.Incidents;
using Xunit;

namespace IncidentOps.Tests.Reports;

/// <summary>Issue 19, pictures: the SVG chart functions and the charts of the post-mortem.</summary>
public class ReportChartTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The chart's SVG as XML (it must parse: every value escaped), and its elements with a class token.</summary>
    private static XDocument Parse(Chart chart) => XDocument.Parse(chart.Svg);

    private static int Count(Chart chart, string classToken) =>
        Parse(chart).Descendants().Count(e => ((string?)e.Attribute("class"))?.Split(' ').Contains(classToken) == true);

    private static IEnumerable<XElement> With(Chart chart, string classToken) =>
        Parse(chart).Descendants().Where(e => ((string?)e.Attribute("class"))?.Split(' ').Contains(classToken) == true);

    private static Incident Resolved() => new()
    {
        Id = "INC-20261102-001", Title = "API down", Severity = "P1", Status = IncidentStatus.Resolved, StartedAt = T0, DetectedAt = T0.AddMinutes(2),
        AcknowledgedAt = T0.AddMinutes(6), MitigatedAt = T0.AddMinutes(30), ResolvedAt = T0.AddMinutes(50),
    };

    private static IReadOnlyList<TimelineEntry> Entries() =>
    [
        new() { Timestamp = T0.AddMinutes(2), Kind = "declared", Action = "Declare incident" },
        new() { Timestamp = T0.AddMinutes(8), Kind = "update", Action = "Initial alert (Investigating)", Target = "slack" },
        new() { Timestamp = T0.AddMinutes(12), Kind = "action", Action = "Restart", Target = "production/api", Outcome = TimelineOutcome.Succeeded },
        new() { Timestamp = T0.AddMinutes(14), Kind = "action", Action = "Roll back", Target = "production/api", Outcome = TimelineOutcome.WhatIf },
        new() { Timestamp = T0.AddMinutes(20), Kind = "action", Action = "Scale", Target = "production/api", Outcome = TimelineOutcome.Failed },
        new() { Timestamp = T0.AddMinutes(25), Kind = "note", Action = "Note" },
        new() { Timestamp = T0.AddMinutes(31), Kind = "update", Action = "Progress update (Monitoring)", Target = "slack" },
    ];

    [Fact]
    public void Timeline_draws_one_band_per_phase_and_one_marker_per_change_and_update()
    {
        var phases = PostMortemCharts.Phases(Resolved(), T0.AddDays(1));
        Assert.Equal(["detected", "acknowledged", "mitigated", "resolved"], phases.Select(p => p.Phase));
        Assert.Equal((T0.AddMinutes(2), T0.AddMinutes(6)), (phases[0].Start, phases[0].End));
        Assert.Equal((T0.AddMinutes(30), T0.AddMinutes(50)), (phases[2].Start, phases[2].End));
        Assert.DoesNotContain(phases, p => p.Ongoing);
        var markers = PostMortemCharts.Markers(Entries());
        var chart = PostMortemCharts.Timeline(phases, markers);
        Assert.Equal(4, Count(chart, "band"));
        foreach (var phase in PostMortemCharts.PhaseNames) Assert.Single(With(chart, "band-" + phase));
        // The -WhatIf preview changed nothing and the note is no change: two changes (one failed) and two updates.
        Assert.Equal(2, Count(chart, "marker-change"));
        Assert.Equal(2, Count(chart, "marker-update"));
        Assert.Equal(4, Count(chart, "marker"));
        Assert.Contains(chart.Table.Rows, r => r[0] == "Change" && r[3] == "Scale production/api (failed)");
        Assert.Contains(chart.Table.Rows, r => r[0] == "Phase" && r[1] == "2026-11-02 09:06:00" && r[2] == "2026-11-02 09:30:00" && r[3] == "Acknowledged (24m)");
        // Bands run left to right in time, inside the drawing.
        var xs = With(chart, "band").Select(b => double.Parse((string)b.Attribute("x")!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(xs.Order(), xs);
        Assert.All(xs, x => Assert.InRange(x, 0, 760));
    }

    [Fact]
    public void An_unresolved_incident_has_no_resolved_band_and_its_last_phase_runs_to_now_as_ongoing()
    {
        var open = Resolved();
        open.Status = IncidentStatus.Identified;
        open.ResolvedAt = null;
        open.MitigatedAt = null;
        var now = T0.AddMinutes(40);
        var phases = PostMortemCharts.Phases(open, now);
        Assert.Equal(["detected", "acknowledged"], phases.Select(p => p.Phase));
        Assert.True(phases[^1].Ongoing);
        Assert.Equal(now, phases[^1].End);
        var chart = PostMortemCharts.Timeline(phases, []);
        Assert.Equal(2, Count(chart, "band"));
        Assert.Empty(With(chart, "band-resolved"));
        Assert.Contains("Acknowledged (ongoing)", chart.Svg);
        Assert.Contains(chart.Table.Rows, r => r[2] == "ongoing");
    }

    [Fact]
    public void Values_are_xml_escaped_in_the_svg_and_the_table_and_markdown_cells_cannot_forge_rows()
    {
        const string hostile = "<script>alert('x')</script> & \"quoted\" | row\n# heading \u0001";
        var charts = new[]
        {
            PostMortemCharts.Timeline([new PhaseBand("detected", T0, T0.AddMinutes(5))], [new TimelineMarker("change", T0.AddMinutes(1), hostile)]),
            PostMortemCharts.Health([new HealthPoint(hostile, T0, 12, false, hostile), new HealthPoint(hostile, T0.AddMinutes(1), 14, true)]),
            ReviewCharts.IncidentsPerWeek([new WeeklySeverityCount(DateOnly.FromDateTime(T0.UtcDateTime), hostile, 2)]),
            ReviewCharts.TimeToResolve([new ResolveTime(hostile, hostile, T0, TimeSpan.FromMinutes(30))]),
            ReviewCharts.TargetCompliance([new SeverityCompliance(hostile, 1, 2)]),
        };
        foreach (var chart in charts)
        {
            var svg = Parse(chart); // throws when anything was not escaped
            Assert.DoesNotContain("<script", chart.Svg, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<script", chart.Html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("&lt;script&gt;", chart.Html);
            Assert.Contains(svg.Descendants(), e => e.Value.Contains("<script>alert('x')</script>", StringComparison.Ordinal));
            var lines = chart.Markdown.Split('\n');
            Assert.DoesNotContain(lines, l => l.StartsWith("# ", StringComparison.Ordinal));
            var dataRows = lines.Where(l => l.StartsWith('|')).Skip(2).ToList();
            Assert.Equal(chart.Table.Rows.Count, dataRows.Count);
            Assert.DoesNotMatch(@"(?<!\\)<script", chart.Markdown);
        }
    }

    [Fact]
    public void Every_chart_is_an_accessible_image_with_no_script_no_external_resource_and_a_generic_font()
    {
        var charts = new[]
        {
            PostMortemCharts.Timeline(PostMortemCharts.Phases(Resolved(), T0), PostMortemCharts.Markers(Entries())),
            PostMortemCharts.Health([new HealthPoint("api", T0, 12, true)]),
            ReviewCharts.IncidentsPerWeek([new WeeklySeverityCount(new DateOnly(2026, 11, 2), "P1", 1)]),
            ReviewCharts.TimeToResolve([new ResolveTime("INC-1", "P1", T0, TimeSpan.FromMinutes(30))]),
            ReviewCharts.TargetCompliance([new SeverityCompliance("P1", 1, 1)]),
        };
        Assert.Equal(charts.Length, charts.Select(c => c.Id).Distinct().Count());
        foreach (var chart in charts)
        {
            var root = Parse(chart).Root!;
            XNamespace svg = "http://www.w3.org/2000/svg";
            Assert.Equal(svg + "svg", root.Name);
            Assert.Equal("img", (string?)root.Attribute("role"));
            var title = root.Element(svg + "title")!;
            var desc = root.Element(svg + "desc")!;
            Assert.False(string.IsNullOrWhiteSpace(title.Value));
            Assert.False(string.IsNullOrWhiteSpace(desc.Value));
            Assert.Equal($"{title.Attribute("id")!.Value} {desc.Attribute("id")!.Value}", (string?)root.Attribute("aria-labelledby"));
            Assert.Equal("sans-serif", (string?)root.Attribute("font-family"));
            Assert.DoesNotContain(root.DescendantsAndSelf(), e => e.Name.LocalName is "script" or "foreignObject" or "image" or "style");
            Assert.DoesNotContain(root.DescendantsAndSelf().SelectMany(e => e.Attributes()), a => a.Name.LocalName is "href" || a.Name.LocalName.StartsWith("on", StringComparison.Ordinal));
            Assert.DoesNotContain("@import", chart.Svg);
            Assert.DoesNotContain("font-face", chart.Svg);
            // The same numbers as a table, next to the picture.
            Assert.Contains("<table class=\"chart-data\">", chart.Html);
            Assert.Contains(chart.Svg, chart.Html);
        }
    }

    [Fact]
    public void Empty_data_draws_nothing_and_says_so_in_the_picture_and_the_tables()
    {
        var charts = new[]
        {
            PostMortemCharts.Timeline([], []),
            PostMortemCharts.Health([]),
            ReviewCharts.IncidentsPerWeek([]),
            ReviewCharts.TimeToResolve([]),
            ReviewCharts.TargetCompliance([]),
        };
        foreach (var chart in charts)
        {
            foreach (var token in new[] { "bar", "band", "marker", "point", "line" }) Assert.Equal(0, Count(chart, token));
            Assert.Single(With(chart, "empty"));
            Assert.Empty(chart.Table.Rows);
            Assert.Contains("No data.", chart.Html);
            Assert.Contains("_No data._", chart.Markdown);
        }
    }

    [Fact]
    public void A_single_point_is_drawn_inside_the_chart()
    {
        var health = PostMortemCharts.Health([new HealthPoint("api", T0, 40, true)]);
        var resolve = ReviewCharts.TimeToResolve([new ResolveTime("INC-1", "P2", T0, TimeSpan.FromMinutes(45))]);
        var week = ReviewCharts.IncidentsPerWeek([new WeeklySeverityCount(new DateOnly(2026, 11, 2), "P2", 1)]);
        var marker = PostMortemCharts.Timeline([], [new TimelineMarker("update", T0, "Initial alert")]);
        Assert.Equal(1, Count(health, "point"));
        Assert.Equal(0, Count(health, "line"));
        Assert.Equal(1, Count(resolve, "point"));
        Assert.Equal(0, Count(resolve, "line"));
        Assert.Equal(1, Count(week, "bar"));
        Assert.Equal(1, Count(marker, "marker-update"));
        static double Num(XElement e, string a) => double.Parse((string)e.Attribute(a)!, System.Globalization.CultureInfo.InvariantCulture);
        foreach (var p in With(health, "point").Concat(With(resolve, "point")))
        {
            Assert.InRange(Num(p, "cx"), 1, 759);
            Assert.InRange(Num(p, "cy"), 1, 299);
        }
        var bar = With(week, "bar").Single();
        Assert.True(Num(bar, "height") > 0);
    }

    [Fact]
    public void Incidents_per_week_stacks_one_segment_per_severity_that_had_incidents()
    {
        var w1 = new DateOnly(2026, 11, 2);
        var w2 = w1.AddDays(7);
        var w3 = w1.AddDays(14);
        var chart = ReviewCharts.IncidentsPerWeek(
        [
            new(w1, "P1", 2), new(w1, "P2", 3), new(w2, "P0", 1), new(w2, "P2", 0), new(w3, "P1", 1), new(w3, "P2", 1), new(w3, "P3", 4),
        ]);
        var bars = With(chart, "bar").ToList();
        Assert.Equal(6, bars.Count);
        Assert.Equal(2, bars.Count(b => (string?)b.Attribute("data-week") == "2026-11-02"));
        Assert.Single(bars, b => (string?)b.Attribute("data-week") == "2026-11-09");
        Assert.Equal(3, bars.Count(b => (string?)b.Attribute("data-week") == "2026-11-16"));
        Assert.Equal(12, bars.Sum(b => int.Parse((string)b.Attribute("data-value")!)));
        // Each severity has its own fill (a pattern, so it survives black-and-white print) and a legend entry.
        Assert.Equal(4, bars.Select(b => (string?)b.Attribute("fill")).Distinct().Count());
        Assert.Equal(4, Count(chart, "legend-swatch"));
        Assert.Equal(["Week of", "P0", "P1", "P2", "P3", "Total"], chart.Table.Columns);
        Assert.Equal(["2026-11-02", "0", "2", "3", "0", "5"], chart.Table.Rows[0]);
        Assert.Contains("| 2026-11-16 | 0 | 1 | 1 | 4 | 6 |", chart.Markdown);
    }

    [Fact]
    public void Time_to_resolve_draws_one_point_per_incident_joined_by_a_line()
    {
        var chart = ReviewCharts.TimeToResolve(
        [
            new("INC-3", "P2", T0.AddDays(9), TimeSpan.FromMinutes(90)),
            new("INC-1", "P1", T0, TimeSpan.FromMinutes(30)),
            new("INC-2", "P1", T0.AddDays(3), TimeSpan.FromHours(4)),
        ]);
        var points = With(chart, "point").ToList();
        Assert.Equal(3, points.Count);
        Assert.Equal(["INC-1", "INC-2", "INC-3"], points.Select(p => (string?)p.Attribute("data-incident")));
        Assert.Equal(["30", "240", "90"], points.Select(p => (string?)p.Attribute("data-minutes")));
        Assert.Equal(1, Count(chart, "line"));
        Assert.Equal(["INC-1", "P1", "2026-11-02 09:00:00", "30m", "30"], chart.Table.Rows[0]);
    }

    [Fact]
    public void Target_compliance_draws_one_bar_per_severity_with_incidents_and_says_met_of_total()
    {
        var chart = ReviewCharts.TargetCompliance([new("P2", 3, 4), new("P0", 1, 1), new("P1", 1, 3), new("P3", 0, 0)]);
        var bars = With(chart, "bar").ToList();
        Assert.Equal(3, bars.Count);
        Assert.Equal(["P0", "P1", "P2"], bars.Select(b => (string?)b.Attribute("data-severity")));
        Assert.Equal(3, Count(chart, "track"));
        var widths = bars.Select(b => double.Parse((string)b.Attribute("width")!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(widths[0] / 3, widths[1], 1);
        Assert.Equal(widths[0] * 0.75, widths[2], 1);
        Assert.Contains("1 of 3 (33%)", chart.Svg);
        Assert.Contains("no incidents", chart.Svg);
        Assert.Equal(["P3", "0", "0", "n/a"], chart.Table.Rows[^1]);
    }

    [Fact]
    public void Health_chart_draws_a_point_per_sample_a_line_per_target_and_crosses_for_failures()
    {
        var samples = Enumerable.Range(0, 6).Select(n => new HealthPoint("production/api", T0.AddSeconds(30 * n), 20 + n, n != 3, n == 3 ? "Status 503" : null))
            .Append(new HealthPoint("production/web", T0.AddSeconds(15), null, false, "timed out"))
            .Append(new HealthPoint("production/web", T0.AddSeconds(45), 80, true)).ToList();
        var chart = PostMortemCharts.Health(samples);
        Assert.Equal(8, Count(chart, "point"));
        Assert.Equal(2, Count(chart, "point-failed"));
        Assert.Equal(6, Count(chart, "point-ok"));
        // production/web has one measured latency only: no line for it.
        Assert.Single(With(chart, "line"));
        Assert.Contains(chart.Table.Rows, r => r[1] == "production/web" && r[2] == "" && r[3] == "Failed: timed out");
    }

    // ------------------------------------------------------------------ the post-mortem

    private static HealthResult Sample(string uri, DateTimeOffset at, double ms, bool healthy) =>
        new() { Uri = uri, Service = "production/api", Healthy = healthy, TotalMs = ms, Timestamp = at, Reason = healthy ? null : "Status 503", StatusCode = healthy ? 200 : 503 };

    private static async Task<(IncidentOps.Engine.IncidentOpsEngine Engine, IncidentOps.Config.IncidentOpsConfig Config, Incident Incident)> IncidentWithSamples(bool samples)
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var ctx = new ChangeContext("Test");
        var i = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "API <down>", Severity = "P1", Services = ["production/api"], Commander = "alice", StartedAt = DateTimeOffset.UtcNow.AddMinutes(-30) }, ctx, CancellationToken.None);
        await engine.Timeline.RecordAsync(new TimelineEntry { Cmdlet = "Restart-App", Action = "Restart", Target = "production/api", Outcome = TimelineOutcome.Succeeded }, i.Id, config, CancellationToken.None);
        await engine.Timeline.AppendAsync(config, i.Id, new TimelineEntry { Kind = "update", Action = "Initial alert (Investigating)", Target = "slack", Outcome = TimelineOutcome.Succeeded }, CancellationToken.None);
        if (samples)
        {
            var t = DateTimeOffset.UtcNow.AddMinutes(-20);
            var results = Enumerable.Range(0, 10).Select(n => Sample("https://api.example/health", t.AddSeconds(10 * n), 50 + 10 * n, n is < 3 or > 6)).ToList();
            Assert.NotNull(await engine.Evidence.SaveHealthSamplesAsync(config, i.Id, results, ctx, CancellationToken.None));
        }
        await engine.Incidents.UpdateAsync(config, i.Id, new IncidentChanges { Status = IncidentStatus.Monitoring }, ctx, CancellationToken.None);
        var closed = await engine.Incidents.CloseAsync(config, i.Id, "Restarted", null, null, ctx, CancellationToken.None);
        return (engine, config, closed);
    }

    [Fact]
    public async Task The_post_mortem_charts_health_samples_kept_in_the_PostgreSQL_team_store()
    {
        var schema = PgStores.NewSchema(Paths.TempDir("io-charts-pg"), "charts").Schema;
        try
        {
            Environment.SetEnvironmentVariable("IO_CHARTS_TEAM_PG", TestServers.PostgresConnectionString);
            var config = new IncidentOps.Config.IncidentOpsConfig
            {
                Severities = IncidentOps.Engine.Config.DefaultSeverities.Levels,
                Store = new IncidentOps.Config.StoreConfig
                {
                    Kind = IncidentOps.Config.StoreKind.Postgres, Path = Paths.TempDir("io-charts-pg-local"), Schema = schema,
                    ConnectionString = new IncidentOps.Config.ConfigValue("env:IO_CHARTS_TEAM_PG", true, null, isConnection: true),
                },
            };
            var engine = new IncidentOps.Engine.IncidentOpsEngine(new IncidentOps.Engine.CollectingSink(), IncidentOps.Engine.NoSecretProvider.Instance);
            var ctx = new ChangeContext("Test");
            var i = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "Team", Severity = "P2", StartedAt = DateTimeOffset.UtcNow.AddMinutes(-10) }, ctx, CancellationToken.None);
            var t = DateTimeOffset.UtcNow.AddMinutes(-5);
            await engine.Evidence.SaveHealthSamplesAsync(config, i.Id, [Sample("https://api.example/health", t, 30, true), Sample("https://api.example/health", t.AddSeconds(5), 900, false), Sample("https://api.example/health", t.AddSeconds(10), 40, true)], ctx, CancellationToken.None);
            var html = (await engine.Reports.RenderAsync(config, i.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Html, "seed", null, CancellationToken.None)).Content;
            Assert.Equal(3, CountClass(html, "point"));
            Assert.Equal(1, CountClass(html, "point-failed"));
            // Still open: the detected phase runs to now, and there is no resolved band.
            Assert.Equal(1, CountClass(html, "band"));
            Assert.Contains("Detected (ongoing)", html);
        }
        finally
        {
            PgStores.Drop(schema);
        }
    }

    private static int CountClass(string html, string token) =>
        System.Text.RegularExpressions.Regex.Matches(html, "class=\"([^\"]*)\"").Count(m => m.Groups[1].Value.Split(' ').Contains(token));

    [Fact]
    public async Task Html_post_mortem_shows_the_timeline_chart_and_the_health_samples_with_their_tables()
    {
        var (engine, config, incident) = await IncidentWithSamples(samples: true);
        var html = (await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Html, "seed", null, CancellationToken.None)).Content;
        Assert.Equal(2, CountClass(html, "chart-svg"));
        Assert.Equal(4, CountClass(html, "band"));
        Assert.Equal(1, CountClass(html, "marker-change"));
        Assert.Equal(1, CountClass(html, "marker-update"));
        Assert.Equal(10, CountClass(html, "point"));
        Assert.Equal(4, CountClass(html, "point-failed"));
        Assert.Equal(2, CountClass(html, "chart-data"));
        Assert.Contains("<td>production/api: https://api.example/health</td>", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("API &lt;down&gt;", html);
    }

    [Fact]
    public async Task Markdown_post_mortem_has_the_charts_numbers_as_tables()
    {
        var (engine, config, incident) = await IncidentWithSamples(samples: true);
        var md = (await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, "seed", null, CancellationToken.None)).Content;
        Assert.Contains("### Timeline and Health in Figures", md);
        Assert.Contains("#### Incident timeline: phases, changes and updates", md);
        Assert.Contains("#### Health samples: latency and failures", md);
        Assert.Contains("| Time (UTC) | Target | Latency (ms) | Result |", md);
        Assert.Equal(4, md.Split('\n').Count(l => l.Contains("| Failed: Status 503 |", StringComparison.Ordinal)));
        Assert.Contains("| Change |", md);
        Assert.DoesNotContain("<svg", md);
    }

    [Fact]
    public async Task A_post_mortem_without_health_samples_has_the_timeline_chart_only()
    {
        var (engine, config, incident) = await IncidentWithSamples(samples: false);
        var html = (await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Html, "google-sre", null, CancellationToken.None)).Content;
        Assert.Equal(1, CountClass(html, "chart-svg"));
        Assert.Equal(0, CountClass(html, "point"));
        var customer = (await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.CustomerCommunication, IncidentReportFormat.Html, null, null, CancellationToken.None)).Content;
        Assert.DoesNotContain("<svg", customer);
    }

    [Fact]
    public void Health_evidence_from_an_alerting_round_reads_back_as_samples_and_a_bad_document_is_skipped()
    {
        var json = IncidentOps.Engine.Alerting.HealthResultEvidenceSource.Serialize([Sample("https://u:pw@api.example/health", T0, 120, false), Sample("https://api.example/health", T0.AddSeconds(5), 0, true)]);
        var points = IncidentReportService.ParseHealthSamples(json).ToList();
        Assert.Equal(2, points.Count);
        Assert.Equal((T0, 120d, false), (points[0].At, points[0].LatencyMs!.Value, points[0].Healthy));
        Assert.Null(points[1].LatencyMs);
        Assert.Equal("production/api: https://u:********@api.example/health", points[0].Series);
        Assert.Empty(IncidentReportService.ParseHealthSamples("{\"not\":\"a list\"}"));
    }
}
