using System.Globalization;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Engine.Tunnels;
using YamlDotNet.RepresentationModel;

namespace IncidentOps.Engine.Config;

public static partial class ConfigParser
{
    /// <summary>The keys of postgres.tunnel and redis.tunnel: one of kubectl, fly or ssh, and the settings of that kind.</summary>
    internal static readonly string[] TunnelKeys = ["kubectl", "fly", "ssh", "namespace", "context", "kubeconfig", "remotePort", "remoteHost", "user", "identity", "port"];

    private static readonly Dictionary<TunnelKind, string[]> TunnelKindKeys = new()
    {
        [TunnelKind.Kubectl] = ["kubectl", "namespace", "context", "kubeconfig", "remotePort"],
        [TunnelKind.Fly] = ["fly", "remotePort", "remoteHost"],
        [TunnelKind.Ssh] = ["ssh", "user", "identity", "port", "remotePort", "remoteHost"],
    };

    /// <summary>
    /// tunnel: { kubectl: svc/postgres } | { fly: app } | { ssh: user@bastion, identity: ~/.ssh/key }. Every name is
    /// checked for its kind here (ConfigInvalidName), as it is again before the CLI runs.
    /// </summary>
    private static TunnelConfig? ParseTunnel(Ctx ctx, YamlNode node, string where)
    {
        if (node is not YamlMappingNode m)
        {
            ctx.Error(ConfigErrorIds.ConfigInvalidShape, $"{where} must be a mapping with one of kubectl, fly or ssh (for example: tunnel: {{ kubectl: svc/postgres }}).", node);
            return null;
        }
        var values = new Dictionary<string, (string Value, YamlNode Node)>(StringComparer.Ordinal);
        foreach (var (k, v) in ctx.Entries(m, TunnelKeys, where))
            if (ctx.Scalar(v, k) is { } s) values[k] = (s, v);
        var kinds = new[] { ("kubectl", TunnelKind.Kubectl), ("fly", TunnelKind.Fly), ("ssh", TunnelKind.Ssh) }.Where(x => values.ContainsKey(x.Item1)).ToList();
        if (kinds.Count != 1)
        {
            ctx.Error(kinds.Count == 0 ? ConfigErrorIds.ConfigMissingField : ConfigErrorIds.ConfigInvalidValue,
                $"{where} needs exactly one of kubectl (svc/postgres), fly (a Fly app) or ssh (user@bastion){(kinds.Count > 1 ? $"; it has {string.Join(" and ", kinds.Select(x => x.Item1))}" : "")}.", m);
            return null;
        }
        var (kindKey, kind) = kinds[0];
        foreach (var (k, (_, n)) in values)
            if (!TunnelKindKeys[kind].Contains(k))
                ctx.Error(ConfigErrorIds.ConfigUnknownKey, $"{where}.{k} does not apply to a {kindKey} tunnel. Keys of a {kindKey} tunnel: {string.Join(", ", TunnelKindKeys[kind])}.", n);

        string? Get(string key, TargetNames.Kind nameKind)
        {
            if (!values.TryGetValue(key, out var x)) return null;
            if (TargetNames.Error($"{where}.{key}", x.Value, nameKind, $"{where}.{key}") is { } message)
                ctx.Error(ConfigErrorIds.ConfigInvalidName, message.Replace(" Nothing was run.", "", StringComparison.Ordinal), x.Node);
            return x.Value;
        }
        int? Port(string key)
        {
            if (!values.TryGetValue(key, out var x)) return null;
            if (int.TryParse(x.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535) return p;
            ctx.Error(ConfigErrorIds.ConfigInvalidValue, $"{where}.{key} '{x.Value}' is not a port from 1 to 65535.", x.Node);
            return null;
        }

        var target = Get(kindKey, kind switch { TunnelKind.Kubectl => TunnelCommand.PortForwardTarget, TunnelKind.Fly => TargetNames.FlyApp, _ => TargetNames.SshHost });
        string? Path(string key) => values.TryGetValue(key, out var x) ? (Get(key, TunnelCommand.FilePath) is { } p ? ExpandHome(p) : null) : null;
        return new TunnelConfig
        {
            Kind = kind,
            Target = target ?? "",
            Namespace = Get("namespace", TargetNames.KubernetesNamespace),
            Context = Get("context", TargetNames.KubeContext),
            Kubeconfig = Path("kubeconfig"),
            RemotePort = Port("remotePort"),
            RemoteHost = Get("remoteHost", TunnelCommand.RemoteHost),
            User = Get("user", TunnelCommand.SshUser),
            Identity = Path("identity"),
            Port = Port("port"),
            ToolPath = ctx.Tools?.Get(kind switch { TunnelKind.Kubectl => "kubectl", TunnelKind.Fly => "flyctl", _ => "ssh" }),
            Location = ctx.Loc(m),
        };
    }
}
