using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>Fly.io apps through flyctl: status, releases, logs, secrets, restart, scale, rollback (redeploy of an older image).</summary>
public sealed class FlyProvider : IPlatformProvider
{
    public static readonly CliTool Flyctl = new("flyctl", "flyctl (https://fly.io/docs/flyctl/install/)", "-FlyctlPath", "flyctl", "fly");

    public PlatformKind Kind => PlatformKind.Fly;
    public IReadOnlyList<string> ConfigNames { get; } = ["fly", "flyio", "fly.io"];
    public IReadOnlyList<ProviderConfigKey> ConfigKeys { get; } = [new("app", "the Fly app name (flyctl -a)", ConfigKeyType.Name, TargetNames.FlyApp, Required: true, Example: "my-fly-app", Parameter: FlyOptions.AppKey)];
    public IReadOnlyList<CliTool> Tools { get; } = [Flyctl];
    public string TargetParameter => "-App";

    /// <summary>The Fly Machine presets of flyctl scale vm (Set-AppScale -Size completion).</summary>
    public IReadOnlyList<(string Size, string Description)> InstanceSizes { get; } =
    [
        ("shared-cpu-1x", "1 shared CPU, 256 MB"),
        ("shared-cpu-2x", "2 shared CPUs, 512 MB"),
        ("shared-cpu-4x", "4 shared CPUs, 1 GB"),
        ("shared-cpu-8x", "8 shared CPUs, 2 GB"),
        ("performance-1x", "1 dedicated CPU, 2 GB"),
        ("performance-2x", "2 dedicated CPUs, 4 GB"),
        ("performance-4x", "4 dedicated CPUs, 8 GB"),
        ("performance-8x", "8 dedicated CPUs, 16 GB"),
        ("performance-16x", "16 dedicated CPUs, 32 GB"),
    ];


    public void Check(AppTarget target) => FlyOptions.Of(target).Check(target);

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) => new FlyAdapter(target, c.Runner, c.Timeout, c.Sink);

    public string TargetName(AppTarget target) => FlyOptions.Of(target).App ?? "";
}
