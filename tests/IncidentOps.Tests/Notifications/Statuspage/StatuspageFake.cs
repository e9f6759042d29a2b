using System.Text.Json.Nodes;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A stateful stand-in for the Statuspage incidents API (the shapes of api.statuspage.io/v1): POST
/// /pages/{page}/incidents creates, PATCH /pages/{page}/incidents/{id} updates (each with a body adds an
/// incident_update), GET /pages/{page}/incidents, GET /pages/{page}/incidents/unresolved and GET /pages/{page}/incidents/{id} read. It keeps
/// the metadata it is sent, as Statuspage does.
/// </summary>
public sealed class StatuspageFake
{
    private readonly Dictionary<string, JsonObject> _incidents = [];
    private int _next;

    /// <summary>How many incidents were created (POSTs that opened a public incident).</summary>
    public int Creates { get { lock (_incidents) return _next; } }

    /// <summary>Answers the stub's requests that no scripted step takes.</summary>
    public StatuspageFake Attach(ProviderStub stub)
    {
        stub.Handler = Handle;
        return this;
    }

    public IReadOnlyList<JsonObject> Incidents { get { lock (_incidents) return _incidents.Values.Select(i => (JsonObject)i.DeepClone()).ToList(); } }

    public (int Status, string Body)? Handle(CapturedRequest request)
    {
        var parts = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries); // v1 pages {page} incidents [id|unresolved]
        if (parts.Length < 4 || parts[0] != "v1" || parts[1] != "pages" || parts[3] != "incidents") return (404, "{\"error\":\"not found\"}");
        lock (_incidents)
        {
            if (request.Method == "POST" && parts.Length == 4)
            {
                var inner = JsonNode.Parse(request.Body)!["incident"]!.AsObject();
                var id = $"sp-{++_next}";
                var incident = new JsonObject
                {
                    ["id"] = id, ["page_id"] = parts[2], ["name"] = inner["name"]?.DeepClone(), ["status"] = inner["status"]?.DeepClone(),
                    ["metadata"] = inner["metadata"]?.DeepClone() ?? new JsonObject(),
                    ["incident_updates"] = new JsonArray { new JsonObject { ["body"] = inner["body"]?.DeepClone(), ["status"] = inner["status"]?.DeepClone() } },
                };
                _incidents[id] = incident;
                return (201, incident.ToJsonString());
            }
            if (request.Method == "GET" && parts.Length == 4) // every incident, newest first (resolved ones too)
                return (200, new JsonArray(_incidents.Values.Reverse().Select(i => (JsonNode)i.DeepClone()).ToArray()).ToJsonString());
            if (request.Method == "GET" && parts.Length == 5 && parts[4] == "unresolved")
                return (200, new JsonArray(_incidents.Values.Where(i => i["status"]?.GetValue<string>() != "resolved").Select(i => (JsonNode)i.DeepClone()).ToArray()).ToJsonString());
            if (parts.Length == 5 && _incidents.TryGetValue(parts[4], out var existing))
            {
                if (request.Method == "GET") return (200, existing.ToJsonString());
                if (request.Method == "PATCH")
                {
                    var inner = JsonNode.Parse(request.Body)!["incident"]!.AsObject();
                    if (inner["status"] is { } st) existing["status"] = st.DeepClone();
                    if (inner["metadata"] is { } md) existing["metadata"] = md.DeepClone();
                    if (inner["body"] is { } b)
                        existing["incident_updates"]!.AsArray().Add(new JsonObject { ["body"] = b.DeepClone(), ["status"] = existing["status"]?.DeepClone() });
                    return (200, existing.ToJsonString());
                }
            }
            return (404, "{\"error\":\"not found\"}");
        }
    }
}
