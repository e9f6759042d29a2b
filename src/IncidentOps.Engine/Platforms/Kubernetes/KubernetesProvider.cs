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
        new("deployment", "the Deployment's name", Required: true),
        new("namespace", "its namespace (default: default)"),
        new("context", "the kubectl context (default: the current one)"),
        new("kubeconfig", "the kubeconfig file kubectl reads (relative to incidentops.yml)"),
    ];
    public IReadOnlyList<CliTool> Tools { get; } = [Kubectl];
    public string TargetParameter => "-Deployment";

    public ProviderConfigKey? MissingKey(ServiceTarget service) => service.Deployment is null ? ConfigKeys[0] with { Example = service.Service } : null;

    public void Check(AppTarget target)
    {
        TargetNames.Check("-Deployment", target.Deployment, TargetNames.KubernetesName);
        TargetNames.Check("-Component", target.Component, TargetNames.Token);
        if (target.Deployment is null) throw PlatformRegistry.Incomplete(target, "-Deployment");
    }

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) => new KubernetesAdapter(target, c.Runner, c.Timeout, c.Sink);
}
