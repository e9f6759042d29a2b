using System.Text.Json;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A file store on a shared folder has one active pointer for everyone who uses it. Before, another person's
/// Set-Incident -Activate silently moved this session's changes (and a cron job's) onto their incident. The meaning is
/// unchanged, but now the pointer says who made it active and when (active.by beside it), and the next change this
/// session records on the active incident after someone else switched it warns once: who, when, and on which incident
/// the change is recorded. A real folder; the other person is their IncidentOps's stamp, written as it writes it.
/// </summary>
public sealed class SharedActivePointerTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void A_change_after_someone_else_switched_the_shared_active_incident_warns_once_naming_who_when_and_where_it_went()
    {
        var (cfg, store) = IncidentCmdletTests.TempConfig();
        var mine = fx.Run($"New-Incident -Title 'API errors' -Severity P2 -ConfigPath '{cfg}'").AssertNoErrors().Single<Incident>().Id;
        var theirs = fx.Run($"New-Incident -Title 'Queue backlog' -Severity P3 -ConfigPath '{cfg}'").AssertNoErrors().Single<Incident>().Id;
        fx.Run($"Set-Incident -Incident {mine} -Activate -ConfigPath '{cfg}'").AssertNoErrors();
        // This session's own pointer carries this user and machine; its own changes say nothing.
        var stamp = JsonDocument.Parse(File.ReadAllText(Path.Combine(store, "active.by"))).RootElement;
        Assert.Equal(mine, stamp.GetProperty("id").GetString());
        Assert.Equal($"{Environment.UserName}@{Environment.MachineName}", stamp.GetProperty("by").GetString());
        Assert.Empty(fx.Run($"Add-IncidentNote 'checking the API' -ConfigPath '{cfg}'").AssertNoErrors().Warnings);

        // Bob, on the build host, makes his incident the active one in the shared folder.
        File.WriteAllText(Path.Combine(store, "active"), theirs);
        File.WriteAllText(Path.Combine(store, "active.by"), $"{{\"id\":\"{theirs}\",\"by\":\"bob@build-host\",\"at\":\"2026-12-01T05:02:03+00:00\"}}");

        Assert.Empty(fx.Run($"Get-Incident -Active -ConfigPath '{cfg}' | Out-Null").AssertNoErrors().Warnings); // a read says nothing
        var r = fx.Run($"Add-IncidentNote 'rolled back the API' -ConfigPath '{cfg}'").AssertNoErrors();
        var warning = Assert.Single(r.Warnings);
        Assert.Contains("switched by bob@build-host at 2026-12-01 05:02:03Z", warning);
        Assert.Contains($"from {mine}, which this session last used,", warning);
        Assert.Contains($"this change is recorded on {theirs}", warning);
        Assert.Contains("-Incident", warning);
        // Once: the next change says nothing more, and the pointer still means what it meant.
        Assert.Empty(fx.Run($"Add-IncidentNote 'watching' -ConfigPath '{cfg}'").AssertNoErrors().Warnings);
        var notes = fx.Run($"Get-IncidentTimeline -Incident {theirs} -ConfigPath '{cfg}'").AssertNoErrors().Objects<TimelineEntry>().Where(e => e.Kind == "note").ToList();
        Assert.Equal(2, notes.Count);
    }
}
