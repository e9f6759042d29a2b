using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>
/// Base of the App cmdlets: binds a target from a configured service (-Service/-Environment), from a piped
/// ServiceTarget or AppStatus (by property name), or directly (-Platform with -App, -AppId, -Deployment or -Unit).
/// </summary>
public abstract class AppCmdlet : PlatformCmdlet
{
    /// <summary>Configured service name(s) ("environment/service" or the name alone); binds from Get-IncidentOpsService output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Platform of a direct target: Fly, DigitalOcean, Kubernetes or Systemd.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PlatformCompleter))]
    public string? Platform { get; set; }

    /// <summary>Fly.io app name (with -Platform Fly).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? App { get; set; }

    /// <summary>DigitalOcean App Platform app id (with -Platform DigitalOcean); env:NAME reads it from an environment variable. doctl must be logged in (doctl auth init). doctl's config file ($env:DIGITALOCEAN_CONFIG, else doctl/config.yaml under the config directory) and auth context ($env:DIGITALOCEAN_CONTEXT, else the file's current one) are read when the command starts and passed to every doctl call as --config and --context (a piped App object read with another config file is refused: PipelineTargetMismatch); Invoke-Rollback (and Get-AppResourceUsage) on DigitalOcean also call the App Platform API at $env:DIGITALOCEAN_API_URL (default https://api.digitalocean.com/) with that context's token, as doctl picks it ($env:DIGITALOCEAN_ACCESS_TOKEN or the saved access-token for the default context, the auth-contexts entry for another).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? AppId { get; set; }

    /// <summary>DigitalOcean component (service or worker) to act on, or the container for Kubernetes logs.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? Component { get; set; }

    /// <summary>Kubernetes Deployment name (with -Platform Kubernetes).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? Deployment { get; set; }

    /// <summary>Kubernetes StatefulSet name (with -Platform Kubernetes), instead of -Deployment: status, restart, scale, history and rollback act on the StatefulSet and its pods.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? StatefulSet { get; set; }

    /// <summary>Kubernetes DaemonSet name (with -Platform Kubernetes), instead of -Deployment: status, restart, history and rollback act on the DaemonSet and its pods (a DaemonSet cannot be scaled).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? DaemonSet { get; set; }

    /// <summary>Kubernetes namespace; defaults to the context's namespace.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? Namespace { get; set; }

    /// <summary>kubectl context; defaults to the kubeconfig's current context, read when the command starts and then passed to every kubectl call (with that context's namespace and the kubeconfig file), so -WhatIf names the cluster and the objects written act on it even after 'kubectl config use-context'. With a $KUBECONFIG list of several files, the context is resolved as kubectl merges them and kubectl also gets its --cluster and --user and KUBECONFIG set to that list.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? Context { get; set; }

    /// <summary>kubeconfig file for kubectl (passed as --kubeconfig); overrides the service's kubeconfig setting. Default: $KUBECONFIG or ~/.kube/config.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Kubeconfig { get; set; }

    /// <summary>systemd unit name (with -Platform Systemd).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? Unit { get; set; }

    /// <summary>Host to run systemctl/journalctl and the release listing and swap on, through ssh -o BatchMode=yes (user@host). Omit for this machine.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(AppTargetValueCompleter))]
    public string? ComputerName { get; set; }

    /// <summary>systemd releases directory holding one directory per release and a 'current' symlink; with -ComputerName, an absolute path on that host.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ReleasesPath { get; set; }

    /// <summary>Path of kubectl when it is not on PATH (overrides tools.kubectl).</summary>
    [Parameter]
    public string? KubectlPath { get; set; }

    /// <summary>Path of systemctl (overrides tools.systemctl).</summary>
    [Parameter]
    public string? SystemctlPath { get; set; }

    /// <summary>Path of journalctl (overrides tools.journalctl).</summary>
    [Parameter]
    public string? JournalctlPath { get; set; }

    /// <summary>Path of ssh, used with -ComputerName (overrides tools.ssh).</summary>
    [Parameter]
    public string? SshPath { get; set; }

    protected override IReadOnlyList<string> IdentityParameters { get; } =
        ["Service", "Environment", "Platform", "App", "AppId", "Component", "Deployment", "StatefulSet", "DaemonSet", "Namespace", "Context", "Kubeconfig", "Unit", "ComputerName", "ReleasesPath"];

    /// <summary>Writes an App object stamped with the identity of the target it came from, so it pipes into a change on that target.</summary>
    protected void WriteApp(AppIdentity item, AppTarget target)
    {
        item.SetOrigin(target);
        // Its instances come back on Tab for Restart-App -Pod and Get-AppLog -Instance (no network call at completion).
        if (item is AppStatus status) AppInstanceCompleter.Remember(status);
        WriteObject(item);
    }

    /// <summary>The targets of this pipeline input: direct parameters, or configured services.</summary>
    protected IEnumerable<(AppTarget Target, IPlatformAdapter Adapter)> Targets()
    {
        if (!PipedOriginAgrees("app object")) yield break;
        // The parameters stay static (tab completion, help); the platform's provider maps them to a target and names it.
        var targets = new List<AppTarget>();
        var platform = ParsePlatform(Platform);
        if (platform != PlatformKind.None)
            // A piped object whose pinned account cannot be used (doctl's config file changed) is refused for this record only.
            TryAdd(targets, () => PlatformRegistry.Target(platform, WithPipedOptions(new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                ["Service"] = Label(Service?.FirstOrDefault()), ["Environment"] = Environment, ["App"] = App, ["AppId"] = ResolveRef(AppId, "-AppId"),
                ["Component"] = Component, ["Deployment"] = Deployment, ["StatefulSet"] = StatefulSet, ["DaemonSet"] = DaemonSet, ["Namespace"] = Namespace,
                ["Context"] = Context, ["Kubeconfig"] = ResolveLocalPath(Kubeconfig), ["Unit"] = Unit, ["ComputerName"] = ComputerName,
                // A remote releases path is the remote host's; only a local one is resolved against the current location.
                ["ReleasesPath"] = ReleasesPath is null || ComputerName is not null ? ReleasesPath : ResolvePath(ReleasesPath),
            })));
        else if (Service is { Length: > 0 })
            foreach (var s in ResolveServices(Environment, Service))
            {
                var overrides = new Dictionary<string, string?>
                {
                    ["Component"] = Component, ["Namespace"] = Namespace, ["Context"] = Context, ["Kubeconfig"] = ResolveLocalPath(Kubeconfig), ["ComputerName"] = ComputerName,
                    ["ReleasesPath"] = ReleasesPath is null ? null : (ComputerName ?? s.ComputerName) is null ? ResolvePath(ReleasesPath) : ReleasesPath,
                };
                if (!TryInvoke(ct => AppTargets.FromServiceAsync(s, Engine.References.ResolveAsync, ct, overrides), out var values, s.FullName)) continue;
                targets.Add(PlatformRegistry.Target(s.Platform, values, s.Health));
            }
        else
            ThrowInputError(PlatformErrorIds.AppTargetMissing, "No app given. Pass -Service NAME (a configured service), pipe Get-IncidentOpsService, or give -Platform with -App, -AppId, -Deployment (-StatefulSet, -DaemonSet) or -Unit.", null);

        foreach (var t in targets)
        {
            IPlatformAdapter? adapter = null;
            try { adapter = OpenAdapter(t); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, t.ToString())); }
            if (adapter is not null) yield return (t, adapter);
        }
    }

    private void TryAdd(List<AppTarget> targets, Func<AppTarget> build)
    {
        try { targets.Add(build()); }
        catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, InputObject?.ToString())); }
    }

    /// <summary>
    /// The values of the named parameters, completed by the piped object's platform identity for every key no named
    /// parameter gave: an App object's options (GetOptions(), so a key no named property has still addresses the app it
    /// came from), or the Options property of another object (a configured service's settings, a custom object's table).
    /// </summary>
    private Dictionary<string, string?> WithPipedOptions(Dictionary<string, string?> values)
    {
        var piped = InputObject?.BaseObject is AppIdentity app ? app.GetOptions() : InputObject?.Properties["Options"]?.Value;
        foreach (var (key, value) in AppTargets.FromPiped(piped is PSObject p ? p.BaseObject : piped))
            if (!values.TryGetValue(key, out var given) || given is null) values[key] = value;
        return values;
    }

    private IPlatformAdapter OpenAdapter(AppTarget t) => Engine.Platforms.Open(t, GivenToolPaths(), Config.Tools, Timeout);
}
