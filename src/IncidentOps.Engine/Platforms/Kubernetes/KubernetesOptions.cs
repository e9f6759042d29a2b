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

    public static KubernetesOptions Of(IReadOnlyDictionary<string, string> o) => new(
        o.GetValueOrDefault(DeploymentKey), o.GetValueOrDefault(StatefulSetKey), o.GetValueOrDefault(DaemonSetKey),
        o.GetValueOrDefault(NamespaceKey), o.GetValueOrDefault(ContextKey), o.GetValueOrDefault(KubeconfigKey), o.GetValueOrDefault(ComponentKey));

    public static KubernetesOptions Of(AppTarget target) => Of(target.Options);

    /// <summary>The workload kind as kubectl names it (deployment, statefulset, daemonset).</summary>
    public string WorkloadKind => Deployment is null && StatefulSet is not null ? "statefulset" : Deployment is null && DaemonSet is not null ? "daemonset" : "deployment";

    /// <summary>The workload's name.</summary>
    public string WorkloadName => Deployment ?? StatefulSet ?? DaemonSet ?? "";

    /// <summary>--kubeconfig and --context, as every kubectl call of the target passes them.</summary>
    public IEnumerable<string> ClusterArguments()
    {
        if (Kubeconfig is not null) yield return "--kubeconfig";
        if (Kubeconfig is not null) yield return Kubeconfig;
        if (Context is not null) yield return "--context";
        if (Context is not null) yield return Context;
    }

    /// <summary>Every name kubectl is given is one, and the target is exactly one workload; throws IncidentOpsException.</summary>
    public void Check(AppTarget target)
    {
        TargetNames.Check("-Deployment", Deployment, TargetNames.KubernetesName);
        TargetNames.Check("-StatefulSet", StatefulSet, TargetNames.KubernetesStatefulSet);
        TargetNames.Check("-DaemonSet", DaemonSet, TargetNames.KubernetesDaemonSet);
        TargetNames.Check("-Component", Component, TargetNames.Token);
        TargetNames.Check("-Namespace", Namespace, TargetNames.KubernetesNamespace);
        TargetNames.Check("-Context", Context, TargetNames.KubeContext);
        TargetNames.Check("-Kubeconfig", Kubeconfig is { Length: > 0 } k && k[0] == '-' ? k : null, TargetNames.Token);
        var given = new[] { ("-Deployment", Deployment), ("-StatefulSet", StatefulSet), ("-DaemonSet", DaemonSet) }.Where(w => w.Item2 is not null).ToList();
        if (given.Count == 0) throw PlatformRegistry.Incomplete(target, "-Deployment, -StatefulSet or -DaemonSet");
        if (given.Count > 1)
            throw new IncidentOpsException(PlatformErrorIds.AppTargetConflict, IncidentOpsErrorCategory.InvalidArgument,
                $"{string.Join(" and ", given.Select(g => $"{g.Item1} {g.Item2}"))} were both given: a Kubernetes target is one workload. Pass only one of -Deployment, -StatefulSet or -DaemonSet. Nothing was run.") { TargetObject = target.ToString() };
    }
}
