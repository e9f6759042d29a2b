namespace IncidentOps.Config;

/// <summary>
/// The `alerting` section of incidentops.yml: the rules Invoke-ServiceAlert (and Watch-ServiceHealth -Alert) apply.
/// Keys at the top are the defaults of every service; `services` overrides them per service
/// (keyed by environment/service, or by the service name alone for every environment that has it).
/// </summary>
public sealed class AlertingConfig
{
    /// <summary>The defaults (the keys at the top of the section).</summary>
    public AlertRule Defaults { get; init; } = new();
    /// <summary>Overrides per service, keyed as written (production/api or api).</summary>
    public IReadOnlyDictionary<string, AlertRule> Services { get; init; } = new Dictionary<string, AlertRule>(StringComparer.OrdinalIgnoreCase);
    public override string ToString() => $"alerting: {Services.Count} service rule(s)";
}

/// <summary>One set of alerting rules; a null member takes the default (then the built-in value).</summary>
public sealed class AlertRule
{
    /// <summary>Consecutive failed checks that declare an incident (built-in: 3).</summary>
    public int? FailureThreshold { get; init; }
    /// <summary>Consecutive healthy checks that count as recovered (built-in: 2).</summary>
    public int? SuccessThreshold { get; init; }
    /// <summary>Severity of the declared incident (built-in: the second most severe level, P1 in the default P0–P3 matrix).</summary>
    public string? Severity { get; init; }
    /// <summary>Channels the updates go to; null: the severity's routing.</summary>
    public string[]? Channels { get; init; }
    /// <summary>Resolve the incident after this long without a failure once recovered; null or zero: off (a person resolves).</summary>
    public TimeSpan? AutoResolveAfter { get; init; }
    /// <summary>Evidence sources captured at declaration (the failing health results are always captured).</summary>
    public string[]? Evidence { get; init; }
    public ConfigLocation? Location { get; init; }

    /// <summary>The settings this rule sets ("failures 5, P2, channels ops+status"); "built-in defaults" when it sets none.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (FailureThreshold is { } f) parts.Add($"failures {f}");
        if (SuccessThreshold is { } r) parts.Add($"recoveries {r}");
        if (Severity is { } s) parts.Add(s);
        if (Channels is { Length: > 0 } c) parts.Add($"channels {string.Join('+', c)}");
        if (AutoResolveAfter is { } a) parts.Add(a > TimeSpan.Zero ? $"auto-resolve after {a}" : "no auto-resolve");
        if (Evidence is { Length: > 0 } e) parts.Add($"evidence {string.Join('+', e)}");
        return parts.Count == 0 ? "built-in defaults" : string.Join(", ", parts);
    }
}
