using System.Globalization;
using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;

namespace IncidentOps.Engine.Tunnels;

/// <summary>
/// What a tunnel is: its kind and names (from postgres.tunnel / redis.tunnel, with the service's namespace, context and
/// kubeconfig as defaults) and the far end (host and port of the database). Equal specs share one open tunnel.
/// </summary>
public sealed record TunnelSpec(TunnelKind Kind, string Target, string? Namespace, string? Context, string? Kubeconfig,
    string RemoteHost, int RemotePort, string? User, string? Identity, int? Port, string? ToolPath,
    string? KubeCluster = null, string? KubeUser = null, string? KubeconfigFiles = null)
{
    /// <summary>
    /// A kubectl tunnel pinned as App targets are (KubeconfigDefaults): a context, namespace or kubeconfig the
    /// configuration leaves out is filled from kubectl's defaults now, and a $KUBECONFIG list pins the context's cluster,
    /// user and the list itself. Without it, kubectl port-forward would take whatever context is current when the
    /// tunnel opens, so 'kubectl config use-context staging' between two commands sent the second one's SQL to the
    /// other cluster's database behind the same service name. Other kinds, and a kubeconfig that cannot be read, stay as given.
    /// </summary>
    public TunnelSpec Pinned()
    {
        if (Kind != TunnelKind.Kubectl) return this;
        var given = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (Context is not null) given[KubernetesOptions.ContextKey] = Context;
        if (Namespace is not null) given[KubernetesOptions.NamespaceKey] = Namespace;
        if (Kubeconfig is not null) given[KubernetesOptions.KubeconfigKey] = Kubeconfig;
        var o = KubeconfigDefaults.Pin(given);
        return this with { Context = o.Context, Namespace = o.Namespace, Kubeconfig = o.Kubeconfig, KubeCluster = o.Cluster, KubeUser = o.User, KubeconfigFiles = o.KubeconfigFiles };
    }

    /// <summary>The kubectl settings as App targets carry them, so a tunnel passes them to kubectl the same way.</summary>
    internal KubernetesOptions Kube => new(null, null, null, Namespace, Context, Kubeconfig, null) { Cluster = KubeCluster, User = KubeUser, KubeconfigFiles = KubeconfigFiles };

    /// <summary>The environment kubectl gets: KUBECONFIG set to a pinned list of files, or nothing.</summary>
    public IReadOnlyDictionary<string, string>? Environment => Kind == TunnelKind.Kubectl ? Kube.Environment : null;

    /// <summary>Builds the spec of a configured tunnel for a database at host:port (the connection string's).</summary>
    public static TunnelSpec From(TunnelConfig tunnel, ServiceTarget? service, string host, int port) => new(
        tunnel.Kind, tunnel.Target,
        tunnel.Kind == TunnelKind.Kubectl ? tunnel.Namespace ?? service?.Namespace : null,
        tunnel.Kind == TunnelKind.Kubectl ? tunnel.Context ?? service?.Context : null,
        tunnel.Kind == TunnelKind.Kubectl ? tunnel.Kubeconfig ?? service?.Kubeconfig : null,
        tunnel.RemoteHost ?? (tunnel.Kind == TunnelKind.Fly ? "" : host),
        tunnel.RemotePort ?? port,
        tunnel.User, tunnel.Identity, tunnel.Port, tunnel.ToolPath);

    /// <summary>
    /// The cluster a pinned kubectl tunnel goes through ("kubectl context 'blue' (cluster 'blue', namespace 'db')"), carried
    /// by the records read through it (PgActivity.Route, PgIndex.Route): host:port/database names the far end, the same in
    /// every cluster that has the service, so a record read in one context must not be acted on through another. Null for
    /// other kinds and for a kubectl tunnel whose context could not be pinned (no kubeconfig). It names the kubeconfig
    /// file (or the $KUBECONFIG list) as pinned, full paths: two kubeconfig files can each have a context of the same
    /// name pointing at different clusters, and a record read through one must not be acted on through the other.
    /// </summary>
    public string? Route => Kind == TunnelKind.Kubectl && Context is not null
        ? $"kubectl context '{Context}' ({KubeconfigShown}{(KubeCluster is null ? "" : $"cluster '{KubeCluster}', ")}namespace '{Namespace ?? "default"}')"
        : null;

    private string KubeconfigShown =>
        Kubeconfig is { Length: > 0 } file ? $"kubeconfig '{Path.GetFullPath(file)}', "
        : KubeconfigFiles is { Length: > 0 } list ? $"kubeconfig '{list}', "
        : "";

    /// <summary>The CLI's name (for messages, install hints and tools: paths).</summary>
    public string Tool => Kind switch { TunnelKind.Kubectl => "kubectl", TunnelKind.Fly => "flyctl", _ => "ssh" };

    /// <summary>Short description for the timeline and messages: "kubectl port-forward svc/postgres -n akaind-platform".</summary>
    public string Description => Kind switch
    {
        TunnelKind.Kubectl => $"kubectl port-forward {Target}" + (Namespace is null ? "" : $" -n {Namespace}") + (Context is null ? "" : $" --context {Context}"),
        TunnelKind.Fly => $"flyctl proxy -a {Target}",
        _ => $"ssh -L through {(User is null ? "" : User + "@")}{Target} to {RemoteHost}:{RemotePort.ToString(CultureInfo.InvariantCulture)}",
    };

    public override string ToString() => Description;
}

/// <summary>
/// Builds a tunnel's argument list (never a shell string), after checking every name for its kind: nothing a user or
/// incidentops.yml wrote can reach the CLI as an option (the same rule as <see cref="TargetNames"/>), and a '--' ends
/// the options of kubectl and ssh before the first name they read as a positional argument.
/// </summary>
public static partial class TunnelCommand
{
    /// <summary>kubectl port-forward's TYPE/NAME: a pod, service or workload, never an option or a path.</summary>
    public static readonly TargetNames.Kind PortForwardTarget = new("kubectl port-forward target", PortForwardPattern(), 253 + 16,
        "TYPE/NAME with TYPE one of pod, svc, service, deploy, deployment, sts, statefulset, rs, replicaset and a DNS-1123 name (svc/postgres, pod/postgres-0), or a pod name");
    /// <summary>The database host as the bastion (ssh) or Fly's network (flyctl proxy) resolves it.</summary>
    public static readonly TargetNames.Kind RemoteHost = new("tunnel remote host", RemoteHostPattern(), 253,
        "a hostname or an IP address (db.internal, 10.0.0.5, [fd00::5]), not starting with '-'");
    /// <summary>An ssh login user.</summary>
    public static readonly TargetNames.Kind SshUser = new("ssh user", SshUserPattern(), 64,
        "letters, digits and . _ -, starting with a letter, digit or '_'");
    /// <summary>A file path handed to a CLI as an option's value (identity file, kubeconfig).</summary>
    public static readonly TargetNames.Kind FilePath = new("file path", FilePathPattern(), 4096,
        "a file path that does not start with '-' and has no line breaks");

    /// <summary>The address every tunnel listens on: loopback only, never a reachable interface.</summary>
    public const string Loopback = "127.0.0.1";

    /// <summary>Checks the spec's names; AppTargetInvalidName (nothing was run) for the first that is not of its kind.</summary>
    public static void Validate(TunnelSpec spec)
    {
        const string w = "the tunnel's";
        switch (spec.Kind)
        {
            case TunnelKind.Kubectl:
                TargetNames.Check("kubectl", spec.Target, PortForwardTarget, $"{w} kubectl target");
                TargetNames.Check("namespace", spec.Namespace, TargetNames.KubernetesNamespace, $"{w} namespace");
                TargetNames.Check("context", spec.Context, TargetNames.KubeContext, $"{w} context");
                TargetNames.Check("kubeconfig", spec.Kubeconfig, FilePath, $"{w} kubeconfig");
                break;
            case TunnelKind.Fly:
                TargetNames.Check("fly", spec.Target, TargetNames.FlyApp, $"{w} Fly app");
                if (spec.RemoteHost.Length > 0) TargetNames.Check("remoteHost", spec.RemoteHost, RemoteHost, $"{w} remoteHost");
                break;
            default:
                TargetNames.Check("ssh", spec.Target, TargetNames.SshHost, $"{w} ssh host");
                TargetNames.Check("user", spec.User, SshUser, $"{w} ssh user");
                TargetNames.Check("identity", spec.Identity, FilePath, $"{w} identity file");
                TargetNames.Check("remoteHost", spec.RemoteHost, RemoteHost, $"{w} remote host");
                if (spec.Port is { } p && p is < 1 or > 65535) throw PortInvalid("port", p);
                break;
        }
        if (spec.RemotePort is < 1 or > 65535) throw PortInvalid("remotePort", spec.RemotePort);
    }

    private static IncidentOpsException PortInvalid(string key, int value) =>
        new(TargetNames.ErrorId, IncidentOpsErrorCategory.InvalidArgument, $"The tunnel's {key} {value} is not a port from 1 to 65535. Nothing was run.");

    /// <summary>
    /// True when the CLI picks the local port itself and prints it (kubectl port-forward :REMOTE prints "Forwarding from
    /// 127.0.0.1:N -> REMOTE"; flyctl proxy 0:REMOTE prints "Proxying localhost:N to remote ..."): nothing else can take
    /// the port between its choice and the bind, because the CLI binds it in one step. ssh -L cannot do that (a 0 there
    /// means a port chosen on the far side only for -R), so IncidentOps picks ssh's port and checks who listens on it.
    /// </summary>
    public static bool CliChoosesPort(TunnelKind kind) => kind is TunnelKind.Kubectl or TunnelKind.Fly;

    /// <summary>The argument list that forwards 127.0.0.1:<paramref name="localPort"/> to the spec's far end (validated first).</summary>
    public static IReadOnlyList<string> Arguments(TunnelSpec spec, int localPort) => Arguments(spec, localPort.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// The argument list the tunnel is opened with: kubectl and flyctl choose their own port (<see cref="CliChoosesPort"/>),
    /// ssh gets <paramref name="sshLocalPort"/> as written (-WhatIf shows "&lt;free loopback port&gt;").
    /// </summary>
    public static IReadOnlyList<string> OpenArguments(TunnelSpec spec, string sshLocalPort) =>
        Arguments(spec, spec.Kind switch { TunnelKind.Kubectl => "", TunnelKind.Fly => "0", _ => sshLocalPort });

    /// <summary>The argument list with <paramref name="localPort"/> as written ("" for kubectl's own choice, "0" for flyctl's).</summary>
    public static IReadOnlyList<string> Arguments(TunnelSpec spec, string localPort)
    {
        Validate(spec);
        var remote = spec.RemotePort.ToString(CultureInfo.InvariantCulture);
        var args = new List<string>();
        switch (spec.Kind)
        {
            case TunnelKind.Kubectl:
                // kubectl [--kubeconfig K] [--context C] [--cluster C --user U] [--namespace N] port-forward --address 127.0.0.1 -- TYPE/NAME [LOCAL]:REMOTE
                args.AddRange(spec.Kube.ClusterArguments());
                if (spec.Namespace is not null) args.AddRange(["--namespace", spec.Namespace]);
                args.AddRange(["port-forward", "--address", Loopback, "--", spec.Target, $"{localPort}:{remote}"]);
                break;
            case TunnelKind.Fly:
                // flyctl proxy LOCAL:REMOTE [remote_host] --app APP --bind-addr 127.0.0.1 (LOCAL 0: flyctl picks and prints it)
                args.AddRange(["proxy", $"{localPort}:{remote}"]);
                if (spec.RemoteHost.Length > 0) args.Add(spec.RemoteHost);
                args.AddRange(["--app", spec.Target, "--bind-addr", Loopback]);
                break;
            default:
                // ssh -N -o ExitOnForwardFailure=yes -o ControlMaster=no -o ControlPath=none -o BatchMode=yes [-i ID] [-p PORT] [-l USER]
                //     -L 127.0.0.1:LOCAL:HOST:PORT -- [user@]bastion
                // ExitOnForwardFailure: a local port someone else took makes ssh exit rather than stay up forwarding
                // nothing. ControlMaster=no/ControlPath=none: the listener is in this ssh process, not in a shared
                // master of the user's ssh_config, so its ownership can be checked (TunnelProcess).
                args.AddRange(["-N", "-o", "ExitOnForwardFailure=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "BatchMode=yes"]);
                if (spec.Identity is not null) args.AddRange(["-i", spec.Identity]);
                if (spec.Port is { } p) args.AddRange(["-p", p.ToString(CultureInfo.InvariantCulture)]);
                if (spec.User is not null) args.AddRange(["-l", spec.User]);
                var host = spec.RemoteHost.Contains(':') && !spec.RemoteHost.StartsWith('[') ? $"[{spec.RemoteHost}]" : spec.RemoteHost;
                args.AddRange(["-L", $"{Loopback}:{localPort}:{host}:{remote}", "--", spec.Target]);
                break;
        }
        return args;
    }

    /// <summary>The command line a user would type (for -WhatIf and messages), with ssh's local port as written.</summary>
    public static string CommandLine(TunnelSpec spec, string sshLocalPort) =>
        new CliCommand(spec.Tool, spec.Tool, OpenArguments(spec, sshLocalPort)) { Environment = spec.Environment }.CommandLine;

    [GeneratedRegex(@"^(?:(?:pods?|svc|services?|deploy|deployments?|sts|statefulsets?|rs|replicasets?)/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z")]
    private static partial Regex PortForwardPattern();

    [GeneratedRegex(@"^(?:[A-Za-z0-9_][A-Za-z0-9._-]*|\[?[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*\]?)\z")]
    private static partial Regex RemoteHostPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._-]*\z")]
    private static partial Regex SshUserPattern();

    [GeneratedRegex(@"^[^-\r\n\0][^\r\n\0]*\z")]
    private static partial Regex FilePathPattern();
}
