using IncidentOps.Config;

namespace IncidentOps.Platforms;

/// <summary>Overall state of an app on its platform.</summary>
public enum AppState { Unknown, Healthy, Degraded, Down }

/// <summary>
/// The platform identity of an app (which Fly app, which workload in which namespace, which unit on which host): values
/// keyed by the App cmdlets' parameter names (App, AppId, Deployment, Namespace, Unit, ComputerName ...),
/// case-insensitive, as the platform's provider declares them (IPlatformProvider.Parameters). The shared types keep
/// a platform's identity here, so a platform added later needs no property of its own on them.
/// </summary>
public sealed class AppOptions : IReadOnlyDictionary<string, string>
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public AppOptions() { }

    /// <summary>The options of <paramref name="values"/>; null values are left out.</summary>
    public AppOptions(IEnumerable<KeyValuePair<string, string?>> values)
    {
        foreach (var (key, value) in values) Set(key, value);
    }

    /// <summary>The value of a key, or null.</summary>
    public string? Get(string key) => _values.TryGetValue(key, out var v) ? v : null;

    /// <summary>Sets a key; null removes it.</summary>
    public void Set(string key, string? value)
    {
        if (value is null) _values.Remove(key);
        else _values[key] = value;
    }

    public string this[string key] => _values[key];
    public IEnumerable<string> Keys => _values.Keys;
    public IEnumerable<string> Values => _values.Values;
    public int Count => _values.Count;
    public bool ContainsKey(string key) => _values.ContainsKey(key);
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string value) => _values.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _values.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>"Deployment=api, Namespace=prod".</summary>
    public override string ToString() => string.Join(", ", _values.Select(kv => $"{kv.Key}={kv.Value}"));
}

/// <summary>
/// What a platform cmdlet acts on. Built by the platform's provider from a configured service, a piped object or
/// direct parameters (-Platform Fly -App, -Platform Kubernetes -Deployment ...). The platform identity is in Options,
/// keyed by parameter name; each provider reads it through its own typed options (Engine/Platforms/&lt;Provider&gt;/).
/// </summary>
public sealed class AppTarget
{
    private readonly AppOptions _options = new();

    public PlatformKind Platform { get; init; }
    public string? Service { get; init; }
    public string? Environment { get; init; }

    /// <summary>The platform identity: the values its provider reads, keyed by the App cmdlets' parameter names (App, Deployment, Namespace, Unit ...).</summary>
    public IReadOnlyDictionary<string, string> Options
    {
        get => _options;
        init { foreach (var (k, v) in value) _options.Set(k, v); }
    }

    /// <summary>The value of one option (a parameter name: Deployment, Unit ...), or null.</summary>
    public string? Option(string key) => _options.Get(key);

    /// <summary>The configured service's health endpoints; -VerifyHealth and -Wait probe them through the health engine.</summary>
    public IReadOnlyList<HealthEndpoint> Health { get; init; } = [];

    /// <summary>
    /// The name shown for the app (Fly app, DigitalOcean app id, workload, unit). Its platform's provider fills it when the
    /// target is built (Described).
    /// </summary>
    public string Name => _name ?? "";

    private string? _name;
    private string? _description;

    /// <summary>A copy of this target with the name and description its platform's provider gives it.</summary>
    public AppTarget Described(string name, string description)
    {
        var copy = (AppTarget)MemberwiseClone();
        copy._name = name;
        copy._description = description;
        return copy;
    }

    /// <summary>How messages name the target ("Kubernetes deployment/api in prod"), as its platform's provider describes it.</summary>
    public override string ToString() => _description ?? $"{Platform} app {Name}";
}

/// <summary>
/// Where an App object came from: the configured service and the platform identity of the app. Every App
/// output object carries it, so that piping one into a change (Restart-App, Set-AppScale, Invoke-Rollback,
/// Set-AppSetting) acts on the app it came from and nothing else. No secret is carried: ids, names and paths only.
/// The identity is stored in Options (keyed by parameter name); the named properties below are views of the same
/// entries, kept so that objects look and bind as they always did. A platform whose keys have no named property here
/// still travels: the App cmdlets read GetOptions() from the piped object.
/// </summary>
public abstract class AppIdentity
{
    private readonly AppOptions _options = new();

    public PlatformKind Platform { get; set; }
    /// <summary>The configured service (environment/service) the object came from, when it came from one.</summary>
    public string? Service { get; set; }
    public string? Environment { get; set; }
    public string? App { get => _options.Get(nameof(App)); set => _options.Set(nameof(App), value); }
    public string? AppId { get => _options.Get(nameof(AppId)); set => _options.Set(nameof(AppId), value); }
    public string? Component { get => _options.Get(nameof(Component)); set => _options.Set(nameof(Component), value); }
    public string? Deployment { get => _options.Get(nameof(Deployment)); set => _options.Set(nameof(Deployment), value); }
    /// <summary>The Kubernetes StatefulSet the object came from (instead of a Deployment).</summary>
    public string? StatefulSet { get => _options.Get(nameof(StatefulSet)); set => _options.Set(nameof(StatefulSet), value); }
    /// <summary>The Kubernetes DaemonSet the object came from (instead of a Deployment).</summary>
    public string? DaemonSet { get => _options.Get(nameof(DaemonSet)); set => _options.Set(nameof(DaemonSet), value); }
    public string? Namespace { get => _options.Get(nameof(Namespace)); set => _options.Set(nameof(Namespace), value); }
    public string? Context { get => _options.Get(nameof(Context)); set => _options.Set(nameof(Context), value); }
    /// <summary>The kubeconfig file kubectl used (a path, never its contents).</summary>
    public string? Kubeconfig { get => _options.Get(nameof(Kubeconfig)); set => _options.Set(nameof(Kubeconfig), value); }
    public string? Unit { get => _options.Get(nameof(Unit)); set => _options.Set(nameof(Unit), value); }
    public string? ComputerName { get => _options.Get(nameof(ComputerName)); set => _options.Set(nameof(ComputerName), value); }
    public string? ReleasesPath { get => _options.Get(nameof(ReleasesPath)); set => _options.Set(nameof(ReleasesPath), value); }

    /// <summary>
    /// The platform identity of the app, keyed by the App cmdlets' parameter names (the named properties above are views
    /// of it). A method, not a property, so ConvertTo-Json, Export-Csv and Format-List * show the named properties only
    /// (no duplicate key/value list); the App cmdlets read it from the piped object itself.
    /// </summary>
    public AppOptions GetOptions() => _options;

    /// <summary>Copies the identity of the target the object was read from (what a change on it would address); values the target lacks are kept.</summary>
    public void SetOrigin(AppTarget t)
    {
        Platform = t.Platform;
        Service = t.Service ?? Service;
        Environment = t.Environment ?? Environment;
        foreach (var (key, value) in t.Options) _options.Set(key, value);
    }
}

/// <summary>One instance of an app: a Fly machine, a pod, a DigitalOcean component or the systemd main process.</summary>
public sealed class AppInstance
{
    public required string Id { get; init; }
    public string? State { get; init; }
    public string? Region { get; init; }
    public int Restarts { get; init; }
    /// <summary>Why the instance last stopped: OOMKilled, Error, Completed (a Kubernetes container's last termination reason; Fly's exit event).</summary>
    public string? LastExitReason { get; init; }
    /// <summary>The exit code of that last termination (137: killed, as by the out-of-memory killer), when the platform reports it.</summary>
    public int? ExitCode { get; init; }
    /// <summary>When that last termination happened.</summary>
    public DateTimeOffset? LastExitAt { get; init; }
    public bool Ready { get; init; }
    public string[] Checks { get; init; } = [];
    public string? Version { get; init; }
    /// <summary>The instance's most recent platform events, newest first ("Warning BackOff x12: Back-off restarting failed container"); Kubernetes fills it for pods that are not ready or have restarted.</summary>
    public string[] Events { get; init; } = [];
    public override string ToString() => $"{Id} {State}{(LastExitReason is null ? "" : $" (last exit: {LastExitReason}{(ExitCode is null ? "" : $", code {ExitCode}")})")}";
}

/// <summary>Status of one app (Get-AppStatus). Identity properties bind into the other App cmdlets.</summary>
public sealed class AppStatus : AppIdentity
{
    public required string Name { get; init; }
    public AppState State { get; init; }
    public string? Reason { get; init; }
    public int DesiredInstances { get; init; }
    public int ReadyInstances { get; init; }
    public string? Version { get; init; }
    public string? Image { get; init; }
    public DateTimeOffset? LastDeployedAt { get; init; }
    public IReadOnlyList<AppInstance> Instances { get; init; } = [];
    public override string ToString() => $"{Platform} {Name}: {State}{(Reason is null ? "" : " (" + Reason + ")")}";
}

/// <summary>One release or deployment, newest first (Get-AppDeployment).</summary>
public sealed class AppDeployment : AppIdentity
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    public string? Status { get; init; }
    /// <summary>True when the release reached a good state (complete, ACTIVE/SUPERSEDED, a healthy revision).</summary>
    public bool Succeeded { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public string? Image { get; init; }
    public string? Cause { get; init; }
    public bool IsCurrent { get; set; }
    public bool IsLastGood { get; set; }
    /// <summary>True when a later rollback left this release (a newer release redeployed older content). Like a failed release, it is never a default rollback target; -ToVersion picks it explicitly.</summary>
    public bool RolledBack { get; set; }
    public override string ToString() => $"{Name} {Version} {Status}{(IsCurrent ? " (current)" : "")}";
}

/// <summary>One platform event of an app's workload or its instances (Get-AppEvent): a Kubernetes Event.</summary>
public sealed class AppEvent : AppIdentity
{
    public required string Name { get; init; }
    /// <summary>When the event was last seen (lastTimestamp, else eventTime or the series' last observation).</summary>
    public DateTimeOffset? Timestamp { get; init; }
    /// <summary>When it was first seen.</summary>
    public DateTimeOffset? FirstSeen { get; init; }
    /// <summary>Normal or Warning.</summary>
    public string? Type { get; init; }
    /// <summary>The short reason: BackOff, OOMKilling, FailedScheduling, Killing, ScalingReplicaSet ...</summary>
    public string? Reason { get; init; }
    /// <summary>What the event is about, as kind/name (Pod/marketing-7d9f8b6c5d-xyz12, Deployment/marketing).</summary>
    public required string Object { get; init; }
    public string? Message { get; init; }
    /// <summary>How many times it happened (count, or the series count).</summary>
    public int Count { get; init; } = 1;
    /// <summary>The component that reported it (kubelet, deployment-controller) and its host.</summary>
    public string? Source { get; init; }
    public override string ToString() => $"{Timestamp:u} {Type} {Reason} {Object}{(Count > 1 ? $" (x{Count})" : "")}: {Message}";
}

/// <summary>One log line (Get-AppLog).</summary>
public sealed class AppLogEntry : AppIdentity
{
    public required string Name { get; init; }
    public DateTimeOffset? Timestamp { get; init; }
    public string? Instance { get; init; }
    public string? Level { get; init; }
    public required string Message { get; init; }
    public override string ToString() => $"{Timestamp:u} {Instance} {Message}";
}

/// <summary>An environment value or secret of an app (Get-AppSetting). Secret values are never carried.</summary>
public sealed class AppSetting : AppIdentity
{
    public required string Name { get; init; }
    public required string Key { get; init; }
    /// <summary>The value for plain settings; null for secrets.</summary>
    public string? Value { get; init; }
    public bool IsSecret { get; init; }
    public override string ToString() => IsSecret ? $"{Key}=********" : $"{Key}={Value}";
}

/// <summary>Result of a restart, scale or settings change.</summary>
public sealed class AppActionResult : AppIdentity
{
    public required string Name { get; init; }
    public required string Action { get; init; }
    public IReadOnlyList<string> Commands { get; init; } = [];
    public bool Succeeded { get; init; }
    public AppState? StateAfter { get; init; }
    public string? Output { get; init; }
    public override string ToString() => $"{Action} {Name}: {(Succeeded ? "done" : "failed")}";
}

/// <summary>The outcome of Invoke-Rollback.</summary>
public sealed class RollbackResult : AppIdentity
{
    public required string Name { get; init; }
    public string? From { get; init; }
    public string? To { get; init; }
    public string? ToImage { get; init; }
    public bool Succeeded { get; init; }
    /// <summary>Null when health was not verified.</summary>
    public bool? HealthyAfter { get; init; }
    public TimeSpan Duration { get; init; }
    public IReadOnlyList<string> Steps { get; init; } = [];
    public IReadOnlyList<string> Warnings { get; init; } = [];
    public override string ToString() => $"{Name}: {From} -> {To} {(Succeeded ? "succeeded" : "failed")}";
}

/// <summary>What a rollback would do: from, to and the exact commands or requests (-WhatIf).</summary>
public sealed class RollbackPlan
{
    public required AppTarget Target { get; init; }
    public string? From { get; init; }
    public required string To { get; init; }
    public string? ToImage { get; init; }
    public IReadOnlyList<string> Commands { get; init; } = [];
    public IReadOnlyList<string> Warnings { get; init; } = [];
    public override string ToString() => $"{Target.Name}: {From} -> {To}";
}
