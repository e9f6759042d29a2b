using System.Management.Automation;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// What a responder sees for input the incident cmdlets refuse, and for a damaged file store: the error id (a contract
/// for scripts), its category, a message that says what to do, and that nothing was written.
/// </summary>
public class IncidentInputErrorTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static ErrorRecord Only(PwshResult r, string fullyQualifiedErrorId, ErrorCategory category)
    {
        var e = Assert.Single(r.Errors);
        Assert.Equal(fullyQualifiedErrorId, e.FullyQualifiedErrorId);
        Assert.Equal(category, e.CategoryInfo.Category);
        return e;
    }

    [Fact]
    public void New_incident_refuses_a_blank_title_and_a_start_in_the_future_and_declares_nothing()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var blank = Only(fx.Run($"New-Incident -Title '   ' -Severity P1 -ConfigPath '{cfg}'"),
            "IncidentTitleMissing,IncidentOps.Commands.NewIncidentCommand", ErrorCategory.InvalidArgument);
        Assert.Contains("-Title that says what is broken", blank.ToString());
        var future = Only(fx.Run($"New-Incident -Title 'API down' -Severity P1 -StartedAt ([DateTime]::UtcNow.AddHours(2)) -ConfigPath '{cfg}'"),
            "IncidentStartInFuture,IncidentOps.Commands.NewIncidentCommand", ErrorCategory.InvalidArgument);
        Assert.Contains("is in the future. Give the time the incident began (now or earlier).", future.ToString());
        Assert.Empty(fx.Run($"Get-Incident -ConfigPath '{cfg}'").AssertNoErrors().Objects<Incident>());
    }

    [Fact]
    public void A_blank_note_or_action_item_and_a_resolution_before_the_start_are_refused_and_change_nothing()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var incident = fx.Run($"New-Incident -Title 'API down' -Severity P1 -ConfigPath '{cfg}'").AssertNoErrors().Single<Incident>();
        var note = Only(fx.Run($"Add-IncidentNote '  ' -ConfigPath '{cfg}'"), "IncidentNoteEmpty,IncidentOps.Commands.AddIncidentNoteCommand", ErrorCategory.InvalidArgument);
        Assert.Contains("Say what you did or saw", note.ToString());
        var item = Only(fx.Run($"Add-IncidentActionItem -Action ' ' -Owner alice -ConfigPath '{cfg}'"),
            "ActionItemEmpty,IncidentOps.Commands.AddIncidentActionItemCommand", ErrorCategory.InvalidArgument);
        Assert.Contains("needs -Action: what will be done", item.ToString());
        var early = Only(fx.Run($"Close-Incident -Resolution 'Restarted' -ResolvedAt ([DateTime]::UtcNow.AddDays(-2)) -ConfigPath '{cfg}'"),
            "IncidentResolvedBeforeStart,IncidentOps.Commands.CloseIncidentCommand", ErrorCategory.InvalidArgument);
        Assert.Contains($"is before {incident.Id} started", early.ToString());

        var r = fx.Run($"[pscustomobject]@{{ Incident = Get-Incident -Id {incident.Id} -ConfigPath '{cfg}'; Timeline = @(Get-IncidentTimeline -Id {incident.Id} -ConfigPath '{cfg}'); Items = @(Get-IncidentActionItem -Id {incident.Id} -ConfigPath '{cfg}') }}").AssertNoErrors();
        var o = Assert.Single(r.Output);
        var after = (Incident)((PSObject)o.Properties["Incident"].Value).BaseObject;
        Assert.Equal(IncidentStatus.Investigating, after.Status);
        Assert.Null(after.ResolvedAt);
        Assert.DoesNotContain(((object[])o.Properties["Timeline"].Value).Select(x => (TimelineEntry)((PSObject)x).BaseObject), e => e.Kind is "note" or "resolved");
        Assert.Empty((object[])o.Properties["Items"].Value);
    }

    [Fact]
    public void A_report_template_file_that_does_not_exist_names_the_built_in_templates_and_writes_no_report()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var dir = Paths.TempDir("io-tplmiss");
        fx.Run($"New-Incident -Title 'API down' -Severity P1 -ConfigPath '{cfg}' | Out-Null").AssertNoErrors();
        var e = Only(fx.Run($"New-IncidentReport -Template '{Path.Combine(dir, "missing.md")}' -Path '{dir}' -ConfigPath '{cfg}'"),
            "ReportTemplateNotFound,IncidentOps.Commands.NewIncidentReportCommand", ErrorCategory.ObjectNotFound);
        Assert.Contains("does not exist. Give a Scriban template file, or one of: seed, google-sre, pagerduty", e.ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    [Fact]
    public void A_report_that_cannot_be_written_says_why_and_is_not_returned_as_written()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        fx.Run($"New-Incident -Title 'API down' -Severity P1 -ConfigPath '{cfg}' | Out-Null").AssertNoErrors();
        // /dev/full: every write fails with "No space left on device", as on a full disk.
        var r = fx.Run($"New-IncidentReport -Path /dev/full -Force -ConfigPath '{cfg}'");
        var e = Only(r, "ReportWriteFailed,IncidentOps.Commands.NewIncidentReportCommand", ErrorCategory.WriteError);
        Assert.Contains("The report could not be written to '/dev/full': No space left on device", e.ToString());
        Assert.Contains("Check the folder's permissions and free space, or pass another -Path.", e.ToString());
        Assert.Empty(r.Output);
    }

    [Fact]
    public void Import_of_a_missing_archive_says_which_path_to_give()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var missing = Path.Combine(Paths.TempDir("io-arcmiss"), "INC-20260101-001.zip");
        var e = Only(fx.Run($"Import-Incident -Path '{missing}' -ConfigPath '{cfg}'"), "IncidentArchiveNotFound,IncidentOps.Commands.ImportIncidentCommand", ErrorCategory.ObjectNotFound);
        Assert.Contains("Give the -Path that Export-Incident wrote", e.ToString());
        Assert.Empty(fx.Run($"Get-Incident -ConfigPath '{cfg}'").AssertNoErrors().Objects<Incident>());
    }

    [Fact]
    public void A_damaged_incident_record_or_action_items_file_is_named_with_its_line_and_left_as_it_was()
    {
        var (cfg, store) = IncidentCmdletTests.TempConfig();
        var incident = fx.Run($"New-Incident -Title 'API down' -Severity P1 -ConfigPath '{cfg}'").AssertNoErrors().Single<Incident>();
        fx.Run($"Add-IncidentActionItem -Action 'Add a disk alert' -Owner alice -ConfigPath '{cfg}' | Out-Null").AssertNoErrors();
        var folder = Directory.GetDirectories(store, incident.Id, SearchOption.AllDirectories).Single();

        var actions = Path.Combine(folder, "actions.json");
        File.WriteAllText(actions, "[\n{ \"Id\": \"A1\",\n");
        var items = Only(fx.Run($"Get-IncidentActionItem -Id {incident.Id} -ConfigPath '{cfg}'"),
            "ActionItemsCorrupt,IncidentOps.Commands.GetIncidentActionItemCommand", ErrorCategory.InvalidData);
        Assert.Contains($"'{actions}' is not valid JSON (line", items.ToString());
        Assert.Contains("Restore it from backup or fix it by hand", items.ToString());
        Assert.Equal("[\n{ \"Id\": \"A1\",\n", File.ReadAllText(actions));

        var record = Path.Combine(folder, "incident.json");
        File.WriteAllText(record, "{ \"Id\": ");
        var read = Only(fx.Run($"Get-Incident -Id {incident.Id} -ConfigPath '{cfg}'"), "IncidentRecordCorrupt,IncidentOps.Commands.GetIncidentCommand", ErrorCategory.InvalidData);
        Assert.Contains($"'{record}' is not valid JSON (line 1)", read.ToString());
        Assert.Contains("Restore it from backup or remove the folder", read.ToString());
        Assert.Equal("{ \"Id\": ", File.ReadAllText(record));
    }
}
