using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>DigitalOcean App Platform through doctl (and its API for rollback).</summary>
public sealed class DigitalOceanProvider : IPlatformProvider
{
    public static readonly CliTool Doctl = new("doctl", "doctl (https://docs.digitalocean.com/reference/doctl/how-to/install/)", "-DoctlPath");

    /// <summary>DigitalOcean API base address (tests point it at a loopback server with $env:DIGITALOCEAN_API_URL or PlatformsService.DigitalOceanApi).</summary>
    public static Uri DefaultApi
    {
        get
        {
            // Unset or empty: the real API. Anything else must be an http(s) address, or the error says what to do.
            var value = System.Environment.GetEnvironmentVariable("DIGITALOCEAN_API_URL");
            if (string.IsNullOrWhiteSpace(value)) return new Uri("https://api.digitalocean.com/");
            if (Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
            throw new IncidentOpsException(PlatformErrorIds.PlatformApiUrlInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"DIGITALOCEAN_API_URL is '{value}', which is not an http(s) address. Unset it to use https://api.digitalocean.com/, or set it to the API's base address (for example http://127.0.0.1:8080/ for a stand-in).")
            { TargetObject = value };
        }
    }

    public PlatformKind Kind => PlatformKind.DigitalOcean;
    public IReadOnlyList<string> ConfigNames { get; } = ["digitalocean", "do", "app-platform"];
    public IReadOnlyList<ProviderConfigKey> ConfigKeys { get; } =
    [
        new("appId", "the App Platform app id (doctl apps list); env:NAME reads it from the environment", ConfigKeyType.Reference, Required: true, Example: "env:DO_APP_ID", Parameter: DigitalOceanOptions.AppIdKey),
        new("components", "the app's components (services, workers) that Save-IncidentEvidence and -Component may name", ConfigKeyType.NameList, TargetNames.DigitalOceanComponent),
    ];
    public IReadOnlyList<CliTool> Tools { get; } = [Doctl];
    public string TargetParameter => "-AppId";

    /// <summary>The App Platform instance_size_slug values (Set-AppScale -Size completion).</summary>
    public IReadOnlyList<(string Size, string Description)> InstanceSizes { get; } =
    [
        ("apps-s-1vcpu-0.5gb", "1 shared vCPU, 512 MB"),
        ("apps-s-1vcpu-1gb-fixed", "1 shared vCPU, 1 GB (no autoscaling)"),
        ("apps-s-1vcpu-1gb", "1 shared vCPU, 1 GB"),
        ("apps-s-1vcpu-2gb", "1 shared vCPU, 2 GB"),
        ("apps-s-2vcpu-4gb", "2 shared vCPUs, 4 GB"),
        ("apps-d-1vcpu-0.5gb", "1 dedicated vCPU, 512 MB"),
        ("apps-d-1vcpu-1gb", "1 dedicated vCPU, 1 GB"),
        ("apps-d-1vcpu-2gb", "1 dedicated vCPU, 2 GB"),
        ("apps-d-1vcpu-4gb", "1 dedicated vCPU, 4 GB"),
        ("apps-d-2vcpu-4gb", "2 dedicated vCPUs, 4 GB"),
        ("apps-d-2vcpu-8gb", "2 dedicated vCPUs, 8 GB"),
        ("apps-d-4vcpu-8gb", "4 dedicated vCPUs, 8 GB"),
        ("apps-d-4vcpu-16gb", "4 dedicated vCPUs, 16 GB"),
        ("apps-d-8vcpu-32gb", "8 dedicated vCPUs, 32 GB"),
    ];


    /// <summary>-AppId, and -Component (one service or worker; a command-line choice, not a configuration key).</summary>
    public IReadOnlyList<string> Parameters { get; } = [DigitalOceanOptions.AppIdKey, DigitalOceanOptions.ComponentKey];

    public void Check(AppTarget target) => DigitalOceanOptions.Of(target).Check(target);

    /// <summary>
    /// doctl's config file and auth context as doctl would pick them now (DoctlAuth), pinned unless the target carries
    /// them (a piped object). A piped object read with another config file than doctl uses now is refused
    /// (PipelineTargetMismatch): that file's contexts may be another account's.
    /// </summary>
    public AppTarget Pin(AppTarget target)
    {
        var config = DoctlAuth.PinnedConfig();
        var piped = target.Option(DigitalOceanOptions.DoctlConfigKey);
        if (piped is not null && !string.Equals(Path.GetFullPath(piped), config, StringComparison.Ordinal))
            throw DoctlAuth.ConfigMismatch(PlatformRegistry.Describe(target).ToString(), piped, config);
        if (piped is not null && target.Option(DigitalOceanOptions.DoctlContextKey) is not null) return target;
        var options = new Dictionary<string, string>(target.Options, StringComparer.OrdinalIgnoreCase)
        {
            [DigitalOceanOptions.DoctlConfigKey] = config,
            [DigitalOceanOptions.DoctlContextKey] = target.Option(DigitalOceanOptions.DoctlContextKey) ?? DoctlAuth.Context(System.Environment.GetEnvironmentVariable, config),
        };
        return new AppTarget { Platform = target.Platform, Service = target.Service, Environment = target.Environment, Health = target.Health, Options = options };
    }

    /// <summary>
    /// doctl with the config file and auth context doctl would use when the action is planned (DoctlAuth), as
    /// --context and --config after the action's arguments, so -WhatIf names the account and a context or config
    /// switched before it runs does not move it. An action whose arguments choose the account themselves (--context,
    /// --access-token/-t, --config/-c) runs as written.
    /// </summary>
    public CliCommand ActionCommand(ServiceTarget service, string tool, IReadOnlyList<string> args)
    {
        if (tool != Doctl.Name || CliCommand.GivesOption(args, "--context", "--access-token", "-t", "--config", "-c"))
            return new CliCommand(tool, tool, args);
        var config = DoctlAuth.PinnedConfig();
        var context = DoctlAuth.Context(System.Environment.GetEnvironmentVariable, config);
        DoctlAuth.Check(context);
        return DoctlAuth.Command(context, config, args);
    }

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) =>
        new DigitalOceanAdapter(target, c.Runner, c.Timeout, c.Sink, c.Platforms?.DigitalOceanApi ?? DefaultApi);

    // A database target of DigitalOcean (DatabaseAdapterBase) carries its cluster under App when it has no id.
    public string TargetName(AppTarget target) => DigitalOceanOptions.Of(target).AppId ?? target.Option("App") ?? "";

    public string DescribeTarget(AppTarget target)
    {
        var o = DigitalOceanOptions.Of(target);
        var account = o.DoctlContext is null or DoctlAuth.DefaultContext ? "" : $" (doctl context {o.DoctlContext})";
        return $"DigitalOcean app {o.AppId}{(o.Component is null ? "" : "/" + o.Component)}{account}";
    }
}
