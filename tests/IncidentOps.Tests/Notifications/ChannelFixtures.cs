using System.Text.Json.Nodes;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Marks a test that drives one operation of a channel (its type name as in incidentops.yml, and an operation the
/// provider lists) against a loopback stub. ChannelContractTests checks every provider has one per operation.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class ChannelOperationAttribute(string type, string operation) : Attribute
{
    public string Type { get; } = type;
    public string Operation { get; } = operation;
}

/// <summary>
/// The documented request and response shapes of each channel (Notifications/&lt;Provider&gt;/Fixtures/&lt;type&gt;.json, each with the
/// documentation it comes from under "source"). The stubs answer with the fixture's response.
/// </summary>
public static class ChannelFixtures
{
    /// <summary>The channels' test folder: one folder per provider (mirroring Engine/Notifications/&lt;Provider&gt;/), each with its Fixtures/.</summary>
    public static string Folder => Path.Combine(Paths.RepoRoot, "tests", "IncidentOps.Tests", "Notifications");

    /// <summary>
    /// Notifications/&lt;Provider&gt;/Fixtures/&lt;type&gt;.json, wherever its provider folder is (the folder's name is the type's
    /// in any case, e.g. PagerDuty for pagerduty); when no folder has it, the path it would have in the folder named like the type.
    /// </summary>
    public static string PathOf(string type)
    {
        var found = Directory.GetDirectories(Folder).Select(d => Path.Combine(d, "Fixtures", type + ".json")).Where(File.Exists).ToList();
        if (found.Count > 1) throw new InvalidOperationException($"Channel fixture '{type}.json' is in several provider folders: {string.Join(", ", found)}");
        return found.Count == 1 ? found[0] : Path.Combine(Folder, type, "Fixtures", type + ".json");
    }

    public static JsonNode Load(string type) => JsonNode.Parse(File.ReadAllText(PathOf(type)))!;

    /// <summary>The fixture's "response" (or another named answer, e.g. "rateLimited"): status and body.</summary>
    public static (int Status, string Body) Answer(string type, string name = "response")
    {
        var r = Load(type)[name]!;
        return (r["status"]!.GetValue<int>(), r["body"]!.GetValue<string>());
    }

    /// <summary>A stub that answers with the fixture's response by default.</summary>
    public static ProviderStub Stub(string type)
    {
        var (status, body) = Answer(type);
        var stub = new ProviderStub(status, body);
        // Opsgenie processes its 202s later; Get Request Status answers that each was processed (the fixture's requestStatus).
        if (type == "opsgenie")
        {
            var (checkStatus, checkBody) = Answer(type, "requestStatus");
            stub.AnswerLookups("GET", "/v2/alerts/requests/", checkStatus, checkBody);
        }
        return stub;
    }
}
