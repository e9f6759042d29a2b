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


    public void Check(AppTarget target) => FlyOptions.Of(target).Check(target);

    public IPlatformAdapter Open(AppTarget target, ProviderContext c) => new FlyAdapter(target, c.Runner, c.Timeout, c.Sink);

    public string TargetName(AppTarget target) => FlyOptions.Of(target).App ?? "";
}
