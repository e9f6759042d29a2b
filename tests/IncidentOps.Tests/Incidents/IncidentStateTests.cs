using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>The incident state machine is one thing, whichever cmdlet moves it (issue 16 item 3).</summary>
public class IncidentStateTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    /// <summary>A private store and one webhook channel on a loopback port that refuses (the update stays pending).</summary>
    private static string Config()
    {
        var dir = Paths.TempDir("io-state");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"""
            store: {"{"} path: '{Path.Combine(dir, "store")}' {"}"}
            channels:
              audit: {"{"} type: webhook, url: 'http://127.0.0.1:9/hook' {"}"}
            routing:
              P1: [audit]
              P2: [audit]
            """);
        return config;
    }

    private static Incident Record(PSObject o) => (Incident)o.BaseObject;

    [Fact]
    public void An_incident_resolved_by_an_update_is_not_active_and_Close_Incident_then_records_its_resolution()
    {
        var c = Config();
        var id = fx.Run($"(New-Incident -Title 'Checkout 502' -Severity P2 -ConfigPath '{c}').Id").AssertNoErrors().Output[0].ToString();
        fx.Run($"Send-IncidentUpdate -Status Resolved -Message 'Error rate is back to normal' -ConfigPath '{c}' -WarningAction SilentlyContinue | Out-Null");
        var resolved = Record(fx.Run($"Get-Incident -Id {id} -ConfigPath '{c}'").AssertNoErrors().Output[0]);
        Assert.Equal(IncidentStatus.Resolved, resolved.Status);
        Assert.NotNull(resolved.ResolvedAt);
        Assert.Null(resolved.NextUpdateDue);
        Assert.Empty(fx.Run($"Get-Incident -Active -ConfigPath '{c}'").AssertNoErrors().Output);

        // A bare note no longer lands on the resolved incident; the error names it.
        var bare = fx.Run($"Add-IncidentNote 'after resolution' -ConfigPath '{c}'");
        var error = bare.Terminating ?? Assert.Single(bare.Errors);
        Assert.Equal("NoActiveIncident,IncidentOps.Commands.AddIncidentNoteCommand", error.FullyQualifiedErrorId);
        Assert.Contains($"-Incident {id}", error.ErrorDetails?.Message ?? error.ToString());

        // Close-Incident records the resolution instead of failing with IncidentAlreadyResolved.
        var closed = Record(fx.Run($"Close-Incident -Id {id} -Resolution 'Rolled back release v142' -RootCause 'Bad config' -Force -ConfigPath '{c}'").AssertNoErrors().Output[0]);
        Assert.Equal("Rolled back release v142", closed.Resolution);
        Assert.Equal(resolved.ResolvedAt, closed.ResolvedAt); // the time the update resolved it stays
        var report = fx.Run($"(New-IncidentReport -Id {id} -ConfigPath '{c}').Content").AssertNoErrors().Output[0].ToString();
        Assert.Contains("Rolled back release v142", report);
        var resolutionSection = report[report.IndexOf("## Resolution", StringComparison.Ordinal)..];
        Assert.DoesNotContain("_Not recorded._", resolutionSection[..resolutionSection.IndexOf("\n#", 3, StringComparison.Ordinal)]);

        // Closing again is the old error; naming a resolved incident to add to it works, with a warning.
        var again = fx.Run($"Close-Incident -Id {id} -Resolution 'x' -Force -ConfigPath '{c}'");
        Assert.Equal("IncidentAlreadyResolved,IncidentOps.Commands.CloseIncidentCommand", Assert.Single(again.Errors).FullyQualifiedErrorId);
        var late = fx.Run($"Add-IncidentNote -Id {id} 'customer confirmed' -ConfigPath '{c}'").AssertNoErrors();
        Assert.Contains(late.Warnings, w => w.Contains($"{id} is resolved"));
        var timeline = fx.Run($"Get-IncidentTimeline -Id {id} -ConfigPath '{c}'").AssertNoErrors().Objects<TimelineEntry>().ToList();
        Assert.Equal("customer confirmed", timeline[^1].Result);
        Assert.DoesNotContain(timeline, e => e.Result == "after resolution");
        Assert.Contains(timeline, e => e.Kind == "resolved" && e.Result!.Contains("Resolution recorded"));
    }

    [Fact]
    public void Set_Incident_resolves_only_with_a_resolution_reopens_and_never_activates_a_resolved_incident()
    {
        var c = Config();
        var id = fx.Run($"(New-Incident -Title 'Queue stuck' -Severity P1 -ConfigPath '{c}').Id").AssertNoErrors().Output[0].ToString();
        var noSummary = fx.Run($"Set-Incident -Status Resolved -ConfigPath '{c}'");
        Assert.Equal("IncidentUseClose,IncidentOps.Commands.SetIncidentCommand", Assert.Single(noSummary.Errors).FullyQualifiedErrorId);
        var set = Record(fx.Run($"Set-Incident -Status Resolved -Resolution 'Drained the queue' -PassThru -ConfigPath '{c}'").AssertNoErrors().Output[0]);
        Assert.Equal(IncidentStatus.Resolved, set.Status);
        Assert.NotNull(set.ResolvedAt);
        Assert.Empty(fx.Run($"Get-Incident -Active -ConfigPath '{c}'").AssertNoErrors().Output);

        var activate = fx.Run($"Set-Incident -Id {id} -Activate -ConfigPath '{c}'");
        Assert.Equal("IncidentResolvedNotActive,IncidentOps.Commands.SetIncidentCommand", Assert.Single(activate.Errors).FullyQualifiedErrorId);

        var reopened = Record(fx.Run($"Set-Incident -Id {id} -Status Investigating -Activate -PassThru -ConfigPath '{c}'").AssertNoErrors().Output[0]);
        Assert.Equal(IncidentStatus.Investigating, reopened.Status);
        Assert.Null(reopened.ResolvedAt);
        Assert.NotNull(reopened.NextUpdateDue);
        Assert.Equal(id, Record(fx.Run($"Get-Incident -Active -ConfigPath '{c}'").AssertNoErrors().Output[0]).Id);
        var statuses = fx.Run($"Get-IncidentTimeline -Id {id} -ConfigPath '{c}'").AssertNoErrors().Objects<TimelineEntry>()
            .Where(e => e.Action == "Set Status").Select(e => e.Result).ToList();
        Assert.Equal(["Status: Investigating -> Resolved", "Status: Resolved -> Investigating (reopened)"], statuses);
    }

    [Fact]
    public async Task Changes_recorded_by_other_cmdlets_skip_a_resolved_incident_unless_it_is_named_and_then_warn()
    {
        var (engine, config, sink) = IncidentStoreTests.NewEngine();
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "cache", Severity = "P2" }, ChangeContext.Engine, CancellationToken.None);
        await engine.Incidents.CloseAsync(config, incident.Id, "Flushed", null, null, ChangeContext.Engine, CancellationToken.None);
        var entry = new TimelineEntry { Kind = "action", Cmdlet = "Clear-RedisDatabase", Action = "Flush database", Target = "Redis 127.0.0.1:6379 db 0", Outcome = TimelineOutcome.Succeeded };
        Assert.Null(await engine.Timeline.RecordAsync(entry, null, config, CancellationToken.None));
        Assert.Empty(sink.Warnings);
        Assert.Equal(incident.Id, await engine.Timeline.RecordAsync(entry, incident.Id, config, CancellationToken.None));
        Assert.Contains(sink.Warnings, w => w.Contains($"{incident.Id} is resolved") && w.Contains("Flush database"));
    }
}
