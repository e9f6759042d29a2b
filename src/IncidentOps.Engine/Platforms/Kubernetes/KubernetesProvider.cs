using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>Kubernetes Deployments through kubectl -o json.</summary>
public sealed class KubernetesProvider : IPlatformProvider
{
    public static readonly CliTool Kubectl = new("kubectl", "kubectl (https://kubernetes.io/docs/tasks/tools/)", "-KubectlPath");

    public PlatformKind Kind => PlatformKind.Kubernetes;
    public IReadOnlyList<string> ConfigNames { get; } = ["kubernetes", "k8s"];
    public IReadOnlyList<ProviderConfigKey> ConfigKeys { get; } =
    [
        new("deployment", "the Deployment's name", ConfigKeyType.Name, TargetNames.KubernetesName, Required: true),
        new("namespace", "its namespace (default: default)", ConfigKeyType.Name, TargetNames.KubernetesNamespace, Default: "default"),
        new("context", "the kubectl context (default: the current one)", ConfigKeyType.Name, TargetNames.KubeContext),
        new("kubeconfig", "the kubeconfig file kubectl reads (relative to incidentops.yml)", ConfigKeyType.Path),
    ];
    public IReadOnlyList<CliTool> Tools { get; } = [Kubectl];
    public string TargetParameter => "-Deployment";


    public void Check(AppTarget target)
    {
        TargetNames.Check("-Deployment", target.Deployment, TargetNames.KubernetesName);
        TargetNames.Check("-Component", target.Component, TargetNames.Token);
        if (target.Deployment is null) throw PlatformRegistry.Incomplete(target, "-Deployment");
    }

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) => new KubernetesAdapter(target, c.Runner, c.Timeout, c.Sink);
}
