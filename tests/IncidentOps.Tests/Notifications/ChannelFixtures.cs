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
/// The documented request and response shapes of each channel (Notifications/Fixtures/&lt;type&gt;.json, each with the
/// documentation it comes from under "source"). The stubs answer with the fixture's response.
/// </summary>
public static class ChannelFixtures
{
    public static string Folder => Path.Combine(Paths.RepoRoot, "tests", "IncidentOps.Tests", "Notifications", "Fixtures");

    public static string PathOf(string type) => Path.Combine(Folder, type + ".json");

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
        return new ProviderStub(status, body);
    }
}
