using System.Text.Json.Nodes;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A stateful stand-in for the Slack Web API methods the bot channel uses, answering in the shapes of
/// https://api.slack.com/methods (Fixtures/slack-webapi.json): POST /api/conversations.create {name, is_private},
/// conversations.setTopic {channel, topic}, conversations.invite {channel, users}, chat.postMessage {channel, text, blocks},
/// pins.add (form: channel, timestamp), conversations.archive {channel}, and GET /api/conversations.list. Every call must
/// carry Authorization: Bearer &lt;token&gt; (else not_authed / invalid_auth), as Slack requires.
/// </summary>
public sealed class SlackWebApiFake(string token)
{
    public sealed class Channel
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public long Created { get; init; }
        public string Topic { get; set; } = "";
        public List<string> Members { get; } = [];
        public List<string> Messages { get; } = [];
        public List<string> Pins { get; } = [];
        public bool Archived { get; set; }
    }

    private readonly object _gate = new();
    private readonly List<Channel> _channels = [];
    private int _next;

    /// <summary>Methods answered with missing_scope, and the scope each needs.</summary>
    public Dictionary<string, string> MissingScope { get; } = [];

    public IReadOnlyList<Channel> Channels { get { lock (_gate) return _channels.ToList(); } }

    /// <summary>The team's existing #incidents channel (C0INCIDENTS), where routed updates are posted; not in <see cref="Channels"/>.</summary>
    public Channel Routed { get; } = new() { Id = "C0INCIDENTS", Name = "incidents", Created = 1500000000 };

    /// <summary>A channel that exists before the test (someone else's, or an older incident's).</summary>
    public Channel Add(string name, DateTimeOffset created, string topic = "")
    {
        lock (_gate)
        {
            var c = new Channel { Id = $"C0OTHER{++_next:000}", Name = name, Created = created.ToUnixTimeSeconds(), Topic = topic };
            _channels.Add(c);
            return c;
        }
    }

    public ProviderStub Attach(ProviderStub stub)
    {
        stub.Handler = Handle;
        return stub;
    }

    private static string Ok(JsonObject? extra = null)
    {
        var o = new JsonObject { ["ok"] = true };
        if (extra is not null) foreach (var (k, v) in extra) o[k] = v?.DeepClone();
        return o.ToJsonString();
    }

    private static string Error(string error, string? needed = null) =>
        needed is null ? new JsonObject { ["ok"] = false, ["error"] = error }.ToJsonString()
            : new JsonObject { ["ok"] = false, ["error"] = error, ["needed"] = needed, ["provided"] = "chat:write" }.ToJsonString();

    public (int Status, string Body)? Handle(CapturedRequest request)
    {
        if (!request.Path.StartsWith("/api/", StringComparison.Ordinal)) return (404, Error("unknown_method"));
        var method = request.Path["/api/".Length..];
        if (!request.Headers.TryGetValue("Authorization", out var auth)) return (200, Error("not_authed"));
        if (auth != $"Bearer {token}") return (200, Error("invalid_auth"));
        if (MissingScope.TryGetValue(method, out var scope)) return (200, Error("missing_scope", scope));
        lock (_gate)
        {
            JsonObject body;
            if (request.Method == "GET") body = [];
            else if (request.Headers.TryGetValue("Content-Type", out var ct) && ct.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal))
            {
                body = [];
                foreach (var pair in request.Body.Split('&', StringSplitOptions.RemoveEmptyEntries))
                {
                    var kv = pair.Split('=', 2);
                    body[Uri.UnescapeDataString(kv[0])] = kv.Length > 1 ? Uri.UnescapeDataString(kv[1].Replace('+', ' ')) : "";
                }
            }
            else body = JsonNode.Parse(request.Body)!.AsObject();
            Channel? Find() => body["channel"]?.GetValue<string>() == Routed.Id ? Routed : _channels.FirstOrDefault(c => c.Id == body["channel"]?.GetValue<string>());
            switch (method)
            {
                case "conversations.create":
                {
                    var name = body["name"]!.GetValue<string>();
                    if (_channels.Any(c => c.Name == name)) return (200, Error("name_taken"));
                    var c = new Channel { Id = $"C0INC{++_next:0000}", Name = name, Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds() };
                    _channels.Add(c);
                    return (200, Ok(new JsonObject { ["channel"] = Json(c) }));
                }
                case "conversations.list":
                    return (200, Ok(new JsonObject
                    {
                        ["channels"] = new JsonArray(_channels.Select(c => (JsonNode)Json(c)).ToArray()),
                        ["response_metadata"] = new JsonObject { ["next_cursor"] = "" },
                    }));
                case "conversations.setTopic":
                {
                    if (Find() is not { } c) return (200, Error("channel_not_found"));
                    c.Topic = body["topic"]!.GetValue<string>();
                    return (200, Ok(new JsonObject { ["channel"] = Json(c) }));
                }
                case "conversations.invite":
                {
                    if (Find() is not { } c) return (200, Error("channel_not_found"));
                    var users = body["users"]!.GetValue<string>().Split(',');
                    if (users.All(c.Members.Contains)) return (200, Error("already_in_channel"));
                    c.Members.AddRange(users.Except(c.Members));
                    return (200, Ok(new JsonObject { ["channel"] = Json(c) }));
                }
                case "chat.postMessage":
                {
                    if (Find() is not { } c) return (200, Error("channel_not_found"));
                    if (c.Archived) return (200, Error("is_archived"));
                    var ts = $"1764500000.{c.Messages.Count + 100:000000}";
                    c.Messages.Add(body["text"]!.GetValue<string>());
                    return (200, Ok(new JsonObject { ["channel"] = c.Id, ["ts"] = ts, ["message"] = new JsonObject { ["text"] = body["text"]!.GetValue<string>(), ["ts"] = ts } }));
                }
                case "pins.add":
                {
                    if (Find() is not { } c) return (200, Error("channel_not_found"));
                    var ts = body["timestamp"]!.GetValue<string>();
                    if (c.Pins.Contains(ts)) return (200, Error("already_pinned"));
                    c.Pins.Add(ts);
                    return (200, Ok());
                }
                case "conversations.archive":
                {
                    if (Find() is not { } c) return (200, Error("channel_not_found"));
                    if (c.Archived) return (200, Error("already_archived"));
                    c.Archived = true;
                    return (200, Ok());
                }
                default:
                    return (200, Error("unknown_method"));
            }
        }
    }

    private static JsonObject Json(Channel c) => new()
    {
        ["id"] = c.Id, ["name"] = c.Name, ["is_channel"] = true, ["created"] = c.Created, ["creator"] = "U0BOT0001", ["is_archived"] = c.Archived,
        ["topic"] = new JsonObject { ["value"] = c.Topic, ["creator"] = "U0BOT0001", ["last_set"] = 0 },
        ["purpose"] = new JsonObject { ["value"] = "", ["creator"] = "", ["last_set"] = 0 },
    };
}
