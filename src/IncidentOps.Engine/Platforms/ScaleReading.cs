namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The instance count an app runs before Set-AppScale -Count changes it (<see cref="PlatformsService.ReadInstanceCountAsync"/>):
/// <see cref="Current"/>, or null with <see cref="Unreadable"/> saying why it could not be read.
/// </summary>
/// <remarks>
/// Set-AppScale is medium impact, so most counts run at the default $ConfirmPreference without a question. A large
/// scale-in is not most counts: 10 instances to 1 leaves one to carry the load of ten. Scaling to 0, to less than half
/// of what runs now, or from a count that cannot be read is therefore confirmed as a high-impact change.
/// </remarks>
public sealed record ScaleReading(int? Current, string? Unreadable)
{
    /// <summary>"from 10 to 1 instances", or "to 1 instances (current count unknown)".</summary>
    public string FromTo(int count) => Current is { } n ? $"from {n} to {Instances(count)}" : $"to {Instances(count)} (current count unknown)";

    /// <summary>True when scaling to <paramref name="count"/> is confirmed even at the default $ConfirmPreference.</summary>
    public bool NeedsConfirmation(int count) => count == 0 || Current is not { } n || count * 2 < n;

    /// <summary>The question asked before such a scale of <paramref name="target"/>, saying what it does.</summary>
    public string Question(string target, int count)
    {
        if (count == 0)
            return $"Scale {target} {FromTo(0)}? This stops every instance: the app serves nothing until it is scaled up again.";
        if (Current is not { } n)
            return $"Scale {target} to {Instances(count)}? Its current instance count could not be read ({Unreadable}), so this may remove most of its instances.";
        return $"Scale {target} from {n} to {Instances(count)}? This removes {n - count} of its {n} instances: the {count} left carry all of its traffic.";
    }

    // "from 10 to 1 instances": the plural is of both counts.
    private static string Instances(int n) => $"{n} instances";
}
