using System.Text;
using IncidentOps.Incidents;
using static IncidentOps.Engine.Reports.Charts.SvgDraw;

namespace IncidentOps.Engine.Reports.Charts;

/// <summary>One phase of an incident drawn as a band: detected, acknowledged, mitigated or resolved, from Start to End.</summary>
public sealed record PhaseBand(string Phase, DateTimeOffset Start, DateTimeOffset End, bool Ongoing = false);

/// <summary>A point event on the incident timeline: Kind "change" (a state-changing command) or "update" (a status update sent).</summary>
public sealed record TimelineMarker(string Kind, DateTimeOffset At, string Label);

/// <summary>One health sample: which target (Series), when, its latency (null when none was measured) and whether it was healthy.</summary>
public sealed record HealthPoint(string Series, DateTimeOffset At, double? LatencyMs, bool Healthy, string? Reason = null);

/// <summary>The post-mortem's pictures: the incident's phases and events over time, and the health samples recorded during it.</summary>
public static class PostMortemCharts
{
    /// <summary>The phases in their order; the index picks the band's fill pattern.</summary>
    public static readonly string[] PhaseNames = ["detected", "acknowledged", "mitigated", "resolved"];
    private static readonly int[] PhasePattern = [1, 2, 4, 5];

    /// <summary>
    /// The phases of an incident as bands: detected (from detection, else the start, until acknowledged), acknowledged
    /// (until mitigated), mitigated (until resolved) and resolved (a short tail after the resolution). A phase with no
    /// time is left out; a phase still running ends at <paramref name="now"/> and is marked ongoing.
    /// </summary>
    public static IReadOnlyList<PhaseBand> Phases(Incident incident, DateTimeOffset now)
    {
        var starts = new (string Phase, DateTimeOffset? At)[]
        {
            ("detected", incident.DetectedAt ?? incident.StartedAt),
            ("acknowledged", incident.AcknowledgedAt),
            ("mitigated", incident.MitigatedAt),
            ("resolved", incident.Status == IncidentStatus.Resolved ? incident.ResolvedAt : null),
        }.Where(p => p.At is not null).Select(p => (p.Phase, At: p.At!.Value)).ToList();
        var bands = new List<PhaseBand>();
        var resolvedAt = starts.FirstOrDefault(s => s.Phase == "resolved").At;
        var chartEnd = starts.Any(s => s.Phase == "resolved") ? resolvedAt : now;
        for (var n = 0; n < starts.Count; n++)
        {
            var (phase, start) = starts[n];
            if (phase == "resolved")
            {
                var span = resolvedAt - incident.StartedAt;
                // Long enough to see at the chart's scale: a tenth of the incident (a minute when it lasted no time).
                var tail = span <= TimeSpan.Zero ? TimeSpan.FromMinutes(1) : TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, span.Ticks / 10));
                bands.Add(new PhaseBand(phase, start, start + tail));
                continue;
            }
            var end = n + 1 < starts.Count ? starts[n + 1].At : chartEnd;
            if (end < start) end = start;
            bands.Add(new PhaseBand(phase, start, end, Ongoing: n + 1 == starts.Count));
        }
        return bands;
    }

    /// <summary>Changes (kind action) and updates (kind update) of the timeline as markers; -WhatIf previews changed nothing and are left out.</summary>
    public static IReadOnlyList<TimelineMarker> Markers(IEnumerable<TimelineEntry> timeline) =>
        timeline.Where(e => e.Outcome != TimelineOutcome.WhatIf && e.Kind is "action" or "update")
            .Select(e => new TimelineMarker(e.Kind == "update" ? "update" : "change", e.Timestamp,
                $"{e.Action ?? e.Kind}{(string.IsNullOrEmpty(e.Target) ? "" : " " + e.Target)}{(e.Outcome == TimelineOutcome.Failed ? " (failed)" : Incidents.IncidentReportService.IsUnconfirmed(e) ? " (unconfirmed)" : "")}"))
            .OrderBy(m => m.At).ToList();

    /// <summary>A little room on both sides of the data (a minute each side when everything happened at one instant).</summary>
    internal static (DateTimeOffset From, DateTimeOffset To) Pad(DateTimeOffset from, DateTimeOffset to)
    {
        var span = to - from;
        var pad = span <= TimeSpan.Zero ? TimeSpan.FromMinutes(1) : TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, span.Ticks / 40));
        return (from - pad, to + pad);
    }

    private static string PhaseTitle(string phase) => phase.Length == 0 ? phase : char.ToUpperInvariant(phase[0]) + phase[1..];

    /// <summary>
    /// The incident timeline chart: one band per phase (class "band band-{phase}"), one marker per change
    /// (class "marker marker-change", a triangle) and per update (class "marker marker-update", a circle), on a UTC time axis.
    /// </summary>
    public static Chart Timeline(IReadOnlyList<PhaseBand> phases, IReadOnlyList<TimelineMarker> markers, string id = "incident-timeline")
    {
        const int height = 250;
        const double left = 20, right = Width - 30, bandTop = 44, bandBottom = 104, changeLane = 126, updateLane = 150, axis = 164;
        var changes = markers.Count(m => m.Kind == "change");
        var updates = markers.Count - changes;
        var title = "Incident timeline: phases, changes and updates";
        var desc = phases.Count == 0 && markers.Count == 0 ? "Nothing was recorded."
            : $"{string.Join(", ", phases.Select(p => $"{PhaseTitle(p.Phase)} {Time(p.Start)} to {Time(p.End)}{(p.Ongoing ? " (ongoing)" : "")}"))}. " +
              $"{changes} change(s) and {updates} update(s) marked.";
        var sb = Open(id, height, title, desc);
        var rows = new List<IReadOnlyList<string>>();
        if (phases.Count == 0 && markers.Count == 0)
        {
            Empty(sb, height, "Nothing was recorded on this incident's timeline.");
            return new Chart(id, title, desc, Close(sb), new ChartTable(["Kind", "From (UTC)", "To (UTC)", "What"], rows));
        }
        var times = phases.SelectMany(p => new[] { p.Start, p.End }).Concat(markers.Select(m => m.At)).ToList();
        var (from, to) = (times.Min(), times.Max());
        (from, to) = Pad(from, to);
        double X(DateTimeOffset t) => left + (right - left) * (t - from).Ticks / (double)(to - from).Ticks;
        Patterns(sb, id, 6);
        TimeAxis(sb, from, to, X, bandTop - 4, axis);
        sb.Append("<g class=\"bands\">\n");
        foreach (var p in phases)
        {
            var n = Array.IndexOf(PhaseNames, p.Phase);
            var x1 = X(p.Start);
            var w = Math.Max(2, X(p.End) - x1);
            var label = $"{PhaseTitle(p.Phase)}{(p.Ongoing ? " (ongoing)" : "")}";
            sb.Append("<rect class=\"band band-").Append(Token(p.Phase)).Append("\" data-phase=\"").Append(Esc(p.Phase)).Append("\" x=\"").Append(N(x1)).Append("\" y=\"").Append(N(bandTop))
              .Append("\" width=\"").Append(N(w)).Append("\" height=\"").Append(N(bandBottom - bandTop)).Append("\" fill=\"").Append(Fill(id, PhasePattern[Math.Max(0, n)]))
              .Append("\" stroke=\"").Append(Ink).Append("\"><title>").Append(Esc($"{label}: {Time(p.Start)} to {Time(p.End)} ({IncidentOps.Duration.Format(p.End - p.Start)})")).Append("</title></rect>\n");
            // The name is written on the band when it fits, and always in the legend below.
            if (w >= label.Length * 7 + 6)
                sb.Append("<text class=\"band-label\" x=\"").Append(N(x1 + 3)).Append("\" y=\"").Append(N(bandTop - 6)).Append("\">").Append(Esc(label)).Append("</text>\n");
            rows.Add(["Phase", Time(p.Start), p.Ongoing ? "ongoing" : Time(p.End), $"{label} ({IncidentOps.Duration.Format(p.End - p.Start)})"]);
        }
        sb.Append("</g>\n<g class=\"markers\">\n");
        foreach (var m in markers)
        {
            var x = N(X(m.At));
            var update = m.Kind == "update";
            var lane = update ? updateLane : changeLane;
            sb.Append("<g class=\"marker marker-").Append(update ? "update" : "change").Append("\"><title>").Append(Esc($"{Time(m.At)} {(update ? "Update" : "Change")}: {m.Label}")).Append("</title>");
            sb.Append("<line x1=\"").Append(x).Append("\" y1=\"").Append(N(bandTop)).Append("\" x2=\"").Append(x).Append("\" y2=\"").Append(N(lane))
              .Append("\" stroke=\"").Append(Ink).Append("\" stroke-width=\"1\"").Append(update ? " stroke-dasharray=\"3,2\"" : "").Append("/>");
            if (update)
                sb.Append("<circle cx=\"").Append(x).Append("\" cy=\"").Append(N(lane)).Append("\" r=\"5\" fill=\"#ffffff\" stroke=\"").Append(Ink).Append("\" stroke-width=\"2\"/>");
            else
                sb.Append("<path d=\"M").Append(x).Append(',').Append(N(lane - 6)).Append(" l6,11 l-12,0 z\" fill=\"").Append(Ink).Append("\"/>");
            sb.Append("</g>\n");
            rows.Add([update ? "Update" : "Change", Time(m.At), "", m.Label]);
        }
        sb.Append("</g>\n");
        Legend(sb, id, height - 40, phases.Select(p => p.Phase).Distinct().ToList(), changes > 0, updates > 0);
        rows.Sort((a, b) => string.CompareOrdinal(a[1], b[1]));
        return new Chart(id, title, desc, Close(sb), new ChartTable(["Kind", "From (UTC)", "To (UTC)", "What"], rows));
    }

    private static void Legend(StringBuilder sb, string id, double y, IReadOnlyList<string> phases, bool changes, bool updates)
    {
        sb.Append("<g class=\"legend\">\n");
        double x = 20;
        foreach (var p in phases)
        {
            var n = Array.IndexOf(PhaseNames, p);
            sb.Append("<rect class=\"legend-swatch\" x=\"").Append(N(x)).Append("\" y=\"").Append(N(y)).Append("\" width=\"16\" height=\"12\" fill=\"").Append(Fill(id, PhasePattern[Math.Max(0, n)]))
              .Append("\" stroke=\"").Append(Ink).Append("\"/><text x=\"").Append(N(x + 20)).Append("\" y=\"").Append(N(y + 10)).Append("\">").Append(Esc(PhaseTitle(p))).Append("</text>\n");
            x += 30 + PhaseTitle(p).Length * 7;
        }
        if (changes)
        {
            sb.Append("<path d=\"M").Append(N(x + 8)).Append(',').Append(N(y)).Append(" l6,11 l-12,0 z\" fill=\"").Append(Ink).Append("\"/><text x=\"").Append(N(x + 20)).Append("\" y=\"").Append(N(y + 10)).Append("\">Change</text>\n");
            x += 80;
        }
        if (updates)
            sb.Append("<circle cx=\"").Append(N(x + 8)).Append("\" cy=\"").Append(N(y + 6)).Append("\" r=\"5\" fill=\"#ffffff\" stroke=\"").Append(Ink).Append("\" stroke-width=\"2\"/><text x=\"")
              .Append(N(x + 20)).Append("\" y=\"").Append(N(y + 10)).Append("\">Update sent</text>\n");
        sb.Append("</g>\n");
    }

    /// <summary>
    /// Latency and failures over time: one line per target (class "line"), one point per sample (class "point point-ok",
    /// a dot, or "point point-failed", a cross; a failure without a measured latency sits on the top edge).
    /// </summary>
    public static Chart Health(IReadOnlyList<HealthPoint> samples, string id = "health-samples")
    {
        const int height = 300;
        const double left = 64, right = Width - 30, top = 36, bottom = 220;
        var failed = samples.Count(s => !s.Healthy);
        var series = samples.Select(s => s.Series).Distinct(StringComparer.Ordinal).ToList();
        var title = "Health samples: latency and failures";
        var measured = samples.Where(s => s.LatencyMs is not null).Select(s => s.LatencyMs!.Value).ToList();
        var desc = samples.Count == 0 ? "No health samples were recorded."
            : $"{samples.Count} sample(s) of {series.Count} target(s) from {Time(samples.Min(s => s.At))} to {Time(samples.Max(s => s.At))}; {failed} failed" +
              (measured.Count > 0 ? $"; latency {N(measured.Min())} to {N(measured.Max())} ms." : ".");
        var sb = Open(id, height, title, desc);
        var rows = samples.OrderBy(s => s.At).Select(s => (IReadOnlyList<string>)[Time(s.At), s.Series, s.LatencyMs is { } l ? N(l) : "", s.Healthy ? "Healthy" : $"Failed{(string.IsNullOrEmpty(s.Reason) ? "" : ": " + s.Reason)}"]).ToList();
        var table = new ChartTable(["Time (UTC)", "Target", "Latency (ms)", "Result"], rows);
        if (samples.Count == 0)
        {
            Empty(sb, height, "No health samples were recorded during this incident.");
            return new Chart(id, title, desc, Close(sb), table);
        }
        var (from, to) = (samples.Min(s => s.At), samples.Max(s => s.At));
        (from, to) = Pad(from, to);
        var max = NiceMax(measured.Count == 0 ? 1 : measured.Max());
        double X(DateTimeOffset t) => left + (right - left) * (t - from).Ticks / (double)(to - from).Ticks;
        double Y(double? ms) => ms is { } v ? bottom - (bottom - top) * Math.Min(v, max) / max : top;
        ValueAxis(sb, max, left, right, top, bottom, "Latency (ms)", v => N(v));
        TimeAxis(sb, from, to, X, top, bottom);
        string[] dashes = ["", "6,3", "2,2", "8,3,2,3"];
        for (var n = 0; n < series.Count; n++)
        {
            var pts = samples.Where(s => s.Series == series[n] && s.LatencyMs is not null).OrderBy(s => s.At).Select(s => $"{N(X(s.At))},{N(Y(s.LatencyMs))}").ToList();
            if (pts.Count < 2) continue;
            sb.Append("<polyline class=\"line\" data-series=\"").Append(Esc(series[n])).Append("\" fill=\"none\" stroke=\"").Append(Ink).Append("\" stroke-width=\"1.5\"")
              .Append(dashes[n % dashes.Length].Length == 0 ? "" : $" stroke-dasharray=\"{dashes[n % dashes.Length]}\"").Append(" points=\"").Append(string.Join(' ', pts)).Append("\"/>\n");
        }
        sb.Append("<g class=\"points\">\n");
        foreach (var s in samples.OrderBy(s => s.At))
        {
            var (x, y) = (N(X(s.At)), N(Y(s.LatencyMs)));
            var tip = Esc($"{Time(s.At)} {s.Series}: {(s.LatencyMs is { } l ? N(l) + " ms" : "no latency")}, {(s.Healthy ? "healthy" : "failed" + (string.IsNullOrEmpty(s.Reason) ? "" : " (" + s.Reason + ")"))}");
            if (s.Healthy)
                sb.Append("<circle class=\"point point-ok\" cx=\"").Append(x).Append("\" cy=\"").Append(y).Append("\" r=\"3\" fill=\"").Append(Ink).Append("\"><title>").Append(tip).Append("</title></circle>\n");
            else
                sb.Append("<path class=\"point point-failed\" d=\"M").Append(x).Append(',').Append(y).Append(" m-5,-5 l10,10 m0,-10 l-10,10\" stroke=\"#000000\" stroke-width=\"2.5\" fill=\"none\"><title>")
                  .Append(tip).Append("</title></path>\n");
        }
        sb.Append("</g>\n<g class=\"legend\">\n");
        var ly = height - 34;
        sb.Append("<circle cx=\"28\" cy=\"").Append(ly).Append("\" r=\"3\" fill=\"").Append(Ink).Append("\"/><text x=\"36\" y=\"").Append(ly + 4).Append("\">Healthy sample</text>\n");
        sb.Append("<path d=\"M150,").Append(ly).Append(" m-5,-5 l10,10 m0,-10 l-10,10\" stroke=\"#000000\" stroke-width=\"2.5\" fill=\"none\"/><text x=\"160\" y=\"").Append(ly + 4).Append("\">Failed sample</text>\n");
        double lx = 270;
        for (var n = 0; n < series.Count && n < 4; n++)
        {
            var dash = dashes[n % dashes.Length];
            sb.Append("<line x1=\"").Append(N(lx)).Append("\" y1=\"").Append(ly).Append("\" x2=\"").Append(N(lx + 24)).Append("\" y2=\"").Append(ly).Append("\" stroke=\"").Append(Ink)
              .Append("\" stroke-width=\"1.5\"").Append(dash.Length == 0 ? "" : $" stroke-dasharray=\"{dash}\"").Append("/><text x=\"").Append(N(lx + 28)).Append("\" y=\"").Append(ly + 4).Append("\">")
              .Append(Esc(series[n].Length > 40 ? series[n][..40] + "…" : series[n])).Append("</text>\n");
            lx += 40 + Math.Min(40, series[n].Length) * 6.5;
        }
        sb.Append("</g>\n");
        return new Chart(id, title, desc, Close(sb), table);
    }
}
