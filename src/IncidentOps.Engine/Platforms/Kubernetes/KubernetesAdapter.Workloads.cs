using System.Text.Json;
using System.Text.Json.Nodes;
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
        _lastWorkload = d;
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
        var failingPods = instances.Where(i => FailingReasons.Contains(i.State) || (!i.Ready && FailingReasons.Contains(i.LastExitReason))).ToList();
        // Why, at a glance and short enough for the default table at 80 columns: how many pods fail, in what state, and
        // how the first one's last run ended ("CrashLoopBackOff (OOMKilled, 137)", "3 pods CrashLoopBackOff ..."). The
        // pods themselves, with their names, exit times and events, are in Instances.
        var failing = failingPods.Count switch { 0 => null, 1 => Explain(failingPods[0]), var n => $"{n} pods {Explain(failingPods[0])}" };
        AppState state; string? why;
        if (desired > 0 && ready == 0) { state = AppState.Down; why = failing ?? "no ready replicas"; }
        else if (ready < desired || RolloutFailed(d) || failing is not null)
        {
            state = AppState.Degraded;
            var progress = RolloutFailed(d) ? Str(Condition(d, "Progressing")!.Value, "reason") : null;
            why = progress is not null ? (progress == "ProgressDeadlineExceeded" ? "rollout stalled" : progress) + (failing is null ? "" : "; " + failing)
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

    /// <summary>
    /// "CrashLoopBackOff (OOMKilled)", "Init:CrashLoopBackOff (exit code 1)": the pod's state and why it last stopped, by its
    /// last termination's reason, or its exit code when the reason says no more than that it failed (Error).
    /// </summary>
    private static string Explain(AppInstance i)
    {
        var exit = i.LastExitReason is null || i.LastExitReason == i.State ? null
            : i.LastExitReason == "Error" && i.ExitCode is { } c ? $"exit code {c}" : i.LastExitReason;
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
        var byRevision = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var r in Arr(rs, "items"))
        {
            var owners = Arr(r, "metadata", "ownerReferences");
            if (owners.Any() && !owners.Any(o => Str(o, "name") == Dep)) continue;
            var revision = Annotation(r, RevisionAnnotation) ?? throw Invalid(cmd, $"items[].metadata.annotations.{RevisionAnnotation}", "is missing");
            byRevision.TryAdd(revision, r);
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
        _revisions = byRevision;
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
        var byRevision = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var r in revisions)
        {
            var number = Path(r, "revision") is { ValueKind: JsonValueKind.Number } n ? n.GetInt64() : throw Invalid(cmd, "items[].revision", "is missing");
            byRevision.TryAdd(number.ToString(System.Globalization.CultureInfo.InvariantCulture), r);
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
        _revisions = byRevision;
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

    /// <summary>The workload's spec.replicas (what kubectl scale --replicas sets), from the workload alone: no pods or events.</summary>
    public async Task<int> GetInstanceCountAsync(CancellationToken ct) => Counts((await GetWorkloadAsync(ct).ConfigureAwait(false)).Workload).Desired;

    public PlannedChange PlanScale(int? count, string? size)
    {
        if (Kind == "daemonset")
            NotSupported($"{Workload} is a DaemonSet: it runs one pod on each node its nodeSelector, affinity and tolerations allow, and has no replica count to scale. Change which nodes it runs on (kubectl edit {Workload}) or scale the nodes instead. Nothing was run.");
        if (size is not null) NotSupported($"-Size is not supported on Kubernetes: change the resource requests of {Workload} instead (kubectl set resources).");
        return Change(Kubectl("scale", Workload, $"--replicas={count}"));
    }

    public PreparedRollback PlanRollback(AppDeployment? from, AppDeployment to)
    {
        // Not kubectl rollout undo: it reads the workload and patches it with no precondition, so a deploy landing in the
        // round trip between the last re-check (PlatformsService.RollbackAsync) and the undo was silently replaced by the
        // older release. The patch below is what kubectl's rollback sends (pkg/polymorphichelpers/rollback.go: the target
        // revision's pod template, and for a Deployment the ReplicaSet's annotations), as one JSON patch whose first
        // operation tests metadata.generation: the API server applies all of it or nothing, and refuses it when the spec
        // was written after the plan was read (see RollbackPatch).
        var patch = Kubectl("patch", Workload, "--type=json", "--field-manager=kubectl-rollout", "-p", RollbackPatch(to.Version, out var generation, out var uid));
        var status = RolloutStatus();
        var plan = new RollbackPlan { Target = Target, From = from?.Version, To = to.Version, ToImage = to.Image, Commands = [patch.CommandLine, status.CommandLine] };
        return new PreparedRollback(plan, async c =>
        {
            var applied = await Runner.RunAsync(patch, Timeout, c, throwOnError: false).ConfigureAwait(false);
            if (applied.ExitCode != 0)
            {
                if (!PreconditionRefused(applied.StandardError)) throw ProcessRunner.Failed(patch, applied);
                throw await TargetMovedAsync(from?.Version, to.Version, generation, uid, applied.StandardError, c).ConfigureAwait(false);
            }
            ProcessResult s;
            try { s = await RunAsync(status, c).ConfigureAwait(false); }
            catch (IncidentOpsException ex) when (ex.ErrorId is PlatformErrorIds.PlatformCommandFailed or PlatformErrorIds.PlatformCommandTimedOut)
            {
                // The patch was applied: the workload's template is the target's now, whatever the wait says.
                throw RollbackChoice.HalfDone(Target, from?.Version, to.Version, $"{Workload} patched to the template of revision {to.Version}", "waiting for the rollout", ex,
                    $"The rollout may still finish or may be stuck: check Get-AppStatus and Get-AppEvent (kubectl rollout status {Workload}).");
            }
            return [patch.CommandLine, status.CommandLine + " -> " + s.StandardOutput.Trim().Split('\n').LastOrDefault()];
        });
    }

    /// <summary>The workload as GetWorkloadAsync last read it (the history a rollback is planned from).</summary>
    private JsonElement? _lastWorkload;

    /// <summary>The revisions GetDeploymentsAsync last read: a Deployment's ReplicaSets or a StatefulSet's or DaemonSet's ControllerRevisions, by revision number.</summary>
    private IReadOnlyDictionary<string, JsonElement>? _revisions;

    /// <summary>The annotations kubectl's rollback keeps from the Deployment rather than taking from the ReplicaSet (annotationsToSkip).</summary>
    private static readonly HashSet<string> KeptAnnotations = new(StringComparer.Ordinal)
    {
        "kubectl.kubernetes.io/last-applied-configuration", RevisionAnnotation, "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas", "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to",
    };

    private static readonly System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver Resolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver();
    private static readonly JsonSerializerOptions PatchJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, TypeInfoResolver = Resolver };

    /// <summary>
    /// The JSON patch of a rollback to <paramref name="revision"/>, from the workload and revisions the history read:
    /// first {"op":"test","path":"/metadata/generation"} with the generation read then (it changes with every write of
    /// the spec: a deploy, restart, scale or rollback; not with the status changes crash-looping pods cause, as
    /// resourceVersion does) and a test of /metadata/uid (the same object, not one recreated under its name), then the replace of /spec/template with the revision's template (a ReplicaSet's without its
    /// pod-template-hash label; a ControllerRevision's data.spec.template without "$patch"), and for a Deployment the
    /// ReplicaSet's annotations set and the Deployment's other ones removed, except those kubectl keeps (KeptAnnotations).
    /// </summary>
    internal string RollbackPatch(string revision, out long generation, out string? uid)
    {
        if (_lastWorkload is not { } d || _revisions is null)
            throw new IncidentOpsException(PlatformErrorIds.RollbackInvalid, IncidentOpsErrorCategory.InvalidOperation, $"The history of {Workload} was not read before planning its rollback; run Invoke-Rollback again.");
        if (!_revisions.TryGetValue(revision, out var source))
            throw new IncidentOpsException(PlatformErrorIds.RollbackTargetNotFound, IncidentOpsErrorCategory.ObjectNotFound, $"{Workload} has no revision {revision}. Run Get-AppDeployment to see them.") { TargetObject = revision };
        if (IsDeployment && Path(d, "spec", "paused") is { ValueKind: JsonValueKind.True })
            throw new IncidentOpsException(PlatformErrorIds.RollbackInvalid, IncidentOpsErrorCategory.InvalidOperation,
                $"{Workload} is paused, and a paused Deployment does not roll out a new template. Nothing was changed. Resume it first (kubectl rollout resume {Workload}), then run Invoke-Rollback again.");
        generation = Path(d, "metadata", "generation") is { ValueKind: JsonValueKind.Number } g ? g.GetInt64()
            : throw Invalid(Kubectl("get", Kind, Dep, "-o", "json"), "metadata.generation", "is missing");
        var template = (IsDeployment ? Path(source, "spec", "template") : Path(source, "data", "spec", "template")) is { ValueKind: JsonValueKind.Object } t
            ? JsonNode.Parse(t.GetRawText())!.AsObject()
            : throw Invalid(Kubectl("get", IsDeployment ? "replicasets" : "controllerrevisions", "-o", "json"), IsDeployment ? "items[].spec.template" : "items[].data.spec.template", "is missing");
        template.Remove("$patch");
        if (template["metadata"]?["labels"] is JsonObject labels) labels.Remove("pod-template-hash");
        var ops = new JsonArray { new JsonObject { ["op"] = "test", ["path"] = "/metadata/generation", ["value"] = generation } };
        // And the object itself: a workload deleted and created again under the same name, or one of that name in another
        // cluster should kubectl's default context have moved, has another uid (and may well be at the same generation).
        uid = Str(d, "metadata", "uid") is { Length: > 0 } u ? u : null;
        if (uid is not null) ops.Add(new JsonObject { ["op"] = "test", ["path"] = "/metadata/uid", ["value"] = uid });
        ops.Add(new JsonObject { ["op"] = "replace", ["path"] = "/spec/template", ["value"] = template });
        if (IsDeployment)
        {
            var mine = Path(d, "metadata", "annotations") is { ValueKind: JsonValueKind.Object } a ? a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal) : null;
            var theirs = Path(source, "metadata", "annotations") is { ValueKind: JsonValueKind.Object } b
                ? b.EnumerateObject().Where(p => !KeptAnnotations.Contains(p.Name)).ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal) : [];
            if (mine is null)
            {
                if (theirs.Count > 0) ops.Add(new JsonObject { ["op"] = "add", ["path"] = "/metadata/annotations", ["value"] = new JsonObject(theirs.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) });
            }
            else
            {
                foreach (var (k, v) in theirs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    if (!mine.TryGetValue(k, out var old) || old != v) ops.Add(new JsonObject { ["op"] = "add", ["path"] = "/metadata/annotations/" + Pointer(k), ["value"] = v });
                foreach (var k in mine.Keys.Where(k => !KeptAnnotations.Contains(k) && !theirs.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal))
                    ops.Add(new JsonObject { ["op"] = "remove", ["path"] = "/metadata/annotations/" + Pointer(k) });
            }
        }
        return ops.ToJsonString(PatchJson);
    }

    /// <summary>A JSON pointer segment (RFC 6901): ~ as ~0, / as ~1.</summary>
    private static string Pointer(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>
    /// True when kubectl patch failed because the API server refused the JSON patch: a test operation that failed is a
    /// 422 Invalid, which kubectl prints as "The request is invalid: the server rejected our request due to an error in
    /// our request" (API servers before 1.13 answered 500 "Testing value ... failed").
    /// </summary>
    internal static bool PreconditionRefused(string stderr) =>
        stderr.Contains("the server rejected our request due to an error in our request", StringComparison.OrdinalIgnoreCase)
        || stderr.Contains("testing value", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// RollbackTargetMoved: the API server refused the patch because the workload's spec changed after the plan was read.
    /// Reads the workload again (best effort) to say what it is now; never retries.
    /// </summary>
    private async Task<IncidentOpsException> TargetMovedAsync(string? from, string to, long generation, string? uid, string stderr, CancellationToken ct)
    {
        string now;
        try
        {
            var (d, _) = await GetWorkloadAsync(ct).ConfigureAwait(false);
            var g = Path(d, "metadata", "generation") is { ValueKind: JsonValueKind.Number } n ? n.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";
            var revision = IsDeployment ? Annotation(d, RevisionAnnotation) : Str(d, "status", "updateRevision");
            var image = Arr(d, "spec", "template", "spec", "containers").Select(c => Str(c, "image")).FirstOrDefault();
            var replaced = uid is not null && Str(d, "metadata", "uid") is { } nowUid && nowUid != uid;
            now = (replaced ? $"it is another object now (uid {Str(d, "metadata", "uid")}, not {uid}: deleted and created again, or kubectl now reaches another cluster), " : "")
                + $"its spec is now at generation {g} (it was {generation} when the rollback was planned from revision {from ?? "(none)"})"
                + (revision is null ? "" : $", its current revision is {revision}") + (image is null ? "" : $", it runs {image}");
        }
        catch (IncidentOpsException ex)
        {
            now = $"its spec is no longer at generation {generation}, as when the rollback was planned from revision {from ?? "(none)"} (reading it again failed: {ex.Message})";
        }
        return new IncidentOpsException(PlatformErrorIds.RollbackTargetMoved, IncidentOpsErrorCategory.InvalidOperation,
            $"{Workload} of {Target} changed after the rollback to revision {to} was planned: {now}. A deploy, restart, scale or rollback landed meanwhile. " +
            $"Kubernetes refused the patch (its precondition on metadata.generation and uid failed: {stderr.Trim()}), so nothing was changed. " +
            "Run Get-AppDeployment to see what is current, then Invoke-Rollback again (with -ToVersion to pick the release) if a rollback is still wanted.")
        { TargetObject = Target.ToString() };
    }
}
