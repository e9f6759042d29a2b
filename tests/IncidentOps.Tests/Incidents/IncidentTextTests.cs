using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using IncidentOps.Tests.Notifications;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>How durations, update kinds and -WhatIf previews read in views, timelines and reports (issue 16, item 14).</summary>
public class IncidentTextTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(0.25, "250ms")]
    [InlineData(45, "45s")]
    [InlineData(300, "5m")]
    [InlineData(330, "5m30s")]
    [InlineData(3600, "1h")]
    [InlineData(3900, "1h05m")]
    [InlineData(5400, "1h30m")]
    [InlineData(14400, "4h")]
    [InlineData(172800, "2d")]
    [InlineData(183600, "2d03h")]
    [InlineData(-90, "-1m30s")]
    public void Duration_has_one_short_form_without_zero_tails(double seconds, string expected) =>
        Assert.Equal(expected, Duration.Format(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Duration_format_parses_back_to_the_same_span()
    {
        foreach (var s in new[] { 45, 300, 330, 3600, 3900, 14400, 172800, 183600 })
            Assert.Equal(TimeSpan.FromSeconds(s), Duration.Parse(Duration.Format(TimeSpan.FromSeconds(s))));
    }

    [Theory]
    [InlineData(NotificationKind.Initial, "Initial alert")]
    [InlineData(NotificationKind.Update, "Progress update")]
    [InlineData(NotificationKind.Resolved, "Resolution notice")]
    public void An_update_kind_is_named_once(NotificationKind kind, string expected) =>
        Assert.Equal(expected, NotificationTemplates.Describe(kind));

    [Fact]
    public void A_WhatIf_preview_is_summarised_to_its_request_line()
    {
        var preview = "POST https://hooks.example.com/***\n{\"updateId\":\"UPD-1\",\"message\":\"PAYLOAD\"}";
        var summary = IncidentReportService.SummarizePreview(preview);
        Assert.Equal("POST https://hooks.example.com/*** (preview only, nothing sent; full text in Get-IncidentTimeline)", summary);
        var longLine = new string('x', 500);
        Assert.True(IncidentReportService.SummarizePreview(longLine).Length < 200);
        Assert.Equal("Previewed with -WhatIf; nothing was changed.", IncidentReportService.SummarizePreview(null));
    }

    [Fact]
    public async Task Updates_are_recorded_on_the_timeline_by_kind_not_as_Update_update()
    {
        using var s = new NotificationScenario();
        var inc = await s.CreateIncidentAsync();
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "first", Channels = ["incidents"] });
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "second", Channels = ["incidents"] });
        var (engine, _, config) = s.NewEngine();
        var actions = (await engine.Incidents.GetTimelineAsync(config, inc.Id, CancellationToken.None)).Where(e => e.Kind == "update").Select(e => e.Action).ToList();
        Assert.Equal(["Initial alert (Investigating)", "Progress update (Identified)"], actions);
    }

    [Fact]
    public async Task An_update_not_yet_due_has_a_DueIn_and_no_negative_OverdueBy()
    {
        using var s = new NotificationScenario();
        var soon = await s.CreateIncidentAsync("P1", active: false, title: "soon");
        var late = await s.CreateIncidentAsync("P1", active: false, title: "late");
        await s.Store.UpdateAsync(soon.Id, i => i.NextUpdateDue = DateTimeOffset.UtcNow.AddMinutes(30), CancellationToken.None);
        await s.Store.UpdateAsync(late.Id, i => i.NextUpdateDue = DateTimeOffset.UtcNow.AddMinutes(-5), CancellationToken.None);
        var (engine, _, config) = s.NewEngine();
        var due = await engine.Notifications.GetDueAsync(config, TimeSpan.FromHours(1), CancellationToken.None);
        var notYet = Assert.Single(due, d => d.IncidentId == soon.Id);
        Assert.Equal(TimeSpan.Zero, notYet.OverdueBy);
        Assert.InRange(notYet.DueIn, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(30));
        var overdue = Assert.Single(due, d => d.IncidentId == late.Id);
        Assert.InRange(overdue.OverdueBy, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(6));
        Assert.Equal(TimeSpan.Zero, overdue.DueIn);
    }
}
