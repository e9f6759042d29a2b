using System.Globalization;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Kubernetes through kubectl -o json. This file: the kubectl command line and settings. The workload kinds (status,
/// history, restart, scale, rollback) are in KubernetesAdapter.Workloads.cs, logs in KubernetesAdapter.Logs.cs, events in
/// KubernetesAdapter.Events.cs, resource usage in KubernetesAdapter.Usage.cs.
/// </summary>
public sealed partial class KubernetesAdapter(AppTarget target, ProcessRunner runner, TimeSpan timeout, IOperationSink sink)
    : PlatformAdapterBase(target, runner, timeout, sink), IPlatformAdapter
{
    /// <summary>The workload's name (a Deployment, StatefulSet or DaemonSet; see Workload for kind/name).</summary>
    private string Dep => Target.Name;

    /// <summary>The workload and where kubectl finds it, as the target's options give them.</summary>
    private readonly KubernetesOptions _o = KubernetesOptions.Of(target);

    private CliCommand Kubectl(params string[] args)
    {
        var list = new List<string>();
        if (_o.Namespace is not null) list.AddRange(["-n", _o.Namespace]);
        list.AddRange(args);
        return _o.Command(list);
    }

    public async Task<IReadOnlyList<AppSetting>> GetSettingsAsync(CancellationToken ct)
    {
        var (d, _) = await GetWorkloadAsync(ct).ConfigureAwait(false);
        var result = new List<AppSetting>();
        foreach (var c in Arr(d, "spec", "template", "spec", "containers"))
            foreach (var e in Arr(c, "env"))
            {
                var key = Str(e, "name") ?? "?";
                var secretRef = Path(e, "valueFrom", "secretKeyRef");
                var configRef = Path(e, "valueFrom", "configMapKeyRef");
                result.Add(new AppSetting
                {
                    Platform = PlatformKind.Kubernetes, Name = Dep, Key = key, IsSecret = secretRef is not null,
                    Value = secretRef is not null ? null : configRef is { } cm ? $"(configMap {Str(cm, "name")}/{Str(cm, "key")})" : Str(e, "value"),
                });
            }
        return result;
    }

    public PlannedChange PlanSetSettings(IReadOnlyDictionary<string, string> values, bool secret)
    {
        if (secret) foreach (var v in values.Values) SecretRedactor.Register(v);
        return Change(Kubectl(["set", "env", Workload, .. values.Select(kv => $"{kv.Key}={kv.Value}")]));
    }
}

internal static class LogLevels
{
    public static string? Guess(string message)
    {
        var m = message.AsSpan();
        if (m.Contains("ERROR", StringComparison.OrdinalIgnoreCase) || m.Contains("FATAL", StringComparison.OrdinalIgnoreCase) || m.Contains("panic", StringComparison.Ordinal)) return "error";
        if (m.Contains("WARN", StringComparison.OrdinalIgnoreCase)) return "warning";
        if (m.Contains("DEBUG", StringComparison.Ordinal)) return "debug";
        return "info";
    }
}
