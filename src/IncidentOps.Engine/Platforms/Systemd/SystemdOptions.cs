using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The systemd identity of an app target, read from its options (keyed by parameter name): the unit, the host it runs
/// on (ssh user@host; none: this machine) and the releases directory a rollback swaps.
/// </summary>
public sealed record SystemdOptions(string? Unit, string? ComputerName, string? ReleasesPath)
{
    /// <summary>-Unit (config key unit).</summary>
    public const string UnitKey = "Unit";
    /// <summary>-ComputerName (config key host).</summary>
    public const string ComputerNameKey = "ComputerName";
    /// <summary>-ReleasesPath (config key releases).</summary>
    public const string ReleasesPathKey = "ReleasesPath";

    public static SystemdOptions Of(IReadOnlyDictionary<string, string> o) =>
        new(o.GetValueOrDefault(UnitKey), o.GetValueOrDefault(ComputerNameKey), o.GetValueOrDefault(ReleasesPathKey));

    public static SystemdOptions Of(AppTarget target) => Of(target.Options);

    /// <summary>The unit and host are names systemctl and ssh take, and there is a unit; throws IncidentOpsException.</summary>
    public void Check(AppTarget target)
    {
        TargetNames.Check("-Unit", Unit, TargetNames.SystemdUnit);
        TargetNames.Check("-ComputerName", ComputerName, TargetNames.SshHost);
        if (Unit is null) throw PlatformRegistry.Incomplete(target, "-Unit");
    }
}
