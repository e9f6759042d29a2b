using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Engine;

/// <summary>One value tab completion can offer: what is inserted, and the tooltip that explains it.</summary>
public sealed record CompletionCandidate(string Text, string Tooltip);

/// <summary>
/// What tab completion offers for the configuration's names (environments, channels, severities), the
/// incident store's incidents, report templates and evidence sources. Completion runs on every Tab press,
/// so nothing here resolves references or secrets, and the store read has a short deadline.
/// </summary>
public static class CompletionCatalog
{
    /// <summary>How long reading the incident store for completion may take before nothing is offered.</summary>
    public static readonly TimeSpan StoreDeadline = TimeSpan.FromSeconds(2);

    /// <summary>The configuration at the explicit path, or the one the cmdlets would find from <paramref name="currentDirectory"/> (defaults when none).</summary>
    public static IncidentOpsConfig LoadConfig(string? configPath, string? currentDirectory)
    {
        var path = ConfigService.FindConfigPath(
            string.IsNullOrWhiteSpace(configPath) ? null : Path.GetFullPath(configPath, currentDirectory ?? Directory.GetCurrentDirectory()),
            currentDirectory);
        return new ConfigService().Load(path).Config ?? ConfigParser.Defaults();
    }

    public static IReadOnlyList<CompletionCandidate> Environments(IncidentOpsConfig config) =>
        config.Environments.Select(e => new CompletionCandidate(e.Name,
            $"{e.Name}: {string.Join(", ", e.Services.Select(s => s.Service))}")).ToList();

    /// <summary>Channels, optionally only those whose provider takes change events (Send-IncidentChangeEvent: PagerDuty).</summary>
    public static IReadOnlyList<CompletionCandidate> Channels(IncidentOpsConfig config, bool changeEventsOnly = false) =>
        config.Channels.Where(c => !changeEventsOnly || Notifications.ChannelProviders.For(c.Type).SupportsChangeEvents)
            .Select(c => new CompletionCandidate(c.Name, $"{c.Name} ({c.Type}){RoutedFor(config, c.Name)}")).ToList();

    private static string RoutedFor(IncidentOpsConfig config, string channel)
    {
        var severities = config.Routing.Where(r => r.Value.Contains(channel, StringComparer.OrdinalIgnoreCase)).Select(r => r.Key).ToList();
        return severities.Count == 0 ? "" : $", routed for {string.Join(", ", severities)}";
    }

    public static IReadOnlyList<CompletionCandidate> Severities(IncidentOpsConfig config) =>
        IncidentService.Severities(config).Select(s => new CompletionCandidate(s.Id,
            $"{s.Id} {s.Name}: {s.Definition} (respond within {Duration.Format(s.ResponseTarget)}{(s.UpdateEvery is { } u ? $", update every {Duration.Format(u)}" : "")})")).ToList();

    /// <summary>The built-in report styles (New-IncidentReport -Template).</summary>
    public static IReadOnlyList<CompletionCandidate> ReportTemplates() =>
        IncidentReportService.BuiltInTemplates.Select(t => new CompletionCandidate(t, t switch
        {
            "seed" => "seed: the runbooks' post-mortem template",
            "google-sre" => "google-sre: Google SRE book post-mortem",
            "pagerduty" => "pagerduty: PagerDuty post-mortem",
            _ => t,
        })).ToList();

    /// <summary>The evidence sources Save-IncidentEvidence -Source accepts.</summary>
    public static IReadOnlyList<CompletionCandidate> EvidenceSourceNames() =>
        EvidenceSources.All.Select(s => new CompletionCandidate(s.Name, $"{s.Name} evidence")).ToList();

    /// <summary>
    /// Incidents of the store, open ones first (the active one leading, then newest first), then resolved ones
    /// newest first. The tooltip carries severity, status and title. Empty when the store cannot be read in time.
    /// </summary>
    public static IReadOnlyList<CompletionCandidate> Incidents(IncidentOpsConfig config)
    {
        var engine = new IncidentOpsEngine(NullSink.Instance, NoSecretProvider.Instance);
        using var deadline = new CancellationTokenSource(StoreDeadline);
        var read = Task.Run(async () =>
        {
            var store = engine.OpenStore(config);
            var list = await store.ListAsync(deadline.Token).ConfigureAwait(false);
            var active = await store.GetActiveIdAsync(deadline.Token).ConfigureAwait(false);
            return (list, active);
        }, deadline.Token);
        try
        {
            if (!read.Wait(StoreDeadline) || !read.IsCompletedSuccessfully) return [];
        }
        catch (AggregateException) { return []; } // an unreadable store offers nothing; completion never fails
        var (incidents, activeId) = read.Result;
        return incidents
            .OrderBy(i => i.Status == IncidentStatus.Resolved ? 1 : 0)
            .ThenBy(i => string.Equals(i.Id, activeId, StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenByDescending(i => i.StartedAt)
            .Select(i => new CompletionCandidate(i.Id,
                $"{(string.Equals(i.Id, activeId, StringComparison.OrdinalIgnoreCase) ? "(active) " : "")}[{i.Severity} {i.Status}] {i.Title}"))
            .ToList();
    }
}
