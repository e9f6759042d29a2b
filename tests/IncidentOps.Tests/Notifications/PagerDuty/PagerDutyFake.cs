using System.Text.Json.Nodes;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// PagerDuty's incidents behind the Events API v2 as its documentation describes them (Fixtures/SOURCES.md), as the
/// handler of a <see cref="ProviderStub"/> on 127.0.0.1, so a test can count incidents and notifications rather than
/// requests: a trigger with a dedup_key that has no open (triggered or acknowledged) incident opens a new incident and
/// notifies; a trigger on a triggered one adds to it without a new incident; a trigger on an acknowledged one adds to
/// it and notifies nobody ("While an incident is acknowledged, it won't generate any additional notifications, even
/// if it receives new trigger events"); acknowledge and resolve act on the open incident of the key (accepted with
/// 202 even when there is none: those land in <see cref="Unmatched"/>); a trigger after the resolve opens a new
/// incident ("New trigger events with the same dedup_key as a resolved incident won't re-open the incident. Instead,
/// a new incident will be created"). The stub's scripted steps still apply first. Self-contained besides
/// ProviderStub, so the Pester tests compile it with Add-Type as well.
/// </summary>
public sealed class PagerDutyFake
{
    /// <summary>One incident in the fake's PagerDuty.</summary>
    public sealed class PdIncident
    {
        public string DedupKey { get; init; } = "";
        public string Summary { get; init; } = "";
        /// <summary>triggered, acknowledged or resolved.</summary>
        public string Status { get; set; } = "triggered";
        /// <summary>How many trigger events it took (1, plus one per trigger that landed on it).</summary>
        public int Triggers { get; set; } = 1;
        /// <summary>Triggers that landed on it while it was acknowledged: they notified nobody.</summary>
        public int SilentTriggers { get; set; }
    }

    private readonly List<PdIncident> _incidents = [];
    private readonly List<string> _unmatched = [];

    /// <summary>Makes <paramref name="stub"/> answer like PagerDuty's Events API: 202 with status success and the dedup_key.</summary>
    public PagerDutyFake(ProviderStub stub)
    {
        Stub = stub;
        stub.Handler = Handle;
    }

    public ProviderStub Stub { get; }

    /// <summary>Every incident ever opened, oldest first (a snapshot).</summary>
    public IReadOnlyList<PdIncident> Incidents { get { lock (_incidents) return _incidents.ToList(); } }

    /// <summary>How many times someone was notified: once per incident opened (PagerDuty notifies when it opens an incident).</summary>
    public int Notifications { get { lock (_incidents) return _incidents.Count; } }

    /// <summary>Acknowledges and resolves that found no open incident for their key ("resolve incidentops-INC-..."), in order.</summary>
    public IReadOnlyList<string> Unmatched { get { lock (_incidents) return _unmatched.ToList(); } }

    private (int Status, string Body)? Handle(CapturedRequest r)
    {
        if (r.Method != "POST" || r.Path != "/v2/enqueue") return null;
        var body = JsonNode.Parse(r.Body)!;
        var action = body["event_action"]?.GetValue<string>() ?? "";
        var key = body["dedup_key"]?.GetValue<string>() ?? Guid.NewGuid().ToString("N");
        lock (_incidents)
        {
            var open = _incidents.FirstOrDefault(i => i.DedupKey == key && i.Status != "resolved");
            switch (action)
            {
                case "trigger":
                    if (open is null) _incidents.Add(new PdIncident { DedupKey = key, Summary = body["payload"]?["summary"]?.GetValue<string>() ?? "" });
                    else
                    {
                        open.Triggers++;
                        if (open.Status == "acknowledged") open.SilentTriggers++;
                    }
                    break;
                case "acknowledge" or "resolve":
                    if (open is null) _unmatched.Add($"{action} {key}");
                    else open.Status = action == "resolve" ? "resolved" : "acknowledged";
                    break;
                default:
                    return (400, "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\",\"errors\":[\"'event_action' is invalid\"]}");
            }
        }
        return (202, new JsonObject { ["status"] = "success", ["message"] = "Event processed", ["dedup_key"] = key }.ToJsonString());
    }
}
