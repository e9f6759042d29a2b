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
        new("deployment", "the Deployment's name", ConfigKeyType.Name, TargetNames.KubernetesName, Required: true, OneOf: "workload", Parameter: KubernetesOptions.DeploymentKey),
        new("statefulSet", "a StatefulSet's name, instead of deployment (status, restart, scale, history, rollback)", ConfigKeyType.Name, TargetNames.KubernetesStatefulSet, Required: true, Example: "postgres", OneOf: "workload", Parameter: KubernetesOptions.StatefulSetKey),
        new("daemonSet", "a DaemonSet's name, instead of deployment (status, restart, history, rollback; no scale)", ConfigKeyType.Name, TargetNames.KubernetesDaemonSet, Required: true, Example: "node-exporter", OneOf: "workload", Parameter: KubernetesOptions.DaemonSetKey),
        new("namespace", "its namespace (default: default)", ConfigKeyType.Name, TargetNames.KubernetesNamespace, Default: "default", Parameter: KubernetesOptions.NamespaceKey),
        new("context", "the kubectl context (default: the current one)", ConfigKeyType.Name, TargetNames.KubeContext, Parameter: KubernetesOptions.ContextKey),
        new("kubeconfig", "the kubeconfig file kubectl reads (relative to incidentops.yml)", ConfigKeyType.Path, Parameter: KubernetesOptions.KubeconfigKey),
    ];
    public IReadOnlyList<CliTool> Tools { get; } = [Kubectl];
    public string TargetParameter => "-Deployment";


    /// <summary>The keys' parameters, and -Component (the container for logs; a command-line choice, not a configuration key).</summary>
    public IReadOnlyList<string> Parameters { get; } =
    [
        KubernetesOptions.DeploymentKey, KubernetesOptions.StatefulSetKey, KubernetesOptions.DaemonSetKey, KubernetesOptions.NamespaceKey,
        KubernetesOptions.ContextKey, KubernetesOptions.KubeconfigKey, KubernetesOptions.ComponentKey,
    ];

    public void Check(AppTarget target) => KubernetesOptions.Of(target).Check(target);

    /// <summary>The kubeconfig, context and namespace kubectl would default to, pinned (KubeconfigDefaults).</summary>
    public AppTarget Pin(AppTarget target) => KubeconfigDefaults.Pin(target);

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) => new KubernetesAdapter(target, c.Runner, c.Timeout, c.Sink);

    public string TargetName(AppTarget target) => KubernetesOptions.Of(target).WorkloadName;

    public string DescribeTarget(AppTarget t)
    {
        var o = KubernetesOptions.Of(t);
        var where = o.Context is null ? "" : o.Cluster is null || o.Kubeconfig is not null ? $" ({o.Context})" : $" ({o.Context}, cluster {o.Cluster})";
        return $"Kubernetes {o.WorkloadKind}/{o.WorkloadName}{(o.Namespace is null ? "" : " in " + o.Namespace)}{where}";
    }

    public bool AppliesManifests => true;

    /// <summary>
    /// kubectl with the service's kubeconfig, context and namespace (unless the arguments name a namespace), pinned when the
    /// action is planned as an App command pins them (KubeconfigDefaults): the kubeconfig's current context, its namespace
    /// and, for a $KUBECONFIG list, its cluster, user and the files. An action whose own arguments choose the cluster
    /// (--context, --kubeconfig, --cluster, --user) gets the service's settings only, so nothing pinned mixes with its choice.
    /// </summary>
    public CliCommand ActionCommand(ServiceTarget service, string tool, IReadOnlyList<string> args)
    {
        var choosesCluster = CliCommand.GivesOption(args, "--context", "--kubeconfig", "--cluster", "--user");
        var configured = AppTargets.ServiceOptions(service);
        var o = choosesCluster ? KubernetesOptions.Of(configured) : KubeconfigDefaults.Pin(configured);
        var namesNamespace = args.Any(a => a is "-n" or "--namespace" or "-A" or "--all-namespaces" || a.StartsWith("--namespace=", StringComparison.Ordinal) || a.StartsWith("-n=", StringComparison.Ordinal));
        var list = new List<string>();
        if (o.Namespace is not null && !namesNamespace) list.AddRange(["--namespace", o.Namespace]);
        list.AddRange(args);
        return o.Command(list);
    }
}
