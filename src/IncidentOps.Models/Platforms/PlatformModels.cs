using IncidentOps.Config;

namespace IncidentOps.Platforms;

/// <summary>Overall state of an app on its platform.</summary>
public enum AppState { Unknown, Healthy, Degraded, Down }

/// <summary>
/// What a platform cmdlet acts on. Built from a configured service, a piped ServiceTarget or direct
/// parameters (-Platform Fly -App, -Platform DigitalOcean -AppId, -Platform Kubernetes -Deployment/-StatefulSet/-DaemonSet, -Platform Systemd -Unit).
/// </summary>
public sealed class AppTarget
{
    public PlatformKind Platform { get; init; }
    public string? Service { get; init; }
    public string? Environment { get; init; }
    public string? App { get; init; }
    public string? AppId { get; init; }
    public string? Component { get; init; }
    public string? Deployment { get; init; }
    /// <summary>A Kubernetes StatefulSet, instead of a Deployment.</summary>
    public string? StatefulSet { get; init; }
    /// <summary>A Kubernetes DaemonSet, instead of a Deployment.</summary>
    public string? DaemonSet { get; init; }
    public string? Namespace { get; init; }
    public string? Context { get; init; }
    /// <summary>kubeconfig file for kubectl (--kubeconfig), when not the default.</summary>
    public string? Kubeconfig { get; init; }
    public string? Unit { get; init; }
    public string? ComputerName { get; init; }
    public string? ReleasesPath { get; init; }
    /// <summary>The configured service's health endpoints; -VerifyHealth and -Wait probe them through the health engine.</summary>
    public IReadOnlyList<HealthEndpoint> Health { get; init; } = [];

    /// <summary>
    /// The name shown for the app (Fly app, DigitalOcean app id, workload, unit). Its platform's provider fills it when the
    /// target is built (Described); until then it is the App.
    /// </summary>
    public string Name => _name ?? App ?? "";

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

    /// <summary>The Kubernetes workload kind as kubectl names it (deployment, statefulset, daemonset).</summary>
    public string WorkloadKind => Deployment is null && StatefulSet is not null ? "statefulset" : Deployment is null && DaemonSet is not null ? "daemonset" : "deployment";

    /// <summary>How messages name the target ("Kubernetes deployment/api in prod"), as its platform's provider describes it.</summary>
    public override string ToString() => _description ?? $"{Platform} app {Name}";
}

/// <summary>
/// Where an App object came from: the configured service and the platform identity of the app. Every App
/// output object carries it, so that piping one into a change (Restart-App, Set-AppScale, Invoke-Rollback,
/// Set-AppSetting) acts on the app it came from and nothing else. No secret is carried: ids, names and paths only.
/// </summary>
public abstract class AppIdentity
{
    public PlatformKind Platform { get; set; }
    /// <summary>The configured service (environment/service) the object came from, when it came from one.</summary>
    public string? Service { get; set; }
    public string? Environment { get; set; }
    public string? App { get; set; }
    public string? AppId { get; set; }
    public string? Component { get; set; }
    public string? Deployment { get; set; }
    /// <summary>The Kubernetes StatefulSet the object came from (instead of a Deployment).</summary>
    public string? StatefulSet { get; set; }
    /// <summary>The Kubernetes DaemonSet the object came from (instead of a Deployment).</summary>
    public string? DaemonSet { get; set; }
    public string? Namespace { get; set; }
    public string? Context { get; set; }
    /// <summary>The kubeconfig file kubectl used (a path, never its contents).</summary>
    public string? Kubeconfig { get; set; }
    public string? Unit { get; set; }
    public string? ComputerName { get; set; }
    public string? ReleasesPath { get; set; }

    /// <summary>Copies the identity of the target the object was read from (what a change on it would address); values the target lacks are kept.</summary>
    public void SetOrigin(AppTarget t)
    {
        Platform = t.Platform;
        Service = t.Service ?? Service;
        Environment = t.Environment ?? Environment;
        App = t.App ?? App;
        AppId = t.AppId ?? AppId;
        Component = t.Component ?? Component;
        Deployment = t.Deployment ?? Deployment;
        StatefulSet = t.StatefulSet ?? StatefulSet;
        DaemonSet = t.DaemonSet ?? DaemonSet;
        Namespace = t.Namespace ?? Namespace;
        Context = t.Context ?? Context;
        Kubeconfig = t.Kubeconfig ?? Kubeconfig;
        Unit = t.Unit ?? Unit;
        ComputerName = t.ComputerName ?? ComputerName;
        ReleasesPath = t.ReleasesPath ?? ReleasesPath;
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
