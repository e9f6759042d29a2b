using System.Globalization;
using System.Net;
using System.Text;
using IncidentOps.Engine.Reports.Charts;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Renders a <see cref="ReviewReportModel"/> as Markdown or as one self-contained HTML page (no script, no external
/// resource). Every value that came from a record is redacted and escaped for its format: Markdown through
/// <see cref="IncidentReportService.MarkdownEscape"/>, HTML through HtmlEncode. Each chart's numbers are a table in both
/// formats; the HTML page also has a &lt;section class="charts"&gt; where each chart's SVG goes (<see cref="ChartSvg"/>).
/// </summary>
public static class ReviewReportRenderer
{
    private interface IFormat
    {
        string Text(string? value);
        void Heading(StringBuilder sb, int level, string text);
        void Paragraph(StringBuilder sb, string html);
        void Table(StringBuilder sb, string[] header, IEnumerable<string[]> rows, string? caption = null);
        void Bullets(StringBuilder sb, IEnumerable<string> items);
        string Strong(string text);
    }

    private sealed class MarkdownFormat : IFormat
    {
        public string Text(string? value) => string.IsNullOrEmpty(value) ? "" : IncidentReportService.MarkdownEscape(SecretRedactor.Redact(value));
        public void Heading(StringBuilder sb, int level, string text) => sb.Append('#', level).Append(' ').Append(text).Append("\n\n");
        public void Paragraph(StringBuilder sb, string text) => sb.Append(text).Append("\n\n");
        public void Table(StringBuilder sb, string[] header, IEnumerable<string[]> rows, string? caption = null)
        {
            var list = rows.ToList();
            if (caption is not null) sb.Append(caption).Append("\n\n");
            if (list.Count == 0) { sb.Append("_None._\n\n"); return; }
            sb.Append("| ").AppendJoin(" | ", header).Append(" |\n|").Append(string.Concat(header.Select(_ => "---|"))).Append('\n');
            foreach (var r in list) sb.Append("| ").AppendJoin(" | ", r.Select(c => c.Length == 0 ? " " : c)).Append(" |\n");
            sb.Append('\n');
        }
        public void Bullets(StringBuilder sb, IEnumerable<string> items)
        {
            var any = false;
            foreach (var i in items) { sb.Append("- ").Append(i).Append('\n'); any = true; }
            sb.Append(any ? "\n" : "_None._\n\n");
        }
        public string Strong(string text) => $"**{text}**";
    }

    private sealed class HtmlFormat : IFormat
    {
        public string Text(string? value) => string.IsNullOrEmpty(value) ? "" : WebUtility.HtmlEncode(SecretRedactor.Redact(value));
        public void Heading(StringBuilder sb, int level, string text) => sb.Append($"<h{level}>").Append(text).Append($"</h{level}>\n");
        public void Paragraph(StringBuilder sb, string text) => sb.Append("<p>").Append(text).Append("</p>\n");
        public void Table(StringBuilder sb, string[] header, IEnumerable<string[]> rows, string? caption = null)
        {
            var list = rows.ToList();
            if (list.Count == 0)
            {
                if (caption is not null) sb.Append("<p>").Append(caption).Append("</p>\n");
                sb.Append("<p><em>None.</em></p>\n");
                return;
            }
            sb.Append("<table>");
            if (caption is not null) sb.Append("<caption>").Append(caption).Append("</caption>");
            sb.Append("<thead><tr>");
            foreach (var h in header) sb.Append("<th scope=\"col\">").Append(h).Append("</th>");
            sb.Append("</tr></thead><tbody>\n");
            foreach (var r in list)
            {
                sb.Append("<tr>");
                foreach (var c in r) sb.Append("<td>").Append(c).Append("</td>");
                sb.Append("</tr>\n");
            }
            sb.Append("</tbody></table>\n");
        }
        public void Bullets(StringBuilder sb, IEnumerable<string> items)
        {
            var list = items.ToList();
            if (list.Count == 0) { sb.Append("<p><em>None.</em></p>\n"); return; }
            sb.Append("<ul>");
            foreach (var i in list) sb.Append("<li>").Append(i).Append("</li>");
            sb.Append("</ul>\n");
        }
        public string Strong(string text) => $"<strong>{text}</strong>";
    }

    public static string Markdown(ReviewReportModel model)
    {
        var f = new MarkdownFormat();
        var sb = new StringBuilder();
        Header(sb, f, model);
        Charts(sb, f, model, html: false);
        Body(sb, f, model);
        return sb.ToString();
    }

    public static string Html(ReviewReportModel model)
    {
        var f = new HtmlFormat();
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Incident Review: ").Append(Period(model)).Append("</title>\n")
          .Append("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#111}table{border-collapse:collapse;margin:0 0 1.5em}")
          .Append("caption{text-align:left;font-weight:bold;padding:4px 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}")
          .Append(".charts figure{margin:0 0 2em}.charts figure svg{max-width:100%;height:auto;display:block}.missed{color:#a00;font-weight:bold}@media print{section{break-inside:avoid}}</style></head>\n<body>\n");
        Header(sb, f, model);
        Charts(sb, f, model, html: true);
        Body(sb, f, model);
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    /// <summary>
    /// The SVG drawing of one chart (<see cref="ReviewChartData"/>'s ids) for the HTML review, placed in its
    /// &lt;figure data-chart="id"&gt; before the table with the same numbers: incidents per week stacked by severity,
    /// time to resolve over time, response-target compliance per severity (met of those that were due; pending ones
    /// are left out). An unknown id draws nothing.
    /// </summary>
    public static string ChartSvg(string chartId, ReviewChartData data) => chartId switch
    {
        ReviewChartData.IncidentsPerWeekId => ReviewCharts.IncidentsPerWeek(
            data.IncidentsPerWeek.SelectMany(w => w.BySeverity.Select(kv =>
                new WeeklySeverityCount(DateOnly.FromDateTime(w.WeekStart.Date), kv.Key, kv.Value))).ToList(), chartId).Svg,
        ReviewChartData.TimeToResolveId => ReviewCharts.TimeToResolve(
            data.TimeToResolve.Select(r => new ResolveTime(r.IncidentId, r.Severity, r.StartedAt, r.TimeToResolve)).ToList(), chartId).Svg,
        ReviewChartData.ResponseComplianceId => ReviewCharts.TargetCompliance(
            data.ResponseCompliance.Select(r => new SeverityCompliance(r.Severity, r.Met, r.Met + r.Missed)).ToList(), chartId).Svg,
        _ => "",
    };

    // ------------------------------------------------------------------ sections

    private static void Header(StringBuilder sb, IFormat f, ReviewReportModel m)
    {
        var s = m.Metrics;
        f.Heading(sb, 1, "Incident Review: " + Period(m));
        f.Paragraph(sb, $"{f.Strong("Period:")} {Time(m.Since)} to {Time(m.Until)} (incidents that started in it). {f.Strong("Generated:")} {Time(m.GeneratedAt)}. " +
            "Seed 001's review schedule: weekly, review the runbooks used during the week; monthly, rotate through all runbooks; quarterly, a full audit.");
        f.Heading(sb, 2, "Summary");
        f.Table(sb, ["Figure", "Value", "Incidents"],
        [
            ["Incidents", $"{s.Incidents} ({s.Open} open, {s.Resolved} resolved)", Ids(f, s.IncidentIds)],
            ["Time to acknowledge (p50 / p90)", $"{D(s.TimeToAcknowledgeP50)} / {D(s.TimeToAcknowledgeP90)}", ""],
            ["Time to mitigate (p50 / p90)", $"{D(s.TimeToMitigateP50)} / {D(s.TimeToMitigateP90)}", ""],
            ["Time to resolve (p50 / p90)", $"{D(s.TimeToResolveP50)} / {D(s.TimeToResolveP90)}", ""],
            ["Response target met", $"{s.ResponseTargetMet} of {s.ResponseTargetDecided} ({IncidentMetricSummary.Percent(s.ResponseTargetRate)})", s.MissedResponseIds.Length == 0 ? "" : "missed: " + Ids(f, s.MissedResponseIds)],
            ["Updates within cadence", $"{s.UpdatesOnTime} of {s.UpdatesDue} ({IncidentMetricSummary.Percent(s.CadenceRate)})", s.MissedCadenceIds.Length == 0 ? "" : "missed: " + Ids(f, s.MissedCadenceIds)],
            ["Open action items", $"{s.ActionItemsOpen} ({s.ActionItemsOverdue} overdue)", ""],
        ]);
        sb.Append(f is HtmlFormat ? "" : "_Percentiles are nearest-rank (the value at rank ceil(p/100 × n)); times are measured from each incident's start._\n\n");
        if (f is HtmlFormat) f.Paragraph(sb, "<em>Percentiles are nearest-rank (the value at rank ceil(p/100 × n)); times are measured from each incident's start.</em>");
        f.Heading(sb, 2, "Response targets and update cadence by severity");
        f.Table(sb, ["Severity", "Target", "Incidents", "Met", "Missed", "Pending", "Response rate", "Cadence", "Updates on time", "Cadence rate", "Missed"],
            s.BySeverity.Select(b => new[]
            {
                f.Text(b.Severity + (b.Name is null ? "" : $" ({b.Name})")), D(b.ResponseTarget), b.Incidents.ToString(CultureInfo.InvariantCulture),
                b.ResponseTargetMet.ToString(CultureInfo.InvariantCulture), b.ResponseTargetMissed.ToString(CultureInfo.InvariantCulture), b.ResponsePending.ToString(CultureInfo.InvariantCulture),
                IncidentMetricSummary.Percent(b.ResponseTargetRate), b.UpdateEvery is { } e ? D(e) : "none",
                b.UpdateEvery is null ? "n/a" : $"{b.UpdatesOnTime} of {b.UpdatesDue}", IncidentMetricSummary.Percent(b.CadenceRate),
                Ids(f, b.MissedResponseIds.Concat(b.MissedCadenceIds).Distinct().ToArray()),
            }));
    }

    private static void Charts(StringBuilder sb, IFormat f, ReviewReportModel m, bool html)
    {
        var c = m.Charts;
        var weeks = (Id: ReviewChartData.IncidentsPerWeekId, Title: "Incidents per week, by severity",
            Header: new[] { "Week", "Week of" }.Concat(c.Severities.Select(f.Text)).Append("Total").ToArray(),
            Rows: c.IncidentsPerWeek.Select(w => new[] { w.Week, w.WeekStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) }
                .Concat(c.Severities.Select(s => w.BySeverity.TryGetValue(s, out var n) ? n.ToString(CultureInfo.InvariantCulture) : "0"))
                .Append(w.Total.ToString(CultureInfo.InvariantCulture)).ToArray()).ToList());
        var resolve = (Id: ReviewChartData.TimeToResolveId, Title: "Time to resolve, by start of incident",
            Header: new[] { "Started (UTC)", "Incident", "Severity", "Time to resolve", "Minutes" },
            Rows: c.TimeToResolve.Select(r => new[]
            {
                Time(r.StartedAt), f.Text(r.IncidentId), f.Text(r.Severity), D(r.TimeToResolve),
                Math.Round(r.TimeToResolve.TotalMinutes, 1).ToString("0.#", CultureInfo.InvariantCulture),
            }).ToList());
        var compliance = (Id: ReviewChartData.ResponseComplianceId, Title: "Response-target compliance, by severity",
            Header: new[] { "Severity", "Target", "Met", "Missed", "Pending", "Rate" },
            Rows: c.ResponseCompliance.Select(r => new[]
            {
                f.Text(r.Severity), D(r.ResponseTarget), r.Met.ToString(CultureInfo.InvariantCulture), r.Missed.ToString(CultureInfo.InvariantCulture),
                r.Pending.ToString(CultureInfo.InvariantCulture), IncidentMetricSummary.Percent(r.Rate),
            }).ToList());
        if (!html)
        {
            f.Heading(sb, 2, "Charts (as tables)");
            foreach (var chart in new[] { weeks, resolve, compliance })
            {
                f.Heading(sb, 3, chart.Title);
                f.Table(sb, chart.Header, chart.Rows);
            }
            return;
        }
        sb.Append("<section class=\"charts\">\n<h2>Charts</h2>\n");
        foreach (var chart in new[] { weeks, resolve, compliance })
        {
            sb.Append($"<figure class=\"chart\" data-chart=\"{chart.Id}\" id=\"chart-{chart.Id}\"><figcaption><strong>{chart.Title}</strong></figcaption>\n");
            sb.Append($"<!-- chart:{chart.Id} (SVG from ReviewReportRenderer.ChartSvg) -->");
            sb.Append(ChartSvg(chart.Id, c));
            sb.Append('\n');
            f.Table(sb, chart.Header, chart.Rows, $"{chart.Title}: the numbers");
            sb.Append("</figure>\n");
        }
        sb.Append("</section>\n");
    }

    private static void Body(StringBuilder sb, IFormat f, ReviewReportModel m)
    {
        var s = m.Metrics;
        f.Heading(sb, 2, "Services with the most incidents");
        f.Table(sb, ["Service", "Incidents", "Incident ids"], s.TopServices.Select(t => new[] { f.Text(t.Service), t.Incidents.ToString(CultureInfo.InvariantCulture), Ids(f, t.IncidentIds) }));

        f.Heading(sb, 2, "Incidents");
        f.Table(sb, ["Incident", "Started (UTC)", "Severity", "Status", "Title", "Services", "Acknowledge", "Mitigate", "Resolve", "Response target", "Cadence", "Open items"],
            m.Incidents.Select(i => new[]
            {
                f.Text(i.IncidentId), Time(i.StartedAt), f.Text(i.Severity), i.Status.ToString(), f.Text(i.Title), f.Text(string.Join(", ", i.Services)),
                D(i.TimeToAcknowledge), D(i.TimeToMitigate), D(i.TimeToResolve),
                Mark(f, i.ResponseTargetMet, "met", "missed", "pending"), Mark(f, i.CadenceMet, "kept", "missed", "n/a"),
                i.ActionItemsOverdue > 0 ? $"{i.ActionItemsOpen} ({i.ActionItemsOverdue} overdue)" : i.ActionItemsOpen.ToString(CultureInfo.InvariantCulture),
            }));

        f.Heading(sb, 2, "Why targets were missed");
        f.Bullets(sb, m.Incidents.Where(i => i.ResponseTargetMet == false || i.CadenceMet == false).Select(i =>
            $"{f.Strong(f.Text(i.IncidentId))} ({f.Text(i.Severity)}, {f.Text(i.Title)}): " +
            string.Join("; ", new[]
            {
                i.ResponseTargetMet == false ? "response target missed, " + f.Text(i.ResponseReason) : null,
                i.CadenceMet == false ? "cadence missed, " + f.Text(i.CadenceReason) : null,
            }.Where(x => x is not null))));

        f.Heading(sb, 2, "Overdue action items");
        f.Table(sb, ["Item", "Incident", "Action", "Owner", "Due", "Overdue by", "Priority", "Status"],
            m.OverdueActionItems.Select(a => new[]
            {
                f.Text(a.Id), f.Text(a.IncidentId), f.Text(a.Action), f.Text(a.Owner), a.Due.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                D(a.OverdueBy), f.Text(a.Priority), f.Text(a.Status),
            }));
        f.Heading(sb, 3, "Open action items per owner");
        f.Table(sb, ["Owner", "Open", "Overdue", "Items"],
            s.ActionItemsByOwner.Select(o => new[] { f.Text(o.Owner), o.Open.ToString(CultureInfo.InvariantCulture), o.Overdue.ToString(CultureInfo.InvariantCulture), Ids(f, o.ActionItemIds) }));

        f.Heading(sb, 2, "Runbooks due for review");
        f.Paragraph(sb, "The steps these incidents actually ran, from their timelines (seed 001, weekly: review any runbook used). " +
            "Review the runbooks these steps come from, and whether each step did what the runbook said.");
        f.Table(sb, ["Step (cmdlet)", "Uses", "Succeeded", "Failed", "Unconfirmed", "Previewed (-WhatIf)", "Incidents", "Last used (UTC)"],
            m.RunbookSteps.Select(r => new[]
            {
                f.Text(r.Cmdlet), r.Uses.ToString(CultureInfo.InvariantCulture), r.Succeeded.ToString(CultureInfo.InvariantCulture), r.Failed.ToString(CultureInfo.InvariantCulture),
                r.Unconfirmed.ToString(CultureInfo.InvariantCulture), r.Previewed.ToString(CultureInfo.InvariantCulture), Ids(f, r.IncidentIds), Time(r.LastUsed),
            }));
        var unsure = m.RunbookSteps.Where(r => r.Unconfirmed > 0).ToList();
        if (unsure.Count > 0)
            f.Paragraph(sb, f.Text("Needs attention: " + string.Join(", ", unsure.Select(r => $"{r.Cmdlet} ({r.Unconfirmed} unconfirmed, in {string.Join(", ", r.IncidentIds)})")) +
                ". These changes were sent but never confirmed: they may or may not have happened. Check each target's state (for a Redis flush, Get-RedisInfo Keyspace or DBSIZE) and note the finding on its incident."));
        f.Paragraph(sb, f is HtmlFormat ? $"<em>Generated by IncidentOps at {Time(m.GeneratedAt)}.</em>" : $"_Generated by IncidentOps at {Time(m.GeneratedAt)}._");
    }

    // ------------------------------------------------------------------ values

    private static string Period(ReviewReportModel m) =>
        $"{m.Since.ToUniversalTime():yyyy-MM-dd} to {m.Until.ToUniversalTime():yyyy-MM-dd}";

    private static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string D(TimeSpan? t) => t is { } x ? IncidentMetricsService.Show(x) : "n/a";

    private static string Ids(IFormat f, IReadOnlyCollection<string> ids) => f.Text(string.Join(", ", ids));

    private static string Mark(IFormat f, bool? value, string yes, string no, string none) => value switch
    {
        true => yes,
        false => f is HtmlFormat ? $"<span class=\"missed\">{no}</span>" : f.Strong(no),
        _ => none,
    };
}
