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

    /// <summary>PostMortem (default) or CustomerCommunication (seed 003's customer email).</summary>
    [Parameter]
    public IncidentReportKind Kind { get; set; } = IncidentReportKind.PostMortem;

    /// <summary>File to write, or an existing folder (the file is then named after the incident).</summary>
    [Parameter]
    public string? Path { get; set; }

    /// <summary>Overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        string? templateFile = null;
        string? style = Template;
        if (!IncidentReportService.BuiltInTemplates.Contains(Template, StringComparer.OrdinalIgnoreCase))
        {
            templateFile = ResolvePath(Template);
            style = null;
        }
        if (!TryInvoke(ct => Engine.Reports.RenderAsync(Config, id, Kind, Format, style, templateFile, ct), out var report, id)) return;
        if (Path is not null)
        {
            var target = ResolvePath(Path);
            if (Directory.Exists(target))
                target = System.IO.Path.Combine(target, $"{id}-{(Kind == IncidentReportKind.CustomerCommunication ? "customer" : "postmortem")}.{(Format == IncidentReportFormat.Html ? "html" : "md")}");
            var folder = System.IO.Path.GetDirectoryName(target);
            if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
            {
                WriteInputError("ReportFolderNotFound", $"The folder '{folder}' does not exist, so the report cannot be written to '{target}'. Create it first (New-Item -ItemType Directory '{folder}') or pass an existing folder to -Path.", target, IncidentOpsErrorCategory.ObjectNotFound);
                return;
            }
            if (File.Exists(target) && !Force)
            {
                WriteInputError("ReportFileExists", $"'{target}' already exists. Use -Force to overwrite it, or another -Path.", target, IncidentOpsErrorCategory.ResourceExists);
                return;
            }
            if (!ShouldProcess(target, "Write incident report")) return;
            try { File.WriteAllText(target, report.Content); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                WriteInputError("ReportWriteFailed", $"The report could not be written to '{target}': {ex.Message} Check the folder's permissions and free space, or pass another -Path.", target, IncidentOpsErrorCategory.WriteError);
                return;
            }
            report.Path = target;
        }
        WriteObject(report);
    }
}
