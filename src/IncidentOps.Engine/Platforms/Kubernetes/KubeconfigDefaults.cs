using IncidentOps.Config;
using IncidentOps.Platforms;
using YamlDotNet.RepresentationModel;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// What kubectl would take by default for a target that does not name them: the kubeconfig file (--kubeconfig, else
/// $KUBECONFIG, else ~/.kube/config), its current context and that context's namespace. A target is pinned to them when
/// it is built, so every kubectl call of one command, what -WhatIf and the confirmation show, and every object the command
/// writes name one cluster and namespace: a piped object then acts where it was read, even after someone runs
/// 'kubectl config use-context' (which rewrites the shared kubeconfig) or changes $KUBECONFIG. Nothing is pinned when
/// no kubeconfig can be read or it names no current context: kubectl's own defaults then apply, as before.
/// </summary>
/// <remarks>
/// A $KUBECONFIG list of several files cannot go to --kubeconfig (one file). kubectl merges the files (client-go's
/// loader): the first file that sets current-context wins, and a context, cluster or user is taken whole from the first
/// file that defines that name. The context is resolved the same way here, and the target is pinned to it fully: its
/// name, cluster, user and namespace (--context, --cluster, --user, -n) and the list of files itself (KUBECONFIG set for
/// kubectl's process), so neither a later current-context, nor a changed $KUBECONFIG, nor another file defining the
/// context first can send the command to another cluster or user.
/// </remarks>
public static class KubeconfigDefaults
{
    /// <summary>The target with its kubeconfig, context and namespace filled from kubectl's defaults where it gives none.</summary>
    public static AppTarget Pin(AppTarget target) => Pin(target, System.Environment.GetEnvironmentVariable("KUBECONFIG"));

    /// <summary>The target pinned as kubectl would resolve it with $KUBECONFIG = <paramref name="kubeconfigVariable"/>.</summary>
    public static AppTarget Pin(AppTarget target, string? kubeconfigVariable)
    {
        var o = KubernetesOptions.Of(target);
        if (o.Context is not null && o.Namespace is not null && o.Kubeconfig is not null) return target;
        // A target pinned to a merged list already (a piped object) keeps its pin: the files, context, cluster and user it was read with.
        if (o.Kubeconfig is null && o.KubeconfigFiles is not null && o.Context is not null && o.Namespace is not null && o.Cluster is not null) return target;
        var files = o.Kubeconfig is not null ? (File.Exists(o.Kubeconfig) ? [o.Kubeconfig] : [])
            : o.KubeconfigFiles is not null ? List(o.KubeconfigFiles)
            : Files(kubeconfigVariable);
        if (files.Count == 0) return target;
        var merged = o.Kubeconfig is null && (files.Count > 1 || o.KubeconfigFiles is not null);
        string? current = null;
        var contexts = new Dictionary<string, YamlMappingNode?>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (Read(file) is not YamlMappingNode root) continue;
            // kubectl merges the files: the first to set current-context wins, and so does the first to define a context.
            current ??= Scalar(root, "current-context") is { Length: > 0 } c ? c : null;
            if (Child(root, "contexts") is YamlSequenceNode list)
                foreach (var entry in list.OfType<YamlMappingNode>())
                    if (Scalar(entry, "name") is { Length: > 0 } name && !contexts.ContainsKey(name))
                        contexts[name] = Child(entry, "context") as YamlMappingNode;
        }
        var context = o.Context ?? current;
        if (context is null || !contexts.TryGetValue(context, out var entryOf)) return target;
        var contextNamespace = entryOf is null ? null : Scalar(entryOf, "namespace");
        var options = new Dictionary<string, string>(target.Options, StringComparer.OrdinalIgnoreCase)
        {
            [KubernetesOptions.ContextKey] = context,
            [KubernetesOptions.NamespaceKey] = o.Namespace ?? (string.IsNullOrEmpty(contextNamespace) ? "default" : contextNamespace),
        };
        if (merged)
        {
            // --kubeconfig takes one file: a $KUBECONFIG list is pinned by the list, the context and what the context names.
            var cluster = o.Cluster ?? (entryOf is null ? null : Scalar(entryOf, "cluster"));
            // A context without a cluster leaves kubectl nothing to connect to; it is not pinned and kubectl says so.
            if (string.IsNullOrEmpty(cluster)) return target;
            options[KubernetesOptions.ClusterKey] = cluster;
            var user = o.User ?? (entryOf is null ? null : Scalar(entryOf, "user"));
            if (!string.IsNullOrEmpty(user)) options[KubernetesOptions.UserKey] = user;
            options[KubernetesOptions.KubeconfigFilesKey] = string.Join(Path.PathSeparator, files);
        }
        else if (o.Kubeconfig is null) options[KubernetesOptions.KubeconfigKey] = files[0];
        var pinned = new AppTarget { Platform = target.Platform, Service = target.Service, Environment = target.Environment, Health = target.Health, Options = options };
        // A name kubectl could not take (a context named like an option) is not pinned: the target stays as given.
        try { KubernetesOptions.Of(pinned).CheckNames(); }
        catch (IncidentOpsException) { return target; }
        return pinned;
    }

    /// <summary>The options of a configured service's action (Invoke-ServiceAction), pinned the same way as an App target.</summary>
    public static KubernetesOptions Pin(IReadOnlyDictionary<string, string> options) =>
        KubernetesOptions.Of(Pin(new AppTarget { Platform = PlatformKind.Kubernetes, Options = options }));

    /// <summary>
    /// The kubeconfig files kubectl reads without --kubeconfig: each of $KUBECONFIG (in order, once each), else
    /// ~/.kube/config; those that exist, as full paths (kubectl skips a missing one, and one created later must not join).
    /// </summary>
    private static List<string> Files(string? variable) => string.IsNullOrEmpty(variable)
        ? new[] { Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".kube", "config") }.Where(File.Exists).ToList()
        : List(variable);

    private static List<string> List(string variable) =>
        variable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).Where(File.Exists).ToList();

    private static YamlNode? Read(string file)
    {
        try
        {
            using var reader = new StreamReader(file);
            var yaml = new YamlStream();
            yaml.Load(reader);
            return yaml.Documents.Count > 0 ? yaml.Documents[0].RootNode : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException) { return null; }
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    private static string? Scalar(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;
}
