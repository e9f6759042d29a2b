using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>Kubernetes workloads (Deployments, StatefulSets, DaemonSets) through kubectl -o json.</summary>
public sealed class KubernetesProvider : IPlatformProvider, IPlatformEventsProvider
{
    public static readonly CliTool Kubectl = new("kubectl", "kubectl (https://kubernetes.io/docs/tasks/tools/)", "-KubectlPath");

    public PlatformKind Kind => PlatformKind.Kubernetes;
    public IReadOnlyList<string> ConfigNames { get; } = ["kubernetes", "k8s"];
    public IReadOnlyList<ProviderConfigKey> ConfigKeys { get; } =
    [
        new("deployment", "the Deployment's name", ConfigKeyType.Name, TargetNames.KubernetesName, Required: true, OneOf: "workload"),
        new("statefulSet", "a StatefulSet's name, instead of deployment (status, restart, scale, history, rollback)", ConfigKeyType.Name, TargetNames.KubernetesStatefulSet, Required: true, Example: "postgres", OneOf: "workload"),
        new("daemonSet", "a DaemonSet's name, instead of deployment (status, restart, history, rollback; no scale)", ConfigKeyType.Name, TargetNames.KubernetesDaemonSet, Required: true, Example: "node-exporter", OneOf: "workload"),
        new("namespace", "its namespace (default: default)", ConfigKeyType.Name, TargetNames.KubernetesNamespace, Default: "default"),
        new("context", "the kubectl context (default: the current one)", ConfigKeyType.Name, TargetNames.KubeContext),
        new("kubeconfig", "the kubeconfig file kubectl reads (relative to incidentops.yml)", ConfigKeyType.Path),
    ];
    public IReadOnlyList<CliTool> Tools { get; } = [Kubectl];
    public string TargetParameter => "-Deployment";


    public void Check(AppTarget target)
    {
        TargetNames.Check("-Deployment", target.Deployment, TargetNames.KubernetesName);
        TargetNames.Check("-StatefulSet", target.StatefulSet, TargetNames.KubernetesStatefulSet);
        TargetNames.Check("-DaemonSet", target.DaemonSet, TargetNames.KubernetesDaemonSet);
        TargetNames.Check("-Component", target.Component, TargetNames.Token);
        var given = new[] { ("-Deployment", target.Deployment), ("-StatefulSet", target.StatefulSet), ("-DaemonSet", target.DaemonSet) }.Where(w => w.Item2 is not null).ToList();
        if (given.Count == 0) throw PlatformRegistry.Incomplete(target, "-Deployment, -StatefulSet or -DaemonSet");
        if (given.Count > 1)
            throw new IncidentOpsException(PlatformErrorIds.AppTargetConflict, IncidentOpsErrorCategory.InvalidArgument,
                $"{string.Join(" and ", given.Select(g => $"{g.Item1} {g.Item2}"))} were both given: a Kubernetes target is one workload. Pass only one of -Deployment, -StatefulSet or -DaemonSet. Nothing was run.") { TargetObject = target.ToString() };
    }

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) => new KubernetesAdapter(target, c.Runner, c.Timeout, c.Sink);

    public string TargetName(AppTarget target) => target.Deployment ?? target.StatefulSet ?? target.DaemonSet ?? "";

    public string DescribeTarget(AppTarget t) =>
        $"Kubernetes {t.WorkloadKind}/{TargetName(t)}{(t.Namespace is null ? "" : " in " + t.Namespace)}{(t.Context is null ? "" : " (" + t.Context + ")")}";

    public bool AppliesManifests => true;

    /// <summary>kubectl with the service's kubeconfig, context and namespace (unless the arguments name a namespace).</summary>
    public CliCommand ActionCommand(ServiceTarget service, string tool, IReadOnlyList<string> args)
    {
        var list = new List<string>();
        if (service.Kubeconfig is not null) list.AddRange(["--kubeconfig", service.Kubeconfig]);
        if (service.Context is not null) list.AddRange(["--context", service.Context]);
        var namesNamespace = args.Any(a => a is "-n" or "--namespace" or "-A" or "--all-namespaces" || a.StartsWith("--namespace=", StringComparison.Ordinal) || a.StartsWith("-n=", StringComparison.Ordinal));
        if (service.Namespace is not null && !namesNamespace) list.AddRange(["--namespace", service.Namespace]);
        list.AddRange(args);
        return new CliCommand("kubectl", "kubectl", list);
    }
}
