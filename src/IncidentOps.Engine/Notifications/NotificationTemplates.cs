using System.Globalization;
using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Scriban;
using Scriban.Runtime;

namespace IncidentOps.Engine.Notifications;

/// <summary>
/// The communication templates of the seeds (initial alert, progress update, resolution), rendered with
/// Scriban. A channel may override any kind with inline text or a file (channels.NAME.templates.KIND).
/// Variables: incident_id, severity, severity_name, title, status, impact, started, duration, actions
/// (array), focus, eta, next_update, root_cause, resolution, message, services (array), kind.
/// </summary>
public static partial class NotificationTemplates
{
    // Blocks the built-in templates share (each ends with its own line break).
    private const string MessageBlock = "{{ if message }}{{ message }}\n{{ end }}";
    private const string ActionsBlock = "{{ if actions.size > 0 }}Actions taken:\n{{ for a in actions }}- {{ a }}\n{{ end }}{{ end }}";
    private const string OutlookBlock = "{{ if focus }}Current focus: {{ focus }}\n{{ end }}{{ if eta }}ETA: {{ eta }}\n{{ end }}{{ if next_update }}Next update: {{ next_update }}\n{{ end }}";
    private const string ImpactLine = "{{ if impact }}Impact: {{ impact }}\n{{ end }}";

    public const string Initial =
        "{{ severity }} ({{ severity_name }}) incident declared: {{ title }}\nStatus: {{ status }}\n" + ImpactLine
        + "Started: {{ started }}\n" + MessageBlock + ActionsBlock + OutlookBlock;

    public const string Update =
        "Update on {{ severity }} incident: {{ title }}\nStatus: {{ status }} (for {{ duration }})\n" + ImpactLine
        + MessageBlock + ActionsBlock + OutlookBlock;

    public const string Resolved =
        "Resolved: {{ title }} ({{ severity }})\nDuration: {{ duration }} (started {{ started }})\n" + ImpactLine + MessageBlock
        + "{{ if root_cause }}Root cause: {{ root_cause }}\n{{ end }}{{ if resolution }}Resolution: {{ resolution }}\n{{ end }}" + ActionsBlock;

    public static string BuiltIn(NotificationKind kind) => kind switch
    {
        NotificationKind.Initial => Initial,
        NotificationKind.Resolved => Resolved,
        _ => Update,
    };

    /// <summary>The template text for a kind on a channel: the channel's override (file or inline) or the built-in one.</summary>
    public static async Task<string> ForChannelAsync(ChannelConfig channel, NotificationKind kind, string? configPath, CancellationToken cancellationToken)
    {
        if (!channel.Templates.TryGetValue(kind.ToString().ToLowerInvariant(), out var over) || string.IsNullOrWhiteSpace(over))
            return BuiltIn(kind);
        if (!over.Contains("{{", StringComparison.Ordinal) && !over.Contains('\n'))
        {
            var path = over.StartsWith("~/", StringComparison.Ordinal)
                ? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), over[2..]) : over;
            if (!Path.IsPathRooted(path) && configPath is not null) path = Path.GetFullPath(path, Path.GetDirectoryName(configPath) ?? ".");
            if (File.Exists(path)) return await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        return over;
    }

    /// <summary>Renders a template against an incident and an update. Template errors name the channel and kind.</summary>
    /// <param name="escape">Applied to every text that came from a person (title, message, impact, actions, ...)
    /// before it is placed in the template, so the channel's markup in it stays text (see ProviderPayloads.EscapeFor).</param>
    public static string Render(string template, Incident incident, IncidentUpdate update, SeverityLevel? severity, string channelName, Func<string, string>? escape = null)
    {
        var parsed = Template.Parse(template);
        if (parsed.HasErrors)
            throw new IncidentOpsException(NotificationErrorIds.TemplateInvalid, IncidentOpsErrorCategory.InvalidData,
                $"The {update.Kind.ToString().ToLowerInvariant()} template of channel '{channelName}' does not parse: {string.Join("; ", parsed.Messages.Select(m => m.Message))}. Fix channels.{channelName}.templates in the configuration.");
        var model = new ScriptObject();
        foreach (var (k, v) in Variables(incident, update, severity))
            model.Add(k, escape is null ? v : v switch
            {
                string s => escape(s),
                ScriptArray array => new ScriptArray(array.Select(x => x is string t ? escape(t) : x)),
                _ => v,
            });
        var context = new TemplateContext { LoopLimit = 1000, RecursiveLimit = 20, StrictVariables = false, EnableRelaxedMemberAccess = true };
        context.PushGlobal(model);
        string text;
        try { text = parsed.Render(context); }
        catch (Scriban.Syntax.ScriptRuntimeException ex)
        {
            throw new IncidentOpsException(NotificationErrorIds.TemplateInvalid, IncidentOpsErrorCategory.InvalidData,
                $"The {update.Kind.ToString().ToLowerInvariant()} template of channel '{channelName}' failed: {ex.OriginalMessage}. Fix channels.{channelName}.templates in the configuration.", ex);
        }
        return BlankLines().Replace(text.Replace("\r\n", "\n"), "\n\n").Trim();
    }

    internal static Dictionary<string, object?> Variables(Incident incident, IncidentUpdate update, SeverityLevel? severity) => new()
    {
        ["incident_id"] = incident.Id,
        ["kind"] = update.Kind.ToString(),
        ["severity"] = incident.Severity,
        ["severity_name"] = incident.SeverityName ?? severity?.Name ?? incident.Severity,
        ["title"] = incident.Title,
        ["status"] = update.Status.ToString(),
        ["impact"] = incident.Impact,
        ["started"] = FormatTime(incident.StartedAt),
        ["duration"] = Duration.Format(NotNegative((update.Status == IncidentStatus.Resolved ? incident.ResolvedAt ?? update.CreatedAt : update.CreatedAt) - incident.StartedAt)),
        ["actions"] = new ScriptArray(update.ActionsTaken),
        ["focus"] = update.CurrentFocus,
        ["eta"] = update.Eta,
        ["next_update"] = update.NextUpdateDue is { } n ? FormatTime(n) : null,
        ["root_cause"] = incident.RootCause,
        ["resolution"] = incident.Resolution,
        ["message"] = update.Message,
        ["services"] = new ScriptArray(incident.Services),
    };

    /// <summary>How an update of a kind is named on the timeline, in reports and -WhatIf: "Initial alert", "Progress update", "Resolution notice".</summary>
    public static string Describe(NotificationKind kind) => kind switch
    {
        NotificationKind.Initial => "Initial alert",
        NotificationKind.Update => "Progress update",
        NotificationKind.Resolved => "Resolution notice",
        _ => $"{kind} update",
    };

    internal static TimeSpan NotNegative(TimeSpan d) => d < TimeSpan.Zero ? TimeSpan.Zero : d;

    public static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex BlankLines();
}
