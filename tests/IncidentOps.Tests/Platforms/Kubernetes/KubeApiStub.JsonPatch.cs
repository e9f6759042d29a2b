using System.Text.Json.Nodes;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// JSON patch (RFC 6902) as the API server applies it to a workload: all operations or none. A failed "test" is refused
/// the way the API server refuses it (apiserver patcher.go: NewGenericServerResponse(422, ...) with the json-patch error
/// as the cause), which kubectl prints as "The request is invalid: the server rejected our request due to an error in
/// our request" and exits 1.
/// </summary>
public sealed partial class KubeApiStub
{
    /// <summary>
    /// Runs (under the stub's lock) when a PATCH of a workload arrives, before it is applied, with the workload as the stub
    /// holds it: what a teammate's deploy landing in the round trip just before the patch would do.
    /// </summary>
    public Action<JsonObject>? BeforeWorkloadPatch { get; set; }

    /// <summary>A teammate's deploy of <paramref name="image"/>: a new template (image, generation + 1) and, for a Deployment, revision <paramref name="revision"/>.</summary>
    public static void Deploy(JsonObject workload, string image, string? revision = null)
    {
        workload["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = image;
        workload["metadata"]!["generation"] = (workload["metadata"]!["generation"]?.GetValue<int>() ?? 1) + 1;
        if (revision is not null) workload["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"] = revision;
    }

    /// <summary>The 422 Status the API server answers to a JSON patch it could not apply (a failed test).</summary>
    private static string PatchRefused(string error) => new JsonObject
    {
        ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
        ["message"] = "the server rejected our request due to an error in our request", ["reason"] = "Invalid",
        ["details"] = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "UnexpectedServerResponse", ["message"] = error }) },
        ["code"] = 422,
    }.ToJsonString();

    /// <summary>
    /// Applies a JSON patch to a copy of <paramref name="target"/> and, when every operation succeeded, copies the result
    /// back; otherwise returns the json-patch error (the object is unchanged).
    /// </summary>
    private static string? ApplyJsonPatch(JsonObject target, JsonArray ops)
    {
        var doc = (JsonObject)target.DeepClone();
        foreach (var op in ops)
        {
            var path = (string?)op!["path"] ?? "";
            var segments = path.Split('/').Skip(1).Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
            JsonNode? parent = doc;
            foreach (var s in segments[..^1]) parent = parent is JsonObject o ? o[s] : null;
            if (parent is not JsonObject p || segments.Length == 0) return $"doc is missing path: \"{path}\": missing value";
            var key = segments[^1];
            switch ((string?)op["op"])
            {
                case "test":
                    if (!p.TryGetPropertyValue(key, out var have) || !JsonNode.DeepEquals(have, op["value"])) return $"testing value {path} failed: test failed";
                    break;
                case "replace":
                    if (!p.ContainsKey(key)) return $"replace operation does not apply: doc is missing key: {path}: missing value";
                    p[key] = op["value"]?.DeepClone();
                    break;
                case "add":
                    p[key] = op["value"]?.DeepClone();
                    break;
                case "remove":
                    if (!p.Remove(key)) return $"remove operation does not apply: doc is missing path: \"{path}\": missing value";
                    break;
                default:
                    return $"Unexpected kind: {(string?)op["op"]}";
            }
        }
        foreach (var (k, v) in doc.ToList()) target[k] = v?.DeepClone();
        return null;
    }
}
