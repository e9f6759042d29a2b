using System.Net;
using System.Text.Json.Nodes;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// The stub's StatefulSet (postgres), DaemonSet (node-exporter), their ControllerRevisions and pods, and the
/// namespace's Events, from k8s-statefulset.json, k8s-daemonset.json, k8s-controllerrevisions.json,
/// k8s-workload-pods.json and k8s-events.json. Lists honour labelSelector (k=v,k=v) and, for events, the fieldSelector
/// terms kubectl sends (type=, involvedObject.kind=, involvedObject.name=). A PATCH of the StatefulSet or DaemonSet
/// (rollout restart, rollout undo) completes its rollout at once; a PATCH of statefulsets/NAME/scale sets its replicas.
/// Event times are moved so that the newest event is one minute old and the gaps between them stay as recorded, so
/// -Since can be tested against the clock.
/// </summary>
public sealed partial class KubeApiStub
{
    private const string WorkloadResources =
        """{"name":"statefulsets","singularName":"statefulset","namespaced":true,"kind":"StatefulSet","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["sts"],"categories":["all"]},{"name":"statefulsets/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","patch","update"]},{"name":"daemonsets","singularName":"daemonset","namespaced":true,"kind":"DaemonSet","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["ds"],"categories":["all"]},{"name":"controllerrevisions","singularName":"controllerrevision","namespaced":true,"kind":"ControllerRevision","verbs":["create","delete","deletecollection","get","list","patch","update","watch"]}""";

    private readonly JsonObject _statefulSet = Load<JsonObject>("k8s-statefulset.json");
    private readonly JsonObject _daemonSet = Load<JsonObject>("k8s-daemonset.json");
    private readonly JsonArray _revisions = (JsonArray)Load<JsonObject>("k8s-controllerrevisions.json")["items"]!;
    private readonly JsonArray _workloadPods = (JsonArray)Load<JsonObject>("k8s-workload-pods.json")["items"]!;
    private readonly JsonArray _events = Recent((JsonArray)Load<JsonObject>("k8s-events.json")["items"]!);

    private static T Load<T>(string fixture) where T : JsonNode => (T)JsonNode.Parse(File.ReadAllText(FakeCli.Fixture(fixture)))!;

    /// <summary>The StatefulSet as the stub holds it now (after any patches).</summary>
    public JsonObject StatefulSet { get { lock (_gate) return (JsonObject)_statefulSet.DeepClone(); } }

    /// <summary>A ControllerRevision of the fixture by name.</summary>
    public JsonNode Revision(string name)
    {
        lock (_gate) return _revisions.First(r => (string?)r!["metadata"]!["name"] == name)!.DeepClone();
    }

    /// <summary>The events' times moved so that the newest is a minute ago (the gaps stay as recorded).</summary>
    private static JsonArray Recent(JsonArray events)
    {
        string[][] fields = [["lastTimestamp"], ["firstTimestamp"], ["eventTime"], ["series", "lastObservedTime"], ["metadata", "creationTimestamp"]];
        static JsonNode? At(JsonNode e, string[] path) => path.Aggregate<string, JsonNode?>(e, (n, k) => n?[k]);
        var newest = events.SelectMany(e => fields.Select(f => At(e!, f))).OfType<JsonValue>().Select(v => DateTimeOffset.Parse((string)v!, System.Globalization.CultureInfo.InvariantCulture)).Max();
        var shift = DateTimeOffset.UtcNow.AddMinutes(-1) - newest;
        foreach (var e in events)
            foreach (var f in fields)
                if (At(e!, f) is JsonValue v)
                {
                    var moved = DateTimeOffset.Parse((string)v!, System.Globalization.CultureInfo.InvariantCulture) + shift;
                    var parent = f.Length == 1 ? e! : At(e!, f[..^1])!;
                    parent[f[^1]] = moved.UtcDateTime.ToString(f[^1] is "eventTime" or "lastObservedTime" ? "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'" : "yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                }
        return events;
    }

    /// <summary>Equality label selectors (app=postgres,tier=db), as kubectl -l sends them; none matches everything.</summary>
    private static bool MatchesLabels(JsonNode item, string? selector)
    {
        if (string.IsNullOrEmpty(selector)) return true;
        var labels = item["metadata"]?["labels"] as JsonObject;
        foreach (var term in selector.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = term.Split('=', 2);
            if (kv.Length != 2 || (string?)labels?[kv[0]] != kv[1]) return false;
        }
        return true;
    }

    /// <summary>The fieldSelector terms kubectl get events sends (type=Warning, involvedObject.kind=Pod, involvedObject.name=X).</summary>
    private static bool MatchesFields(JsonNode e, string? selector)
    {
        if (string.IsNullOrEmpty(selector)) return true;
        foreach (var term in selector.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = term.Split('=', 2);
            var value = kv[0] switch
            {
                "type" => (string?)e["type"],
                "reason" => (string?)e["reason"],
                "involvedObject.kind" => (string?)e["involvedObject"]?["kind"],
                "involvedObject.name" => (string?)e["involvedObject"]?["name"],
                "involvedObject.namespace" => (string?)e["involvedObject"]?["namespace"],
                _ => throw new InvalidOperationException($"field selector {kv[0]} is not one events support here"),
            };
            if (kv.Length != 2 || value != kv[1]) return false;
        }
        return true;
    }

    private (int, string, string)? RouteWorkloads(KubeRequest r, HttpListenerRequest req)
    {
        const string json = "application/json";
        var nsApps = $"/apis/apps/v1/namespaces/{Namespace}";
        var nsCore = $"/api/v1/namespaces/{Namespace}";
        if (r.Path == $"{nsCore}/events" && r.Method == "GET")
            return (200, List("EventList", "v1", new JsonArray(_events.Where(e => MatchesFields(e!, req.QueryString["fieldSelector"])).Select(e => e!.DeepClone()).ToArray())), json);
        if (r.Path == $"{nsApps}/controllerrevisions" && r.Method == "GET")
            return (200, List("ControllerRevisionList", "apps/v1", new JsonArray(_revisions.Where(x => MatchesLabels(x!, req.QueryString["labelSelector"])).Select(x => x!.DeepClone()).ToArray())), json);
        foreach (var (plural, obj, kind) in new[] { ("statefulsets", _statefulSet, "StatefulSetList"), ("daemonsets", _daemonSet, "DaemonSetList") })
        {
            var name = (string)obj["metadata"]!["name"]!;
            if (r.Path == $"{nsApps}/{plural}" && r.Method == "GET")
            {
                var byName = req.QueryString["fieldSelector"] is { } fs && fs.StartsWith("metadata.name=", StringComparison.Ordinal) ? fs["metadata.name=".Length..] : null;
                return (200, List(kind, "apps/v1", byName is null || byName == name ? new JsonArray(obj.DeepClone()) : new JsonArray()), json);
            }
            if (r.Path == $"{nsApps}/{plural}/{name}")
            {
                if (r.Method == "GET") return (200, obj.ToJsonString(), json);
                if (r.Method == "PATCH")
                {
                    BeforeWorkloadPatch?.Invoke(obj);
                    if (r.ContentType?.StartsWith("application/json-patch+json", StringComparison.Ordinal) == true && r.Json is JsonArray ops && ApplyJsonPatch(obj, ops) is { } refused)
                        return (422, PatchRefused(refused), json);
                    ApplyWorkloadPatch(obj, r);
                    return (200, obj.ToJsonString(), json);
                }
            }
            if (plural == "statefulsets" && r.Path == $"{nsApps}/{plural}/{name}/scale")
            {
                if (r.Method == "PATCH" && r.Json?["spec"]?["replicas"] is { } n) { obj["spec"]!["replicas"] = n.GetValue<int>(); obj["status"]!["replicas"] = n.GetValue<int>(); obj["status"]!["readyReplicas"] = n.GetValue<int>(); }
                if (r.Method is "GET" or "PATCH")
                    return (200, new JsonObject
                    {
                        ["kind"] = "Scale", ["apiVersion"] = "autoscaling/v1",
                        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = Namespace, ["resourceVersion"] = "2002" },
                        ["spec"] = new JsonObject { ["replicas"] = obj["spec"]!["replicas"]!.GetValue<int>() },
                        ["status"] = new JsonObject { ["replicas"] = obj["status"]!["replicas"]!.GetValue<int>(), ["selector"] = $"app={name}" },
                    }.ToJsonString(), json);
            }
        }
        return null;
    }

    /// <summary>
    /// A strategic merge patch of a StatefulSet or DaemonSet: the pod template's annotations (rollout restart) or a
    /// ControllerRevision's data (rollout undo: its template with $patch: replace). The rollout then completes at once.
    /// </summary>
    private static void ApplyWorkloadPatch(JsonObject obj, KubeRequest r)
    {
        if (r.Json is JsonObject body && body["spec"]?["template"] is JsonObject template)
        {
            if ((string?)template["$patch"] == "replace")
            {
                var replaced = (JsonObject)template.DeepClone();
                replaced.Remove("$patch");
                obj["spec"]!["template"] = replaced;
            }
            else if (template["metadata"]?["annotations"] is JsonObject annotations)
            {
                var meta = (JsonObject)(obj["spec"]!["template"]!["metadata"] ??= new JsonObject());
                var target = (JsonObject)(meta["annotations"] ??= new JsonObject());
                foreach (var (k, v) in annotations) target[k] = v?.DeepClone();
            }
        }
        var generation = (obj["metadata"]!["generation"]?.GetValue<int>() ?? 1) + 1;
        obj["metadata"]!["generation"] = generation;
        var status = (JsonObject)obj["status"]!;
        status["observedGeneration"] = generation;
        if ((string?)obj["kind"] == "StatefulSet")
        {
            var replicas = obj["spec"]!["replicas"]!.GetValue<int>();
            status["readyReplicas"] = replicas; status["currentReplicas"] = replicas; status["updatedReplicas"] = replicas; status["availableReplicas"] = replicas;
            status["currentRevision"] = (string?)status["updateRevision"];
        }
        else
        {
            var desired = status["desiredNumberScheduled"]!.GetValue<int>();
            status["numberReady"] = desired; status["numberAvailable"] = desired; status["updatedNumberScheduled"] = desired; status["numberUnavailable"] = 0;
        }
    }
}
