using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The DigitalOcean App Platform identity of an app target, read from its options (keyed by parameter name): the app
/// id and, optionally, one component (service or worker) of it.
/// </summary>
public sealed record DigitalOceanOptions(string? AppId, string? Component)
{
    /// <summary>-AppId, and the target option that carries it (config key appId, resolved).</summary>
    public const string AppIdKey = "AppId";
    /// <summary>-Component: one service or worker of the app.</summary>
    public const string ComponentKey = "Component";

    public static DigitalOceanOptions Of(IReadOnlyDictionary<string, string> options) =>
        new(options.GetValueOrDefault(AppIdKey), options.GetValueOrDefault(ComponentKey));

    public static DigitalOceanOptions Of(AppTarget target) => Of(target.Options);

    /// <summary>The app id and component are names doctl takes, and there is an app id; throws IncidentOpsException.</summary>
    public void Check(AppTarget target)
    {
        TargetNames.Check("-AppId", AppId, TargetNames.DigitalOceanId);
        TargetNames.Check("-Component", Component, TargetNames.DigitalOceanComponent);
        if (AppId is null) throw PlatformRegistry.Incomplete(target, "-AppId");
    }
}
