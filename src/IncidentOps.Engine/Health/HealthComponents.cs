using System.Text.Json;
using IncidentOps.Health;

namespace IncidentOps.Engine.Health;

/// <summary>
/// Finds component statuses in a JSON health body: maps or arrays under services/components/checks/details/
/// dependencies (seed 000's /health/services, Spring Boot actuator, ASP.NET health checks, IETF health+json).
/// </summary>
internal static class HealthComponents
{
    private static readonly string[] Containers = ["services", "components", "checks", "details", "dependencies", "entries"];
    private static readonly HashSet<string> HealthyWords = new(StringComparer.OrdinalIgnoreCase)
        { "ok", "up", "healthy", "pass", "passing", "green", "true", "connected", "available", "ready", "running", "online" };

    private static readonly string[] DetailKeys = ["error", "message", "output", "reason", "description", "exception"];

    public static IReadOnlyList<HealthComponent> Extract(JsonElement root)
    {
        var list = new List<HealthComponent>();
        if (root.ValueKind != JsonValueKind.Object) return list;
        foreach (var property in root.EnumerateObject())
        {
            if (!Containers.Contains(property.Name, StringComparer.OrdinalIgnoreCase)) continue;
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Object)
                foreach (var item in value.EnumerateObject()) Add(list, item.Name, item.Value);
            else if (value.ValueKind == JsonValueKind.Array)
                foreach (var item in value.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.Object && (Get(item, "name") ?? Get(item, "component") ?? Get(item, "id")) is { } name)
                        Add(list, name, item);
        }
        return list;
    }

    private static void Add(List<HealthComponent> list, string name, JsonElement value)
    {
        string? status = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Object => Get(value, "status") ?? Get(value, "state") ?? Get(value, "healthy"),
            _ => null,
        };
        if (status is null) return;
        // The component's own words for why (seed 000's {"redis": {"status": "down", "error": "..."}}, IETF health+json's
        // output, ASP.NET's description), so a down component says what is wrong without reading the body.
        var detail = value.ValueKind == JsonValueKind.Object ? DetailKeys.Select(k => Get(value, k)).FirstOrDefault(d => !string.IsNullOrWhiteSpace(d)) : null;
        list.Add(new HealthComponent
        {
            Name = name, Status = status, Healthy = HealthyWords.Contains(status),
            Detail = detail is null ? null : SecretRedactor.Redact(detail.Length > 500 ? detail[..500] + "…" : detail).Trim(),
        });
    }

    private static string? Get(JsonElement obj, string name)
    {
        foreach (var p in obj.EnumerateObject())
            if (p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                return p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Number => p.Value.GetRawText(),
                    _ => null,
                };
        return null;
    }
}
