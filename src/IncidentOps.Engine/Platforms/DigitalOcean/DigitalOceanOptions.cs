using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The DigitalOcean App Platform identity of an app target, read from its options (keyed by parameter name): the app
/// id and, optionally, one component (service or worker) of it.
/// </summary>
public sealed record DigitalOceanOptions(string? AppId, string? Component)
{
    /// <summary>
    /// doctl's auth context (the account), pinned when the command starts (DoctlAuth.Context) and passed to every doctl
    /// call as --context; the API calls use its token. No parameter gives it: App objects carry it in their Options.
    /// </summary>
    public const string DoctlContextKey = "DoctlContext";

    /// <summary>The pinned doctl auth context, or null (a target built without its provider).</summary>
    public string? DoctlContext { get; init; }

    /// <summary>
    /// doctl's config file (DoctlAuth.ConfigFile, a full path), pinned with the context and passed to every doctl call
    /// as --config; the API calls read the context's token from it. App objects carry it in their Options.
    /// </summary>
    public const string DoctlConfigKey = "DoctlConfig";

    /// <summary>The pinned doctl config file, or null (a target built without its provider).</summary>
    public string? DoctlConfig { get; init; }

    /// <summary>-AppId, and the target option that carries it (config key appId, resolved).</summary>
    public const string AppIdKey = "AppId";
    /// <summary>-Component: one service or worker of the app.</summary>
    public const string ComponentKey = "Component";

    public static DigitalOceanOptions Of(IReadOnlyDictionary<string, string> options) =>
        new(options.GetValueOrDefault(AppIdKey), options.GetValueOrDefault(ComponentKey)) { DoctlContext = options.GetValueOrDefault(DoctlContextKey), DoctlConfig = options.GetValueOrDefault(DoctlConfigKey) };

    public static DigitalOceanOptions Of(AppTarget target) => Of(target.Options);

    /// <summary>The app id and component are names doctl takes, and there is an app id; throws IncidentOpsException.</summary>
    public void Check(AppTarget target)
    {
        TargetNames.Check("-AppId", AppId, TargetNames.DigitalOceanId);
        TargetNames.Check("-Component", Component, TargetNames.DigitalOceanComponent);
        DoctlAuth.Check(DoctlContext);
        if (AppId is null) throw PlatformRegistry.Incomplete(target, "-AppId");
    }
}
