using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The workload kinds: a Deployment (ReplicaSets carry its revisions), a StatefulSet or a DaemonSet (ControllerRevisions
/// carry theirs, as kubectl rollout history/undo read them). Status, history, restart, scale and rollback for each.
/// </summary>
public sealed partial class KubernetesAdapter
{
    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    /// <summary>deployment, statefulset or daemonset: the resource kubectl is given.</summary>
    private string Kind => _o.WorkloadKind;

    /// <summary>kind/name as kubectl takes it (deployment/marketing, statefulset/postgres).</summary>
    private string Workload => $"{Kind}/{Dep}";

    private bool IsDeployment => Kind == "deployment";

    /// <summary>The Kubernetes Kind of the workload (Deployment, StatefulSet, DaemonSet), as in an event's involvedObject.</summary>
    private string ApiKind => Kind switch { "statefulset" => "StatefulSet", "daemonset" => "DaemonSet", _ => "Deployment" };

    /// <summary>The workload object and its pod selector (spec.selector.matchLabels as a -l value).</summary>
    private async Task<(JsonElement Workload, string Selector)> GetWorkloadAsync(CancellationToken ct)
    {
        var cmd = Kubectl("get", Kind, Dep, "-o", "json");
        var d = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        var labels = Path(d, "spec", "selector", "matchLabels");
        if (labels is not { ValueKind: JsonValueKind.Object }) throw Invalid(cmd, "spec.selector.matchLabels", "is missing");
        var selector = string.Join(",", labels.Value.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}"));
        return (d, selector);
    }

    /// <summary>The name the adapter had before StatefulSets and DaemonSets: the workload, whatever its kind.</summary>
    private Task<(JsonElement Workload, string Selector)> GetDeploymentAsync(CancellationToken ct) => GetWorkloadAsync(ct);

    private static string? Annotation(JsonElement e, string key) => Path(e, "metadata", "annotations") is { ValueKind: JsonValueKind.Object } a && a.TryGetProperty(key, out var v) ? v.GetString() : null;

    private static JsonElement? Condition(JsonElement d, string type) =>
        Arr(d, "status", "conditions").Cast<JsonElement?>().FirstOrDefault(c => Str(c!.Value, "type") == type);

    private static bool RolloutFailed(JsonElement d) => Condition(d, "Progressing") is { } p && Str(p, "status") == "False";

    /// <summary>Desired and ready pods: a DaemonSet counts the nodes it should run on, the others their replicas (default 1).</summary>
    private (int Desired, int Ready) Counts(JsonElement d) => Kind == "daemonset"
        ? (Int(d, "status", "desiredNumberScheduled"), Int(d, "status", "numberReady"))
        : (Path(d, "spec", "replicas") is null ? 1 : Int(d, "spec", "replicas"), Int(d, "status", "readyReplicas"));

    /// <summary>
    /// One pod as an instance: its state (the waiting reason, such as CrashLoopBackOff, when a container waits) and,
    /// apart from that, why it last stopped: the last termination's reason and exit code (OOMKilled, 137), from
    /// lastState.terminated (the previous run of a restarted container) or state.terminated (a container that has ended).
    /// </summary>
    private static AppInstance Instance(JsonElement p, IReadOnlyList<string> events)
    {
        var init = Arr(p, "status", "initContainerStatuses").ToList();
        var app = Arr(p, "status", "containerStatuses").ToList();
        // An init container that waits blocks the pod (kubectl shows Init:CrashLoopBackOff); then an app container's reason.
        var waiting = init.Select(s => Str(s, "state", "waiting", "reason")).Where(r => r is not null and not "PodInitializing").Select(r => "Init:" + r).FirstOrDefault()
            ?? app.Select(s => Str(s, "state", "waiting", "reason")).FirstOrDefault(r => r is not null);
        // The most recent termination over all containers: the one that explains the restarts. An init container that
        // ran to completion (exit code 0) is how every healthy pod starts, not a reason.
        var terminated = init.Select(s => Path(s, "lastState", "terminated") ?? Path(s, "state", "terminated"))
            .Where(t => t is { ValueKind: JsonValueKind.Object } && Int(t.Value, "exitCode") != 0)
            .Concat(app.Select(s => Path(s, "lastState", "terminated") ?? Path(s, "state", "terminated")))
            .Where(t => t is { ValueKind: JsonValueKind.Object })
            .Select(t => t!.Value)
            .OrderByDescending(t => Time(t, "finishedAt") ?? DateTimeOffset.MinValue)
            .Cast<JsonElement?>()
            .FirstOrDefault();
        var exitCode = terminated is { } tc && Path(tc, "exitCode") is { ValueKind: JsonValueKind.Number } n && n.TryGetInt32(out var code) ? code : (int?)null;
        return new AppInstance
        {
            Id = Str(p, "metadata", "name") ?? "?",
            State = Str(p, "metadata", "deletionTimestamp") is not null ? "Terminating" : waiting ?? Str(p, "status", "phase"),
            Region = Str(p, "spec", "nodeName"),
            Restarts = init.Concat(app).Sum(s => Int(s, "restartCount")),
            // A container that never ran (ImagePullBackOff) has no termination: its waiting reason says why.
            LastExitReason = terminated is { } t ? Str(t, "reason") ?? (exitCode is { } c ? $"exit code {c}" : null) : waiting,
            ExitCode = exitCode,
            LastExitAt = terminated is { } f ? Time(f, "finishedAt") : null,
            Ready = app.Count > 0 && app.All(s => Bool(s, "ready")),
            Version = Str(p, "metadata", "labels", "pod-template-hash") ?? Str(p, "metadata", "labels", "controller-revision-hash"),
            Events = [.. events],
        };
    }

    /// <summary>A pod worth explaining: not ready, or restarted.</summary>
    private static bool Troubled(JsonElement p)
    {
        var statuses = Arr(p, "status", "containerStatuses").ToList();
        return statuses.Count == 0 || statuses.Any(s => !Bool(s, "ready") || Int(s, "restartCount") > 0);
    }

    private static readonly string[] FailingReasons = ["CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "Error", "CreateContainerConfigError", "RunContainerError",
        "Init:CrashLoopBackOff", "Init:ImagePullBackOff", "Init:ErrImagePull", "Init:Error", "Init:CreateContainerConfigError"];

    public async Task<AppStatus> GetStatusAsync(CancellationToken ct)
    {
        var (d, selector) = await GetWorkloadAsync(ct).ConfigureAwait(false);
        var pods = Arr(await RunJsonAsync(Kubectl("get", "pods", "-l", selector, "-o", "json"), ct).ConfigureAwait(false), "items").ToList();
        // Only when a pod is in trouble: its recent events say why (BackOff, Unhealthy, FailedScheduling), as kubectl describe pod shows them.
        var troubled = pods.Where(Troubled).Select(p => Str(p, "metadata", "name")).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var events = troubled.Count == 0 ? new Dictionary<string, List<string>>() : await PodEventLinesAsync(troubled, ct).ConfigureAwait(false);
        var instances = pods.Select(p => Instance(p, events.GetValueOrDefault(Str(p, "metadata", "name") ?? "") ?? [])).ToList();
        var (desired, ready) = Counts(d);
        var failingPod = instances.FirstOrDefault(i => FailingReasons.Contains(i.State) || (!i.Ready && FailingReasons.Contains(i.LastExitReason)));
        // Why, at a glance: the pod that fails and how its last run ended ("marketing-7d9f8b6c5d-xyz12: CrashLoopBackOff (last exit: OOMKilled, code 137)").
        var failing = failingPod is null ? null : $"{failingPod.Id}: {Explain(failingPod)}";
        AppState state; string? why;
        if (desired > 0 && ready == 0) { state = AppState.Down; why = failing ?? "no ready replicas"; }
        else if (ready < desired || RolloutFailed(d) || failing is not null)
        {
            state = AppState.Degraded;
            why = RolloutFailed(d) ? Str(Condition(d, "Progressing")!.Value, "reason") + (failing is null ? "" : "; " + failing)
                : failing ?? $"{ready}/{desired} {(Kind == "daemonset" ? "pods" : "replicas")} ready";
        }
        else { state = AppState.Healthy; why = null; }
        return new AppStatus
        {
            Platform = PlatformKind.Kubernetes, Name = Dep, Service = Target.Service, Deployment = _o.Deployment, StatefulSet = _o.StatefulSet, DaemonSet = _o.DaemonSet,
            Namespace = _o.Namespace, Context = _o.Context,
            State = state, Reason = why, DesiredInstances = desired, ReadyInstances = ready,
            // A StatefulSet's or DaemonSet's revision number is on its ControllerRevisions (Get-AppDeployment), not on the object.
            Version = IsDeployment ? Annotation(d, RevisionAnnotation) : null,
            Image = Arr(d, "spec", "template", "spec", "containers").Select(c => Str(c, "image")).FirstOrDefault(),
            LastDeployedAt = Condition(d, "Progressing") is { } pc ? Time(pc, "lastUpdateTime") : null,
            Instances = instances,
        };
    }

    /// <summary>"CrashLoopBackOff (last exit: OOMKilled, code 137)": the pod's state and why it last stopped.</summary>
    private static string Explain(AppInstance i)
    {
        var exit = i.LastExitReason is null || i.LastExitReason == i.State ? null : $"last exit: {i.LastExitReason}{(i.ExitCode is { } c ? $", code {c}" : "")}";
        return exit is null ? i.State ?? "failing" : $"{i.State} ({exit})";
    }

    public async Task<IReadOnlyList<AppDeployment>> GetDeploymentsAsync(CancellationToken ct)
    {
        var (d, selector) = await GetWorkloadAsync(ct).ConfigureAwait(false);
        return IsDeployment ? await DeploymentHistoryAsync(d, selector, ct).ConfigureAwait(false) : await RevisionHistoryAsync(d, selector, ct).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<AppDeployment>> DeploymentHistoryAsync(JsonElement d, string selector, CancellationToken ct)
    {
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

    /// <summary>
    /// A StatefulSet's or DaemonSet's history: its ControllerRevisions (owned by it, found by its selector, as kubectl
    /// rollout history reads them). Version is the revision number; data holds the pod template of each. The current one
    /// is the StatefulSet's status.updateRevision, or for a DaemonSet the highest revision (its controller renumbers
    /// the revision it rolls back to).
    /// </summary>
    private async Task<IReadOnlyList<AppDeployment>> RevisionHistoryAsync(JsonElement d, string selector, CancellationToken ct)
    {
        var cmd = Kubectl("get", "controllerrevisions", "-l", selector, "-o", "json");
        var revisions = Arr(await RunJsonAsync(cmd, ct).ConfigureAwait(false), "items")
            .Where(r => Arr(r, "metadata", "ownerReferences").Any(o => Str(o, "kind") == ApiKind && Str(o, "name") == Dep))
            .ToList();
        var update = Str(d, "status", "updateRevision");
        var highest = revisions.Select(r => Path(r, "revision") is { ValueKind: JsonValueKind.Number } n ? n.GetInt64() : 0).DefaultIfEmpty(0).Max();
        var (desired, ready) = Counts(d);
        var list = new List<AppDeployment>();
        foreach (var r in revisions)
        {
            var number = Path(r, "revision") is { ValueKind: JsonValueKind.Number } n ? n.GetInt64() : throw Invalid(cmd, "items[].revision", "is missing");
            var isCurrent = update is not null ? Str(r, "metadata", "name") == update : number == highest;
            var failed = isCurrent && desired > 0 && ready == 0;
            list.Add(new AppDeployment
            {
                Platform = PlatformKind.Kubernetes, Name = Dep, Version = number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Status = failed ? "Failed" : isCurrent ? "Current" : "Superseded",
                Succeeded = !failed,
                CreatedAt = Time(r, "metadata", "creationTimestamp"),
                Image = Arr(r, "data", "spec", "template", "spec", "containers").Select(c => Str(c, "image")).FirstOrDefault(),
                Cause = Annotation(r, "kubernetes.io/change-cause"),
                IsCurrent = isCurrent,
            });
        }
        return MarkLastGood(list.OrderByDescending(x => long.TryParse(x.Version, out var n) ? n : 0).ToList());
    }

    public PlannedChange PlanRestart(string? instance, bool wait)
    {
        TargetNames.Check("-Pod", instance, TargetNames.KubernetesPod);
        // kubectl rollout restart patches the pod template's restartedAt for all three kinds; -Pod deletes one pod, which its controller replaces.
        var first = instance is null ? Kubectl("rollout", "restart", Workload) : Kubectl("delete", "pod", instance);
        return wait ? Change(first, RolloutStatus()) : Change(first);
    }

    private CliCommand RolloutStatus() => Kubectl("rollout", "status", Workload, $"--timeout={(int)Timeout.TotalSeconds}s");

    public PlannedChange PlanScale(int? count, string? size)
    {
        if (Kind == "daemonset")
            NotSupported($"{Workload} is a DaemonSet: it runs one pod on each node its nodeSelector, affinity and tolerations allow, and has no replica count to scale. Change which nodes it runs on (kubectl edit {Workload}) or scale the nodes instead. Nothing was run.");
        if (size is not null) NotSupported($"-Size is not supported on Kubernetes: change the resource requests of {Workload} instead (kubectl set resources).");
        return Change(Kubectl("scale", Workload, $"--replicas={count}"));
    }

    public PreparedRollback PlanRollback(AppDeployment? from, AppDeployment to)
    {
        // kubectl rollout undo takes the same form for all three kinds: a Deployment's ReplicaSet revision, or a
        // StatefulSet's or DaemonSet's ControllerRevision number.
        var undo = Kubectl("rollout", "undo", Workload, $"--to-revision={to.Version}");
        var status = RolloutStatus();
        var plan = new RollbackPlan { Target = Target, From = from?.Version, To = to.Version, ToImage = to.Image, Commands = [undo.CommandLine, status.CommandLine] };
        return new PreparedRollback(plan, async c =>
        {
            await RunAsync(undo, c).ConfigureAwait(false);
            ProcessResult s;
            try { s = await RunAsync(status, c).ConfigureAwait(false); }
            catch (IncidentOpsException ex) when (ex.ErrorId is PlatformErrorIds.PlatformCommandFailed or PlatformErrorIds.PlatformCommandTimedOut)
            {
                // The undo was applied: the workload's template is the target's now, whatever the wait says.
                throw RollbackChoice.HalfDone(Target, from?.Version, to.Version, $"kubectl rollout undo to revision {to.Version}", "waiting for the rollout", ex,
                    $"The rollout may still finish or may be stuck: check Get-AppStatus and Get-AppEvent (kubectl rollout status {Workload}).");
            }
            return [undo.CommandLine, status.CommandLine + " -> " + s.StandardOutput.Trim().Split('\n').LastOrDefault()];
        });
    }
}
