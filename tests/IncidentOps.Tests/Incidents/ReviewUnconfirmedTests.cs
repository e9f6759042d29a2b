using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A flush that was sent but never confirmed (RedisFlushUnconfirmed) may or may not have happened: the review and the
/// post-mortem show it as needing attention, never as a success. Records written before the Unconfirmed outcome existed
/// carry it as an action entry with outcome Info, and count the same way.
/// </summary>
public sealed class ReviewUnconfirmedTests
{
    private static async Task<(IncidentOps.Engine.IncidentOpsEngine Engine, IncidentOps.Config.IncidentOpsConfig Config, string Id)> Incident()
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var ctx = new ChangeContext("Test");
        var i = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "Stale cache", Severity = "P2", Services = ["production/portfolio"] }, ctx, CancellationToken.None);
        TimelineEntry Flush(TimelineOutcome outcome, string result) =>
            new() { Kind = "action", Cmdlet = "Clear-RedisDatabase", Action = "Flush database", Target = "Redis 10.0.0.5:6379 db 0", Outcome = outcome, Result = result };
        await engine.Timeline.RecordAsync(Flush(TimelineOutcome.Succeeded, "FLUSHDB: 4 keys before, 0 after"), i.Id, config, CancellationToken.None);
        await engine.Timeline.RecordAsync(Flush(TimelineOutcome.Unconfirmed, "FLUSHDB was sent to 10.0.0.5:6379 (db 0, 4 keys before) but the connection was lost before its answer came."), i.Id, config, CancellationToken.None);
        // As the earlier fix wrote an unconfirmed flush: outcome Info on an action entry.
        await engine.Timeline.RecordAsync(Flush(TimelineOutcome.Info, "FLUSHDB was sent to 10.0.0.5:6379 (db 0, 4 keys before) but did not answer within 4.8 s."), i.Id, config, CancellationToken.None);
        // A read recorded with -Record is Info too, and is no unconfirmed change.
        await engine.Timeline.RecordAsync(new TimelineEntry { Kind = "read", Cmdlet = "Get-RedisInfo", Action = "Read INFO", Target = "10.0.0.5:6379", Outcome = TimelineOutcome.Info, Result = "memory 1.2M" }, i.Id, config, CancellationToken.None);
        return (engine, config, i.Id);
    }

    [Fact]
    public async Task The_review_counts_an_unconfirmed_flush_as_unconfirmed_not_as_succeeded()
    {
        var (engine, config, _) = await Incident();
        var review = await engine.Reports.BuildReviewAsync(config, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1), null, CancellationToken.None);
        var flush = review.RunbookSteps.Single(s => s.Cmdlet == "Clear-RedisDatabase");
        Assert.Equal((3, 1, 0, 2, 0), (flush.Uses, flush.Succeeded, flush.Failed, flush.Unconfirmed, flush.Previewed));
        var read = review.RunbookSteps.Single(s => s.Cmdlet == "Get-RedisInfo");
        Assert.Equal((1, 1, 0), (read.Uses, read.Succeeded, read.Unconfirmed));

        var md = ReviewReportRenderer.Markdown(review);
        Assert.Contains("| Step (cmdlet) | Uses | Succeeded | Failed | Unconfirmed | Previewed (-WhatIf) |", md);
        Assert.Contains("| Clear-RedisDatabase | 3 | 1 | 0 | 2 | 0 |", md);
        Assert.Contains("Needs attention: Clear-RedisDatabase (2 unconfirmed", md);
        Assert.Contains("may or may not have happened", md);
        var html = ReviewReportRenderer.Html(review);
        Assert.Contains("<td>Clear-RedisDatabase</td><td>3</td><td>1</td><td>0</td><td>2</td><td>0</td>", html);
        Assert.Contains("Needs attention: Clear-RedisDatabase (2 unconfirmed", html);
    }

    [Fact]
    public async Task The_post_mortem_timeline_shows_an_unconfirmed_flush_as_Unconfirmed_old_records_included()
    {
        var (engine, config, id) = await Incident();
        var report = await engine.Reports.RenderAsync(config, id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, null, null, CancellationToken.None);
        var rows = report.Content.Split('\n').Where(l => l.StartsWith('|') && l.Contains("Flush database", StringComparison.Ordinal)).ToList();
        Assert.True(rows.Count >= 3, report.Content);
        Assert.Contains(rows, r => r.Contains("| Unconfirmed |", StringComparison.Ordinal) && r.Contains("connection was lost", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("| Unconfirmed |", StringComparison.Ordinal) && r.Contains("did not answer within", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("| Succeeded |", StringComparison.Ordinal) && r.Contains("0 after", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.Contains("| Info |", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_post_mortem_chart_marks_an_unconfirmed_flush_as_unconfirmed()
    {
        var (engine, config, id) = await Incident();
        var timeline = await engine.Incidents.GetTimelineAsync(config, id, CancellationToken.None);
        var labels = IncidentOps.Engine.Reports.Charts.PostMortemCharts.Markers(timeline).Select(m => m.Label).Where(l => l.StartsWith("Flush database", StringComparison.Ordinal)).ToList();
        Assert.Equal(["Flush database Redis 10.0.0.5:6379 db 0", "Flush database Redis 10.0.0.5:6379 db 0 (unconfirmed)", "Flush database Redis 10.0.0.5:6379 db 0 (unconfirmed)"], labels);
    }
}
