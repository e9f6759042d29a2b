using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Writes an incident's post-mortem (or customer communication draft) from its record and timeline.</summary>
/// <remarks>
/// Renders, with the Scriban template engine, the union of the seeds' post-mortem templates: header (date,
/// duration, severity, impact, responders), summary, impact (duration, users affected, services, revenue,
/// data loss), key figures (time to detect, acknowledge, mitigate, resolve; time in each severity), the
/// timeline table from the recorded entries, root cause and contributing factors, resolution, what went
/// well and wrong, the action items table, lessons learned and prevention. -Template picks a style (seed,
/// google-sre, pagerduty) or a Scriban template file of your own (same variables: id, title, severity,
/// timeline, action_items ...), which can include the sections the built-in styles are made of with
/// {{ include 'timeline' }} (also impact, figures, action_items, summary, root_cause, contributing_factors,
/// resolution, went_well, went_wrong, lessons, prevention, charts). -Kind CustomerCommunication renders seed 003's customer email instead.
/// Markdown by default, -Format Html for a web page. -Path writes the file. Secrets never appear.
/// An HTML post-mortem draws SVG charts (no script, printable, each with its numbers as a table): the phases as bands
/// with changes and updates as markers, and the latency and failures of the health samples recorded during the
/// incident (Watch-ServiceHealth -Record, the alerting round). A Markdown post-mortem gets their tables.
///
/// -Kind Review reviews a period instead of one incident (seed 001's review schedule: weekly, the runbooks used; monthly,
/// a rotation): the incidents that started between -Since (default 30 days ago) and -Until (default now). It shows the
/// metrics of Get-IncidentMetric (counts; time to acknowledge, mitigate and resolve as p50/p90; response-target and
/// cadence compliance per severity; open and overdue action items per owner; the services hit most), every incident
/// with its key figures and why a target was missed, the overdue action items, and the runbook steps actually used
/// (the cmdlets the timelines recorded, counted) as the runbooks due for review. Each chart's numbers (incidents per
/// week by severity, time to resolve, response-target compliance) are drawn as SVG charts in HTML and are a table in both formats.
/// </remarks>
/// <example>
/// <code>New-IncidentReport -Incident INC-20261122-001 -Path ./postmortem.md</code>
/// <para>Writes the post-mortem in the seed runbooks' style.</para>
/// </example>
/// <example>
/// <code>Get-Incident -Status Resolved | New-IncidentReport -Template google-sre -Format Html -Path ./reports</code>
/// <para>Writes one HTML post-mortem per resolved incident into ./reports.</para>
/// </example>
/// <example>
/// <code>New-IncidentReport -Kind CustomerCommunication</code>
/// <para>Drafts the customer email for the active (or last) incident.</para>
/// </example>
/// <example>
/// <code>New-IncidentReport -Kind Review -Since 30d -Format Html -Path ./review.html</code>
/// <para>Writes the review of the last 30 days' incidents: metrics, every incident, overdue action items and the runbooks due for review.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "IncidentReport", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(IncidentReport))]
public sealed class NewIncidentReportCommand : IncidentRecordCmdlet, IForceSwitch
{
    /// <summary>Incident id (INC-20261122-001); defaults to the active incident. -Id and -IncidentId are aliases; binds from Get-Incident output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>Markdown (default) or Html.</summary>
    [Parameter]
    public IncidentReportFormat Format { get; set; } = IncidentReportFormat.Markdown;

    /// <summary>Built-in style (seed, google-sre, pagerduty) or the path of a Scriban template file (which may {{ include 'timeline' }} and the other shared sections).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ReportTemplateCompleter))]
    public string Template { get; set; } = "seed";

    /// <summary>PostMortem (default), CustomerCommunication (seed 003's customer email), or Review (the incidents of a period: -Since, -Until).</summary>
    [Parameter]
    public IncidentReportKind Kind { get; set; } = IncidentReportKind.PostMortem;

    /// <summary>With -Kind Review: start of the period, a date (2026-11-01) or how long ago (30d). Default: 30 days ago.</summary>
    [Parameter]
    [PeriodBoundTransformation]
    public DateTimeOffset? Since { get; set; }

    /// <summary>With -Kind Review: end of the period (not included), a date or how long ago. Default: now.</summary>
    [Parameter]
    [PeriodBoundTransformation]
    public DateTimeOffset? Until { get; set; }

    /// <summary>File to write, or an existing folder (the file is then named after the incident).</summary>
    [Parameter]
    public string? Path { get; set; }

    /// <summary>Overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (Kind == IncidentReportKind.Review)
        {
            WriteReview();
            return;
        }
        if (Since is not null || Until is not null)
        {
            WriteInputError(IncidentMetricErrorIds.ReviewParameterConflict, "-Since and -Until choose the period of a review: add -Kind Review, or leave them out for one incident's report.", Since ?? Until, IncidentOpsErrorCategory.InvalidArgument);
            return;
        }
        if (!TryResolveIncidentId(out var id)) return;
        string? templateFile = null;
        string? style = Template;
        if (!IncidentReportService.BuiltInTemplates.Contains(Template, StringComparer.OrdinalIgnoreCase))
        {
            templateFile = ResolvePath(Template);
            style = null;
        }
        if (!TryInvoke(ct => Engine.Reports.RenderAsync(Config, id, Kind, Format, style, templateFile, ct), out var report, id)) return;
        WriteReport(report, $"{id}-{(Kind == IncidentReportKind.CustomerCommunication ? "customer" : "postmortem")}");
    }

    /// <summary>-Kind Review: one report over the period (not one per piped incident).</summary>
    private void WriteReview()
    {
        if (!string.IsNullOrWhiteSpace(Incident))
        {
            WriteInputError(IncidentMetricErrorIds.ReviewParameterConflict, $"-Kind Review covers every incident of a period (-Since, -Until), not one incident ({Incident}). Leave out -Incident, or use -Kind PostMortem for that incident.", Incident, IncidentOpsErrorCategory.InvalidArgument);
            return;
        }
        if (!Template.Equals("seed", StringComparison.OrdinalIgnoreCase))
        {
            WriteInputError(IncidentMetricErrorIds.ReviewParameterConflict, $"-Kind Review has one built-in layout; -Template '{Template}' applies to post-mortems only. Leave out -Template.", Template, IncidentOpsErrorCategory.InvalidArgument);
            return;
        }
        var until = Until ?? DateTimeOffset.Now;
        var since = Since ?? until.AddDays(-30);
        if (!TryInvoke(ct => Engine.Reports.RenderReviewAsync(Config, since, until, Format, ct), out var report, since)) return;
        WriteReport(report, $"review-{since.ToUniversalTime():yyyyMMdd}-{until.ToUniversalTime():yyyyMMdd}");
    }

    /// <summary>Writes the report to -Path (a file, or a folder: then named <paramref name="name"/>), then to the pipeline.</summary>
    private void WriteReport(IncidentReport report, string name)
    {
        if (Path is not null)
        {
            var target = ResolvePath(Path);
            if (Directory.Exists(target))
                target = System.IO.Path.Combine(target, $"{name}.{(Format == IncidentReportFormat.Html ? "html" : "md")}");
            var folder = System.IO.Path.GetDirectoryName(target);
            if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
            {
                WriteInputError(IncidentErrorIds.ReportFolderNotFound, $"The folder '{folder}' does not exist, so the report cannot be written to '{target}'. Create it first (New-Item -ItemType Directory '{folder}') or pass an existing folder to -Path.", target, IncidentOpsErrorCategory.ObjectNotFound);
                return;
            }
            if (File.Exists(target) && !Force)
            {
                WriteInputError(IncidentErrorIds.ReportFileExists, $"'{target}' already exists. Use -Force to overwrite it, or another -Path.", target, IncidentOpsErrorCategory.ResourceExists);
                return;
            }
            if (!ShouldProcess(target, "Write incident report")) return;
            try { File.WriteAllText(target, report.Content); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                WriteInputError(IncidentErrorIds.ReportWriteFailed, $"The report could not be written to '{target}': {ex.Message.TrimEnd('.')}. Check the folder's permissions and free space, or pass another -Path.", target, IncidentOpsErrorCategory.WriteError);
                return;
            }
            report.Path = target;
        }
        WriteObject(report);
    }
}
