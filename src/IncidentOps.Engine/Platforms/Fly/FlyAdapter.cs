using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// Fly.io through flyctl. status --json is PascalCase at the top with snake_case machines; releases --json
/// carries ImageRef, which is how a rollback redeploys the previous successful image (Fly has no rollback command);
/// logs --json is a stream of pretty-printed entries (lowercase top-level keys, PascalCase meta). Shapes and their
/// sources: tests/IncidentOps.Tests/Platforms/Fly/Fixtures/SOURCES.md.
/// </summary>
public sealed partial class FlyAdapter(AppTarget target, ProcessRunner runner, TimeSpan timeout, IOperationSink sink)
    : PlatformAdapterBase(target, runner, timeout, sink), IPlatformAdapter
{
    private readonly FlyOptions _o = FlyOptions.Of(target);
    private string App => _o.App!;
    private static CliCommand Fly(params string[] args) => new("flyctl", "flyctl", args);

    public async Task<AppStatus> GetStatusAsync(CancellationToken ct)
    {
        var cmd = Fly("status", "-a", App, "--json");
        var s = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        if (s.ValueKind != JsonValueKind.Object) throw Invalid(cmd, "(document)", "is not an object");
        var machines = Arr(s, "Machines").Where(m => Str(m, "state") is not "destroyed").ToList();
        var instances = machines.Select(m =>
        {
            var exits = Arr(m, "events").Where(e => Str(e, "type") == "exit").ToList();
            var lastExit = exits.OrderByDescending(e => Path(e, "timestamp")?.ValueKind == JsonValueKind.Number ? Path(e, "timestamp")!.Value.GetInt64() : 0).FirstOrDefault();
            string? reason = null;
            if (lastExit.ValueKind == JsonValueKind.Object)
                reason = Bool(lastExit, "request", "exit_event", "oom_killed") ? "OOMKilled" : $"exit code {Int(lastExit, "request", "exit_event", "exit_code")}";
            var checks = Arr(m, "checks").Select(c => $"{Str(c, "name")}: {Str(c, "status")}").ToArray();
            return new AppInstance
            {
                Id = Str(m, "id") ?? throw Invalid(cmd, "Machines[].id", "is missing"),
                State = Str(m, "state"), Region = Str(m, "region"), Restarts = exits.Count, LastExitReason = reason, Checks = checks,
                Ready = Str(m, "state") == "started" && Arr(m, "checks").All(c => Str(c, "status") == "passing"),
                // The release a machine runs is config.metadata.fly_release_version (what 'fly status' shows as Version).
                Version = Str(m, "config", "metadata", "fly_release_version") is { } rv ? "v" + rv : Str(m, "image_ref", "tag"),
            };
        }).ToList();
        var ready = instances.Count(i => i.Ready);
        var started = instances.Count(i => i.State == "started");
        AppState state; string? why = null;
        if (instances.Count == 0) { state = AppState.Down; why = "no machines"; }
        else if (started == 0) { state = AppState.Down; why = instances.Select(i => i.LastExitReason).FirstOrDefault(r => r is not null) ?? "no machine started"; }
        else if (ready < instances.Count) { state = AppState.Degraded; why = $"{ready}/{instances.Count} machines healthy" + (instances.Any(i => i.LastExitReason == "OOMKilled") ? "; OOMKilled" : ""); }
        else state = AppState.Healthy;
        var first = machines.FirstOrDefault();
        string? image = first.ValueKind == JsonValueKind.Object
            ? Str(first, "config", "image") ?? $"{Str(first, "image_ref", "registry")}/{Str(first, "image_ref", "repository")}:{Str(first, "image_ref", "tag")}"
            : null;
        return new AppStatus
        {
            Platform = PlatformKind.Fly, Name = Str(s, "Name") ?? App, Service = Target.Service, App = App, State = state, Reason = why,
            DesiredInstances = instances.Count, ReadyInstances = ready, Version = Str(s, "Version") is { } v ? "v" + v : null, Image = image,
            LastDeployedAt = machines.Select(m => Time(m, "updated_at")).Max(), Instances = instances,
        };
    }

    public async Task<IReadOnlyList<AppDeployment>> GetDeploymentsAsync(CancellationToken ct)
    {
        var cmd = Fly("releases", "-a", App, "--json", "--image");
        var root = RequireArray(cmd, await RunJsonAsync(cmd, ct).ConfigureAwait(false), "(document)");
        var list = root.EnumerateArray().Select(r => new AppDeployment
        {
            Platform = PlatformKind.Fly, Name = App,
            Version = "v" + RequireStr(cmd, r, "[].Version", "Version"),
            Status = Str(r, "Status"),
            Succeeded = Str(r, "Status") is "complete" or "succeeded" or "successful",
            CreatedAt = Time(r, "CreatedAt"),
            Image = Str(r, "ImageRef"),
            Cause = Str(r, "Description") ?? Str(r, "Reason"),
        }).OrderByDescending(d => int.TryParse(d.Version[1..], out var n) ? n : 0).ToList();
        // The current release is the newest complete one: a failed deploy leaves the previous release serving.
        var current = list.FirstOrDefault(d => d.Succeeded) ?? list.FirstOrDefault();
        if (current is not null) current.IsCurrent = true;
        return MarkLastGood(list);
    }

    public async Task<IReadOnlyList<AppSetting>> GetSettingsAsync(CancellationToken ct)
    {
        var cmd = Fly("secrets", "list", "-a", App, "--json");
        var root = RequireArray(cmd, await RunJsonAsync(cmd, ct).ConfigureAwait(false), "(document)");
        return root.EnumerateArray().Select(s => new AppSetting { Platform = PlatformKind.Fly, Name = App, Key = RequireStr(cmd, s, "[].Name", "Name"), IsSecret = true }).ToList();
    }

    public PlannedChange PlanRestart(string? instance, bool wait)
    {
        TargetNames.Check("-Pod", instance, TargetNames.Token);
        return instance is null ? Change(Fly("apps", "restart", App)) : Change(Fly("machine", "restart", instance, "-a", App));
    }

    public PlannedChange PlanScale(int? count, string? size)
    {
        TargetNames.Check("-Size", size, TargetNames.Token);
        var commands = new List<CliCommand>();
        if (size is not null) commands.Add(Fly("scale", "vm", size, "-a", App));
        if (count is not null) commands.Add(Fly("scale", "count", count.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", App, "--yes"));
        return Change([.. commands]);
    }

    /// <summary>Values go through stdin (secrets import), so they never appear in a process list.</summary>
    public PlannedChange PlanSetSettings(IReadOnlyDictionary<string, string> values, bool secret)
    {
        foreach (var v in values.Values) SecretRedactor.Register(v);
        // One NAME=value per line: a line break in a value would start another line, setting a secret nobody named.
        if (values.FirstOrDefault(kv => kv.Value.Contains('\n') || kv.Value.Contains('\r')) is { Key: { } broken })
            throw new IncidentOpsException(PlatformErrorIds.AppSettingInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"The value of '{broken}' holds a line break, and flyctl secrets import reads one NAME=value per line, so the rest would set another secret. Nothing was changed on {Target}. Set a multi-line value with flyctl secrets set {broken}=- -a {App} (it reads the value from stdin).")
            { TargetObject = broken };
        var stdin = string.Concat(values.Select(kv => $"{kv.Key}={kv.Value}\n"));
        var display = string.Join(" ", values.Keys.Select(k => $"{k}={SecretRedactor.Mask}"));
        return Change(new CliCommand("flyctl", "flyctl", ["secrets", "import", "-a", App], stdin, display));
    }

    public PreparedRollback PlanRollback(AppDeployment? from, AppDeployment to)
    {
        if (string.IsNullOrEmpty(to.Image))
            throw new IncidentOpsException(PlatformErrorIds.RollbackTargetNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                $"Release {to.Version} of {App} has no ImageRef in 'flyctl releases --json --image'; pass -ToVersion with a release that has one.");
        var deploy = Fly("deploy", "-a", App, "--image", to.Image, "--yes");
        const string warning = "Fly has no rollback command: this redeploys the previous image. Database migrations run by the bad release are NOT undone.";
        // flyctl deploy takes no precondition on the current release: the releases are read again right before it
        // (PlatformsService.RollbackAsync), and nothing else runs in between.
        const string noPrecondition = "flyctl cannot make the deploy conditional on the current release: the releases are checked again right before it, but a deploy landing in that moment would be replaced.";
        // flyctl deploy takes its configuration (services, env, mounts, processes) from a fly.toml in its working directory
        // and only its name from -a: run in a directory with a fly.toml of another app, it deployed this app with that
        // app's configuration. It runs in an empty directory instead, so it takes this app's own configuration from Fly.
        const string ownConfig = "flyctl deploy runs in an empty directory, so it uses the app's own configuration from Fly, never a fly.toml of the current directory.";
        var plan = new RollbackPlan { Target = Target, From = from?.Version, To = to.Version, ToImage = to.Image, Commands = [deploy.CommandLine], Warnings = [warning, noPrecondition, ownConfig] };
        return new PreparedRollback(plan, async c =>
        {
            Sink.Warning(warning);
            var empty = Directory.CreateTempSubdirectory("incidentops-fly-deploy-");
            try { await RunAsync(deploy with { WorkingDirectory = empty.FullName }, c).ConfigureAwait(false); }
            finally
            {
                try { empty.Delete(recursive: true); }
                catch (IOException) { /* flyctl left something behind: a temp folder is not worth failing the rollback */ }
                catch (UnauthorizedAccessException) { /* likewise */ }
            }
            return [deploy.CommandLine];
        });
    }
}
