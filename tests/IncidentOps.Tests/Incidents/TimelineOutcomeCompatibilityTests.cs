using System.Text.Json;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// Responders sharing one store upgrade at different times. An outcome that a newer version adds (this stop added
/// Unconfirmed) must not make the entry unreadable for the others: it reads as Info, which the review lists as
/// unconfirmed on an action entry, and known names still read as themselves.
/// </summary>
public class TimelineOutcomeCompatibilityTests
{
    [Theory]
    [InlineData("\"Unconfirmed\"", TimelineOutcome.Unconfirmed)]
    [InlineData("\"failed\"", TimelineOutcome.Failed)]
    [InlineData("\"SomethingNewer\"", TimelineOutcome.Info)]
    [InlineData("\"17\"", TimelineOutcome.Info)]
    [InlineData("1", TimelineOutcome.Failed)]
    [InlineData("42", TimelineOutcome.Info)]
    public void An_outcome_reads_by_name_and_an_unknown_one_as_Info(string json, TimelineOutcome expected)
    {
        var entry = JsonSerializer.Deserialize<TimelineEntry>($"{{\"kind\":\"action\",\"action\":\"Restart\",\"outcome\":{json}}}", FileIncidentStore.Json)!;
        Assert.Equal(expected, entry.Outcome);
    }

    [Fact]
    public void Outcomes_are_written_by_name()
    {
        var text = JsonSerializer.Serialize(new TimelineEntry { Kind = "action", Outcome = TimelineOutcome.Unconfirmed }, FileIncidentStore.Json);
        Assert.Contains("\"outcome\":\"Unconfirmed\"", text);
    }

    [Fact]
    public async Task A_timeline_line_from_a_newer_version_is_read_not_set_aside_as_corrupt_and_the_review_counts_it_unconfirmed()
    {
        var store = new FileIncidentStore(Paths.TempDir());
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "mixed versions", Severity = "P2" }, CancellationToken.None);
        await store.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "action", Action = "Restart", Outcome = TimelineOutcome.Succeeded }, CancellationToken.None);
        var file = Path.Combine(store.GetIncidentDirectory(incident.Id), "timeline.jsonl");
        var line = File.ReadAllLines(file)[^1].Replace("\"Succeeded\"", "\"Escalated\"", StringComparison.Ordinal);
        File.AppendAllText(file, line + "\n");

        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.Empty(store.CorruptLines);
        Assert.Equal(2, timeline.Count(e => e.Action == "Restart"));
        var newer = timeline.Last(e => e.Action == "Restart");
        Assert.Equal(TimelineOutcome.Info, newer.Outcome);
        Assert.True(IncidentReportService.IsUnconfirmed(newer));
    }
}
