using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IncidentOps.Tests.Platforms;

/// <summary>One request the stub API server received.</summary>
public sealed record KubeRequest(string Method, string Path, string Query, string? ContentType, string Body)
{
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
    public bool IsMutating => Method is not ("GET" or "HEAD");
    public override string ToString() => $"{Method} {Path}{Query}";
}

/// <summary>
/// A Kubernetes API server stand-in on 127.0.0.1 (HttpListener, free port) for the real kubectl: legacy discovery
/// (/version, /api, /apis, /api/v1, /apis/apps/v1), one namespace holding the deployment, its ReplicaSets and
/// pods from the k8s-*.json fixtures, pods/log, deployments/scale, PATCH (strategic merge, merge and JSON patch
/// as kubectl sends them) and pod DELETE (the pod is gone at once, so kubectl delete's wait ends). Every request is recorded with its method, path, query and body.
/// A PATCH of the deployment completes its rollout (status all ready, observedGeneration = generation, pods ready), so that
/// kubectl rollout status returns; a watch is held open until the client goes or the stub is disposed.
/// Also writes a kubeconfig (context "production", server http://127.0.0.1:PORT) and a kubectl wrapper that
/// execs the real kubectl with --kubeconfig and a private --cache-dir, so nothing process-wide is changed.
/// </summary>
public sealed partial class KubeApiStub : IDisposable
{
    public const string Namespace = "akaind-platform";
    public const string Context = "production";
    /// <summary>The namespace's paths in the apps and core APIs, as kubectl asks for them.</summary>
    public const string AppsPath = "/apis/apps/v1/namespaces/" + Namespace;
    public const string CorePath = "/api/v1/namespaces/" + Namespace;

    /// <summary>The API requests kubectl sent for resources (discovery and /version left out), as "METHOD path?query" without kubectl's timeout parameter.</summary>
    public string[] ResourceRequests() =>
        Requests.Where(r => r.Path.Contains("/namespaces/", StringComparison.Ordinal)).Select(r => $"{r.Method} {r.Path}{StripTimeout(r.Query)}").ToArray();

    private static string StripTimeout(string query)
    {
        var parts = query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("timeout=", StringComparison.Ordinal)).ToArray();
        return parts.Length == 0 ? "" : "?" + string.Join("&", parts);
    }
    private const string Dep = "marketing";

    private readonly HttpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<KubeRequest> _requests = new();
    private readonly object _gate = new();
    private readonly JsonObject _deployment;
    private readonly JsonArray _replicaSets;
    private readonly JsonArray _pods;
    private readonly string[] _logLines;
    private readonly Task _loop;
    private int _abortedReplies;

    /// <summary>Replies cut short because kubectl closed the connection (a watch it no longer needs).</summary>
    public int AbortedReplies => _abortedReplies;

    public string Dir { get; } = Paths.TempDir("kubestub");
    public int Port { get; }
    public string Server => $"http://127.0.0.1:{Port}";
    public string KubeconfigPath => Path.Combine(Dir, "kubeconfig.yaml");
    /// <summary>The wrapper to pass as -KubectlPath: runs the real kubectl against this stub.</summary>
    public string KubectlPath => Path.Combine(Dir, "kubectl");

    public KubeApiStub(string realKubectl)
    {
        _deployment = (JsonObject)JsonNode.Parse(File.ReadAllText(FakeCli.Fixture("k8s-deployment.json")))!;
        _replicaSets = (JsonArray)JsonNode.Parse(File.ReadAllText(FakeCli.Fixture("k8s-replicasets.json")))!["items"]!;
        _pods = (JsonArray)JsonNode.Parse(File.ReadAllText(FakeCli.Fixture("k8s-pods.json")))!["items"]!;
        _logLines = File.ReadAllLines(FakeCli.Fixture("k8s-logs.txt"));
        for (var attempt = 0; ; attempt++)
        {
            // FreePort's port can still be in TIME_WAIT or be taken by another test before Start: try a few.
            var port = TestServers.FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try { listener.Start(); _listener = listener; Port = port; break; }
            catch (HttpListenerException) when (attempt < 20) { Release(listener); }
        }
        File.WriteAllText(KubeconfigPath, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: stub
              cluster:
                server: {{Server}}
            contexts:
            - name: {{Context}}
              context:
                cluster: stub
                namespace: default
            current-context: {{Context}}
            users:
            - name: nobody
              user: {}
            """);
        ExecutableFile.Write(KubectlPath, $"#!/bin/sh\nexec '{realKubectl}' --kubeconfig='{KubeconfigPath}' --cache-dir='{Path.Combine(Dir, "cache")}' --request-timeout=20s \"$@\"\n");
        _loop = Task.Run(AcceptLoop);
    }

    /// <summary>The real kubectl on PATH (the test fails, never skips, when there is none).</summary>
    public static string FindRealKubectl()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "kubectl");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("kubectl is not on PATH: these tests run the real kubectl against a loopback stub API server. Install kubectl (https://kubernetes.io/docs/tasks/tools/; on Debian: the kubernetes apt repository's kubectl package, or google-cloud-cli's kubectl).");
    }

    /// <summary>A route a test adds (asked first; null: the stub's own routes answer), e.g. the metrics API for Get-AppResourceUsage.</summary>
    public Func<KubeRequest, (int Status, string Body, string ContentType)?>? ExtraRoute { get; set; }

    /// <summary>False: a PATCH starts a rollout that never completes (for Ctrl+C while kubectl rollout status waits).</summary>
    public bool CompleteRollouts { get; set; } = true;

    /// <summary>Live processes whose command line names this stub's kubeconfig (the wrapper's kubectl and its children).</summary>
    public int[] KubectlProcesses()
    {
        var list = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(KubeconfigPath, StringComparison.Ordinal)) list.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* the process ended while we looked */ }
        }
        return [.. list];
    }

    public KubeRequest[] Requests => _requests.ToArray();
    public KubeRequest[] Mutations => _requests.Where(r => r.IsMutating).ToArray();

    /// <summary>The deployment as the stub holds it now (after any patches).</summary>
    public JsonObject Deployment { get { lock (_gate) return (JsonObject)_deployment.DeepClone(); } }

    public JsonNode ReplicaSet(string revision)
    {
        lock (_gate)
            return _replicaSets.First(r => (string?)r!["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"] == revision)!.DeepClone();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (HttpListenerException) { return; }
            catch (ObjectDisposedException) { return; }
            _ = Task.Run(() => Handle(ctx));
        }
    }

    private async Task Handle(HttpListenerContext ctx)
    {
        var req = ctx.Request;
        string body;
        using (var reader = new StreamReader(req.InputStream, Encoding.UTF8)) body = await reader.ReadToEndAsync().ConfigureAwait(false);
        var path = req.Url!.AbsolutePath;
        var query = req.Url.Query;
        var rec = new KubeRequest(req.HttpMethod, path, query, req.ContentType, body);
        _requests.Enqueue(rec);
        try
        {
            if (req.QueryString["watch"] is "true" or "1")
            {
                await Watch(ctx).ConfigureAwait(false);
                return;
            }
            if (req.QueryString["follow"] is "true" && req.HttpMethod == "GET" && path.EndsWith("/log", StringComparison.Ordinal))
            {
                await FollowLog(ctx, path.Split('/')[^2], req).ConfigureAwait(false);
                return;
            }
            (int, string, string) reply;
            try { reply = Route(rec, req); }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or NullReferenceException or FormatException)
            {
                // A request this stub cannot make sense of: answer like an API server would, so kubectl fails at once and says why.
                reply = (500, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["message"] = $"stub: {ex.Message}", ["reason"] = "InternalError", ["code"] = 500 }.ToJsonString(), "application/json");
            }
            await Write(ctx, reply.Item1, reply.Item2, reply.Item3).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            // kubectl went away mid-reply (or the stub is shutting down); the request is recorded all the same.
            Interlocked.Increment(ref _abortedReplies);
        }
    }

    private static async Task Write(HttpListenerContext ctx, int code, string reply, string contentType)
    {
        var bytes = Encoding.UTF8.GetBytes(reply);
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = contentType;
        ctx.Response.ContentLength64 = bytes.Length;
        await ctx.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        ctx.Response.Close();
    }

    /// <summary>A watch that sends no event: open until kubectl closes it (it has its object from the list) or the stub stops.</summary>
    private async Task Watch(HttpListenerContext ctx)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.SendChunked = true;
        // HttpListener sends the headers with the first bytes; a newline (JSON whitespace) gets them out, else
        // client-go waits for them until its request timeout before it looks at what the list gave it.
        await ctx.Response.OutputStream.WriteAsync("\n"u8.ToArray()).ConfigureAwait(false);
        await ctx.Response.OutputStream.FlushAsync().ConfigureAwait(false);
        try { await Task.Delay(TimeSpan.FromSeconds(30), _stop.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { /* the stub is being disposed */ }
        ctx.Response.Abort();
    }

    /// <summary>
    /// pods/log with follow=true, as the kubelet streams it through the API server: a chunked text/plain response that
    /// sends the pod's lines one at a time (FollowLineDelay apart) and then stays open, sending nothing more, until
    /// kubectl goes away or the stub is disposed.
    /// </summary>
    private async Task FollowLog(HttpListenerContext ctx, string pod, HttpListenerRequest req)
    {
        string text;
        lock (_gate) text = Log(pod, req);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/plain";
        ctx.Response.SendChunked = true;
        Interlocked.Increment(ref _followedLogs);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            await ctx.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n")).ConfigureAwait(false);
            await ctx.Response.OutputStream.FlushAsync().ConfigureAwait(false);
            await Task.Delay(FollowLineDelay).ConfigureAwait(false);
        }
        try { await Task.Delay(TimeSpan.FromSeconds(60), _stop.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { /* the stub is being disposed */ }
        ctx.Response.Abort();
    }

    private int _followedLogs;

    /// <summary>How many pods/log requests with follow=true were answered with a stream.</summary>
    public int FollowedLogs => _followedLogs;

    /// <summary>The pause between two lines of a followed log.</summary>
    public TimeSpan FollowLineDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    private (int, string, string) Route(KubeRequest r, HttpListenerRequest req)
    {
        const string json = "application/json";
        var nsApps = $"/apis/apps/v1/namespaces/{Namespace}";
        var nsCore = $"/api/v1/namespaces/{Namespace}";
        if (ExtraRoute?.Invoke(r) is { } extra) return extra;
        lock (_gate)
        {
            switch (r.Method, r.Path)
            {
                case ("GET", "/version"):
                    return (200, """{"major":"1","minor":"32","gitVersion":"v1.32.4","gitCommit":"stub","gitTreeState":"clean","buildDate":"2025-04-22T00:00:00Z","goVersion":"go1.23.6","compiler":"gc","platform":"linux/amd64"}""", json);
                case ("GET", "/api"):
                    return (200, """{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}""", json);
                case ("GET", "/apis"):
                    return (200, """{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}""", json);
                case ("GET", "/api/v1"):
                    return (200, """{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"]},{"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},{"name":"events","singularName":"event","namespaced":true,"kind":"Event","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["ev"]}]}""", json);
                case ("GET", "/apis/apps/v1"):
                    return (200, """{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[{"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["deploy"],"categories":["all"]},{"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","patch","update"]},{"name":"replicasets","singularName":"replicaset","namespaced":true,"kind":"ReplicaSet","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["rs"],"categories":["all"]},""" + WorkloadResources + """]}""", json);
            }
            if (r.Path == $"{nsApps}/deployments/{Dep}")
            {
                if (r.Method == "GET") return (200, _deployment.ToJsonString(), json);
                if (r.Method == "PATCH")
                {
                    BeforeWorkloadPatch?.Invoke(_deployment);
                    if (r.ContentType?.StartsWith("application/json-patch+json", StringComparison.Ordinal) == true && r.Json is JsonArray ops && ApplyJsonPatch(_deployment, ops) is { } refused)
                        return (422, PatchRefused(refused), json);
                    ApplyPatch(r);
                    return (200, _deployment.ToJsonString(), json);
                }
            }
            if (r.Path == $"{nsApps}/deployments" && r.Method == "GET")
                return (200, List("DeploymentList", "apps/v1", new JsonArray(_deployment.DeepClone())), json);
            if (r.Path == $"{nsApps}/deployments/{Dep}/scale")
            {
                if (r.Method == "PATCH" && r.Json?["spec"]?["replicas"] is { } n) _deployment["spec"]!["replicas"] = n.GetValue<int>();
                if (r.Method is "GET" or "PATCH") return (200, Scale(), json);
            }
            if (r.Path == $"{nsApps}/replicasets" && r.Method == "GET")
                return (200, List("ReplicaSetList", "apps/v1", (JsonArray)_replicaSets.DeepClone()), json);
            if (r.Path == $"{nsCore}/pods" && r.Method == "GET")
            {
                // kubectl delete waits for the pod to go by listing and watching it by name.
                var byName = req.QueryString["fieldSelector"] is { } fs && fs.StartsWith("metadata.name=", StringComparison.Ordinal) ? fs["metadata.name=".Length..] : null;
                var items = new JsonArray(_pods.Concat(_workloadPods).Where(p => (byName is null || (string?)p!["metadata"]!["name"] == byName) && MatchesLabels(p!, req.QueryString["labelSelector"])).Select(p => p!.DeepClone()).ToArray());
                return (200, List("PodList", "v1", items), json);
            }
            if (r.Path.StartsWith($"{nsCore}/pods/", StringComparison.Ordinal))
            {
                var rest = r.Path[$"{nsCore}/pods/".Length..].Split('/');
                var pod = _pods.FirstOrDefault(p => (string?)p!["metadata"]!["name"] == rest[0]);
                if (pod is not null && rest.Length == 1 && r.Method == "GET") return (200, pod.ToJsonString(), json);
                if (pod is not null && rest.Length == 1 && r.Method == "DELETE")
                {
                    var deleted = pod.DeepClone();
                    deleted["metadata"]!["deletionTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");
                    _pods.Remove(pod); // gone at once, as if its grace period had passed
                    return (200, deleted.ToJsonString(), json);
                }
                if (pod is not null && rest is [_, "log"] && r.Method == "GET") return (200, Log(rest[0], req), "text/plain");
            }
            if (RouteWorkloads(r, req) is { } workloads) return workloads;
            return (404, $$"""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the stub does not serve {{r.Method}} {{r.Path}}","reason":"NotFound","code":404}""", json);
        }
    }

    private static string List(string kind, string apiVersion, JsonArray items) =>
        new JsonObject { ["kind"] = kind, ["apiVersion"] = apiVersion, ["metadata"] = new JsonObject { ["resourceVersion"] = "1000" }, ["items"] = items }.ToJsonString();

    private string Scale() => new JsonObject
    {
        ["kind"] = "Scale", ["apiVersion"] = "autoscaling/v1",
        ["metadata"] = new JsonObject { ["name"] = Dep, ["namespace"] = Namespace, ["resourceVersion"] = "1001" },
        ["spec"] = new JsonObject { ["replicas"] = _deployment["spec"]!["replicas"]!.GetValue<int>() },
        ["status"] = new JsonObject { ["replicas"] = _deployment["status"]!["replicas"]!.GetValue<int>(), ["selector"] = "app=marketing" },
    }.ToJsonString();

    /// <summary>The pod's lines of k8s-logs.txt without kubectl's [pod/NAME/CONTAINER] prefix (kubectl adds it).</summary>
    private string Log(string pod, HttpListenerRequest req)
    {
        var prefix = $"[pod/{pod}/";
        var lines = _logLines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..]).ToList();
        if (req.QueryString["tailLines"] is { } t && int.TryParse(t, out var n)) lines = lines.TakeLast(n).ToList();
        return string.Concat(lines.Select(l => l + "\n"));
    }

    /// <summary>Completes the rollout a patch started (a JSON patch was applied by ApplyJsonPatch; a strategic merge patch's restartedAt is taken as it is).</summary>
    private void ApplyPatch(KubeRequest r)
    {
        _ = r;
        var generation = (_deployment["metadata"]!["generation"]?.GetValue<int>() ?? 1) + 1;
        _deployment["metadata"]!["generation"] = generation;
        var replicas = _deployment["spec"]!["replicas"]!.GetValue<int>();
        if (!CompleteRollouts)
        {
            _deployment["status"] = new JsonObject
            {
                ["observedGeneration"] = generation, ["replicas"] = replicas + 1, ["updatedReplicas"] = 1, ["readyReplicas"] = replicas - 1, ["availableReplicas"] = replicas - 1,
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Progressing", ["status"] = "True", ["reason"] = "ReplicaSetUpdated" }),
            };
            return;
        }
        _deployment["status"] = new JsonObject
        {
            ["observedGeneration"] = generation, ["replicas"] = replicas, ["updatedReplicas"] = replicas, ["readyReplicas"] = replicas, ["availableReplicas"] = replicas,
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "Available", ["status"] = "True", ["reason"] = "MinimumReplicasAvailable" },
                new JsonObject { ["type"] = "Progressing", ["status"] = "True", ["reason"] = "NewReplicaSetAvailable" }),
        };
        // The rollout replaced the pods: each now runs the deployment's image and is ready.
        var image = (string?)_deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"];
        foreach (var pod in _pods)
            foreach (var c in pod!["status"]!["containerStatuses"]!.AsArray())
            {
                c!["ready"] = true;
                c["restartCount"] = 0;
                c["image"] = image;
                c["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ") } };
                c.AsObject().Remove("lastState");
            }
    }

    /// <summary>
    /// Closes a listener once (Stop and then Close would each remove its endpoint, and the second removal binds the
    /// port again, which fails while the port has connections in TIME_WAIT). A failure here means the port was never
    /// or is no longer held, which is all that matters.
    /// </summary>
    private static void Release(HttpListener listener)
    {
        try { listener.Close(); }
        catch (HttpListenerException) { /* the endpoint is not bound (any more): nothing left to release */ }
    }

    public void Dispose()
    {
        _stop.Cancel();
        Release(_listener);
        try { _loop.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { /* the loop ended with the listener; nothing to report */ }
        _stop.Dispose();
    }
}
