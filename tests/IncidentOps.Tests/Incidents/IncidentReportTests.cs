using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

public class IncidentReportTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static readonly string[] Sections = ["Summary", "Impact", "Timeline", "Root Cause", "Contributing Factors", "Resolution", "What Went Well", "What Went Wrong", "Action Items", "Lessons Learned", "Prevention"];

    private static async Task<(IncidentOps.Engine.IncidentOpsEngine Engine, IncidentOps.Config.IncidentOpsConfig Config, Incident Incident)> ResolvedIncident()
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var ctx = new ChangeContext("Test");
        var i = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "DB down", Severity = "P0", Services = ["production/api"], Impact = "All requests fail", Commander = "alice", StartedAt = DateTimeOffset.UtcNow.AddMinutes(-50) }, ctx, CancellationToken.None);
        await engine.Timeline.RecordAsync(new TimelineEntry { Cmdlet = "Restart-Service", Action = "Restart", Target = "production/api", Outcome = TimelineOutcome.Succeeded, Result = "2 machines restarted" }, null, config, CancellationToken.None);
        await engine.Incidents.UpdateAsync(config, i.Id, new IncidentChanges { Severity = "P1", Status = IncidentStatus.Monitoring, RootCause = "Disk full | WAL", ContributingFactors = ["No disk alert"], WentWell = ["Paged fast"], WentWrong = ["Runbook outdated"], LessonsLearned = ["Alert on disk"], Prevention = ["Autoscale disk"], DataLoss = true, UsersAffected = "all", RevenueImpact = "$10k" }, ctx, CancellationToken.None);
        await engine.Incidents.AddActionItemAsync(config, i.Id, "Add disk alert", "bob", DateTimeOffset.Parse("2030-01-02Z"), "P1", ctx, CancellationToken.None);
        var closed = await engine.Incidents.CloseAsync(config, i.Id, "Grew the volume", null, null, ctx, CancellationToken.None);
        return (engine, config, closed);
    }

    [Theory]
    [InlineData("seed")]
    [InlineData("google-sre")]
    [InlineData("pagerduty")]
    public async Task Every_builtin_style_has_every_section_figures_and_real_timeline_rows(string style)
    {
        var (engine, config, incident) = await ResolvedIncident();
        var report = await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, style, null, CancellationToken.None);
        foreach (var s in Sections) Assert.Contains(s, report.Content, StringComparison.OrdinalIgnoreCase);
        foreach (var s in new[] { incident.Id, "P1 (High)", "All requests fail", "alice (commander)", "production/api", "$10k", "Yes", "Disk full \\| WAL", "No disk alert", "Grew the volume",
                     "Paged fast", "Runbook outdated", "Alert on disk", "Autoscale disk", "| Add disk alert | bob | 2030-01-02 | P1 | Open |", "Time to detect", "Time to mitigate", "Time in P0 (Critical)", "Time in P1 (High)" })
            Assert.Contains(s, report.Content);
        Assert.Contains("| Restart (Restart-Service) | production/api | Succeeded | 2 machines restarted |", report.Content);
        Assert.Contains("| Declare incident (Test) |", report.Content);
        Assert.Contains("| Close incident (Test) |", report.Content);
    }

    [Fact]
    public async Task Html_escapes_and_has_every_section()
    {
        var (engine, config, incident) = await ResolvedIncident();
        await engine.Incidents.AddNoteAsync(config, incident.Id, "<script>alert(1)</script>", ChangeContext.Engine, CancellationToken.None);
        var report = await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Html, "seed", null, CancellationToken.None);
        Assert.StartsWith("<!DOCTYPE html>", report.Content.TrimStart());
        foreach (var s in Sections) Assert.Contains($">{s}</h", report.Content, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;", report.Content);
        Assert.DoesNotContain("<script>", report.Content);
        Assert.Contains("<td>2 machines restarted</td>", report.Content);
    }

    [Fact]
    public async Task Customer_communication_follows_seed_003()
    {
        var (engine, config, incident) = await ResolvedIncident();
        var mail = await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.CustomerCommunication, IncidentReportFormat.Markdown, null, null, CancellationToken.None);
        Assert.Contains($"Subject: [FYI] Service Interruption - {incident.StartedAt:yyyy-MM-dd}", mail.Content);
        Assert.Contains("affecting production/api", mail.Content);
        foreach (var s in new[] { "Impact:", "Root Cause:", "Resolution:", "- Grew the volume", "Prevention:", "- Autoscale disk", "We apologize" }) Assert.Contains(s, mail.Content);
    }

    [Fact]
    public async Task User_template_files_render_and_bad_ones_say_what_is_wrong()
    {
        var (engine, config, incident) = await ResolvedIncident();
        var dir = Paths.TempDir("io-tpl");
        var good = Path.Combine(dir, "mine.md");
        File.WriteAllText(good, "{{ id }} took {{ time_to_resolve }}; {{ timeline.size }} entries; first {{ timeline[0].action }}");
        var report = await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, null, good, CancellationToken.None);
        Assert.StartsWith($"{incident.Id} took ", report.Content);
        Assert.Contains("first Declare incident", report.Content);
        var bad = Path.Combine(dir, "bad.md");
        File.WriteAllText(bad, "{{ for x in }}");
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, null, bad, CancellationToken.None));
        Assert.Equal("ReportTemplateInvalid", ex.ErrorId);
        var unknown = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, "nope", null, CancellationToken.None));
        Assert.Equal("ReportTemplateUnknown", unknown.ErrorId);
        Assert.Contains("seed, google-sre, pagerduty", unknown.Message);
    }

    [Fact]
    public async Task User_templates_include_the_shared_section_partials_of_the_builtin_styles()
    {
        var (engine, config, incident) = await ResolvedIncident();
        var dir = Paths.TempDir("io-tpl");
        var mine = Path.Combine(dir, "mine.md");
        File.WriteAllText(mine, ReportTemplates.Functions + "# {{ title }}\n{{ include 'timeline' }}\n## Next\n{{ include 'action_items' }}{{ include 'prevention' }}");
        var report = await engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, null, mine, CancellationToken.None);
        Assert.StartsWith("# DB down", report.Content);
        Assert.Contains("| Restart (Restart-Service) | production/api | Succeeded | 2 machines restarted |", report.Content);
        Assert.Contains("| Add disk alert | bob |", report.Content);
        Assert.Contains("- Autoscale disk", report.Content);
        // The built-in styles are made of the same partials.
        foreach (var style in new[] { "seed", "google-sre", "pagerduty" })
            Assert.Contains("{{ include 'timeline' }}", ReportTemplates.Markdown(style));
        var missing = Path.Combine(dir, "missing.md");
        File.WriteAllText(missing, "{{ include 'nope' }}");
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Reports.RenderAsync(config, incident.Id, IncidentReportKind.PostMortem, IncidentReportFormat.Markdown, null, missing, CancellationToken.None));
        Assert.Equal("ReportTemplateFailed", ex.ErrorId);
        Assert.Contains("action_items", ex.Message);
    }

    [Fact]
    public void New_IncidentReport_writes_Path_and_refuses_to_overwrite_without_Force()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var dir = Paths.TempDir("io-rep");
        var file = Path.Combine(dir, "pm.html");
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            $i = New-Incident -Title 'Queue stuck' -Severity P2 -ConfigPath $c
            Add-IncidentNote 'Drained the queue' -ConfigPath $c | Out-Null
            $i | Close-Incident -Resolution 'Restarted workers' -ConfigPath $c | Out-Null
            $i | New-IncidentReport -Format Html -Template pagerduty -Path '{{file}}' -ConfigPath $c
            $i | New-IncidentReport -Path '{{dir}}' -ConfigPath $c
            """).AssertNoErrors();
        var reports = r.Objects<IncidentReport>().ToList();
        Assert.Equal(file, reports[0].Path);
        Assert.Contains("Drained the queue", File.ReadAllText(file));
        Assert.EndsWith("-postmortem.md", reports[1].Path);
        Assert.Contains("## Prevention", File.ReadAllText(reports[1].Path!));
        var again = fx.Run($"New-IncidentReport -Id {reports[0].IncidentId} -Format Html -Path '{file}' -ConfigPath '{cfg}'");
        Assert.Equal("ReportFileExists,IncidentOps.Commands.NewIncidentReportCommand", Assert.Single(again.Errors).FullyQualifiedErrorId);
        var whatIf = fx.Run($"New-IncidentReport -Id {reports[0].IncidentId} -Path '{Path.Combine(dir, "x.md")}' -WhatIf -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.Contains("What if:", whatIf.HostText);
        Assert.False(File.Exists(Path.Combine(dir, "x.md")));
    }
}
