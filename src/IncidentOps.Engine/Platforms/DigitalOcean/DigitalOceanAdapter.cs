using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// DigitalOcean App Platform through doctl -o json (phases ACTIVE, SUPERSEDED, ERROR, CANCELED ...). doctl has
/// no rollback command, so rollback uses the API: POST /v2/apps/{id}/rollback/validate, then /rollback.
/// </summary>
public sealed partial class DigitalOceanAdapter(AppTarget target, ProcessRunner runner, TimeSpan timeout, IOperationSink sink, Uri api, string? token = null)
    : PlatformAdapterBase(target, runner, timeout, sink), IPlatformAdapter
{
    private readonly DigitalOceanOptions _o = DigitalOceanOptions.Of(target);
    private string Id => _o.AppId!;
    /// <summary>doctl with <paramref name="args"/>, then --context and --config with the auth context and config file pinned when the command started.</summary>
    private CliCommand Doctl(params string[] args) => DoctlAuth.Command(_o.DoctlContext, _o.DoctlConfig, args);
    private static readonly string[] GoodPhases = ["ACTIVE", "SUPERSEDED"];

    private async Task<JsonElement> GetAppAsync(CancellationToken ct)
    {
        var cmd = Doctl("apps", "get", Id, "-o", "json");
        var root = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        if (root.ValueKind == JsonValueKind.Array) root = root.EnumerateArray().FirstOrDefault();
        if (root.ValueKind != JsonValueKind.Object) throw Invalid(cmd, "[0]", "is missing");
        return root;
    }

    private static IEnumerable<JsonElement> Components(JsonElement spec) =>
        new[] { "services", "workers", "jobs", "static_sites" }.SelectMany(k => Arr(spec, k));

    public async Task<AppStatus> GetStatusAsync(CancellationToken ct)
    {
        var app = await GetAppAsync(ct).ConfigureAwait(false);
        var activePhase = Str(app, "active_deployment", "phase");
        var pendingPhase = Str(app, "in_progress_deployment", "phase") ?? Str(app, "pending_deployment", "phase");
        var components = Components(Path(app, "spec") ?? app).Where(c => _o.Component is null || Str(c, "name") == _o.Component).ToList();
        var desired = components.Sum(c => Path(c, "instance_count") is null ? 1 : Int(c, "instance_count"));
        AppState state; string? why = null;
        if (activePhase is null) { state = AppState.Down; why = "no active deployment"; }
        else if (activePhase != "ACTIVE") { state = AppState.Degraded; why = $"active deployment is {activePhase}"; }
        else if (pendingPhase is "ERROR" or "CANCELED") { state = AppState.Degraded; why = $"latest deployment {pendingPhase}"; }
        // A failed deployment leaves no pointer on the app: it is neither active nor in progress, but it is newer than the active one.
        else if (pendingPhase is null && Time(app, "last_deployment_created_at") is { } last && Time(app, "active_deployment", "created_at") is { } active && last > active)
        { state = AppState.Degraded; why = $"latest deploy ({last.UtcDateTime.ToString("MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)}Z) failed"; }
        else state = AppState.Healthy;
        if (pendingPhase is not null && why is null && state == AppState.Healthy) why = $"deployment in progress ({pendingPhase})";
        if (Str(app, "pinned_deployment", "id") is { } pinned)
            why = (why is null ? "" : why + "; ") + $"pinned to rollback deployment {pinned}: run Invoke-Rollback -Commit or -Revert";
        return new AppStatus
        {
            Platform = PlatformKind.DigitalOcean, Name = Str(app, "spec", "name") ?? Id, Service = Target.Service, AppId = Id,
            State = state, Reason = why, DesiredInstances = desired, ReadyInstances = state == AppState.Down ? 0 : desired,
            Version = Str(app, "active_deployment", "id"),
            Image = Arr(app, "active_deployment", "services").Select(s => Str(s, "source_commit_hash")).FirstOrDefault(h => h is not null),
            LastDeployedAt = Time(app, "last_deployment_active_at") ?? Time(app, "active_deployment", "updated_at"),
            Instances = components.Select(c => new AppInstance
            {
                Id = Str(c, "name") ?? "?", State = activePhase, Region = Str(app, "region", "slug"), Ready = state != AppState.Down,
                Version = Str(c, "instance_size_slug"),
            }).ToList(),
        };
    }

    public async Task<IReadOnlyList<AppDeployment>> GetDeploymentsAsync(CancellationToken ct)
    {
        var cmd = Doctl("apps", "list-deployments", Id, "-o", "json");
        var root = RequireArray(cmd, await RunJsonAsync(cmd, ct).ConfigureAwait(false), "(document)");
        var list = root.EnumerateArray().Select(d =>
        {
            var phase = RequireStr(cmd, d, "[].phase", "phase");
            return new AppDeployment
            {
                Platform = PlatformKind.DigitalOcean, Name = Id, Version = RequireStr(cmd, d, "[].id", "id"), Status = phase,
                Succeeded = GoodPhases.Contains(phase), CreatedAt = Time(d, "created_at"),
                Image = Arr(d, "services").Select(s => Str(s, "source_commit_hash")).FirstOrDefault(h => h is not null),
                Cause = Str(d, "cause"), IsCurrent = phase == "ACTIVE",
            };
        }).OrderByDescending(d => d.CreatedAt).ToList();
        return MarkLastGood(list);
    }

    public async Task<IReadOnlyList<AppSetting>> GetSettingsAsync(CancellationToken ct)
    {
        var app = await GetAppAsync(ct).ConfigureAwait(false);
        var spec = Path(app, "spec") ?? app;
        var result = new List<AppSetting>();
        void Add(IEnumerable<JsonElement> envs, string? component)
        {
            foreach (var e in envs)
            {
                var secret = Str(e, "type") == "SECRET";
                result.Add(new AppSetting { Platform = PlatformKind.DigitalOcean, Name = component is null ? Id : $"{Id}/{component}", Key = Str(e, "key") ?? "?", IsSecret = secret, Value = secret ? null : Str(e, "value") });
            }
        }
        Add(Arr(spec, "envs"), null);
        foreach (var c in Components(spec).Where(c => _o.Component is null || Str(c, "name") == _o.Component)) Add(Arr(c, "envs"), Str(c, "name"));
        return result;
    }

    public PlannedChange PlanRestart(string? instance, bool wait) => instance is not null
        ? NotSupported($"Restart-App -Pod is not supported on DigitalOcean App Platform: doctl cannot restart one instance of app {Id}. Omit -Pod to redeploy the whole app (doctl apps create-deployment --force-rebuild).")
        : Change(wait ? Doctl("apps", "create-deployment", Id, "--force-rebuild", "--wait", "-o", "json") : Doctl("apps", "create-deployment", Id, "--force-rebuild", "-o", "json"));

    /// <summary>
    /// The instance_count that <see cref="PlanScale"/> sets, of the services and workers it sets it on (-Component, or all
    /// of them): the largest, when they differ, so a scale-in is never counted smaller than it is.
    /// </summary>
    public async Task<int> GetInstanceCountAsync(CancellationToken ct)
    {
        var app = await GetAppAsync(ct).ConfigureAwait(false);
        var spec = Path(app, "spec") ?? app;
        var counts = new[] { "services", "workers" }.SelectMany(k => Arr(spec, k)).Where(c => _o.Component is null || Str(c, "name") == _o.Component)
            .Select(c => Path(c, "instance_count") is null ? 1 : Int(c, "instance_count")).ToList();
        if (counts.Count == 0) throw new IncidentOpsException(PlatformErrorIds.ComponentNotFound, IncidentOpsErrorCategory.ObjectNotFound, $"App {Id} has no service or worker '{_o.Component}'.");
        return counts.Max();
    }

    /// <summary>instance_count and instance_size_slug live in the app spec: read it, change it, send it back (doctl apps update --spec -).</summary>
    public PlannedChange PlanScale(int? count, string? size)
    {
        var get = Doctl("apps", "spec", "get", Id, "--format", "json");
        var edit = string.Join(", ", new[] { count is null ? null : $"instance_count={count}", size is null ? null : $"instance_size_slug={size}" }.Where(x => x is not null));
        var update = Doctl("apps", "update", Id, "--spec", "-", "-o", "json") with { StandardInput = "", StdinDisplay = $"spec with {edit} on {_o.Component ?? "every service"}" };
        return new PlannedChange([get.CommandLine, update.CommandLine], async ct =>
        {
            var spec = JsonNode.Parse(await RunTextAsync(get, ct).ConfigureAwait(false)) as JsonObject ?? throw Invalid(get, "(document)", "is not an object");
            var touched = 0;
            foreach (var key in new[] { "services", "workers" })
                if (spec[key] is JsonArray arr)
                    foreach (var c in arr.OfType<JsonObject>().Where(c => _o.Component is null || (string?)c["name"] == _o.Component))
                    {
                        if (count is not null) c["instance_count"] = count;
                        if (size is not null) c["instance_size_slug"] = size;
                        touched++;
                    }
            if (touched == 0) throw new IncidentOpsException(PlatformErrorIds.ComponentNotFound, IncidentOpsErrorCategory.ObjectNotFound, $"App {Id} has no service or worker '{_o.Component}'.");
            var result = await RunAsync(update with { StandardInput = spec.ToJsonString() }, ct).ConfigureAwait(false);
            return $"updated {touched} component(s): {edit}";
        });
    }

    public PlannedChange PlanSetSettings(IReadOnlyDictionary<string, string> values, bool secret)
    {
        foreach (var v in values.Values) if (secret) SecretRedactor.Register(v);
        var get = Doctl("apps", "spec", "get", Id, "--format", "json");
        var shown = string.Join(" ", values.Select(kv => $"{kv.Key}={(secret ? SecretRedactor.Mask : kv.Value)}"));
        var update = Doctl("apps", "update", Id, "--spec", "-", "-o", "json") with { StandardInput = "", StdinDisplay = $"spec with envs {shown}" };
        return new PlannedChange([get.CommandLine, update.CommandLine], async ct =>
        {
            var spec = JsonNode.Parse(await RunTextAsync(get, ct).ConfigureAwait(false)) as JsonObject ?? throw Invalid(get, "(document)", "is not an object");
            var envs = spec["envs"] as JsonArray ?? [];
            spec["envs"] = envs;
            foreach (var (k, v) in values)
            {
                var existing = envs.OfType<JsonObject>().FirstOrDefault(e => (string?)e["key"] == k);
                if (existing is null) envs.Add(existing = new JsonObject { ["key"] = k });
                existing["value"] = v;
                existing["type"] = secret ? "SECRET" : "GENERAL";
                existing["scope"] ??= "RUN_AND_BUILD_TIME";
            }
            await RunAsync(update with { StandardInput = spec.ToJsonString() }, ct).ConfigureAwait(false);
            return $"set {string.Join(", ", values.Keys)}";
        });
    }

    public PreparedRollback PlanRollback(AppDeployment? from, AppDeployment to)
    {
        // Serialised, not interpolated: the id comes from doctl's output, and a quote in it must stay inside the string.
        var body = new JsonObject { ["deployment_id"] = to.Version, ["skip_pin"] = false }.ToJsonString();
        var validate = $"POST {new Uri(api, $"v2/apps/{Id}/rollback/validate")} {body}";
        var rollback = $"POST {new Uri(api, $"v2/apps/{Id}/rollback")} {body}";
        const string warning = "DigitalOcean pins the app to the rolled-back deployment (no new deployments, no auto-deploy on push) until you run Invoke-Rollback -Commit to keep it or Invoke-Rollback -Revert to undo it. Database changes are not undone.";
        // The API takes no precondition on the current deployment: the history is read again after the validation,
        // right before the rollback request, and a deploy landing in that one round trip would still be replaced.
        const string noPrecondition = "The App Platform rollback API cannot make the rollback conditional on the current deployment: the deployments are checked again right before the rollback request, but a deploy landing in that last round trip would be replaced.";
        var plan = new RollbackPlan { Target = Target, From = from?.Version, To = to.Version, ToImage = to.Image, Commands = [validate, rollback], Warnings = [warning, noPrecondition] };
        return new PreparedRollback(plan, async c =>
        {
            using var http = await ClientAsync(c).ConfigureAwait(false);
            var r = await PostAsync(http, $"v2/apps/{Id}/rollback", body, c).ConfigureAwait(false);
            Sink.Warning(warning);
            return [validate, rollback + $" -> deployment {Str(r, "deployment", "id")} {Str(r, "deployment", "phase")}"];
        })
        {
            CheckFirst = async c =>
            {
                using var http = await ClientAsync(c).ConfigureAwait(false);
                var v = await PostAsync(http, $"v2/apps/{Id}/rollback/validate", body, c).ConfigureAwait(false);
                if (Path(v, "valid") is not { ValueKind: JsonValueKind.True })
                    throw new IncidentOpsException(PlatformErrorIds.RollbackInvalid, IncidentOpsErrorCategory.InvalidOperation,
                        $"DigitalOcean refused a rollback of app {Id} to deployment {to.Version}: {Str(v, "error", "message") ?? v.GetRawText()}");
                foreach (var w in Arr(v, "warnings")) Sink.Warning($"DigitalOcean: {Str(w, "message") ?? w.GetRawText()}");
            },
        };
    }

    /// <summary>
    /// Ends the pin a rollback left: POST /v2/apps/{id}/rollback/commit keeps the rolled-back deployment and unpins
    /// the app (200, no body); /rollback/revert creates a new deployment from the spec before the rollback and unpins it.
    /// </summary>
    public override PlannedChange PlanFinishRollback(bool commit)
    {
        var path = $"v2/apps/{Id}/rollback/{(commit ? "commit" : "revert")}";
        return new PlannedChange([$"POST {new Uri(api, path)}"], async ct =>
        {
            using var http = await ClientAsync(ct).ConfigureAwait(false);
            var r = await PostAsync(http, path, null, ct).ConfigureAwait(false);
            return commit
                ? $"committed the rollback of app {Id}: the app is unpinned and deploys again"
                : $"reverted the rollback of app {Id}: deployment {Str(r, "deployment", "id") ?? "(none returned)"} {Str(r, "deployment", "phase")}".TrimEnd();
        });
    }

    private async Task<HttpClient> ClientAsync(CancellationToken ct)
    {
        var http = new HttpClient { BaseAddress = api, Timeout = Timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? await TokenAsync(ct).ConfigureAwait(false));
        return http;
    }

    /// <summary>POSTs a JSON body (or none); an empty success response (rollback/commit) is an Undefined element.</summary>
    private static async Task<JsonElement> PostAsync(HttpClient http, string path, string? body, CancellationToken ct)
    {
        using var content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path, content, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new IncidentOpsException(PlatformErrorIds.PlatformRequestFailed, IncidentOpsErrorCategory.InvalidResult,
                $"POST {path} returned {(int)response.StatusCode} {response.ReasonPhrase}: {(text.Length > 2000 ? text[..2000] : text)}");
        if (string.IsNullOrWhiteSpace(text)) return default;
        try { using var doc = JsonDocument.Parse(text); return doc.RootElement.Clone(); }
        catch (JsonException) { throw new IncidentOpsException(PlatformErrorIds.PlatformOutputInvalid, IncidentOpsErrorCategory.InvalidResult, $"POST {path} did not return JSON."); }
    }

    /// <summary>
    /// The token doctl uses for the auth context pinned when the command started (DoctlAuth: the default context's
    /// DIGITALOCEAN_ACCESS_TOKEN or access-token:, another context's auth-contexts: entry), so the API calls act in the
    /// same account as the doctl calls. Registered for masking; never shown.
    /// </summary>
    private Task<string> TokenAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var env = (Func<string, string?>)System.Environment.GetEnvironmentVariable;
        var context = _o.DoctlContext ?? DoctlAuth.Context(env, _o.DoctlConfig);
        var token = DoctlAuth.Token(context, env, _o.DoctlConfig)
            ?? throw new IncidentOpsException(PlatformErrorIds.PlatformAuthMissing, IncidentOpsErrorCategory.AuthenticationError, DoctlAuth.NoTokenAdvice(context, env, _o.DoctlConfig));
        SecretRedactor.Register(token);
        return Task.FromResult(token);
    }
}
