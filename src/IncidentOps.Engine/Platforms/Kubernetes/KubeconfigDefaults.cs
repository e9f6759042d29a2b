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
public static class KubeconfigDefaults
{
    /// <summary>The target with its kubeconfig, context and namespace filled from kubectl's defaults where it gives none.</summary>
    public static AppTarget Pin(AppTarget target)
    {
        var o = KubernetesOptions.Of(target);
        if (o.Context is not null && o.Namespace is not null && o.Kubeconfig is not null) return target;
        var files = Files(o.Kubeconfig);
        if (files.Count == 0) return target;
        string? current = null;
        var namespaces = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (Read(file) is not YamlMappingNode root) continue;
            // kubectl merges the files: the first to set current-context wins, and so does the first to define a context.
            current ??= Scalar(root, "current-context") is { Length: > 0 } c ? c : null;
            if (Child(root, "contexts") is YamlSequenceNode contexts)
                foreach (var entry in contexts.OfType<YamlMappingNode>())
                    if (Scalar(entry, "name") is { Length: > 0 } name && !namespaces.ContainsKey(name))
                        namespaces[name] = Child(entry, "context") is YamlMappingNode ctx ? Scalar(ctx, "namespace") : null;
        }
        var context = o.Context ?? current;
        if (context is null || !namespaces.TryGetValue(context, out var contextNamespace)) return target;
        var options = new Dictionary<string, string>(target.Options, StringComparer.OrdinalIgnoreCase)
        {
            [KubernetesOptions.ContextKey] = context,
            [KubernetesOptions.NamespaceKey] = o.Namespace ?? (string.IsNullOrEmpty(contextNamespace) ? "default" : contextNamespace),
        };
        // --kubeconfig takes one file: a $KUBECONFIG list is pinned by its context alone.
        if (o.Kubeconfig is null && files.Count == 1) options[KubernetesOptions.KubeconfigKey] = files[0];
        var pinned = new AppTarget { Platform = target.Platform, Service = target.Service, Environment = target.Environment, Health = target.Health, Options = options };
        // A name kubectl could not take (a context named like an option) is not pinned: the target stays as given.
        try { KubernetesOptions.Of(pinned).Check(pinned); }
        catch (IncidentOpsException) { return target; }
        return pinned;
    }

    /// <summary>The kubeconfig files kubectl reads: the one given, else each of $KUBECONFIG, else ~/.kube/config; those that exist.</summary>
    private static List<string> Files(string? given)
    {
        if (given is not null) return File.Exists(given) ? [given] : [];
        var env = System.Environment.GetEnvironmentVariable("KUBECONFIG");
        var list = string.IsNullOrEmpty(env)
            ? [Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".kube", "config")]
            : env.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        return list.Where(File.Exists).ToList();
    }

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
