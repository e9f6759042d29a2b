using System.Text.Json.Nodes;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Opsgenie's alerts as the Alert API documents them (Fixtures/SOURCES.md), behind a <see cref="ProviderStub"/> on
/// 127.0.0.1, so a test can count alerts rather than requests: there is only one open alert per alias, a create with
/// an open alert's alias raises its count instead of opening another, a create after the close opens a new alert;
/// acknowledge and close act on the open alert of the alias (a close after the close changes nothing) (accepted with 202 even when there is none, as Opsgenie
/// processes them later: those land in <see cref="Unmatched"/>); Get Alert by alias answers the alert or 404.
/// The stub's scripted steps still apply first (ThenHandleAndHang: the alert is made, the answer is lost).
/// Self-contained besides ProviderStub, so the Pester tests compile it with Add-Type as well.
/// </summary>
public sealed class OpsgenieFake : IDisposable
{
    /// <summary>One alert in the fake's Opsgenie.</summary>
    public sealed class Alert
    {
        public string Id { get; init; } = "";
        public string Alias { get; init; } = "";
        public string Message { get; set; } = "";
        public string Priority { get; set; } = "";
        public string Status { get; set; } = "open";
        public bool Acknowledged { get; set; }
        /// <summary>When Opsgenie made it (its clock: now), the createdAt of Get Alert.</summary>
        public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
        /// <summary>How many creates it took (1, plus one per create folded into it by its alias).</summary>
        public int Count { get; set; } = 1;
    }

    private readonly List<Alert> _alerts = [];
    private readonly List<string> _unmatched = [];
    private readonly int _accepted;
    private readonly string _acceptedBody;
    private readonly int _notFound;
    private readonly string _notFoundBody;

    /// <param name="acceptedStatus">The answer to a valid create, acknowledge or close (the fixture's response: 202).</param>
    /// <param name="notFoundStatus">The answer to Get Alert for an alias without an alert (the fixture's alertNotFound: 404).</param>
    public OpsgenieFake(int acceptedStatus, string acceptedBody, int notFoundStatus, string notFoundBody)
    {
        (_accepted, _acceptedBody, _notFound, _notFoundBody) = (acceptedStatus, acceptedBody, notFoundStatus, notFoundBody);
        Stub = new ProviderStub(acceptedStatus, acceptedBody) { Handler = Handle, Lookup = HandleRequestStatus };
    }

    private readonly Queue<(int Status, string Body)> _requestStatuses = new();

    /// <summary>
    /// The next answer to Get Request Status (GET /v2/alerts/requests/{id}); once these are used up, every request is
    /// reported processed (isSuccess true, as most are within a moment).
    /// </summary>
    public OpsgenieFake ThenRequestStatus(int status, string body)
    {
        lock (_requestStatuses) _requestStatuses.Enqueue((status, body));
        return this;
    }

    /// <summary>While true, Get Request Status answers 404 "not processed yet" (after the scripted answers).</summary>
    public bool HoldRequests { get; set; }

    /// <summary>The Get Request Status reads received (they are not in <see cref="Requests"/>).</summary>
    public IReadOnlyList<CapturedRequest> StatusChecks => Stub.Lookups;

    private (int Status, string Body)? HandleRequestStatus(CapturedRequest r)
    {
        if (r.Method != "GET" || !r.Path.StartsWith("/v2/alerts/requests/", StringComparison.Ordinal)) return null;
        lock (_requestStatuses) if (_requestStatuses.Count > 0) return _requestStatuses.Dequeue();
        if (HoldRequests) return (404, "{\"message\":\"Request not found. It might not be processed, yet.\",\"took\":0.003,\"requestId\":\"" + Guid.NewGuid() + "\"}");
        var id = Uri.UnescapeDataString(r.Path["/v2/alerts/requests/".Length..]);
        var data = new JsonObject { ["success"] = true, ["action"] = "Create", ["isSuccess"] = true, ["status"] = "Processed", ["processedAt"] = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'") };
        return (200, new JsonObject { ["data"] = data, ["took"] = 0.02, ["requestId"] = id }.ToJsonString());
    }

    public ProviderStub Stub { get; }
    public string BaseUrl => Stub.BaseUrl;
    public IReadOnlyList<CapturedRequest> Requests => Stub.Requests;

    /// <summary>Every alert ever opened, oldest first (a snapshot).</summary>
    public IReadOnlyList<Alert> Alerts { get { lock (_alerts) return _alerts.ToList(); } }

    /// <summary>Acknowledges and closes that found no open alert for their alias ("acknowledge INC-..."), in order.</summary>
    public IReadOnlyList<string> Unmatched { get { lock (_alerts) return _unmatched.ToList(); } }

    /// <summary>The create requests received (POST /v2/alerts), folded or not.</summary>
    public IReadOnlyList<CapturedRequest> Creates => Requests.Where(r => r.Method == "POST" && r.Path == "/v2/alerts").ToList();

    /// <summary>The requests of one action (acknowledge, close) on an alias.</summary>
    public IReadOnlyList<CapturedRequest> Actions(string action) =>
        Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/" + action, StringComparison.Ordinal)).ToList();

    private (int Status, string Body)? Handle(CapturedRequest r)
    {
        var segments = r.Path.Trim('/').Split('/');
        if (segments.Length < 2 || segments[0] != "v2" || segments[1] != "alerts") return null;
        lock (_alerts)
        {
            if (r.Method == "POST" && segments.Length == 2)
            {
                var body = JsonNode.Parse(r.Body)!;
                var alias = body["alias"]?.GetValue<string>() ?? Guid.NewGuid().ToString();
                if (OpenAlert(alias) is { } open) open.Count++;
                else _alerts.Add(new Alert
                {
                    Id = Guid.NewGuid().ToString(), Alias = alias,
                    Message = body["message"]?.GetValue<string>() ?? "", Priority = body["priority"]?.GetValue<string>() ?? "P3",
                });
                return (_accepted, _acceptedBody);
            }
            var target = Uri.UnescapeDataString(segments.Length > 2 ? segments[2] : "");
            if (!r.Query.Contains("identifierType=alias", StringComparison.Ordinal)) return (422, "{\"message\":\"identifierType=alias expected by this fake\"}");
            if (r.Method == "GET" && segments.Length == 3)
            {
                var alert = OpenAlert(target) ?? _alerts.LastOrDefault(a => a.Alias == target);
                if (alert is null) return (_notFound, _notFoundBody);
                var data = new JsonObject
                {
                    ["id"] = alert.Id, ["alias"] = alert.Alias, ["message"] = alert.Message, ["status"] = alert.Status,
                    ["acknowledged"] = alert.Acknowledged, ["count"] = alert.Count, ["createdAt"] = alert.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"), ["priority"] = alert.Priority, ["source"] = "IncidentOps",
                };
                return (200, new JsonObject { ["data"] = data, ["took"] = 0.003, ["requestId"] = Guid.NewGuid().ToString() }.ToJsonString());
            }
            if (r.Method == "POST" && segments.Length == 4 && segments[3] is "acknowledge" or "close")
            {
                if (OpenAlert(target) is not { } open) _unmatched.Add($"{segments[3]} {target}");
                else if (segments[3] == "acknowledge") open.Acknowledged = true;
                else open.Status = "closed";
                return (_accepted, _acceptedBody);
            }
            return null;
        }
    }

    private Alert? OpenAlert(string alias) => _alerts.FirstOrDefault(a => a.Alias == alias && a.Status == "open");

    public void Dispose() => Stub.Dispose();
}
