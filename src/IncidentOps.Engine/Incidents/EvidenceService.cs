using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Health;
using IncidentOps.Engine.Platforms;
using IncidentOps.Engine.Postgres;
using IncidentOps.Engine.Redis;
using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// What evidence sources capture through: the invocation's sink and the services they read (each source uses the ones
/// it needs). IncidentOpsEngine composes it; a source never sees the engine itself.
/// </summary>
/// <param name="Sink">Verbose text of a capture (a service a source could not capture).</param>
/// <param name="References">Resolves env:/file:/secret: references of a service (its app id).</param>
/// <param name="Incidents">The incident's timeline (timeline).</param>
/// <param name="Health">Probes the services' health endpoints (health).</param>
/// <param name="Platforms">Opens a service's platform and reads its status, deployments, logs and events (app-*).</param>
/// <param name="ResourceUsage">Reads CPU, memory, restarts, disk and network of a platform's instances (app-resource-usage).</param>
/// <param name="Postgres">Reads pg_stat_activity and the connection summary (pg-activity).</param>
/// <param name="Redis">Reads INFO (redis-info).</param>
public sealed record EvidenceReaders(IOperationSink Sink, ReferenceResolver References, IncidentService Incidents, HealthService Health, PlatformsService Platforms,
    ResourceUsageService ResourceUsage, PostgresService Postgres, RedisService Redis);

/// <summary>What an evidence source is asked to capture, and the <see cref="EvidenceReaders"/> it captures through.</summary>
public sealed record EvidenceContext(EvidenceReaders Readers, IncidentOpsConfig Config, Incident Incident, IReadOnlyList<ServiceTarget> Services, TimeSpan Timeout);

/// <summary>
/// One capture produced by a source: a file name (within evidence/) and its text. A source that captures
/// several services returns <see cref="Failed"/> for a service whose capture failed, so the others are kept.
/// </summary>
public sealed record EvidenceContent(string Name, string Content, string? Service = null)
{
    /// <summary>Why this capture failed (nothing is written for it); null for a successful capture.</summary>
    public string? Error { get; init; }

    public static EvidenceContent Failed(string? service, string error) => new("", "", service) { Error = error };
}

/// <summary>
/// Base of the sources that capture one document per service: picks the services the source applies to,
/// runs each capture with its own failure (a failing service is recorded as failed, the others still run),
/// and writes the result as indented JSON (redacted again by <see cref="EvidenceService"/>).
/// </summary>
public abstract class ServiceEvidenceSource : IEvidenceSource
{
    internal static readonly JsonSerializerOptions Json = new(FileIncidentStore.Json) { WriteIndented = true };

    public abstract string Name { get; }

    /// <summary>False for services this source has nothing to capture from (no platform, no postgres, no redis).</summary>
    protected abstract bool AppliesTo(ServiceTarget service);

    /// <summary>The document to save for one service (serialized as JSON).</summary>
    protected abstract Task<object> CaptureServiceAsync(EvidenceContext context, ServiceTarget service, CancellationToken cancellationToken);

    /// <summary>
    /// Captures the services side by side, each within <see cref="EvidenceContext.Timeout"/>, so one that hangs (a
    /// dead Redis retried until its connect timeout) neither delays the others nor takes their captures with it.
    /// </summary>
    public async Task<IReadOnlyList<EvidenceContent>> CaptureAsync(EvidenceContext context, CancellationToken cancellationToken)
    {
        var captures = context.Services.Where(AppliesTo).Select(service => CaptureOneAsync(context, service, cancellationToken));
        return await Task.WhenAll(captures).ConfigureAwait(false);
    }

    private async Task<EvidenceContent> CaptureOneAsync(EvidenceContext context, ServiceTarget service, CancellationToken cancellationToken)
    {
        using var perService = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        perService.CancelAfter(context.Timeout);
        try
        {
            var doc = await CaptureServiceAsync(context, service, perService.Token).ConfigureAwait(false);
            var text = JsonSerializer.Serialize(doc, doc.GetType(), Json);
            return new EvidenceContent($"{service.Environment}-{service.Service}.json", text, service.FullName);
        }
        catch (IncidentOpsException ex)
        {
            context.Readers.Sink.Verbose($"Evidence source '{Name}' could not capture {service.FullName}: {ex.Message}");
            return EvidenceContent.Failed(service.FullName, ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return EvidenceContent.Failed(service.FullName, $"did not finish within {context.Timeout.TotalSeconds:0} s");
        }
    }
}

/// <summary>
/// A capture source for Save-IncidentEvidence. Areas add theirs (platform status, deployments, logs, pg
/// activity, Redis info) by writing a public class with a parameterless constructor that implements this
/// interface anywhere in the engine assembly: <see cref="EvidenceSources"/> discovers it. It reads through the services
/// of <see cref="EvidenceContext.Readers"/> (add one there, composed by IncidentOpsEngine, if it needs another). A source returns
/// nothing for services it does not apply to, and throws IncidentOpsException when a capture fails (the
/// failure is recorded, the other sources still run).
/// </summary>
public interface IEvidenceSource
{
    /// <summary>Short name, used in file names and in -Source (config, timeline, pg-activity ...).</summary>
    string Name { get; }
    Task<IReadOnlyList<EvidenceContent>> CaptureAsync(EvidenceContext context, CancellationToken cancellationToken);
}

/// <summary>The registry of evidence sources: every IEvidenceSource in the engine assembly, found by interface.</summary>
public static class EvidenceSources
{
    private static readonly Lazy<IReadOnlyList<IEvidenceSource>> Discovered = new(() =>
        typeof(IEvidenceSource).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IEvidenceSource).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (IEvidenceSource)Activator.CreateInstance(t)!)
            .ToList());

    public static IReadOnlyList<IEvidenceSource> All => Discovered.Value;
}

/// <summary>The incident's services as configured (connection details as references, never resolved secrets).</summary>
public sealed class ServiceConfigEvidenceSource : IEvidenceSource
{
    public string Name => "config";

    public Task<IReadOnlyList<EvidenceContent>> CaptureAsync(EvidenceContext context, CancellationToken cancellationToken)
    {
        var list = new List<EvidenceContent>();
        foreach (var s in context.Services)
        {
            var doc = new
            {
                s.Environment, s.Service, Platform = s.Platform.ToString(), s.App, AppId = s.AppId?.ToString(), s.Components, s.Context, s.Namespace, s.Deployment, s.StatefulSet, s.DaemonSet,
                s.Unit, s.ComputerName, s.ReleasesPath, Health = s.Health.Select(h => new { Url = SecretRedactor.Redact(h.Url), h.ExpectStatus, h.Method, h.Conditions }),
                Postgres = s.Postgres?.ToString(), Redis = s.Redis?.ToString(), ConfigFile = context.Config.Path,
            };
            list.Add(new EvidenceContent($"{s.Environment}-{s.Service}.json", SecretRedactor.Redact(JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true })), s.FullName));
        }
        return Task.FromResult<IReadOnlyList<EvidenceContent>>(list);
    }
}

/// <summary>A snapshot of the incident record and its timeline as they stand at capture time.</summary>
public sealed class TimelineSnapshotEvidenceSource : IEvidenceSource
{
    public string Name => "timeline";

    public async Task<IReadOnlyList<EvidenceContent>> CaptureAsync(EvidenceContext context, CancellationToken cancellationToken)
    {
        var entries = await context.Readers.Incidents.GetTimelineAsync(context.Config, context.Incident.Id, cancellationToken).ConfigureAwait(false);
        var sb = new StringBuilder();
        sb.AppendLine(JsonSerializer.Serialize(context.Incident, FileIncidentStore.Json));
        foreach (var e in entries) sb.AppendLine(JsonSerializer.Serialize(e, FileIncidentStore.Json));
        return [new EvidenceContent("incident-and-timeline.jsonl", SecretRedactor.Redact(sb.ToString()))];
    }
}

/// <summary>Save-IncidentEvidence: runs the sources, writes evidence/ files with a SHA-256, references each from the timeline.</summary>
/// <param name="openStore">Opens the configuration's incident store, where the evidence is written.</param>
/// <param name="sink">Progress and warnings (a failed source, a service that is not configured).</param>
/// <param name="timeline">References each capture (and each failure) from the incident's timeline.</param>
/// <param name="incidents">Reads the incident whose evidence is captured.</param>
/// <param name="readers">What the sources capture through (handed to each in its <see cref="EvidenceContext"/>).</param>
public sealed class EvidenceService(Func<IncidentOpsConfig?, IIncidentStore> openStore, IOperationSink sink, TimelineWriter timeline, IncidentService incidents, EvidenceReaders readers)
{
    public async Task<IReadOnlyList<EvidenceCapture>> SaveAsync(IncidentOpsConfig config, string incidentId, IReadOnlyList<ServiceTarget>? services,
        string[]? sourceNames, TimeSpan timeout, ChangeContext context, CancellationToken cancellationToken)
    {
        var incident = await incidents.GetAsync(config, incidentId, cancellationToken).ConfigureAwait(false);
        var targets = services ?? incident.Services
            .SelectMany(name => name.Contains('*') ? ConfigService.FindServices(config, null, name) : TryResolve(config, name))
            .DistinctBy(s => s.FullName).ToList();
        var sources = EvidenceSources.All.Where(s => sourceNames is not { Length: > 0 } || sourceNames.Contains(s.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        if (sourceNames is { Length: > 0 })
        {
            var unknown = sourceNames.Where(n => sources.All(s => !string.Equals(s.Name, n, StringComparison.OrdinalIgnoreCase))).ToList();
            if (unknown.Count > 0)
                throw new IncidentOpsException(IncidentErrorIds.EvidenceSourceUnknown, IncidentOpsErrorCategory.InvalidArgument,
                    $"Unknown evidence source(s): {string.Join(", ", unknown)}. Available: {string.Join(", ", EvidenceSources.All.Select(s => s.Name))}.") { TargetObject = string.Join(",", unknown) };
        }
        var store = openStore(config);
        var results = new List<EvidenceCapture>();
        var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'");
        var n = 0;
        foreach (var source in sources)
        {
            sink.Progress(new OperationProgress(7, "Saving evidence", $"{source.Name} ({++n}/{sources.Count})", n * 100 / Math.Max(1, sources.Count)));
            IReadOnlyList<EvidenceContent> captured;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // A backstop for sources that do not bound their own steps. Per-service sources stop each service at
            // `timeout` and report it alone; this must not fire first and discard the services that did finish.
            cts.CancelAfter(timeout + TimeSpan.FromSeconds(2));
            try
            {
                captured = await source.CaptureAsync(new EvidenceContext(readers, config, incident, targets, timeout), cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IncidentOpsException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                var message = ex is OperationCanceledException ? $"did not finish within {timeout.TotalSeconds:0} s" : ex.Message;
                await RecordFailureAsync(config, incident, source.Name, null, message, context, results, cancellationToken).ConfigureAwait(false);
                continue;
            }
            foreach (var item in captured)
            {
                if (item.Error is not null)
                {
                    await RecordFailureAsync(config, incident, source.Name, item.Service, item.Error, context, results, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var content = SecretRedactor.Redact(item.Content);
                var bytes = Encoding.UTF8.GetBytes(content);
                var name = $"{stamp}-{source.Name}-{Sanitize(item.Name)}";
                var stored = await store.PutEvidenceAsync(incident.Id, name, content, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
                var capture = new EvidenceCapture
                {
                    IncidentId = incident.Id, Source = source.Name, Service = item.Service, Path = stored.Location, CapturedAt = stored.CapturedAt,
                    Sha256 = stored.Sha256, Bytes = bytes.Length, Succeeded = true,
                };
                results.Add(capture);
                await timeline.AppendAsync(config, incident.Id, TimelineWriter.Entry(context, "evidence", "Capture evidence", item.Service ?? source.Name,
                    TimelineOutcome.Succeeded, $"evidence/{name} sha256:{capture.Sha256} ({capture.Bytes} bytes)"), cancellationToken).ConfigureAwait(false);
            }
        }
        sink.Progress(new OperationProgress(7, "Saving evidence", "done", 100, Completed: true));
        return results;
    }

    /// <summary>
    /// Keeps the health samples of a watch (Watch-ServiceHealth -Record) as evidence "health" on the incident whose
    /// timeline recorded the watch, in the same document as the alerting
    /// round's health evidence, so the post-mortem charts latency and failures over the watch. The newest
    /// <see cref="MaxWatchSamples"/> samples are kept; bodies are left out.
    /// </summary>
    public async Task<EvidenceCapture?> SaveHealthSamplesAsync(IncidentOpsConfig? config, string incidentId, IReadOnlyList<IncidentOps.Health.HealthResult> samples,
        ChangeContext context, CancellationToken cancellationToken)
    {
        if (samples.Count == 0) return null;
        var kept = samples.OrderBy(r => r.Timestamp).Skip(Math.Max(0, samples.Count - MaxWatchSamples)).ToList();
        var content = SecretRedactor.Redact(Alerting.HealthResultEvidenceSource.Serialize(kept, withBody: false));
        var name = $"{DateTimeOffset.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Alerting.HealthResultEvidenceSource.SourceName}-watch.json";
        var stored = await openStore(config).PutEvidenceAsync(incidentId, name, content, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
        var capture = new EvidenceCapture
        {
            IncidentId = incidentId, Source = Alerting.HealthResultEvidenceSource.SourceName, Path = stored.Location, CapturedAt = stored.CapturedAt,
            Sha256 = stored.Sha256, Bytes = Encoding.UTF8.GetByteCount(content), Succeeded = true,
        };
        await timeline.AppendAsync(config, incidentId, TimelineWriter.Entry(context, "evidence", "Capture evidence", $"{kept.Count} health sample(s)",
            TimelineOutcome.Succeeded, $"evidence/{name} sha256:{capture.Sha256} ({capture.Bytes} bytes)"), cancellationToken).ConfigureAwait(false);
        return capture;
    }

    /// <summary>The most health samples one watch keeps as evidence (a 30-minute watch of 5 targets every 5 s is 1,800).</summary>
    public const int MaxWatchSamples = 10_000;

    private async Task RecordFailureAsync(IncidentOpsConfig config, Incident incident, string source, string? service, string message, ChangeContext context,
        List<EvidenceCapture> results, CancellationToken cancellationToken)
    {
        message = SecretRedactor.Redact(message);
        sink.Warning($"Evidence source '{source}'{(service is null ? "" : $" for {service}")} failed: {message}");
        var failed = new EvidenceCapture { IncidentId = incident.Id, Source = source, Service = service, CapturedAt = DateTimeOffset.UtcNow, Succeeded = false, Error = message };
        results.Add(failed);
        await timeline.AppendAsync(config, incident.Id, TimelineWriter.Entry(context, "evidence", "Capture evidence", service is null ? source : $"{source} {service}",
            TimelineOutcome.Failed, message), cancellationToken).ConfigureAwait(false);
    }

    private IEnumerable<ServiceTarget> TryResolve(IncidentOpsConfig config, string name)
    {
        try { return [ConfigService.ResolveService(config, null, name)]; }
        catch (IncidentOpsException ex)
        {
            sink.Warning($"Service '{name}' of the incident is not in {config.Path ?? "the configuration"}; its evidence is skipped: {ex.Message}");
            return [];
        }
    }

    private static string Sanitize(string name) => string.Concat(name.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c == ' ' ? '_' : c));
}
