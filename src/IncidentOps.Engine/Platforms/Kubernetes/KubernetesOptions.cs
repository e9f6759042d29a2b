using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The Kubernetes identity of an app target, read from its options (keyed by parameter name): one workload (a
/// Deployment, StatefulSet or DaemonSet), and where kubectl finds it (namespace, context, kubeconfig). Component is the
/// container for logs.
/// </summary>
public sealed record KubernetesOptions(string? Deployment, string? StatefulSet, string? DaemonSet, string? Namespace, string? Context, string? Kubeconfig, string? Component)
{
    public const string DeploymentKey = "Deployment";
    public const string StatefulSetKey = "StatefulSet";
    public const string DaemonSetKey = "DaemonSet";
    public const string NamespaceKey = "Namespace";
    public const string ContextKey = "Context";
    public const string KubeconfigKey = "Kubeconfig";
    public const string ComponentKey = "Component";
    /// <summary>
    /// The cluster, user and kubeconfig files of a context pinned from a $KUBECONFIG list of several files (kubectl merges
    /// them). No parameter gives them: KubeconfigDefaults fills them when the command starts, and App objects carry them in
    /// their Options, so a piped object acts where it was read.
    /// </summary>
    public const string ClusterKey = "KubeCluster";
    /// <summary>The kubeconfig user of the pinned context (see ClusterKey).</summary>
    public const string UserKey = "KubeUser";
    /// <summary>The kubeconfig files (path-separator list, as $KUBECONFIG takes them) the pinned context was read from (see ClusterKey).</summary>
    public const string KubeconfigFilesKey = "KubeconfigFiles";

    /// <summary>The pinned context's cluster (--cluster), from a merged $KUBECONFIG list.</summary>
    public string? Cluster { get; init; }
    /// <summary>The pinned context's user (--user), from a merged $KUBECONFIG list.</summary>
    public string? User { get; init; }
    /// <summary>The $KUBECONFIG list the context was pinned from; kubectl gets exactly it in its environment.</summary>
    public string? KubeconfigFiles { get; init; }

    public static KubernetesOptions Of(IReadOnlyDictionary<string, string> o) => new(
        o.GetValueOrDefault(DeploymentKey), o.GetValueOrDefault(StatefulSetKey), o.GetValueOrDefault(DaemonSetKey),
        o.GetValueOrDefault(NamespaceKey), o.GetValueOrDefault(ContextKey), o.GetValueOrDefault(KubeconfigKey), o.GetValueOrDefault(ComponentKey))
    {
        Cluster = o.GetValueOrDefault(ClusterKey), User = o.GetValueOrDefault(UserKey), KubeconfigFiles = o.GetValueOrDefault(KubeconfigFilesKey),
    };

    public static KubernetesOptions Of(AppTarget target) => Of(target.Options);

    /// <summary>The workload kind as kubectl names it (deployment, statefulset, daemonset).</summary>
    public string WorkloadKind => Deployment is null && StatefulSet is not null ? "statefulset" : Deployment is null && DaemonSet is not null ? "daemonset" : "deployment";

    /// <summary>The workload's name.</summary>
    public string WorkloadName => Deployment ?? StatefulSet ?? DaemonSet ?? "";

    /// <summary>
    /// --kubeconfig and --context, as every kubectl call of the target passes them; for a context pinned from a merged
    /// $KUBECONFIG list (no --kubeconfig), also its --cluster and --user, so neither a later current-context nor another
    /// file defining the context first can move the call elsewhere.
    /// </summary>
    public IEnumerable<string> ClusterArguments()
    {
        if (Kubeconfig is not null) yield return "--kubeconfig";
        if (Kubeconfig is not null) yield return Kubeconfig;
        if (Context is not null) yield return "--context";
        if (Context is not null) yield return Context;
        if (Kubeconfig is null && KubeconfigFiles is not null && Cluster is not null) yield return "--cluster";
        if (Kubeconfig is null && KubeconfigFiles is not null && Cluster is not null) yield return Cluster;
        if (Kubeconfig is null && KubeconfigFiles is not null && User is not null) yield return "--user";
        if (Kubeconfig is null && KubeconfigFiles is not null && User is not null) yield return User;
    }

    /// <summary>The environment every kubectl call of the target gets: KUBECONFIG set to the pinned list of files, or nothing.</summary>
    public IReadOnlyDictionary<string, string>? Environment =>
        Kubeconfig is null && KubeconfigFiles is not null ? new Dictionary<string, string> { ["KUBECONFIG"] = KubeconfigFiles } : null;

    /// <summary>kubectl with the target's cluster arguments (and environment), then <paramref name="args"/>.</summary>
    public CliCommand Command(IEnumerable<string> args) =>
        new("kubectl", "kubectl", [.. ClusterArguments(), .. args]) { Environment = Environment };

    /// <summary>Every name kubectl is given is one (a workload is not required: a tunnel or an action names none); throws IncidentOpsException.</summary>
    public void CheckNames()
    {
        TargetNames.Check("-Deployment", Deployment, TargetNames.KubernetesName);
        TargetNames.Check("-StatefulSet", StatefulSet, TargetNames.KubernetesStatefulSet);
        TargetNames.Check("-DaemonSet", DaemonSet, TargetNames.KubernetesDaemonSet);
        TargetNames.Check("-Component", Component, TargetNames.Token);
        TargetNames.Check("-Namespace", Namespace, TargetNames.KubernetesNamespace);
        TargetNames.Check("-Context", Context, TargetNames.KubeContext);
        TargetNames.Check("the kubeconfig context's cluster", Cluster, TargetNames.KubeContext);
        TargetNames.Check("the kubeconfig context's user", User, TargetNames.KubeContext);
        TargetNames.Check("-Kubeconfig", Kubeconfig is { Length: > 0 } k && k[0] == '-' ? k : null, TargetNames.Token);
    }

    /// <summary>Every name kubectl is given is one, and the target is exactly one workload; throws IncidentOpsException.</summary>
    public void Check(AppTarget target)
    {
        CheckNames();
        var given = new[] { ("-Deployment", Deployment), ("-StatefulSet", StatefulSet), ("-DaemonSet", DaemonSet) }.Where(w => w.Item2 is not null).ToList();
        if (given.Count == 0) throw PlatformRegistry.Incomplete(target, "-Deployment, -StatefulSet or -DaemonSet");
        if (given.Count > 1)
            throw new IncidentOpsException(PlatformErrorIds.AppTargetConflict, IncidentOpsErrorCategory.InvalidArgument,
                $"{string.Join(" and ", given.Select(g => $"{g.Item1} {g.Item2}"))} were both given: a Kubernetes target is one workload. Pass only one of -Deployment, -StatefulSet or -DaemonSet. Nothing was run.") { TargetObject = target.ToString() };
    }
}
