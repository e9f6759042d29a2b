using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The Fly identity of an app target, read from its options (keyed by parameter name): the app flyctl -a names.
/// </summary>
public sealed record FlyOptions(string? App)
{
    /// <summary>-App, and the target option that carries it (config key app).</summary>
    public const string AppKey = "App";

    public static FlyOptions Of(IReadOnlyDictionary<string, string> options) => new(options.GetValueOrDefault(AppKey));

    public static FlyOptions Of(AppTarget target) => Of(target.Options);

    /// <summary>The app name is a Fly app name, and there is one; throws IncidentOpsException.</summary>
    public void Check(AppTarget target)
    {
        TargetNames.Check("-App", App, TargetNames.FlyApp);
        if (App is null) throw PlatformRegistry.Incomplete(target, "-App");
    }
}
