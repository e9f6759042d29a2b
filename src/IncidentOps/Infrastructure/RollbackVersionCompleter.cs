using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>
/// Tab completion of Invoke-Rollback -ToVersion from the app's deployment history (what Get-AppDeployment lists),
/// newest first and without the current release; the tooltip shows status, time and image. The target comes from
/// the parameters already typed (-Service, or -Platform with -App/-AppId/-Deployment/-Unit). The lookup runs the
/// platform CLI, so it is bounded by a short timeout, and completion never throws: on any failure it offers nothing.
/// </summary>
public sealed class RollbackVersionCompleter : IArgumentCompleter
{
    /// <summary>How long a completion may wait for the platform CLI.</summary>
    internal static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(3);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try { return Complete(wordToComplete, fakeBoundParameters); }
        catch (Exception) { return []; } // completion must never throw at the user
    }

    private static IEnumerable<CompletionResult> Complete(string word, IDictionary bound)
    {
        var engine = new IncidentOpsEngine(NullSink.Instance, NoSecretProvider.Instance);
        var configPath = ConfigService.FindConfigPath(Text(bound, "ConfigPath"), Directory.GetCurrentDirectory());
        var config = configPath is null ? null : engine.Config.Load(configPath).Config;
        var target = Target(engine, config, bound);
        if (target is null) return [];
        // Each provider's CLI names the parameter that overrides its path (-FlyctlPath, -KubectlPath ...).
        var paths = PlatformRegistry.GivenPaths(name => Text(bound, name));
        var choices = engine.Platforms.GetRollbackChoicesAsync(target, paths, config?.Tools, LookupTimeout, CancellationToken.None)
            .GetAwaiter().GetResult();
        // The deployment table shows a DigitalOcean id as its first 8 characters and an ellipsis: pasted as shown, it completes too.
        var prefix = (word ?? "").Trim('\'', '"').TrimEnd('\u2026');
        return choices
            .Where(d => d.Version.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(d => new CompletionResult(d.Version, d.Version, CompletionResultType.ParameterValue, Tooltip(d)))
            .ToList();
    }

    private static string Tooltip(AppDeployment d)
    {
        var parts = new List<string> { d.Version, d.Status ?? (d.Succeeded ? "succeeded" : "failed") };
        if (d.CreatedAt is { } at) parts.Add(at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture));
        if (d.Image is not null) parts.Add(d.Image);
        if (d.IsLastGood) parts.Add("(last good: the default target)");
        return string.Join("  ", parts);
    }

    private static AppTarget? Target(IncidentOpsEngine engine, IncidentOpsConfig? config, IDictionary bound)
    {
        var platform = Enum.TryParse<PlatformKind>(Text(bound, "Platform"), true, out var p) ? p : PlatformKind.None;
        if (platform != PlatformKind.None)
            return PlatformRegistry.Target(platform, new Dictionary<string, string?>
            {
                ["App"] = Text(bound, "App"), ["AppId"] = ResolveEnv(Text(bound, "AppId")), ["Deployment"] = Text(bound, "Deployment"), ["StatefulSet"] = Text(bound, "StatefulSet"),
                ["DaemonSet"] = Text(bound, "DaemonSet"), ["Namespace"] = Text(bound, "Namespace"), ["Context"] = Text(bound, "Context"), ["Kubeconfig"] = Text(bound, "Kubeconfig"),
                ["Unit"] = Text(bound, "Unit"), ["ComputerName"] = Text(bound, "ComputerName"), ["ReleasesPath"] = Text(bound, "ReleasesPath"), ["Component"] = Text(bound, "Component"),
            });
        var service = Text(bound, "Service");
        if (service is null || config is null) return null;
        var s = ConfigService.ResolveService(config, Text(bound, "Environment"), service);
        using var cts = new CancellationTokenSource(LookupTimeout);
        // The completer has no health endpoints to probe: it only reads the history.
        return PlatformRegistry.Target(s.Platform, AppTargets.FromServiceAsync(s, engine.References.ResolveAsync, cts.Token, new Dictionary<string, string?>
        {
            ["Namespace"] = Text(bound, "Namespace"), ["Context"] = Text(bound, "Context"), ["Kubeconfig"] = Text(bound, "Kubeconfig"),
            ["ComputerName"] = Text(bound, "ComputerName"), ["ReleasesPath"] = Text(bound, "ReleasesPath"),
        }).GetAwaiter().GetResult());
    }

    /// <summary>A bound value as text: the first element of an array (-Service a,b), unquoted.</summary>
    private static string? Text(IDictionary bound, string name)
    {
        var value = bound.Contains(name) ? bound[name] : null;
        if (value is PSObject pso) value = pso.BaseObject;
        if (value is IEnumerable e and not string) value = e.Cast<object?>().FirstOrDefault();
        if (value is PSObject inner) value = inner.BaseObject;
        var text = value?.ToString()?.Trim('\'', '"');
        return string.IsNullOrEmpty(text) ? null : text;
    }

    /// <summary>The same env: rule as the cmdlet: an unset variable throws, and the completer then offers nothing rather than a guess.</summary>
    private static string? ResolveEnv(string? value) => EnvReference.Resolve(value, "-AppId");
}
