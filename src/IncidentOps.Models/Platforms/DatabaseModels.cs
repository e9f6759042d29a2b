using IncidentOps.Config;

namespace IncidentOps.Platforms;

/// <summary>
/// A platform database the AppDatabase cmdlets act on: a Fly Postgres app (-Platform Fly -DatabaseApp) or a
/// DigitalOcean managed database cluster (-Platform DigitalOcean -DatabaseId), directly or from a configured
/// service's postgres.fly / postgres.digitalOcean.
/// </summary>
public sealed class AppDatabaseTarget
{
    public PlatformKind Platform { get; init; }
    public string? Service { get; init; }
    /// <summary>Fly Postgres app name.</summary>
    public string? DatabaseApp { get; init; }
    /// <summary>DigitalOcean database cluster id.</summary>
    public string? DatabaseId { get; init; }

    public string Name => DatabaseApp ?? DatabaseId ?? "";

    /// <summary>How messages and the timeline name the database ("Fly Postgres app pg1"); its provider sets it.</summary>
    public string? Label { get; init; }

    public override string ToString() => Label ?? $"{Platform} database {Name}";
}

/// <summary>One member of a database cluster: a Fly Postgres machine or a DigitalOcean node count entry.</summary>
public sealed class AppDatabaseNode
{
    public required string Id { get; init; }
    /// <summary>primary, replica, unknown, or error (the role check is failing).</summary>
    public string? Role { get; init; }
    public string? State { get; init; }
    public string? Region { get; init; }
    public bool Healthy { get; init; }
    public string[] Checks { get; init; } = [];
    public override string ToString() => $"{Id} {Role} {State}";
}

/// <summary>Status of a platform database (Get-AppDatabase). Identity properties bind into the other AppDatabase cmdlets.</summary>
public sealed class AppDatabase
{
    public PlatformKind Platform { get; init; }
    public required string Name { get; init; }
    public string? Service { get; init; }
    public string? DatabaseApp { get; init; }
    public string? DatabaseId { get; init; }
    public string? Engine { get; init; }
    public string? Version { get; init; }
    public AppState State { get; init; }
    public string? Reason { get; init; }
    /// <summary>Raw platform status (DigitalOcean: online, creating, resizing, migrating, forking).</summary>
    public string? Status { get; init; }
    public string? Region { get; init; }
    public string? Size { get; init; }
    public int NodeCount { get; init; }
    /// <summary>Id of the primary node, when the platform says which one it is.</summary>
    public string? Primary { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public IReadOnlyList<AppDatabaseNode> Nodes { get; init; } = [];
    /// <summary>AWS RDS: whether the instance has a standby in a second availability zone (what -Failover fails over to).</summary>
    public bool? MultiAz { get; init; }
    /// <summary>AWS RDS: maintenance the platform will apply (action, description, from when).</summary>
    public IReadOnlyList<string> PendingMaintenance { get; init; } = [];
    /// <summary>AWS RDS: the aws profile and region it was read with; piped into a change, it is acted on only with the same ones (PipelineTargetMismatch).</summary>
    public string? Account { get; init; }
    public override string ToString() => $"{Platform} database {Name}: {State}{(Reason is null ? "" : " (" + Reason + ")")}";
}

/// <summary>One backup of a platform database (Get-AppDatabaseBackup, New-AppDatabaseBackup). BackupId binds into Restore-AppDatabaseBackup.</summary>
public sealed class AppDatabaseBackup
{
    public PlatformKind Platform { get; init; }
    public string? Service { get; init; }
    public string? DatabaseApp { get; init; }
    public string? DatabaseId { get; init; }
    /// <summary>Fly: the barman backup id (20261123T020000). DigitalOcean: the backup's UTC creation time (2026-11-23T02:00:00Z).</summary>
    public required string BackupId { get; init; }
    /// <summary>Fly: the name given with New-AppDatabaseBackup -Name (an alias usable for restore).</summary>
    public string? Alias { get; init; }
    /// <summary>Fly: DONE, FAILED, STARTED ... DigitalOcean: available.</summary>
    public string? Status { get; init; }
    /// <summary>True when the backup finished and can be restored from.</summary>
    public bool Restorable { get; init; }
    /// <summary>Fly: the backup's end time. DigitalOcean: its creation time.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
    public double? SizeGigabytes { get; init; }
    /// <summary>AWS RDS: the aws profile and region it was read with; piped into a restore, it is used only with the same ones (PipelineTargetMismatch).</summary>
    public string? Account { get; init; }
    public override string ToString() => $"{DatabaseApp ?? DatabaseId} {BackupId} {Status}";
}

/// <summary>
/// The outcome of Restore-AppDatabaseBackup. Both platforms restore into a NEW database; DatabaseApp or
/// DatabaseId names the new one, so the result pipes into Get-AppDatabase.
/// </summary>
public sealed class AppDatabaseRestoreResult
{
    public PlatformKind Platform { get; init; }
    /// <summary>The database the backup came from (unchanged by the restore).</summary>
    public required string Source { get; init; }
    public required string BackupId { get; init; }
    /// <summary>Name of the new Fly Postgres app or DigitalOcean cluster.</summary>
    public required string NewName { get; init; }
    /// <summary>The new Fly Postgres app (Fly).</summary>
    public string? DatabaseApp { get; init; }
    /// <summary>The new cluster's id (DigitalOcean).</summary>
    public string? DatabaseId { get; init; }
    /// <summary>DigitalOcean: the new cluster's status (creating, forking, online). Fly: launched or restored.</summary>
    public string? Status { get; init; }
    public IReadOnlyList<string> Commands { get; init; } = [];
    public IReadOnlyList<string> Warnings { get; init; } = [];
    public override string ToString() => $"{Source} {BackupId} -> {NewName} {Status}";
}
