using static IncidentOps.Engine.Reports.Charts.SvgDraw;

namespace IncidentOps.Engine.Reports.Charts;

/// <summary>How many incidents of one severity started in the week that begins on WeekStart.</summary>
public sealed record WeeklySeverityCount(DateOnly WeekStart, string Severity, int Count);

/// <summary>One resolved incident: when it started and how long it took to resolve.</summary>
public sealed record ResolveTime(string IncidentId, string Severity, DateTimeOffset StartedAt, TimeSpan TimeToResolve);

/// <summary>Of Total incidents of a severity, how many met their response target.</summary>
public sealed record SeverityCompliance(string Severity, int Met, int Total);

/// <summary>
/// The review report's pictures. Pure functions of plain data: the caller (the review report) computes the numbers;
/// these only draw them. Severities are ordered by name (P0, P1, ...), each with its own fill pattern.
/// </summary>
public static class ReviewCharts
{
    private static int Pattern(IReadOnlyList<string> severities, string severity) => Math.Max(0, severities.ToList().FindIndex(s => string.Equals(s, severity, StringComparison.OrdinalIgnoreCase)));

    private static void SeverityLegend(System.Text.StringBuilder sb, string id, IReadOnlyList<string> severities, double y)
    {
        sb.Append("<g class=\"legend\">\n");
        double x = 64;
        for (var n = 0; n < severities.Count; n++)
        {
            sb.Append("<rect class=\"legend-swatch\" x=\"").Append(N(x)).Append("\" y=\"").Append(N(y)).Append("\" width=\"16\" height=\"12\" fill=\"").Append(Fill(id, n))
              .Append("\" stroke=\"").Append(Ink).Append("\"/><text x=\"").Append(N(x + 20)).Append("\" y=\"").Append(N(y + 10)).Append("\">").Append(Esc(severities[n])).Append("</text>\n");
            x += 36 + Math.Min(24, severities[n].Length) * 7;
        }
        sb.Append("</g>\n");
    }

    /// <summary>
    /// Incidents per week, stacked by severity: one column per week, one segment per severity with incidents that
    /// week (class "bar bar-severity", data-week, data-severity, data-value). Weeks without incidents between the
    /// first and the last are not invented: the caller lists the weeks it wants shown (a zero count keeps a week).
    /// </summary>
    public static Chart IncidentsPerWeek(IReadOnlyList<WeeklySeverityCount> counts, string id = "incidents-per-week")
    {
        const int height = 300;
        const double left = 64, right = Width - 20, top = 36, bottom = 220;
        var weeks = counts.Select(c => c.WeekStart).Distinct().Order().ToList();
        var severities = counts.Select(c => c.Severity).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        var total = counts.Sum(c => Math.Max(0, c.Count));
        var title = "Incidents per week, by severity";
        var desc = total == 0 ? "No incidents in this period."
            : $"{total} incident(s) over {weeks.Count} week(s) from {weeks[0]:yyyy-MM-dd}; " +
              string.Join(", ", severities.Select(s => $"{s}: {counts.Where(c => string.Equals(c.Severity, s, StringComparison.OrdinalIgnoreCase)).Sum(c => Math.Max(0, c.Count))}")) + ".";
        var sb = Open(id, height, title, desc);
        var rows = weeks.Select(w => (IReadOnlyList<string>)new[] { w.ToString("yyyy-MM-dd", Inv) }
            .Concat(severities.Select(s => counts.Where(c => c.WeekStart == w && string.Equals(c.Severity, s, StringComparison.OrdinalIgnoreCase)).Sum(c => Math.Max(0, c.Count)).ToString(Inv)))
            .Append(counts.Where(c => c.WeekStart == w).Sum(c => Math.Max(0, c.Count)).ToString(Inv)).ToList()).ToList();
        var table = new ChartTable(new[] { "Week of" }.Concat(severities).Append("Total").ToList(), rows);
        if (weeks.Count == 0)
        {
            Empty(sb, height, "No incidents in this period.");
            return new Chart(id, title, desc, Close(sb), table);
        }
        Patterns(sb, id, Math.Max(1, severities.Count));
        // Counts: a multiple of 4, so every grid line is a whole number of incidents.
        var max = Math.Max(4, Math.Ceiling(weeks.Max(w => counts.Where(c => c.WeekStart == w).Sum(c => Math.Max(0, c.Count))) / 4.0) * 4);
        ValueAxis(sb, max, left, right, top, bottom, "Incidents", v => N(v));
        var slot = (right - left) / weeks.Count;
        var barWidth = Math.Min(48, slot * 0.7);
        sb.Append("<g class=\"bars\">\n");
        for (var n = 0; n < weeks.Count; n++)
        {
            var x = left + slot * n + (slot - barWidth) / 2;
            var y = bottom;
            var week = weeks[n].ToString("yyyy-MM-dd", Inv);
            foreach (var s in severities)
            {
                var count = counts.Where(c => c.WeekStart == weeks[n] && string.Equals(c.Severity, s, StringComparison.OrdinalIgnoreCase)).Sum(c => Math.Max(0, c.Count));
                if (count == 0) continue;
                var h = (bottom - top) * count / max;
                y -= h;
                sb.Append("<rect class=\"bar bar-severity bar-").Append(Token(s)).Append("\" data-week=\"").Append(week).Append("\" data-severity=\"").Append(Esc(s)).Append("\" data-value=\"").Append(count)
                  .Append("\" x=\"").Append(N(x)).Append("\" y=\"").Append(N(y)).Append("\" width=\"").Append(N(barWidth)).Append("\" height=\"").Append(N(h))
                  .Append("\" fill=\"").Append(Fill(id, Pattern(severities, s))).Append("\" stroke=\"").Append(Ink).Append("\"><title>").Append(Esc($"Week of {week}: {count} {s}")).Append("</title></rect>\n");
            }
            var weekTotal = counts.Where(c => c.WeekStart == weeks[n]).Sum(c => Math.Max(0, c.Count));
            sb.Append("<text class=\"bar-total\" x=\"").Append(N(x + barWidth / 2)).Append("\" y=\"").Append(N(y - 4)).Append("\" text-anchor=\"middle\">").Append(weekTotal).Append("</text>\n");
            if (weeks.Count <= 16 || n % ((weeks.Count + 15) / 16) == 0)
                sb.Append("<text x=\"").Append(N(x + barWidth / 2)).Append("\" y=\"").Append(N(bottom + 16)).Append("\" text-anchor=\"middle\" font-size=\"11\">").Append(weeks[n].ToString("MM-dd", Inv)).Append("</text>\n");
        }
        sb.Append("</g>\n");
        sb.Append("<text x=\"").Append(N(right)).Append("\" y=\"").Append(N(bottom + 30)).Append("\" text-anchor=\"end\" font-size=\"11\">Week of (UTC)</text>\n");
        SeverityLegend(sb, id, severities, height - 40);
        return new Chart(id, title, desc, Close(sb), table);
    }

    /// <summary>
    /// Time to resolve over time: one point per resolved incident (class "point", data-incident, data-minutes) at its
    /// start time and its time to resolve, joined by a line (class "line") when there are two or more.
    /// </summary>
    public static Chart TimeToResolve(IReadOnlyList<ResolveTime> incidents, string id = "time-to-resolve")
    {
        const int height = 300;
        const double left = 64, right = Width - 30, top = 36, bottom = 220;
        var ordered = incidents.OrderBy(i => i.StartedAt).ThenBy(i => i.IncidentId, StringComparer.Ordinal).ToList();
        var severities = ordered.Select(i => i.Severity).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        var title = "Time to resolve, by incident start";
        var minutes = ordered.Select(i => Math.Max(0, i.TimeToResolve.TotalMinutes)).ToList();
        var desc = ordered.Count == 0 ? "No resolved incidents in this period."
            : $"{ordered.Count} resolved incident(s) from {Time(ordered[0].StartedAt)} to {Time(ordered[^1].StartedAt)}; time to resolve {IncidentOps.Duration.Format(TimeSpan.FromMinutes(minutes.Min()))} to {IncidentOps.Duration.Format(TimeSpan.FromMinutes(minutes.Max()))}.";
        var sb = Open(id, height, title, desc);
        var table = new ChartTable(["Incident", "Severity", "Started (UTC)", "Time to resolve", "Minutes"],
            ordered.Select(i => (IReadOnlyList<string>)[i.IncidentId, i.Severity, Time(i.StartedAt), IncidentOps.Duration.Format(i.TimeToResolve < TimeSpan.Zero ? TimeSpan.Zero : i.TimeToResolve), N(Math.Max(0, i.TimeToResolve.TotalMinutes))]).ToList());
        if (ordered.Count == 0)
        {
            Empty(sb, height, "No resolved incidents in this period.");
            return new Chart(id, title, desc, Close(sb), table);
        }
        var (from, to) = (ordered[0].StartedAt, ordered[^1].StartedAt);
        if (to - from < TimeSpan.FromHours(2)) { from -= TimeSpan.FromHours(12); to += TimeSpan.FromHours(12); }
        else { var pad = TimeSpan.FromTicks((to - from).Ticks / 20); from -= pad; to += pad; }
        var max = NiceMax(minutes.Max());
        double X(DateTimeOffset t) => left + (right - left) * (t - from).Ticks / (double)(to - from).Ticks;
        double Y(double m) => bottom - (bottom - top) * m / max;
        ValueAxis(sb, max, left, right, top, bottom, "Minutes to resolve", v => N(v));
        TimeAxis(sb, from, to, X, top, bottom);
        if (ordered.Count >= 2)
            sb.Append("<polyline class=\"line\" fill=\"none\" stroke=\"").Append(Ink).Append("\" stroke-width=\"1.5\" points=\"")
              .Append(string.Join(' ', ordered.Select((i, n) => $"{N(X(i.StartedAt))},{N(Y(minutes[n]))}"))).Append("\"/>\n");
        sb.Append("<g class=\"points\">\n");
        string[] shapes = ["circle", "square", "diamond", "triangle"];
        for (var n = 0; n < ordered.Count; n++)
        {
            var i = ordered[n];
            var (x, y) = (X(i.StartedAt), Y(minutes[n]));
            var shape = shapes[Pattern(severities, i.Severity) % shapes.Length];
            var attrs = $"class=\"point point-{Token(i.Severity)}\" data-incident=\"{Esc(i.IncidentId)}\" data-severity=\"{Esc(i.Severity)}\" data-minutes=\"{N(minutes[n])}\"";
            var tip = $"<title>{Esc($"{i.IncidentId} ({i.Severity}), started {Time(i.StartedAt)}: resolved in {IncidentOps.Duration.Format(TimeSpan.FromMinutes(minutes[n]))}")}</title>";
            sb.Append(shape switch
            {
                "square" => $"<rect {attrs} x=\"{N(x - 4)}\" y=\"{N(y - 4)}\" width=\"8\" height=\"8\" fill=\"{Ink}\">{tip}</rect>",
                "diamond" => $"<path {attrs} d=\"M{N(x)},{N(y - 5)} l5,5 l-5,5 l-5,-5 z\" fill=\"#ffffff\" stroke=\"{Ink}\" stroke-width=\"2\">{tip}</path>",
                "triangle" => $"<path {attrs} d=\"M{N(x)},{N(y - 5)} l5,9 l-10,0 z\" fill=\"{Ink}\">{tip}</path>",
                _ => $"<circle {attrs} cx=\"{N(x)}\" cy=\"{N(y)}\" r=\"4\" fill=\"{Ink}\">{tip}</circle>",
            }).Append('\n');
        }
        sb.Append("</g>\n<g class=\"legend\">\n");
        double lx = 64;
        var ly = height - 34;
        for (var n = 0; n < severities.Count; n++)
        {
            var shape = shapes[n % shapes.Length];
            sb.Append(shape switch
            {
                "square" => $"<rect x=\"{N(lx - 4)}\" y=\"{ly - 4}\" width=\"8\" height=\"8\" fill=\"{Ink}\"/>",
                "diamond" => $"<path d=\"M{N(lx)},{ly - 5} l5,5 l-5,5 l-5,-5 z\" fill=\"#ffffff\" stroke=\"{Ink}\" stroke-width=\"2\"/>",
                "triangle" => $"<path d=\"M{N(lx)},{ly - 5} l5,9 l-10,0 z\" fill=\"{Ink}\"/>",
                _ => $"<circle cx=\"{N(lx)}\" cy=\"{ly}\" r=\"4\" fill=\"{Ink}\"/>",
            }).Append("<text x=\"").Append(N(lx + 9)).Append("\" y=\"").Append(ly + 4).Append("\">").Append(Esc(severities[n])).Append("</text>\n");
            lx += 30 + Math.Min(24, severities[n].Length) * 7;
        }
        sb.Append("</g>\n");
        return new Chart(id, title, desc, Close(sb), table);
    }

    /// <summary>
    /// Response-target compliance per severity: one horizontal bar per severity with incidents (class "bar bar-met",
    /// data-severity, data-met, data-total) over a track of the whole (class "track"), labelled "Met of Total (percent)".
    /// A severity with no incidents gets a row saying so, and no bar.
    /// </summary>
    public static Chart TargetCompliance(IReadOnlyList<SeverityCompliance> rows, string id = "target-compliance")
    {
        var ordered = rows.OrderBy(r => r.Severity, StringComparer.OrdinalIgnoreCase).ToList();
        var height = 70 + Math.Max(1, ordered.Count) * 34;
        const double left = 90, right = Width - 170, top = 36;
        static string Pct(int met, int total) => total <= 0 ? "no incidents" : $"{met} of {total} ({Math.Round(100.0 * met / total, 0).ToString("0", Inv)}%)";
        var title = "Response-target compliance, by severity";
        var desc = ordered.Count == 0 ? "No incidents in this period." : string.Join("; ", ordered.Select(r => $"{r.Severity}: {Pct(Math.Clamp(r.Met, 0, Math.Max(0, r.Total)), r.Total)} met the response target")) + ".";
        var sb = Open(id, height, title, desc);
        var table = new ChartTable(["Severity", "Met", "Total", "Compliance"],
            ordered.Select(r => (IReadOnlyList<string>)[r.Severity, r.Met.ToString(Inv), r.Total.ToString(Inv), r.Total <= 0 ? "n/a" : $"{Math.Round(100.0 * Math.Clamp(r.Met, 0, r.Total) / r.Total, 0).ToString("0", Inv)}%"]).ToList());
        if (ordered.Count == 0)
        {
            Empty(sb, height, "No incidents in this period.");
            return new Chart(id, title, desc, Close(sb), table);
        }
        Patterns(sb, id, 1);
        sb.Append("<g class=\"axis axis-x\">\n");
        for (var n = 0; n <= 4; n++)
        {
            var x = N(left + (right - left) * n / 4);
            sb.Append("<line x1=\"").Append(x).Append("\" y1=\"").Append(top - 6).Append("\" x2=\"").Append(x).Append("\" y2=\"").Append(N(top + ordered.Count * 34))
              .Append("\" stroke=\"").Append(Grid).Append("\" stroke-dasharray=\"2,3\"/><text x=\"").Append(x).Append("\" y=\"").Append(top - 10).Append("\" text-anchor=\"middle\">")
              .Append(n * 25).Append("%</text>\n");
        }
        sb.Append("</g>\n<g class=\"bars\">\n");
        for (var n = 0; n < ordered.Count; n++)
        {
            var r = ordered[n];
            var y = top + n * 34 + 6;
            sb.Append("<text class=\"bar-label\" x=\"").Append(N(left - 8)).Append("\" y=\"").Append(N(y + 15)).Append("\" text-anchor=\"end\">").Append(Esc(r.Severity)).Append("</text>");
            if (r.Total > 0)
            {
                var met = Math.Clamp(r.Met, 0, r.Total);
                var w = (right - left) * met / r.Total;
                sb.Append("<rect class=\"track\" x=\"").Append(N(left)).Append("\" y=\"").Append(N(y)).Append("\" width=\"").Append(N(right - left)).Append("\" height=\"20\" fill=\"#ffffff\" stroke=\"").Append(Ink).Append("\"/>");
                sb.Append("<rect class=\"bar bar-met\" data-severity=\"").Append(Esc(r.Severity)).Append("\" data-met=\"").Append(met).Append("\" data-total=\"").Append(r.Total)
                  .Append("\" x=\"").Append(N(left)).Append("\" y=\"").Append(N(y)).Append("\" width=\"").Append(N(w)).Append("\" height=\"20\" fill=\"").Append(Fill(id, 0)).Append("\"><title>")
                  .Append(Esc($"{r.Severity}: {Pct(met, r.Total)} met the response target")).Append("</title></rect>");
            }
            sb.Append("<text class=\"bar-value\" x=\"").Append(N(right + 8)).Append("\" y=\"").Append(N(y + 15)).Append("\">").Append(Esc(Pct(Math.Clamp(r.Met, 0, Math.Max(0, r.Total)), r.Total))).Append("</text>\n");
        }
        sb.Append("</g>\n");
        return new Chart(id, title, desc, Close(sb), table);
    }
}
