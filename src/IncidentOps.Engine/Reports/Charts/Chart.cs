using System.Globalization;
using System.Text;
using IncidentOps.Engine.Incidents;

namespace IncidentOps.Engine.Reports.Charts;

/// <summary>The numbers behind a chart, as rows of text (already plain: escaping happens when it is written out).</summary>
public sealed record ChartTable(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>
/// One rendered chart: a self-contained inline SVG (no script, no external font or image, role="img" with a title
/// and a description) and the same numbers as a table. <see cref="Html"/> is the figure for an HTML report (SVG and
/// table together, for screen readers and for print); <see cref="Markdown"/> is the table alone, for Markdown reports.
/// </summary>
public sealed record Chart(string Id, string Title, string Description, string Svg, ChartTable Table)
{
    /// <summary>A &lt;figure class="chart"&gt; with the SVG, a caption and the data table.</summary>
    public string Html
    {
        get
        {
            var sb = new StringBuilder(Svg.Length + 512);
            sb.Append("<figure class=\"chart\" id=\"chart-").Append(SvgDraw.Esc(Id)).Append("\">\n").Append(Svg).Append('\n');
            sb.Append("<figcaption>").Append(SvgDraw.Esc(Title)).Append("</figcaption>\n");
            sb.Append("<table class=\"chart-data\"><caption>").Append(SvgDraw.Esc(Title)).Append(" (data)</caption>\n<tr>");
            foreach (var c in Table.Columns) sb.Append("<th scope=\"col\">").Append(SvgDraw.Esc(c)).Append("</th>");
            sb.Append("</tr>\n");
            if (Table.Rows.Count == 0)
                sb.Append("<tr><td colspan=\"").Append(Table.Columns.Count.ToString(CultureInfo.InvariantCulture)).Append("\">No data.</td></tr>\n");
            foreach (var row in Table.Rows)
            {
                sb.Append("<tr>");
                foreach (var cell in row) sb.Append("<td>").Append(SvgDraw.Esc(cell)).Append("</td>");
                sb.Append("</tr>\n");
            }
            sb.Append("</table>\n</figure>");
            return sb.ToString();
        }
    }

    private static readonly System.Text.RegularExpressions.Regex Plain = new(@"^[0-9][0-9 .:%-]*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>A table cell: numbers and times as they are (inside a table row no list can start), anything else Markdown-escaped.</summary>
    private static string Cell(string text) => Plain.IsMatch(text) ? text : IncidentReportService.MarkdownEscape(text);

    /// <summary>The chart's numbers as a Markdown table under a level-4 heading (every cell Markdown-escaped).</summary>
    public string Markdown
    {
        get
        {
            var sb = new StringBuilder();
            sb.Append("#### ").Append(IncidentReportService.MarkdownEscape(Title)).Append("\n\n");
            if (Table.Rows.Count == 0) return sb.Append("_No data._\n").ToString();
            sb.Append("| ").Append(string.Join(" | ", Table.Columns.Select(IncidentReportService.MarkdownEscape))).Append(" |\n");
            sb.Append('|').Append(string.Concat(Table.Columns.Select(_ => "---|"))).Append('\n');
            foreach (var row in Table.Rows)
                sb.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
            return sb.ToString();
        }
    }
}

/// <summary>
/// Shared drawing helpers: XML escaping, the SVG frame (role, title, desc, generic font, dark on white), scales,
/// time ticks and the fill patterns that tell series apart without colour.
/// </summary>
internal static class SvgDraw
{
    public const int Width = 760;
    public const string Ink = "#111111";
    public const string Grid = "#bbbbbb";
    public static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>XML-escapes text for an element or a quoted attribute; control characters XML cannot hold become spaces.</summary>
    public static string Esc(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default:
                    sb.Append(c < 0x20 && c is not ('\t' or '\n' or '\r') || c is '\uFFFE' or '\uFFFF' ? ' ' : c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A token safe in a class name or id: letters, digits and '-' (anything else becomes '-'), lower case.</summary>
    public static string Token(string text)
    {
        var s = string.Concat((text ?? "").Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-')).Trim('-');
        return s.Length == 0 ? "x" : s;
    }

    public static string N(double v) => Math.Round(v, 2).ToString("0.##", Inv);

    /// <summary>Opens the SVG: fixed viewBox that scales to the page, the accessible name and description, a white background.</summary>
    public static StringBuilder Open(string id, int height, string title, string description)
    {
        var sb = new StringBuilder(4096);
        var tid = Esc(id);
        sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" role=\"img\" viewBox=\"0 0 ").Append(Width).Append(' ').Append(height)
          .Append("\" width=\"").Append(Width).Append("\" height=\"").Append(height)
          .Append("\" preserveAspectRatio=\"xMinYMin meet\" font-family=\"sans-serif\" font-size=\"12\" fill=\"").Append(Ink)
          .Append("\" aria-labelledby=\"").Append(tid).Append("-title ").Append(tid).Append("-desc\">\n");
        sb.Append("<title id=\"").Append(tid).Append("-title\">").Append(Esc(title)).Append("</title>\n");
        sb.Append("<desc id=\"").Append(tid).Append("-desc\">").Append(Esc(description)).Append("</desc>\n");
        sb.Append("<rect class=\"background\" x=\"0\" y=\"0\" width=\"").Append(Width).Append("\" height=\"").Append(height).Append("\" fill=\"#ffffff\"/>\n");
        return sb;
    }

    public static string Close(StringBuilder sb) => sb.Append("</svg>").ToString();

    /// <summary>
    /// Fill patterns that stay distinct in black and white (print): solid dark, diagonal hatch, dots, cross-hatch,
    /// horizontal lines, light solid. Ids are prefixed with the chart's id so several charts share one page.
    /// </summary>
    public static void Patterns(StringBuilder sb, string id, int count)
    {
        sb.Append("<defs>\n");
        for (var n = 0; n < count; n++)
        {
            var pid = $"{Esc(id)}-pat-{n}";
            sb.Append("<pattern id=\"").Append(pid).Append("\" patternUnits=\"userSpaceOnUse\" width=\"8\" height=\"8\">");
            switch (n % 6)
            {
                case 0: sb.Append("<rect width=\"8\" height=\"8\" fill=\"#222222\"/>"); break;
                case 1: sb.Append("<rect width=\"8\" height=\"8\" fill=\"#ffffff\"/><path d=\"M0,8 L8,0 M-2,2 L2,-2 M6,10 L10,6\" stroke=\"#222222\" stroke-width=\"2\"/>"); break;
                case 2: sb.Append("<rect width=\"8\" height=\"8\" fill=\"#dddddd\"/><circle cx=\"4\" cy=\"4\" r=\"1.8\" fill=\"#222222\"/>"); break;
                case 3: sb.Append("<rect width=\"8\" height=\"8\" fill=\"#ffffff\"/><path d=\"M0,0 L8,8 M8,0 L0,8\" stroke=\"#222222\" stroke-width=\"1.2\"/>"); break;
                case 4: sb.Append("<rect width=\"8\" height=\"8\" fill=\"#ffffff\"/><path d=\"M0,2 L8,2 M0,6 L8,6\" stroke=\"#222222\" stroke-width=\"1.5\"/>"); break;
                default: sb.Append("<rect width=\"8\" height=\"8\" fill=\"#888888\"/>"); break;
            }
            sb.Append("</pattern>\n");
        }
        sb.Append("</defs>\n");
    }

    public static string Fill(string id, int n) => $"url(#{Esc(id)}-pat-{n})";

    /// <summary>A "nice" upper bound at or above the largest value, never 0, whose quarters (the grid lines) are round too.</summary>
    public static double NiceMax(double max)
    {
        if (!(max > 0) || double.IsInfinity(max)) return 1;
        var exp = Math.Pow(10, Math.Floor(Math.Log10(max)));
        foreach (var f in new[] { 1, 1.2, 1.6, 2, 2.4, 3.2, 4, 6, 8, 10 })
            if (f * exp >= max) return f * exp;
        return 10 * exp;
    }

    private static readonly TimeSpan[] Steps =
    [
        TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(3), TimeSpan.FromHours(6),
        TimeSpan.FromHours(12), TimeSpan.FromDays(1), TimeSpan.FromDays(2), TimeSpan.FromDays(7), TimeSpan.FromDays(14), TimeSpan.FromDays(28),
        TimeSpan.FromDays(91), TimeSpan.FromDays(182), TimeSpan.FromDays(365),
    ];

    /// <summary>Tick times (UTC, aligned to the step) between from and to, at most about eight.</summary>
    public static IReadOnlyList<DateTimeOffset> TimeTicks(DateTimeOffset from, DateTimeOffset to, out TimeSpan step)
    {
        var span = to - from;
        step = Steps.FirstOrDefault(s => span.Ticks / s.Ticks <= 8, Steps[^1]);
        var utcFrom = from.ToUniversalTime();
        var first = new DateTimeOffset((utcFrom.UtcTicks + step.Ticks - 1) / step.Ticks * step.Ticks, TimeSpan.Zero);
        var list = new List<DateTimeOffset>();
        for (var t = first; t <= to && list.Count < 12; t += step) list.Add(t);
        return list;
    }

    public static string TickLabel(DateTimeOffset t, TimeSpan step, TimeSpan span)
    {
        var u = t.ToUniversalTime();
        if (step >= TimeSpan.FromDays(1)) return u.ToString("yyyy-MM-dd", Inv);
        if (span > TimeSpan.FromDays(1)) return u.ToString("MM-dd HH:mm", Inv);
        return u.ToString(step < TimeSpan.FromMinutes(1) ? "HH:mm:ss" : "HH:mm", Inv);
    }

    public static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", Inv);

    /// <summary>Draws the "no data" notice used when a chart has nothing to draw.</summary>
    public static void Empty(StringBuilder sb, int height, string text) =>
        sb.Append("<text class=\"empty\" x=\"").Append(Width / 2).Append("\" y=\"").Append(height / 2).Append("\" text-anchor=\"middle\" font-size=\"14\">")
          .Append(Esc(text)).Append("</text>\n");

    /// <summary>A horizontal time axis with grid lines at the ticks.</summary>
    public static void TimeAxis(StringBuilder sb, DateTimeOffset from, DateTimeOffset to, Func<DateTimeOffset, double> x, double top, double bottom)
    {
        var ticks = TimeTicks(from, to, out var step);
        sb.Append("<g class=\"axis axis-x\">\n");
        sb.Append("<line x1=\"").Append(N(x(from))).Append("\" y1=\"").Append(N(bottom)).Append("\" x2=\"").Append(N(x(to))).Append("\" y2=\"").Append(N(bottom))
          .Append("\" stroke=\"").Append(Ink).Append("\"/>\n");
        foreach (var t in ticks)
        {
            var px = N(x(t));
            sb.Append("<line x1=\"").Append(px).Append("\" y1=\"").Append(N(top)).Append("\" x2=\"").Append(px).Append("\" y2=\"").Append(N(bottom + 4))
              .Append("\" stroke=\"").Append(Grid).Append("\" stroke-dasharray=\"2,3\"/>");
            sb.Append("<text x=\"").Append(px).Append("\" y=\"").Append(N(bottom + 16)).Append("\" text-anchor=\"middle\">").Append(Esc(TickLabel(t, step, to - from))).Append("</text>\n");
        }
        sb.Append("<text x=\"").Append(N(x(to))).Append("\" y=\"").Append(N(bottom + 30)).Append("\" text-anchor=\"end\" font-size=\"11\">Time (UTC)</text>\n");
        sb.Append("</g>\n");
    }

    /// <summary>A vertical value axis from 0 to max, with five grid lines and a label.</summary>
    public static void ValueAxis(StringBuilder sb, double max, double left, double right, double top, double bottom, string label, Func<double, string> format)
    {
        sb.Append("<g class=\"axis axis-y\">\n");
        sb.Append("<line x1=\"").Append(N(left)).Append("\" y1=\"").Append(N(top)).Append("\" x2=\"").Append(N(left)).Append("\" y2=\"").Append(N(bottom))
          .Append("\" stroke=\"").Append(Ink).Append("\"/>\n");
        for (var n = 0; n <= 4; n++)
        {
            var v = max * n / 4;
            var y = N(bottom - (bottom - top) * n / 4);
            if (n > 0)
                sb.Append("<line x1=\"").Append(N(left)).Append("\" y1=\"").Append(y).Append("\" x2=\"").Append(N(right)).Append("\" y2=\"").Append(y)
                  .Append("\" stroke=\"").Append(Grid).Append("\" stroke-dasharray=\"2,3\"/>");
            sb.Append("<text x=\"").Append(N(left - 6)).Append("\" y=\"").Append(y).Append("\" dy=\"4\" text-anchor=\"end\">").Append(Esc(format(v))).Append("</text>\n");
        }
        sb.Append("<text x=\"").Append(N(left)).Append("\" y=\"").Append(N(top - 8)).Append("\" text-anchor=\"start\" font-size=\"11\">").Append(Esc(label)).Append("</text>\n");
        sb.Append("</g>\n");
    }
}
