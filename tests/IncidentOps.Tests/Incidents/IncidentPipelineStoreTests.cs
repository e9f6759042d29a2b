using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// Issue 16 item 2, the Incident Get→Change pair: a piped incident is changed (or read) only in the store it came from.
/// Both stores below hold an incident with the same id, so a change that resolved the wrong store would land silently.
/// </summary>
public class IncidentPipelineStoreTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void Get_Incident_output_carries_the_store_it_was_read_from_and_no_credential()
    {
        var (cfg, store) = IncidentCmdletTests.TempConfig();
        var r = fx.Run($"New-Incident -Title 'A broke' -Severity P2 -ConfigPath '{cfg}' | Out-Null; Get-Incident -ConfigPath '{cfg}'").AssertNoErrors();
        var incident = r.Single<Incident>();
        Assert.Equal(Path.GetFullPath(store).TrimEnd('/'), incident.IncidentStore);
        // The identity is not saved with the record: moving the store folder does not leave a stale one behind.
        var json = File.ReadAllText(Path.Combine(store, "incidents", incident.Id, "incident.json"));
        Assert.DoesNotContain("IncidentStore", json);
    }

    [Theory]
    [InlineData("Set-Incident -Impact 'written to the wrong store'")]
    [InlineData("Close-Incident -Resolution 'closed in the wrong store' -Force")]
    [InlineData("Add-IncidentNote 'noted in the wrong store'")]
    [InlineData("Add-IncidentActionItem -Action 'tracked in the wrong store'")]
    public void A_change_piped_from_one_store_into_another_configuration_is_refused_and_writes_nothing(string change)
    {
        var (a, _) = IncidentCmdletTests.TempConfig();
        var (b, storeB) = IncidentCmdletTests.TempConfig();
        var r = fx.Run($$"""
            $x = New-Incident -Title 'A broke' -Severity P2 -ConfigPath '{{a}}'
            $y = New-Incident -Title 'B broke' -Severity P2 -ConfigPath '{{b}}'
            if ($x.Id -ne $y.Id) { throw "the two stores should reuse one id: $($x.Id) $($y.Id)" }
            Get-Incident -Id $x.Id -ConfigPath '{{a}}' | {{change}} -ConfigPath '{{b}}'
            """);
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("PipelineTargetMismatch,", e.FullyQualifiedErrorId);
        Assert.Contains(Path.GetFullPath(storeB).TrimEnd('/'), e.ToString());
        Assert.Contains("-ConfigPath", e.ToString());
        // Store B's incident (same id) is untouched: still open, one timeline entry (the declaration), no action item.
        var check = fx.Run($$"""
            $i = Get-Incident -ConfigPath '{{b}}'
            "$($i.Status)"; "$($i.Impact)"; @(Get-IncidentTimeline -Id $i.Id -ConfigPath '{{b}}').Count; @(Get-IncidentActionItem -Id $i.Id -ConfigPath '{{b}}').Count
            """).AssertNoErrors();
        Assert.Equal(["Investigating", "", "1", "0"], check.Output.Select(o => o?.ToString() ?? ""));
    }

    [Fact]
    public void A_change_piped_within_one_store_acts_on_that_incident()
    {
        var (a, _) = IncidentCmdletTests.TempConfig();
        var r = fx.Run($$"""
            New-Incident -Title 'A broke' -Severity P2 -ConfigPath '{{a}}' | Out-Null
            Get-Incident -ConfigPath '{{a}}' | Set-Incident -Impact 'Checkout failing' -ConfigPath '{{a}}' | Out-Null
            Get-Incident -ConfigPath '{{a}}' | Close-Incident -Resolution 'Rolled back' -Force -ConfigPath '{{a}}'
            """).AssertNoErrors();
        var closed = r.Single<Incident>();
        Assert.Equal(IncidentStatus.Resolved, closed.Status);
        Assert.Equal("Checkout failing", closed.Impact);
    }
}
