using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Every name a user (or incidentops.yml) hands to a platform CLI is checked for its kind before any CLI runs. A
/// value that is not a name of that kind (statefulset/postgres as a deployment, --server=http://... as anything,
/// -oProxyCommand=... as an ssh host) is refused with AppTargetInvalidName, so it can never be read as an option
/// or a different object by flyctl, doctl, kubectl, systemctl or ssh.
/// </summary>
public static partial class TargetNames
{
    public const string ErrorId = "AppTargetInvalidName";

    public sealed record Kind(string Name, Regex Pattern, int MaxLength, string Rule);

    // DNS-1123 subdomain (Deployment names) and label (namespaces), as Kubernetes validates them.
    public static readonly Kind KubernetesName = new("Kubernetes deployment name", Dns1123Subdomain(), 253,
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123); -Deployment takes the name of a Deployment, not kind/name (a StatefulSet or DaemonSet goes in -StatefulSet or -DaemonSet, statefulSet: or daemonSet: in incidentops.yml)");
    public static readonly Kind KubernetesStatefulSet = new("Kubernetes StatefulSet name", Dns1123Subdomain(), 253,
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123): the StatefulSet's name alone, not statefulset/NAME");
    public static readonly Kind KubernetesDaemonSet = new("Kubernetes DaemonSet name", Dns1123Subdomain(), 253,
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123): the DaemonSet's name alone, not daemonset/NAME");
    public static readonly Kind KubernetesPod = new("Kubernetes pod name", Dns1123Subdomain(), 253,
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123): a pod name as Get-AppStatus lists it (Instances.Id)");
    public static readonly Kind KubernetesNamespace = new("Kubernetes namespace", Dns1123Label(), 63,
        "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (DNS-1123 label)");
    public static readonly Kind KubeContext = new("kubectl context", ContextPattern(), 253,
        "a context name from your kubeconfig: letters, digits and . _ : / @ -, not starting with '-'");
    public static readonly Kind DoctlContext = new("doctl auth context", ContextPattern(), 253,
        "a context name from 'doctl auth list': letters, digits and . _ : / @ -, not starting with '-'");
    public static readonly Kind FlyApp = new("Fly app name", FlyAppPattern(), 63,
        "lowercase letters, digits and '-', starting with a letter or digit");
    // DigitalOcean ids are UUIDs; letters, digits and '-' are accepted so that no id can carry an option, a path
    // segment or a query into doctl or the API URL.
    public static readonly Kind DigitalOceanId = new("DigitalOcean id", IdPattern(), 64,
        "letters, digits and '-', starting with a letter or digit: a UUID such as 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30 (doctl apps list / doctl databases list)");
    public static readonly Kind DigitalOceanComponent = new("DigitalOcean component name", FlyAppPattern(), 63,
        "lowercase letters, digits and '-', starting with a letter or digit");
    public static readonly Kind SystemdUnit = new("systemd unit name", UnitPattern(), 256,
        "letters, digits and : _ . @ - \\, not starting with '-' (fastapi, fastapi.service, worker@2.service)");
    public static readonly Kind SshHost = new("ssh host", SshHostPattern(), 255,
        "host or user@host (a hostname, an ssh_config alias, or an IP address), not starting with '-'");
    public static readonly Kind Token = new("name", TokenPattern(), 253,
        "letters, digits and . _ -, starting with a letter or digit");

    /// <summary>Throws AppTargetInvalidName when a non-null value is not a name of the kind.</summary>
    public static void Check(string parameter, string? value, Kind kind, string? where = null)
    {
        if (value is null) return;
        if (Error(parameter, value, kind, where) is { } message)
            throw new IncidentOpsException(ErrorId, IncidentOpsErrorCategory.InvalidArgument, message) { TargetObject = value };
    }

    /// <summary>The message for a value that is not a name of the kind, or null when it is one.</summary>
    public static string? Error(string parameter, string value, Kind kind, string? where = null)
    {
        if (value.Length > 0 && value.Length <= kind.MaxLength && kind.Pattern.IsMatch(value)) return null;
        var shown = value.Length > 80 ? value[..80] + "…" : value;
        return $"{where ?? parameter} '{shown}' is not a valid {kind.Name}: use {kind.Rule}. Nothing was run.";
    }

    /// <summary>
    /// Checks the names an App target may carry beyond the one that names its app (a namespace, a context, a host), by
    /// the rule of the provider key that declares each, whatever the target's platform: values travel into objects and
    /// back into commands. A path key (kubeconfig) must not read as an option. Its provider checks the rest.
    /// </summary>
    public static void CheckCommon(AppTarget t)
    {
        foreach (var key in PlatformRegistry.Platforms.SelectMany(p => p.ConfigKeys).Where(k => k is { Required: false, Parameter: not null }).DistinctBy(k => k.Parameter))
        {
            var value = t.Option(key.Parameter!);
            if (key.NameKind is { } kind) Check("-" + key.Parameter, value, kind);
            else if (key.Type == ConfigKeyType.Path) Check("-" + key.Parameter, value is { Length: > 0 } && value[0] == '-' ? value : null, Token);
        }
    }

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\z")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._:/@-]*\z")]
    private static partial Regex ContextPattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]*\z")]
    private static partial Regex FlyAppPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9-]*\z")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_:.@\\][A-Za-z0-9_:.@\\-]*\z")]
    private static partial Regex UnitPattern();

    [GeneratedRegex(@"^(?:[A-Za-z0-9_][A-Za-z0-9._-]*@)?(?:[A-Za-z0-9_][A-Za-z0-9._-]*|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)\z")]
    private static partial Regex SshHostPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*\z")]
    private static partial Regex TokenPattern();
}
