using IncidentOps.Config;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

public class IncidentCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    /// <summary>A temp incidentops.yml with the example services and a private store.</summary>
    internal static (string Config, string Store) TempConfig(string? extra = null)
    {
        var dir = Paths.TempDir("io-inc");
        var store = Path.Combine(dir, "store");
        var example = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(Path.Combine(Paths.Examples, "incidentops.yml")).Replace("\r\n", "\n"), @"(?m)^store:\n(  .*\n)*", "");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, example + $"\nstore:\n  path: '{store}'\n" + (extra ?? ""));
        return (config, store);
    }

    [Fact]
    public void Whole_lifecycle_declare_act_note_close_report()
    {
        var (cfg, _) = TempConfig();
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            $i = Get-IncidentOpsService -Path $c -Environment production -Name api | New-Incident -Title 'API 502s' -Severity P1 -Impact 'Checkout failing' -Commander alice -ConfigPath $c
            Set-Incident -Status Identified -RootCause 'Pool exhausted' -Scribe bob -ContributingFactor 'No timeout' -ConfigPath $c
            Add-IncidentNote 'Killed the slow query' -ConfigPath $c | Out-Null
            Set-Incident -Severity P2 -Status Monitoring -UsersAffected '1200 users' -RevenueImpact '$3k' -DataLoss $false -ConfigPath $c
            Add-IncidentActionItem -Action 'Add statement_timeout' -Owner alice -Priority P1 -Due '2030-01-01' -ConfigPath $c | Out-Null
            Get-IncidentActionItem -ConfigPath $c | Set-IncidentActionItem -Status InProgress -ConfigPath $c | Out-Null
            Set-Incident -WentWell 'Fast alert' -WentWrong 'Slow rollback' -LessonsLearned 'Separate pools' -Prevention 'Pool per role' -ConfigPath $c
            $closed = Get-Incident -Active -ConfigPath $c | Close-Incident -Resolution 'Capped the pool' -ConfigPath $c
            $report = New-IncidentReport -Id $i.Id -ConfigPath $c
            [pscustomobject]@{ Id = $i.Id; Closed = $closed; Report = $report.Content; Active = @(Get-Incident -Active -ConfigPath $c).Count; Timeline = @(Get-IncidentTimeline -Id $i.Id -ConfigPath $c) }
            """).AssertNoErrors();
        var o = Assert.Single(r.Output);
        var id = (string)o.Properties["Id"].Value;
        Assert.Matches(@"^INC-\d{8}-001$", id);
        var closed = (Incident)((System.Management.Automation.PSObject)o.Properties["Closed"].Value).BaseObject;
        Assert.Equal(IncidentStatus.Resolved, closed.Status);
        Assert.NotNull(closed.ResolvedAt);
        Assert.Equal(["production/api"], closed.Services);
        Assert.Equal(["P1", "P2"], closed.SeverityHistory.Select(h => h.Severity));
        Assert.Equal(0, (int)o.Properties["Active"].Value);
        var timeline = ((object[])o.Properties["Timeline"].Value).Select(x => (TimelineEntry)((System.Management.Automation.PSObject)x).BaseObject).ToList();
        Assert.Equal("declared", timeline[0].Kind);
        Assert.Contains(timeline, e => e.Kind == "note" && e.Result == "Killed the slow query" && e.Cmdlet == "Add-IncidentNote");
        Assert.Contains(timeline, e => e.Kind == "severity" && e.Result!.Contains("P1 (High) -> P2 (Medium)"));
        Assert.Contains(timeline, e => e.Kind == "status" && e.Result == "Status: Investigating -> Identified");
        Assert.Contains(timeline, e => e.Kind == "role" && e.Result!.Contains("bob"));
        Assert.Equal("resolved", timeline[^1].Kind);

        var report = (string)o.Properties["Report"].Value;
        foreach (var section in new[] { "# Post-Mortem: API 502s", "**Date:**", "**Duration:**", "**Severity:** P2 (Medium)", "**Impact:** Checkout failing", "**Responders:** alice (commander), bob (scribe)",
                     "## Summary", "## Impact", "**Users affected:** 1200 users", "**Services affected:** production/api", "**Revenue impact:** $3k", "**Data loss:** No",
                     "## Timeline", "## Root Cause", "Pool exhausted", "### Contributing Factors", "- No timeout", "## Resolution", "Capped the pool",
                     "## What Went Well", "- Fast alert", "## What Went Wrong", "- Slow rollback", "## Action Items", "| Add statement_timeout | alice | 2030-01-01 | P1 | InProgress |",
                     "## Lessons Learned", "- Separate pools", "## Prevention", "- Pool per role", "Time to detect", "Time to mitigate", "Time in P1 (High)", "Time in P2 (Medium)" })
            Assert.Contains(section, report);
        // Real timeline rows, one per recorded entry.
        Assert.Contains("| Add note (Add-IncidentNote) |", report.Replace("| Note (Add-IncidentNote) |", "| Add note (Add-IncidentNote) |"));
        Assert.Contains("| Killed the slow query |", report);
        Assert.Contains("| Close incident (Close-Incident) |", report);
        var rows = report.Split('\n').Count(l => l.StartsWith($"| 20") && l.Contains(" | "));
        Assert.True(rows >= timeline.Count, $"{rows} timeline rows for {timeline.Count} entries");
    }

    [Fact]
    public void New_incident_ids_are_sequential_and_the_active_incident_is_shared_with_other_sessions()
    {
        var (cfg, _) = TempConfig();
        var a = fx.Run($"(New-Incident -Title one -Severity P3 -ConfigPath '{cfg}').Id").AssertNoErrors();
        var b = fx.Run($"(New-Incident -Title two -Severity p2 -Service api -ConfigPath '{cfg}').Id").AssertNoErrors();
        var first = a.Output.Single().ToString();
        var second = b.Output.Single().ToString();
        Assert.EndsWith("-001", first);
        Assert.EndsWith("-002", second);
        using var other = new PwshSession();
        var active = other.Run($"Get-Incident -Active -ConfigPath '{cfg}'").AssertNoErrors().Single<Incident>();
        Assert.Equal(second, active.Id);
        Assert.Equal("P2", active.Severity);
        Assert.Equal("Medium", active.SeverityName);
        Assert.NotNull(active.ResponseDue);
        Assert.NotNull(active.NextUpdateDue);
        Assert.False(active.Overdue);
    }

    [Fact]
    public void Any_pipeline_object_with_a_Service_property_feeds_New_Incident()
    {
        var (cfg, _) = TempConfig();
        var r = fx.Run($$"""
            @([pscustomobject]@{ Service = 'api'; Environment = 'production'; Healthy = $false },
              [pscustomobject]@{ Service = 'marketing'; Healthy = $true },
              [pscustomobject]@{ Service = 'production/fastapi'; Healthy = $false }) |
                Where-Object { -not $_.Healthy } | New-Incident -Title 'Health checks failing' -Severity P1 -ConfigPath '{{cfg}}'
            """).AssertNoErrors();
        var incident = r.Single<Incident>();
        Assert.Equal(["production/api", "production/fastapi"], incident.Services);
        var bad = fx.Run($"[pscustomobject]@{{ Name = 'x' }} | New-Incident -Title t -Severity P2 -ConfigPath '{cfg}'");
        Assert.Equal("IncidentServiceMissing,IncidentOps.Commands.NewIncidentCommand", Assert.Single(bad.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Unknown_severity_is_rejected_with_the_valid_list()
    {
        var (cfg, _) = TempConfig();
        var r = fx.Run($"New-Incident -Title x -Severity P9 -ConfigPath '{cfg}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("SeverityUnknown,IncidentOps.Commands.NewIncidentCommand", e.FullyQualifiedErrorId);
        Assert.Contains("P0 (Critical), P1 (High), P2 (Medium), P3 (Low)", e.ToString());
    }

    [Fact]
    public void Configured_P1_to_P4_matrix_is_used()
    {
        var dir = Paths.TempDir("io-inc");
        var cfg = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(cfg, File.ReadAllText(Path.Combine(Paths.Examples, "incidentops-p1p4.yml")) + $"\nstore:\n  path: '{Path.Combine(dir, "store")}'\n");
        var r = fx.Run($"Get-IncidentSeverity -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.Equal(["P1", "P2", "P3", "P4"], r.Objects<SeverityLevel>().Select(s => s.Id));
        var bad = fx.Run($"New-Incident -Title x -Severity P0 -ConfigPath '{cfg}'");
        Assert.Equal("SeverityUnknown,IncidentOps.Commands.NewIncidentCommand", Assert.Single(bad.Errors).FullyQualifiedErrorId);
        var ok = fx.Run($"New-Incident -Title x -Severity P4 -ConfigPath '{cfg}'").AssertNoErrors().Single<Incident>();
        Assert.Equal("P4", ok.Severity);
    }

    [Fact]
    public void Get_incident_filters_by_status_severity_and_id()
    {
        var (cfg, _) = TempConfig();
        fx.Run($"New-Incident -Title a -Severity P1 -ConfigPath '{cfg}' | Out-Null; New-Incident -Title b -Severity P3 -ConfigPath '{cfg}' | Close-Incident -Resolution done -ConfigPath '{cfg}' | Out-Null").AssertNoErrors();
        Assert.Equal(["a"], fx.Run($"Get-Incident -Severity P1 -ConfigPath '{cfg}'").AssertNoErrors().Objects<Incident>().Select(i => i.Title));
        Assert.Equal(["b"], fx.Run($"Get-Incident -Status Resolved -ConfigPath '{cfg}'").AssertNoErrors().Objects<Incident>().Select(i => i.Title));
        Assert.Equal(2, fx.Run($"Get-Incident 'INC-*' -Since ([DateTime]::Now.AddHours(-1)) -ConfigPath '{cfg}'").AssertNoErrors().Objects<Incident>().Count());
        var missing = fx.Run($"Get-Incident INC-19990101-001 -ConfigPath '{cfg}'");
        Assert.Equal("IncidentNotFound,IncidentOps.Commands.GetIncidentCommand", Assert.Single(missing.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Close_requires_a_resolution_and_no_active_incident_is_a_clear_error()
    {
        var (cfg, _) = TempConfig();
        var r = fx.Run($"Close-Incident -Resolution '' -ConfigPath '{cfg}'");
        Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("ParameterArgumentValidationErrorEmptyStringNotAllowed") || e.FullyQualifiedErrorId.StartsWith("NoActiveIncident"));
        var none = fx.Run($"Add-IncidentNote 'x' -ConfigPath '{cfg}'");
        Assert.Equal("NoActiveIncident,IncidentOps.Commands.AddIncidentNoteCommand", Assert.Single(none.Errors).FullyQualifiedErrorId);
        fx.Run($"New-Incident -Title a -Severity P1 -ConfigPath '{cfg}' | Out-Null").AssertNoErrors();
        var blank = fx.Run($"Close-Incident -Resolution ' ' -ConfigPath '{cfg}'");
        Assert.Equal("IncidentResolutionMissing,IncidentOps.Commands.CloseIncidentCommand", Assert.Single(blank.Errors).FullyQualifiedErrorId);
        var viaSet = fx.Run($"Set-Incident -Status Resolved -ConfigPath '{cfg}'");
        Assert.Equal("IncidentUseClose,IncidentOps.Commands.SetIncidentCommand", Assert.Single(viaSet.Errors).FullyQualifiedErrorId);
    }

    [Theory]
    [InlineData("Set-Incident -Status Identified -Severity P0 -WhatIf")]
    [InlineData("Close-Incident -Resolution fixed -WhatIf")]
    [InlineData("Add-IncidentNote 'hello' -WhatIf")]
    [InlineData("Add-IncidentActionItem -Action 'do it' -WhatIf")]
    [InlineData("Save-IncidentEvidence -WhatIf")]
    public void WhatIf_changes_nothing(string command)
    {
        var (cfg, store) = TempConfig();
        var id = fx.Run($"(New-Incident -Title a -Severity P1 -ConfigPath '{cfg}').Id").AssertNoErrors().Output.Single().ToString();
        var dir = Path.Combine(store, "incidents", id);
        var before = File.ReadAllText(Path.Combine(dir, "incident.json"));
        var timelineBefore = File.ReadAllLines(Path.Combine(dir, "timeline.jsonl")).Length;
        var r = fx.Run($"{command} -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.Contains("What if:", r.HostText);
        Assert.Equal(before, File.ReadAllText(Path.Combine(dir, "incident.json")));
        Assert.False(File.Exists(Path.Combine(dir, "actions.json")));
        Assert.False(Directory.Exists(Path.Combine(dir, "evidence")) && Directory.EnumerateFiles(Path.Combine(dir, "evidence")).Any());
        Assert.Equal(timelineBefore, File.ReadAllLines(Path.Combine(dir, "timeline.jsonl")).Length);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void New_incident_WhatIf_creates_nothing()
    {
        var (cfg, store) = TempConfig();
        var r = fx.Run($"New-Incident -Title a -Severity P1 -WhatIf -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.Contains("What if:", r.HostText);
        Assert.Empty(Directory.Exists(Path.Combine(store, "incidents")) ? Directory.GetDirectories(Path.Combine(store, "incidents")) : []);
    }

    [Fact]
    public void Action_items_are_added_listed_and_updated()
    {
        var (cfg, store) = TempConfig();
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            $i = New-Incident -Title a -Severity P1 -ConfigPath $c
            Add-IncidentActionItem 'one' -Owner alice -ConfigPath $c | Out-Null
            Add-IncidentActionItem 'two' -Owner bob -Priority p0 -ConfigPath $c | Out-Null
            Get-IncidentActionItem -Owner bob -ConfigPath $c | Set-IncidentActionItem -Status Done -Owner carol -ConfigPath $c | Out-Null
            Get-IncidentActionItem -Id $i.Id -ConfigPath $c
            """).AssertNoErrors();
        var items = r.Objects<ActionItem>().ToList();
        Assert.Equal(2, items.Count);
        Assert.EndsWith("-A01", items[0].Id);
        Assert.True(items[0].Status == "Open", string.Join(" ; ", items.Select(x => x.ToString())));
        Assert.Equal(("Done", "carol", "P0"), (items[1].Status, items[1].Owner, items[1].Priority));
        Assert.True(File.Exists(Path.Combine(store, "incidents", items[0].IncidentId, "actions.json")));
        var missing = fx.Run($"Set-IncidentActionItem -ActionItemId {items[0].IncidentId}-A09 -Status Done -ConfigPath '{cfg}'");
        Assert.Equal("ActionItemNotFound,IncidentOps.Commands.SetIncidentActionItemCommand", Assert.Single(missing.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Severity_matrix_is_shown_and_Record_writes_a_read_entry_only_when_asked()
    {
        var (cfg, _) = TempConfig();
        var id = fx.Run($"(New-Incident -Title a -Severity P1 -ConfigPath '{cfg}').Id").AssertNoErrors().Output.Single().ToString();
        var levels = fx.Run($"Get-IncidentSeverity -ConfigPath '{cfg}'").AssertNoErrors().Objects<SeverityLevel>().ToList();
        Assert.Equal(["P0", "P1", "P2", "P3"], levels.Select(l => l.Id));
        Assert.Equal(TimeSpan.FromMinutes(5), levels[0].ResponseTarget);
        Assert.Empty(fx.Run($"Get-IncidentTimeline -Kind read -ConfigPath '{cfg}'").AssertNoErrors().Output);
        fx.Run($"Get-IncidentSeverity P1 -Record -ConfigPath '{cfg}'").AssertNoErrors();
        var read = fx.Run($"Get-IncidentTimeline -Id {id} -Kind read -ConfigPath '{cfg}'").AssertNoErrors().Single<TimelineEntry>();
        Assert.Equal("Get-IncidentSeverity", read.Cmdlet);
        Assert.Contains("P1 High", read.Result);
    }

    [Fact]
    public void Evidence_is_captured_hashed_and_referenced_from_the_timeline()
    {
        var (cfg, store) = TempConfig();
        var r = fx.Run($"New-Incident -Title a -Severity P1 -Service production/api -ConfigPath '{cfg}' | Save-IncidentEvidence -Source config, timeline -ConfigPath '{cfg}'").AssertNoErrors();
        var captures = r.Objects<EvidenceCapture>().ToList();
        Assert.Contains(captures, c => c.Source == "config" && c.Service == "production/api");
        Assert.Contains(captures, c => c.Source == "timeline");
        foreach (var c in captures)
        {
            Assert.True(c.Succeeded);
            Assert.StartsWith(Path.Combine(store, "incidents", c.IncidentId, "evidence"), c.Path);
            var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(c.Path!))).ToLowerInvariant();
            Assert.Equal(hash, c.Sha256);
            Assert.Contains(hash, File.ReadAllText(c.Path + ".sha256"));
        }
        var entries = fx.Run($"Get-IncidentTimeline -Kind evidence -ConfigPath '{cfg}'").AssertNoErrors().Objects<TimelineEntry>().ToList();
        Assert.Equal(captures.Count, entries.Count);
        Assert.All(entries, e => Assert.Contains("sha256:", e.Result));
        var bad = fx.Run($"Save-IncidentEvidence -Source nope -ConfigPath '{cfg}'");
        Assert.Equal("EvidenceSourceUnknown,IncidentOps.Commands.SaveIncidentEvidenceCommand", Assert.Single(bad.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Corrupt_timeline_line_warns_with_file_and_line_and_other_incidents_still_list()
    {
        var (cfg, store) = TempConfig();
        var id = fx.Run($"(New-Incident -Title a -Severity P1 -ConfigPath '{cfg}').Id; Add-IncidentNote 'x' -ConfigPath '{cfg}' | Out-Null").AssertNoErrors().Output[0].ToString();
        fx.Run($"New-Incident -Title b -Severity P2 -ConfigPath '{cfg}' | Out-Null").AssertNoErrors();
        var file = Path.Combine(store, "incidents", id, "timeline.jsonl");
        var lines = File.ReadAllLines(file).ToList();
        lines.Insert(1, "{\"timestamp\":\"2026-");
        File.WriteAllLines(file, lines);
        var r = fx.Run($"Get-IncidentTimeline -Id {id} -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.Equal(2, r.Objects<TimelineEntry>().Count());
        Assert.Contains(r.Warnings, w => w.Contains($"{file}:2"));
        // A damaged record does not hide the others.
        var second = Path.Combine(store, "incidents", id, "incident.json");
        File.WriteAllText(second, "{ broken");
        var list = fx.Run($"Get-Incident -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.Equal(["b"], list.Objects<Incident>().Select(i => i.Title));
        Assert.Contains(list.Warnings, w => w.Contains(second));
    }

    [Fact]
    public void Secrets_never_reach_the_timeline_or_the_report()
    {
        var (cfg, _) = TempConfig();
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            [IncidentOps.SecretRedactor]::Register('{{canary}}')
            $i = New-Incident -Title 'a' -Severity P1 -Impact 'token {{canary}}' -ConfigPath $c
            Add-IncidentNote 'used password {{canary}}' -ConfigPath $c | Out-Null
            Set-Incident -RootCause 'leaked {{canary}}' -ConfigPath $c
            Save-IncidentEvidence -ConfigPath $c | Out-Null
            Close-Incident -Resolution 'rotated {{canary}}' -ConfigPath $c | Out-Null
            (New-IncidentReport -Id $i.Id -ConfigPath $c).Content
            (New-IncidentReport -Id $i.Id -Format Html -ConfigPath $c).Content
            (New-IncidentReport -Id $i.Id -Kind CustomerCommunication -ConfigPath $c).Content
            Get-IncidentTimeline -Id $i.Id -ConfigPath $c | ForEach-Object { $_.ToString() }
            """).AssertNoErrors();
        Assert.DoesNotContain(canary, r.AllText());
        Assert.Contains("rotated", r.AllText());
    }
}
