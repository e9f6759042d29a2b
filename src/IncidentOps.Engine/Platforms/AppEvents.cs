using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>Filters of Get-AppEvent: events last seen within Since, of one Type (Normal or Warning).</summary>
public sealed record EventQuery(TimeSpan? Since = null, string? Type = null)
{
    /// <summary>The types an event can have (core/v1 Event.type).</summary>
    public static readonly string[] Types = ["Normal", "Warning"];

    /// <summary>-Type as the API spells it (Warning for warning); the cmdlet's ValidateSet admits only these two.</summary>
    public static string? NormalizeType(string? type) =>
        type is null ? null : Types.FirstOrDefault(t => string.Equals(t, type.Trim(), StringComparison.OrdinalIgnoreCase)) ?? type;
}

/// <summary>An adapter whose platform keeps events about the app and its instances (Kubernetes Events).</summary>
public interface IPlatformEvents
{
    /// <summary>The events of the workload and its instances, oldest first.</summary>
    Task<IReadOnlyList<AppEvent>> GetEventsAsync(EventQuery query, CancellationToken cancellationToken);
}

/// <summary>A platform provider whose adapters implement <see cref="IPlatformEvents"/> (the app-events evidence source asks it).</summary>
public interface IPlatformEventsProvider;
