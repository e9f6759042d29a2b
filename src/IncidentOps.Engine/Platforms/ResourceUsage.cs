using System.Globalization;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>An adapter whose platform reports resource usage (Get-AppResourceUsage, the app-resource-usage evidence).</summary>
public interface IResourceUsageReader
{
    /// <summary>One object per instance, with what the platform really gives; a figure it lacks is null and named in NotAvailable.</summary>
    Task<IReadOnlyList<AppResourceUsage>> GetResourceUsageAsync(CancellationToken cancellationToken);
}

/// <summary>Get-AppResourceUsage: reads an adapter's usage, or says clearly that its platform has none and where to look.</summary>
public sealed class ResourceUsageService
{
    public async Task<IReadOnlyList<AppResourceUsage>> GetAsync(IPlatformAdapter adapter, CancellationToken ct)
    {
        if (adapter is not IResourceUsageReader reader)
            throw new IncidentOpsException(PlatformErrorIds.PlatformOperationNotSupported, IncidentOpsErrorCategory.NotImplemented,
                $"Get-AppResourceUsage is not supported for {adapter.Target}: IncidentOps reads no resource usage from {adapter.Target.Platform}. Use the platform's own monitoring (its dashboard or metrics API).")
            { TargetObject = adapter.Target.ToString() };
        return await reader.GetResourceUsageAsync(ct).ConfigureAwait(false);
    }
}

/// <summary>
/// Kubernetes resource quantities (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/):
/// a number with an optional suffix, binary (Ki Mi Gi Ti Pi Ei), decimal (n u m k M G T P E) or an exponent (1e3).
/// The metrics API writes CPU in nanocores ("250123456n") and memory in Ki ("131072Ki"); specs write "250m", "128Mi", "1".
/// </summary>
public static class Quantity
{
    private static readonly (string Suffix, decimal Factor)[] Suffixes =
    [
        ("Ki", 1024m), ("Mi", 1024m * 1024), ("Gi", 1024m * 1024 * 1024), ("Ti", 1024m * 1024 * 1024 * 1024),
        ("Pi", 1024m * 1024 * 1024 * 1024 * 1024), ("Ei", 1024m * 1024 * 1024 * 1024 * 1024 * 1024),
        ("n", 0.000000001m), ("u", 0.000001m), ("m", 0.001m), ("k", 1000m), ("M", 1000_000m), ("G", 1000_000_000m),
        ("T", 1000_000_000_000m), ("P", 1000_000_000_000_000m), ("E", 1000_000_000_000_000_000m),
    ];

    /// <summary>The value of a quantity, or null when it is empty or not a quantity.</summary>
    public static decimal? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var s = text.Trim();
        // An exponent (1e3, 1E-3) is a number on its own; "E" alone is the exa suffix.
        if (s.IndexOfAny(['e', 'E']) is var e and > 0 && e < s.Length - 1
            && decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var exp)) return exp;
        foreach (var (suffix, factor) in Suffixes)
            if (s.EndsWith(suffix, StringComparison.Ordinal) && decimal.TryParse(s[..^suffix.Length], NumberStyles.Number, CultureInfo.InvariantCulture, out var v))
                return v * factor;
        return decimal.TryParse(s, NumberStyles.Number, CultureInfo.InvariantCulture, out var plain) ? plain : null;
    }

    /// <summary>CPU in cores ("250m" is 0.25, "1" is 1, "250123456n" is 0.250123456).</summary>
    public static double? Cores(string? text) => Parse(text) is { } v ? (double)v : null;

    /// <summary>Memory in bytes ("128Mi" is 134217728, "1G" is 1000000000).</summary>
    public static long? Bytes(string? text) => Parse(text) is { } v ? (long)Math.Ceiling(v) : null;
}
