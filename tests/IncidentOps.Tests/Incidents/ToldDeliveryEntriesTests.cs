using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// The one helper that takes the channels another entry already tells out of an update entry (the spool flush and
/// Import-Incident use it): segments follow the Target's channel order, so a "; " inside a segment (an error text, the
/// note of an adopted delivery) never splits it; an older version's entry (no keys) is left as it is.
/// </summary>
public sealed class ToldDeliveryEntriesTests
{
    private const string U = "UPD-20261201-0007";
    private static string Key(string channel) => IncidentStores.DeliveryKey(U, channel);

    private static TimelineEntry Entry(string target, string result, params string[] delivered) => new()
    {
        Kind = "update", Action = "Status update (Identified)", Target = target, Outcome = TimelineOutcome.Failed, Result = result,
        Parameters = new Dictionary<string, string> { ["UpdateId"] = U }, DeliveryKeys = delivered.Select(Key).ToList(),
    };

    [Fact]
    public void A_semicolon_inside_an_error_text_or_an_adopted_note_does_not_split_a_segment()
    {
        var entry = Entry("slack,statuspage,teams",
            "slack: delivered (200, 1 attempt(s); sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added)); " +
            "statuspage: NOT delivered, Failed (HTTP 502; body: teams: delivered (x)); teams: delivered (200, 2 attempt(s), id 42)",
            "slack", "teams");

        var withoutTeams = ToldDeliveryEntries.WithoutTold(entry, [Key("teams")])!;
        Assert.Equal("slack,statuspage", withoutTeams.Target);
        Assert.Equal("slack: delivered (200, 1 attempt(s); sent by another sender, whose entry for it is not on the timeline (still in its spool, or never added)); " +
            "statuspage: NOT delivered, Failed (HTTP 502; body: teams: delivered (x)) (teams: told by another entry)", withoutTeams.Result);
        Assert.Equal([Key("slack")], withoutTeams.DeliveryKeys);
        Assert.Equal(TimelineOutcome.Failed, withoutTeams.Outcome);

        var withoutSlack = ToldDeliveryEntries.WithoutTold(entry, [Key("slack"), "delivery:UPD-other:slack"])!;
        Assert.Equal("statuspage,teams", withoutSlack.Target);
        Assert.Equal("statuspage: NOT delivered, Failed (HTTP 502; body: teams: delivered (x)); teams: delivered (200, 2 attempt(s), id 42) (slack: told by another entry)", withoutSlack.Result);
        Assert.Equal(["slack", "teams"], ToldDeliveryEntries.ToldChannels(entry, [Key("slack"), Key("teams")]));
    }

    [Fact]
    public void Removing_again_names_every_removed_channel_once_and_nothing_untold_left_is_null()
    {
        var entry = Entry("slack,teams,statuspage", "slack: delivered (200, 1 attempt(s)); teams: delivered (200, 1 attempt(s)); statuspage: NOT delivered, Failed (timeout)", "slack", "teams");
        var once = ToldDeliveryEntries.WithoutTold(entry, [Key("slack")])!;
        var twice = ToldDeliveryEntries.WithoutTold(once, [Key("teams")])!;
        Assert.Equal("statuspage", twice.Target);
        Assert.Equal("statuspage: NOT delivered, Failed (timeout) (slack, teams: told by another entry)", twice.Result);
        Assert.Null(twice.DeliveryKeys);
        Assert.Equal(TimelineOutcome.Failed, twice.Outcome);
        // The same from the original in one step: the same entry (Import-Incident finds an entry it added before by this).
        Assert.Equal(twice.Result, ToldDeliveryEntries.WithoutTold(entry, [Key("slack"), Key("teams")])!.Result);

        var allDelivered = Entry("slack,teams", "slack: delivered (200, 1 attempt(s)); teams: delivered (200, 1 attempt(s))", "slack", "teams");
        var teams = ToldDeliveryEntries.WithoutTold(allDelivered, [Key("slack")])!;
        Assert.Equal(TimelineOutcome.Succeeded, teams.Outcome);
        Assert.Null(ToldDeliveryEntries.WithoutTold(allDelivered, [Key("slack"), Key("teams")]));
        Assert.Same(allDelivered, ToldDeliveryEntries.WithoutTold(allDelivered, ["delivery:UPD-other:slack"]));
    }

    [Fact]
    public void An_older_versions_entry_is_untouched_and_a_result_of_another_shape_is_kept_whole()
    {
        var old = new TimelineEntry
        {
            Kind = "update", Action = "Status update (Identified)", Target = "slack,teams", Outcome = TimelineOutcome.Succeeded,
            Result = "slack: delivered (200, 1 attempt(s)); teams: delivered (200, 1 attempt(s))", Parameters = new Dictionary<string, string> { ["UpdateId"] = U },
        };
        Assert.Same(old, ToldDeliveryEntries.WithoutTold(old, [Key("slack")]));

        var odd = Entry("slack,teams", "sent to both", "slack", "teams");
        var rest = ToldDeliveryEntries.WithoutTold(odd, [Key("slack")])!;
        Assert.Equal(("teams", "sent to both (slack: told by another entry)"), (rest.Target, rest.Result));
        Assert.Equal([Key("teams")], rest.DeliveryKeys);
    }
}
