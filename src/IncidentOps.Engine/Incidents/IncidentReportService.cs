using System.Globalization;
using IncidentOps.Config;
using IncidentOps.Engine.Reports.Charts;
using IncidentOps.Incidents;
using Scriban;
using Scriban.Runtime;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Post-mortems and customer communication drafts rendered with Scriban from the incident record, its
/// timeline and its action items. Built-in styles: seed (the runbooks' template), google-sre, pagerduty;
/// or a user's template file (same variables).
/// </summary>
/// <param name="openStore">Opens the configuration's incident store (health evidence for the charts, timelines for a review).</param>
/// <param name="sink">Verbose text and warnings (evidence left out of a chart, corrupt data skipped).</param>
/// <param name="incidents">The incident record, its timeline and its action items.</param>
/// <param name="metrics">The metrics of a review's period.</param>
public sealed partial class IncidentReportService(Func<IncidentOpsConfig?, IIncidentStore> openStore, IOperationSink sink, IncidentService incidents, IncidentMetricsService metrics)
{
    public static readonly string[] BuiltInTemplates = ["seed", "google-sre", "pagerduty"];

    public async Task<IncidentReport> RenderAsync(IncidentOpsConfig? config, string incidentId, IncidentReportKind kind, IncidentReportFormat format,
        string? template, string? templateFile, CancellationToken cancellationToken)
    {
        var incident = await incidents.GetAsync(config, incidentId, cancellationToken).ConfigureAwait(false);
        var timeline = await incidents.GetTimelineAsync(config, incident.Id, cancellationToken).ConfigureAwait(false);
        var actions = await incidents.ListActionItemsAsync(config, incident.Id, cancellationToken).ConfigureAwait(false);
        string source;
        string templateName;
        if (templateFile is not null)
        {
            if (!File.Exists(templateFile))
                throw new IncidentOpsException(IncidentErrorIds.ReportTemplateNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"Template file '{templateFile}' does not exist. Give a Scriban template file, or one of: {string.Join(", ", BuiltInTemplates)}.") { TargetObject = templateFile };
            source = await File.ReadAllTextAsync(templateFile, cancellationToken).ConfigureAwait(false);
            templateName = templateFile;
        }
        else
        {
            templateName = (template ?? "seed").ToLowerInvariant();
            if (!BuiltInTemplates.Contains(templateName))
                throw new IncidentOpsException(IncidentErrorIds.ReportTemplateUnknown, IncidentOpsErrorCategory.InvalidArgument,
                    $"Unknown report template '{template}'. Built-in templates: {string.Join(", ", BuiltInTemplates)}; or give the path of a Scriban template file.") { TargetObject = template };
            source = kind == IncidentReportKind.CustomerCommunication
                ? (format == IncidentReportFormat.Html ? ReportTemplates.CustomerHtml : ReportTemplates.Customer)
                : format == IncidentReportFormat.Html ? ReportTemplates.Html(templateName) : ReportTemplates.Markdown(templateName);
        }
        var parsed = Template.Parse(source, templateFile);
        if (parsed.HasErrors)
            throw new IncidentOpsException(IncidentErrorIds.ReportTemplateInvalid, IncidentOpsErrorCategory.InvalidData,
                $"The report template '{templateName}' has errors: {string.Join("; ", parsed.Messages.Select(m => m.ToString()))}.") { TargetObject = templateName };
        var charts = kind == IncidentReportKind.PostMortem
            ? BuildCharts(incident, timeline, await ReadHealthSamplesAsync(config, incident.Id, cancellationToken).ConfigureAwait(false), DateTimeOffset.UtcNow)
            : [];
        var model = BuildModel(config, incident, timeline, actions, format, charts);
        var context = new TemplateContext { StrictVariables = false, LoopLimit = 100_000, MemberRenamer = m => m.Name, TemplateLoader = ReportTemplates.PartialLoader.Instance };
        context.PushGlobal(model);
        string content;
        try
        {
            content = await parsed.RenderAsync(context).ConfigureAwait(false);
        }
        catch (Scriban.Syntax.ScriptRuntimeException ex)
        {
            throw new IncidentOpsException(IncidentErrorIds.ReportTemplateFailed, IncidentOpsErrorCategory.InvalidData,
                $"Rendering the report template '{templateName}' failed: {ex.Message}.", ex) { TargetObject = templateName };
        }
        return new IncidentReport { IncidentId = incident.Id, Kind = kind, Format = format, Template = templateName, Content = SecretRedactor.Redact(content) };
    }

    /// <summary>Longest preview line a report shows before cutting it.</summary>
    internal const int PreviewSummaryLength = 120;

    /// <summary>
    /// A -WhatIf preview in a report: its first line (the request line or command), cut to
    /// <see cref="PreviewSummaryLength"/> characters, and a pointer to the full text. The timeline keeps the
    /// whole preview (payloads included); a post-mortem reader needs only what would have been sent where.
    /// </summary>
    internal static string SummarizePreview(string? result)
    {
        if (string.IsNullOrWhiteSpace(result)) return "Previewed with -WhatIf; nothing was changed.";
        var text = result.Trim();
        var newline = text.IndexOfAny(['\r', '\n']);
        var first = (newline < 0 ? text : text[..newline]).Trim();
        var cut = first.Length > PreviewSummaryLength || newline >= 0;
        if (first.Length > PreviewSummaryLength) first = first[..PreviewSummaryLength].TrimEnd() + "…";
        return cut ? $"{first} (preview only, nothing sent; full text in Get-IncidentTimeline)" : $"{first} (preview only, nothing changed)";
    }

    /// <summary>The newest health samples a post-mortem charts (older ones are left out of the picture, never out of the evidence).</summary>
    internal const int MaxChartSamples = 5_000;

    /// <summary>
    /// The health samples recorded during the incident: its "health" evidence, written by the alerting round that
    /// declared it, by every alerting round while it was open (RoundHealthSamples), by Save-IncidentEvidence -Source
    /// health and by Watch-ServiceHealth -Record; merged, one point per endpoint and moment, ordered by time. A document that cannot
    /// be read is skipped (said in verbose): a post-mortem must not fail on one bad evidence file.
    /// </summary>
    internal async Task<IReadOnlyList<HealthPoint>> ReadHealthSamplesAsync(IncidentOpsConfig? config, string incidentId, CancellationToken cancellationToken)
    {
        var store = openStore(config);
        var points = new List<HealthPoint>();
        var marker = $"-{Alerting.HealthResultEvidenceSource.SourceName}-";
        // One read of the store for every document (a full ring of round samples is 1,440 of them), not one per document.
        var documents = await store.ReadEvidenceManyAsync(incidentId,
            name => (name.Contains(marker, StringComparison.OrdinalIgnoreCase) || Alerting.RoundHealthSamples.IsRoundSample(name)) && name.EndsWith(".json", StringComparison.OrdinalIgnoreCase),
            cancellationToken).ConfigureAwait(false);
        foreach (var e in documents)
        {
            try { points.AddRange(ParseHealthSamples(e.Content)); }
            catch (System.Text.Json.JsonException ex) { sink.Verbose($"Health evidence {e.Name} of {incidentId} is not a list of samples; it is left out of the chart: {ex.Message}"); }
        }
        // The round that declared keeps its results twice (the declaration's evidence and its round's samples), and a
        // watch may record what a round saw: one point per endpoint and moment.
        var merged = points.DistinctBy(p => (p.Series, p.At)).OrderBy(p => p.At).ThenBy(p => p.Series, StringComparer.Ordinal).ToList();
        return merged.Skip(Math.Max(0, merged.Count - MaxChartSamples)).ToList();
    }

    /// <summary>Reads a health evidence document (HealthResultEvidenceSource.Serialize) into chart points; objects without a timestamp are skipped.</summary>
    internal static IEnumerable<HealthPoint> ParseHealthSamples(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Array) return [];
        var list = new List<HealthPoint>();
        foreach (var o in doc.RootElement.EnumerateArray())
        {
            if (o.ValueKind != System.Text.Json.JsonValueKind.Object) continue;
            System.Text.Json.JsonElement Get(string name) => o.EnumerateObject().FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
            var ts = Get("timestamp");
            if (ts.ValueKind != System.Text.Json.JsonValueKind.String || !ts.TryGetDateTimeOffset(out var at)) continue;
            var service = Get("service");
            var uri = Get("uri");
            // One series per endpoint probed, named with its service when it has one.
            var endpoint = uri.ValueKind == System.Text.Json.JsonValueKind.String ? uri.GetString()! : null;
            var name = service.ValueKind == System.Text.Json.JsonValueKind.String ? service.GetString()! : null;
            var series = name is null ? endpoint ?? "health" : endpoint is null ? name : $"{name}: {endpoint}";
            var ms = Get("totalMs");
            double? latency = ms.ValueKind == System.Text.Json.JsonValueKind.Number && ms.GetDouble() > 0 ? ms.GetDouble() : null;
            var healthy = Get("healthy").ValueKind == System.Text.Json.JsonValueKind.True;
            var reason = Get("reason");
            list.Add(new HealthPoint(SecretRedactor.Redact(series), at, latency, healthy, reason.ValueKind == System.Text.Json.JsonValueKind.String ? SecretRedactor.Redact(reason.GetString()!) : null));
        }
        return list;
    }

    /// <summary>A post-mortem's charts: the timeline (phases, changes, updates), and the health samples when any were recorded.</summary>
    internal static IReadOnlyList<Chart> BuildCharts(Incident incident, IReadOnlyList<TimelineEntry> timeline, IReadOnlyList<HealthPoint> samples, DateTimeOffset now)
    {
        var markers = Reports.Charts.PostMortemCharts.Markers(timeline).Select(m => m with { Label = SecretRedactor.Redact(m.Label) }).ToList();
        var charts = new List<Chart> { Reports.Charts.PostMortemCharts.Timeline(Reports.Charts.PostMortemCharts.Phases(incident, now), markers) };
        if (samples.Count > 0) charts.Add(Reports.Charts.PostMortemCharts.Health(samples));
        return charts;
    }

    /// <summary>The variables a template sees (snake_case, all strings or arrays of objects).</summary>
    internal static ScriptObject BuildModel(IncidentOpsConfig? config, Incident i, IReadOnlyList<TimelineEntry> timeline, IReadOnlyList<ActionItem> actions, IncidentReportFormat format,
        IReadOnlyList<Chart>? charts = null)
    {
        // Every value a person typed is redacted, then escaped for the output format: in Markdown a newline or a
        // leading '#' would forge a heading and '<' would pass raw HTML through; the HTML templates escape with
        // html.escape themselves.
        var markdown = format == IncidentReportFormat.Markdown;
        string E(string v) => markdown ? MarkdownEscape(SecretRedactor.Redact(v)) : SecretRedactor.Redact(v);
        string? S(string? v) => string.IsNullOrWhiteSpace(v) ? null : E(v);
        string T(DateTimeOffset? d) => d is { } x ? x.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "";
        string D(TimeSpan? t) => t is { } x ? Duration.Format(x < TimeSpan.Zero ? TimeSpan.Zero : x) : "n/a";
        var end = i.ResolvedAt ?? DateTimeOffset.UtcNow;
        var so = new ScriptObject
        {
            ["id"] = i.Id,
            ["title"] = S(i.Title) ?? "",
            ["date"] = i.StartedAt.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["started_at"] = T(i.StartedAt),
            ["declared_at"] = T(i.DeclaredAt),
            ["detected_at"] = T(i.DetectedAt),
            ["acknowledged_at"] = T(i.AcknowledgedAt),
            ["mitigated_at"] = T(i.MitigatedAt),
            ["resolved_at"] = T(i.ResolvedAt),
            ["start_time"] = i.StartedAt.ToUniversalTime().ToString("HH:mm", CultureInfo.InvariantCulture),
            ["end_time"] = i.ResolvedAt?.ToUniversalTime().ToString("HH:mm", CultureInfo.InvariantCulture) ?? "ongoing",
            ["resolved"] = i.Status == IncidentStatus.Resolved,
            ["duration"] = D(end - i.StartedAt),
            ["severity"] = E(i.Severity),
            ["severity_name"] = E(i.SeverityName ?? i.Severity),
            ["status"] = i.Status.ToString(),
            ["impact"] = S(i.Impact),
            ["users_affected"] = S(i.UsersAffected),
            ["revenue"] = S(i.RevenueImpact),
            ["data_loss"] = i.DataLoss switch { true => "Yes", false => "No", _ => "Not recorded" },
            ["services"] = i.Services.Select(E).ToList(),
            ["commander"] = S(i.Commander),
            ["scribe"] = S(i.Scribe),
            ["liaison"] = S(i.Liaison),
            ["summary"] = S(i.Summary) ?? E($"{i.Title}. {i.Severity} ({i.SeverityName}) incident affecting {(i.Services.Length == 0 ? "the service" : string.Join(", ", i.Services))}, started {T(i.StartedAt)}{(i.ResolvedAt is null ? ", still open" : $", resolved {T(i.ResolvedAt)}")}."),
            ["root_cause"] = S(i.RootCause),
            ["contributing_factors"] = i.ContributingFactors.Select(E).ToList(),
            ["resolution"] = S(i.Resolution),
            ["went_well"] = i.WentWell.Select(E).ToList(),
            ["went_wrong"] = i.WentWrong.Select(E).ToList(),
            ["lessons"] = i.LessonsLearned.Select(E).ToList(),
            ["prevention"] = i.Prevention.Select(E).ToList(),
            ["time_to_detect"] = D(i.DetectedAt - i.StartedAt),
            ["time_to_acknowledge"] = D(i.AcknowledgedAt - i.StartedAt),
            ["time_to_mitigate"] = D((i.MitigatedAt ?? i.ResolvedAt) - i.StartedAt),
            ["time_to_resolve"] = D(i.ResolvedAt - i.StartedAt),
            ["generated_at"] = T(DateTimeOffset.UtcNow),
        };
        so["responders"] = Responders(i, timeline).Select(E).ToList();
        so["severity_times"] = SeverityTimes(config, i, end, E, D);
        so["timeline"] = TimelineRows(timeline, E);
        so["action_items"] = ActionItemRows(actions, E);
        // Charts are built and escaped by the chart library: HTML templates write charts_html as it is (no html.escape),
        // Markdown templates get the charts' numbers as tables.
        charts ??= [];
        so["charts"] = charts.Select(c => new ScriptObject { ["id"] = c.Id, ["title"] = c.Title, ["html"] = c.Html, ["markdown"] = c.Markdown }).ToList();
        so["charts_html"] = string.Join("\n", charts.Select(c => c.Html));
        so["charts_markdown"] = charts.Count == 0 ? "_No charts._\n" : string.Join("\n", charts.Select(c => c.Markdown));
        return so;
    }

    /// <summary>The incident's roles, then everyone else who wrote on its timeline.</summary>
    private static List<string> Responders(Incident i, IReadOnlyList<TimelineEntry> timeline)
    {
        var roles = new List<string>();
        if (i.Commander is not null) roles.Add($"{i.Commander} (commander)");
        if (i.Scribe is not null) roles.Add($"{i.Scribe} (scribe)");
        if (i.Liaison is not null) roles.Add($"{i.Liaison} (liaison)");
        foreach (var actor in timeline.Select(e => e.Actor).Distinct(StringComparer.OrdinalIgnoreCase))
            if (!roles.Any(r => r.StartsWith(actor + " ", StringComparison.OrdinalIgnoreCase))) roles.Add(actor);
        return roles;
    }

    /// <summary>How long the incident spent at each severity it had (its severity history, or its one severity).</summary>
    private static List<ScriptObject> SeverityTimes(IncidentOpsConfig? config, Incident i, DateTimeOffset end, Func<string, string> E, Func<TimeSpan?, string> D)
    {
        var history = i.SeverityHistory.Count > 0 ? i.SeverityHistory.OrderBy(h => h.At).ToList() : [new SeverityChange { Severity = i.Severity, At = i.StartedAt }];
        var perSeverity = new List<ScriptObject>();
        foreach (var group in history.Select((h, n) => (h.Severity, Span: (n + 1 < history.Count ? history[n + 1].At : end) - (n == 0 ? i.StartedAt : h.At)))
                     .GroupBy(x => x.Severity, StringComparer.OrdinalIgnoreCase))
        {
            var level = IncidentService.Severities(config).FirstOrDefault(l => string.Equals(l.Id, group.Key, StringComparison.OrdinalIgnoreCase));
            perSeverity.Add(new ScriptObject { ["severity"] = E(group.Key), ["name"] = E(level?.Name ?? group.Key), ["duration"] = D(TimeSpan.FromTicks(group.Sum(g => Math.Max(0, g.Span.Ticks)))) });
        }
        return perSeverity;
    }

    private static List<ScriptObject> TimelineRows(IReadOnlyList<TimelineEntry> timeline, Func<string, string> E) =>
        timeline.Select(e => new ScriptObject
        {
            ["time"] = e.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            ["clock"] = e.Timestamp.ToUniversalTime().ToString("HH:mm", CultureInfo.InvariantCulture),
            ["actor"] = E(e.Actor ?? ""),
            ["kind"] = e.Kind,
            ["cmdlet"] = E(e.Cmdlet ?? ""),
            ["action"] = E(e.Action ?? e.Kind),
            ["target"] = E(e.Target ?? ""),
            ["outcome"] = IsUnconfirmed(e) ? nameof(TimelineOutcome.Unconfirmed) : e.Outcome.ToString(),
            ["result"] = E((e.Outcome == TimelineOutcome.WhatIf ? SummarizePreview(e.Result) : e.Result) ?? ""),
        }).ToList();

    private static List<ScriptObject> ActionItemRows(IReadOnlyList<ActionItem> actions, Func<string, string> E) =>
        actions.Select(a => new ScriptObject
        {
            ["id"] = a.Id,
            ["action"] = E(a.Action ?? ""),
            ["owner"] = E(a.Owner ?? "unassigned"),
            ["due"] = a.Due?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
            ["priority"] = E(a.Priority ?? ""),
            ["status"] = E(a.Status.ToString()),
        }).ToList();

    private static readonly System.Text.RegularExpressions.Regex OrderedListStart = new(@"^(\d{1,9})([.)])", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// Makes text inert in Markdown: one line (a newline could start a heading, list, quote or table row), with the
    /// characters that open emphasis, code, links, raw HTML, headings and table cells backslash-escaped, '&amp;' as an
    /// entity, and a leading list or setext marker escaped. Masked secrets stay readable as ********.
    /// </summary>
    internal static string MarkdownEscape(string text)
    {
        var line = string.Join(" ", text.Split(['\r', '\n', '\u2028', '\u2029'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var sb = new System.Text.StringBuilder(line.Length + 16);
        for (var n = 0; n < line.Length; n++)
        {
            if (string.CompareOrdinal(line, n, SecretRedactor.Mask, 0, SecretRedactor.Mask.Length) == 0)
            {
                sb.Append(SecretRedactor.Mask);
                n += SecretRedactor.Mask.Length - 1;
                continue;
            }
            var c = line[n];
            // An underscore inside a word (statement_timeout) never opens emphasis: keep it readable.
            if (c == '_' && n > 0 && n + 1 < line.Length && char.IsLetterOrDigit(line[n - 1]) && char.IsLetterOrDigit(line[n + 1]))
            {
                sb.Append(c);
                continue;
            }
            switch (c)
            {
                case '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '#' or '|' or '~':
                    sb.Append('\\').Append(c);
                    break;
                case '&':
                    sb.Append("&amp;");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        var result = sb.ToString();
        if (result.Length > 0 && result[0] is '-' or '+' or '=') return "\\" + result;
        var m = OrderedListStart.Match(result);
        return m.Success ? m.Groups[1].Value + "\\" + result[m.Groups[1].Length..] : result;
    }
}
