using System.Globalization;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>Kubernetes through kubectl -o json: deployment, pods, ReplicaSet revisions, rollout undo/status/restart.</summary>
public sealed partial class KubernetesAdapter(AppTarget target, ProcessRunner runner, TimeSpan timeout, IOperationSink sink)
    : PlatformAdapterBase(target, runner, timeout, sink), IPlatformAdapter
{
    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    private string Dep => Target.Deployment!;

    private CliCommand Kubectl(params string[] args)
    {
        var list = new List<string>();
        if (Target.Kubeconfig is not null) list.AddRange(["--kubeconfig", Target.Kubeconfig]);
        if (Target.Context is not null) list.AddRange(["--context", Target.Context]);
        if (Target.Namespace is not null) list.AddRange(["-n", Target.Namespace]);
        list.AddRange(args);
        return new CliCommand("kubectl", "kubectl", list);
    }

    private async Task<(JsonElement Deployment, string Selector)> GetDeploymentAsync(CancellationToken ct)
    {
        var cmd = Kubectl("get", "deployment", Dep, "-o", "json");
        var d = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        var labels = Path(d, "spec", "selector", "matchLabels");
        if (labels is not { ValueKind: JsonValueKind.Object }) throw Invalid(cmd, "spec.selector.matchLabels", "is missing");
        var selector = string.Join(",", labels.Value.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}"));
        return (d, selector);
    }

    private static string? Annotation(JsonElement e, string key) => Path(e, "metadata", "annotations") is { ValueKind: JsonValueKind.Object } a && a.TryGetProperty(key, out var v) ? v.GetString() : null;

    private static JsonElement? Condition(JsonElement d, string type) =>
        Arr(d, "status", "conditions").Cast<JsonElement?>().FirstOrDefault(c => Str(c!.Value, "type") == type);

    private static bool RolloutFailed(JsonElement d) => Condition(d, "Progressing") is { } p && Str(p, "status") == "False";

    public async Task<AppStatus> GetStatusAsync(CancellationToken ct)
    {
        var (d, selector) = await GetDeploymentAsync(ct).ConfigureAwait(false);
        var pods = await RunJsonAsync(Kubectl("get", "pods", "-l", selector, "-o", "json"), ct).ConfigureAwait(false);
        var instances = Arr(pods, "items").Select(p =>
        {
            var statuses = Arr(p, "status", "containerStatuses").ToList();
            string? reason = null;
            foreach (var s in statuses)
                reason ??= Str(s, "state", "waiting", "reason") ?? Str(s, "lastState", "terminated", "reason");
            return new AppInstance
            {
                Id = Str(p, "metadata", "name") ?? "?",
                State = Str(p, "metadata", "deletionTimestamp") is not null ? "Terminating" : statuses.Select(s => Str(s, "state", "waiting", "reason")).FirstOrDefault(r => r is not null) ?? Str(p, "status", "phase"),
                Region = Str(p, "spec", "nodeName"),
                Restarts = statuses.Sum(s => Int(s, "restartCount")),
                LastExitReason = reason,
                Ready = statuses.Count > 0 && statuses.All(s => Bool(s, "ready")),
                Version = Str(p, "metadata", "labels", "pod-template-hash"),
            };
        }).ToList();
        var desired = Path(d, "spec", "replicas") is null ? 1 : Int(d, "spec", "replicas");
        var ready = Int(d, "status", "readyReplicas");
        var failing = instances.Select(i => i.LastExitReason).FirstOrDefault(r => r is "CrashLoopBackOff" or "OOMKilled" or "ImagePullBackOff" or "ErrImagePull" or "Error");
        AppState state; string? why;
        if (desired > 0 && ready == 0) { state = AppState.Down; why = failing ?? "no ready replicas"; }
        else if (ready < desired || RolloutFailed(d) || failing is not null)
        {
            state = AppState.Degraded;
            why = RolloutFailed(d) ? Str(Condition(d, "Progressing")!.Value, "reason") : failing ?? $"{ready}/{desired} replicas ready";
        }
        else { state = AppState.Healthy; why = null; }
        return new AppStatus
        {
            Platform = PlatformKind.Kubernetes, Name = Dep, Service = Target.Service, Deployment = Dep, Namespace = Target.Namespace, Context = Target.Context,
            State = state, Reason = why, DesiredInstances = desired, ReadyInstances = ready,
            Version = Annotation(d, RevisionAnnotation),
            Image = Arr(d, "spec", "template", "spec", "containers").Select(c => Str(c, "image")).FirstOrDefault(),
            LastDeployedAt = Condition(d, "Progressing") is { } pc ? Time(pc, "lastUpdateTime") : null,
            Instances = instances,
        };
    }

    public async Task<IReadOnlyList<AppDeployment>> GetDeploymentsAsync(CancellationToken ct)
    {
        var (d, selector) = await GetDeploymentAsync(ct).ConfigureAwait(false);
        var current = Annotation(d, RevisionAnnotation);
        var cmd = Kubectl("get", "replicasets", "-l", selector, "-o", "json");
        var rs = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        var list = new List<AppDeployment>();
        foreach (var r in Arr(rs, "items"))
        {
            var owners = Arr(r, "metadata", "ownerReferences");
            if (owners.Any() && !owners.Any(o => Str(o, "name") == Dep)) continue;
            var revision = Annotation(r, RevisionAnnotation) ?? throw Invalid(cmd, $"items[].metadata.annotations.{RevisionAnnotation}", "is missing");
            var isCurrent = revision == current;
            var failed = isCurrent && (RolloutFailed(d) || (Int(r, "status", "replicas") > 0 && Int(r, "status", "readyReplicas") == 0 && Int(d, "status", "readyReplicas") < Int(d, "spec", "replicas")));
            list.Add(new AppDeployment
            {
                Platform = PlatformKind.Kubernetes, Name = Dep, Version = revision,
                Status = failed ? "Failed" : isCurrent ? "Current" : "Superseded",
                Succeeded = !failed,
                CreatedAt = Time(r, "metadata", "creationTimestamp"),
                Image = Arr(r, "spec", "template", "spec", "containers").Select(c => Str(c, "image")).FirstOrDefault(),
                Cause = Annotation(r, "kubernetes.io/change-cause"),
                IsCurrent = isCurrent,
            });
        }
        // kubectl rollout undo reuses the old ReplicaSet under a new revision number and records the numbers it had
        // in revision-history: every revision between those and the current one was rolled back from.
        var currentRs = Arr(rs, "items").Cast<JsonElement?>().FirstOrDefault(r => Annotation(r!.Value, RevisionAnnotation) == current);
        if (currentRs is { } cr && int.TryParse(current, out var currentRevision)
            && Annotation(cr, "deployment.kubernetes.io/revision-history") is { Length: > 0 } past)
        {
            var restored = past.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(p => int.TryParse(p, out var n) ? n : 0).Max();
            foreach (var release in list)
                if (int.TryParse(release.Version, out var n) && n > restored && n < currentRevision) release.RolledBack = true;
        }
        return MarkLastGood(list.OrderByDescending(x => int.TryParse(x.Version, out var n) ? n : 0).ToList());
    }

    public async Task<IReadOnlyList<AppSetting>> GetSettingsAsync(CancellationToken ct)
    {
        var (d, _) = await GetDeploymentAsync(ct).ConfigureAwait(false);
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

    public PlannedChange PlanRestart(string? instance, bool wait)
    {
        TargetNames.Check("-Pod", instance, TargetNames.KubernetesName);
        var first = instance is null ? Kubectl("rollout", "restart", $"deployment/{Dep}") : Kubectl("delete", "pod", instance);
        return wait ? Change(first, RolloutStatus()) : Change(first);
    }

    private CliCommand RolloutStatus() => Kubectl("rollout", "status", $"deployment/{Dep}", $"--timeout={(int)Timeout.TotalSeconds}s");

    public PlannedChange PlanScale(int? count, string? size)
    {
        if (size is not null) NotSupported($"-Size is not supported on Kubernetes: change the resource requests of deployment/{Dep} instead (kubectl set resources).");
        return Change(Kubectl("scale", $"deployment/{Dep}", $"--replicas={count}"));
    }

    public PlannedChange PlanSetSettings(IReadOnlyDictionary<string, string> values, bool secret)
    {
        if (secret) foreach (var v in values.Values) SecretRedactor.Register(v);
        return Change(Kubectl(["set", "env", $"deployment/{Dep}", .. values.Select(kv => $"{kv.Key}={kv.Value}")]));
    }

    public PreparedRollback PlanRollback(AppDeployment? from, AppDeployment to)
    {
        var undo = Kubectl("rollout", "undo", $"deployment/{Dep}", $"--to-revision={to.Version}");
        var status = RolloutStatus();
        var plan = new RollbackPlan { Target = Target, From = from?.Version, To = to.Version, ToImage = to.Image, Commands = [undo.CommandLine, status.CommandLine] };
        return new PreparedRollback(plan, async c =>
        {
            await RunAsync(undo, c).ConfigureAwait(false);
            var s = await RunAsync(status, c).ConfigureAwait(false);
            return [undo.CommandLine, status.CommandLine + " -> " + s.StandardOutput.Trim().Split('\n').LastOrDefault()];
        });
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
