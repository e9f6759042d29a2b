using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Tests.Incidents;
using Xunit;

namespace IncidentOps.Tests.Secrets;

/// <summary>Issue 18 item 16: what a person typed cannot forge structure in a report, in Markdown or in HTML.</summary>
public class ReportEscapingTests
{
    private const string Title = "API down\n# Forged heading\n<img src=x onerror=alert(1)>";
    private const string RootCause = "disk full\n\n## Resolution\nNothing to see\n- [click here](http://evil.example/)\n1. first";

    private static async Task<IncidentReport> Render(IncidentReportFormat format)
    {
        var (engine, config, _) = IncidentStoreTests.NewEngine();
        var ctx = new ChangeContext("Test");
        var i = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = Title, Severity = "P1", Impact = "**all** users | <b>bold</b>" }, ctx, CancellationToken.None);
        await engine.Incidents.UpdateAsync(config, i.Id, new IncidentChanges { RootCause = RootCause, WentWell = ["ok\n## Forged list heading"] }, ctx, CancellationToken.None);
        await engine.Incidents.AddNoteAsync(config, i.Id, "row | with pipe\n| forged | row |", ChangeContext.Engine, CancellationToken.None);
        await engine.Incidents.AddActionItemAsync(config, i.Id, "fix <script>x</script>\n## Forged", "bob", null, "P1", ctx, CancellationToken.None);
        await engine.Incidents.CloseAsync(config, i.Id, "Resolved\n# Forged resolution", null, null, ctx, CancellationToken.None);
        return await engine.Reports.RenderAsync(config, i.Id, IncidentReportKind.PostMortem, format, "seed", null, CancellationToken.None);
    }

    [Fact]
    public async Task Markdown_report_values_cannot_forge_headings_lists_links_or_raw_html()
    {
        var content = (await Render(IncidentReportFormat.Markdown)).Content;
        var lines = content.Split('\n');
        Assert.Single(lines, l => l.StartsWith("# ", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("## Resolution", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.TrimStart().TrimStart('#').TrimStart().StartsWith("Forged", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("| forged", StringComparison.Ordinal));
        // Raw HTML: every '<' a person typed is escaped, so none opens a tag.
        Assert.DoesNotMatch(@"(?<!\\)<(img|script|b)\b", content);
        Assert.Contains(@"# Post-Mortem: API down \# Forged heading \<img src=x onerror=alert(1)\>", content);
        Assert.Contains(@"disk full \#\# Resolution Nothing to see - \[click here\](http://evil.example/) 1. first", content);
        Assert.Contains(@"\*\*all\*\* users \| \<b\>bold\</b\>", content);
        Assert.Contains(@"row \| with pipe \| forged \| row \|", content);
    }

    [Theory]
    [InlineData("# heading", @"\# heading")]
    [InlineData("- item", @"\- item")]
    [InlineData("+ item", @"\+ item")]
    [InlineData("=====", @"\=====")]
    [InlineData("12. item", @"12\. item")]
    [InlineData("> quote", @"\> quote")]
    [InlineData("a\nb\r\nc", "a b c")]
    [InlineData("`code` & *em* _u_ ~s~", @"\`code\` &amp; \*em\* \_u\_ \~s\~")]
    [InlineData("password=********", "password=********")]
    [InlineData("v1.9.0 on production/api (50%)", "v1.9.0 on production/api (50%)")]
    [InlineData("raise statement_timeout", "raise statement_timeout")]
    public void Markdown_escape_table(string input, string expected) =>
        Assert.Equal(expected, IncidentReportService.MarkdownEscape(input));

    [Fact]
    public async Task Html_report_escapes_every_value()
    {
        var content = (await Render(IncidentReportFormat.Html)).Content;
        Assert.DoesNotContain("<img", content);
        Assert.DoesNotContain("<script>", content);
        Assert.DoesNotContain("<b>", content);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", content);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(content, "<h1>"));
    }
}
