using System.Globalization;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// An RDS DB instance through 'aws rds ... --output json --no-cli-pager'. describe-db-instances gives the state
/// (DBInstanceStatus), engine, Multi-AZ and the standby's zone; describe-pending-maintenance-actions the maintenance
/// RDS will apply. Snapshots are the backups (automated and manual). Every restore creates a NEW instance
/// (restore-db-instance-from-db-snapshot, restore-db-instance-to-point-in-time); the source is never changed.
/// </summary>
public sealed class AwsRdsAdapter(AppDatabaseTarget database, ProcessRunner runner, TimeSpan timeout, IOperationSink sink, AwsAccount? account = null)
    : DatabaseAdapterBase(database, runner, timeout, sink), IDatabaseAdapter
{
    private string Id => Database.DatabaseId!;
    private readonly AwsAccount _account = account ?? new AwsAccount(null, null);

    /// <summary>The aws profile and region pinned when the command started, stamped on every object it writes.</summary>
    public string? Account => _account.ToString();

    /// <summary>aws rds ARGS --output json --no-cli-pager (the pager would wait for a terminal), then the pinned --profile and --region.</summary>
    private CliCommand Rds(params string[] args) => new("aws", "aws", ["rds", .. args, "--output", "json", "--no-cli-pager", .. _account.Arguments]);

    public async Task<AppDatabase> GetStatusAsync(CancellationToken ct)
    {
        var cmd = Rds("describe-db-instances", "--db-instance-identifier", Id);
        var db = Instance(cmd, await RunJsonAsync(cmd, ct).ConfigureAwait(false), "DBInstances");
        var maintenanceCmd = Rds("describe-pending-maintenance-actions", "--filters", $"Name=db-instance-id,Values={Id}");
        var maintenance = Arr(await RunJsonAsync(maintenanceCmd, ct).ConfigureAwait(false), "PendingMaintenanceActions")
            .SelectMany(r => Arr(r, "PendingMaintenanceActionDetails"))
            .Select(Describe).ToArray();
        var status = RequireStr(cmd, db, "DBInstances[0].DBInstanceStatus", "DBInstanceStatus");
        var (state, why) = StateOf(status);
        var multiAz = Bool(db, "MultiAZ");
        var zone = Str(db, "AvailabilityZone");
        var standby = Str(db, "SecondaryAvailabilityZone");
        var nodes = new List<AppDatabaseNode> { new() { Id = zone ?? Id, Role = "primary", State = status, Region = zone, Healthy = state == AppState.Healthy } };
        if (multiAz) nodes.Add(new AppDatabaseNode { Id = standby ?? "standby", Role = "standby", State = status, Region = standby, Healthy = state == AppState.Healthy });
        return new AppDatabase
        {
            Platform = PlatformKind.Aws, Name = Str(db, "DBInstanceIdentifier") ?? Id, Service = Database.Service, DatabaseId = Str(db, "DBInstanceIdentifier") ?? Id, Account = Account,
            Engine = Str(db, "Engine"), Version = Str(db, "EngineVersion"), State = state, Reason = why, Status = status,
            Region = zone, Size = Str(db, "DBInstanceClass"), NodeCount = nodes.Count, Primary = zone, CreatedAt = Time(db, "InstanceCreateTime"),
            Nodes = nodes, MultiAz = multiAz, PendingMaintenance = maintenance,
        };
    }

    /// <summary>The DB instance statuses of the RDS User Guide ("Viewing Amazon RDS DB instance status") as a state.</summary>
    private static (AppState, string?) StateOf(string status) => status.ToLowerInvariant() switch
    {
        "available" => (AppState.Healthy, null),
        "backing-up" or "modifying" or "maintenance" or "upgrading" or "storage-optimization" or "configuring-enhanced-monitoring"
            or "configuring-iam-database-auth" or "configuring-log-exports" or "renaming" or "resetting-master-credentials" or "moving-to-vpc"
            => (AppState.Degraded, $"status {status}: the instance serves, a change is in progress"),
        "creating" or "rebooting" or "starting" or "converting-to-vpc" => (AppState.Unknown, $"status {status}: the instance is coming up"),
        _ => (AppState.Down, $"status {status}"),
    };

    private static string Describe(JsonElement a)
    {
        var when = Str(a, "CurrentApplyDate") ?? Str(a, "ForcedApplyDate") ?? Str(a, "AutoAppliedAfterDate");
        var text = Str(a, "Action") ?? "maintenance";
        if (Str(a, "Description") is { } d) text += $" ({d})";
        return when is null ? text + ", at the next maintenance window" : text + $", applied from {when}";
    }

    /// <summary>The one instance of a describe or change output ({"DBInstances":[...]} or {"DBInstance":{...}}).</summary>
    private static JsonElement Instance(CliCommand cmd, JsonElement root, string field)
    {
        var value = Path(root, field);
        if (value is { ValueKind: JsonValueKind.Array } list) value = list.EnumerateArray().FirstOrDefault();
        if (value is not { ValueKind: JsonValueKind.Object } one) throw Invalid(cmd, field, "is missing");
        RegisterSecrets(one);
        return one;
    }

    public async Task<IReadOnlyList<AppDatabaseBackup>> GetBackupsAsync(CancellationToken ct)
    {
        var cmd = Rds("describe-db-snapshots", "--db-instance-identifier", Id);
        var root = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        if (Path(root, "DBSnapshots") is not { ValueKind: JsonValueKind.Array }) throw Invalid(cmd, "DBSnapshots", "is missing");
        return Arr(root, "DBSnapshots").Select(s => Backup(cmd, s)).OrderByDescending(b => b.CreatedAt).ToList();
    }

    private AppDatabaseBackup Backup(CliCommand cmd, JsonElement s)
    {
        var status = Str(s, "Status");
        return new AppDatabaseBackup
        {
            Platform = PlatformKind.Aws, Service = Database.Service, DatabaseId = Id, Account = Account, BackupId = RequireStr(cmd, s, "DBSnapshots[].DBSnapshotIdentifier", "DBSnapshotIdentifier"),
            Alias = Str(s, "SnapshotType"), Status = status, Restorable = status == "available",
            CreatedAt = Time(s, "SnapshotCreateTime"), SizeGigabytes = Double(s, "AllocatedStorage"),
        };
    }

    public PlannedDatabaseChange<AppActionResult> PlanRestart(bool failover = false)
    {
        var cmd = failover ? Rds("reboot-db-instance", "--db-instance-identifier", Id, "--force-failover") : Rds("reboot-db-instance", "--db-instance-identifier", Id);
        return new([cmd.CommandLine], async ct =>
        {
            var db = Instance(cmd, await RunJsonAsync(cmd, ct).ConfigureAwait(false), "DBInstance");
            return new AppActionResult
            {
                Platform = PlatformKind.Aws, Name = Id, Action = failover ? "Reboot database with failover" : "Restart database", Commands = [cmd.CommandLine], Succeeded = true,
                Output = $"DBInstanceStatus: {Str(db, "DBInstanceStatus")}",
            };
        });
    }

    public PlannedDatabaseChange<AppDatabaseBackup> PlanCreateBackup(string? name)
    {
        // RDS needs the snapshot's name up front; without -Name it is derived here, so -WhatIf shows the exact command.
        var snapshot = name is null ? $"{Id}-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}" : CheckNewName(name, "a snapshot", "-Name before-rollback");
        var cmd = Rds("create-db-snapshot", "--db-instance-identifier", Id, "--db-snapshot-identifier", snapshot);
        return new([cmd.CommandLine], async ct =>
        {
            var root = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
            if (Path(root, "DBSnapshot") is not { ValueKind: JsonValueKind.Object } made) throw Invalid(cmd, "DBSnapshot", "is missing");
            return Backup(cmd, made);
        });
    }

    public PlannedDatabaseChange<AppDatabaseRestoreResult> PlanRestore(string backupId, string? newName, bool wait)
    {
        TargetNames.Check("-BackupId", backupId, AwsRdsProvider.SnapshotName);
        var target = CheckNewName(newName ?? DerivedName(Id, backupId.Replace($"rds:{Id}-", "", StringComparison.Ordinal)));
        var cmd = Rds("restore-db-instance-from-db-snapshot", "--db-instance-identifier", target, "--db-snapshot-identifier", backupId);
        return Restore(cmd, target, backupId, wait, async ct =>
        {
            // A restore costs a new instance: refuse a snapshot that does not exist or is not available, before creating anything.
            var backups = await GetBackupsAsync(ct).ConfigureAwait(false);
            var backup = backups.FirstOrDefault(b => b.BackupId == backupId)
                ?? throw new IncidentOpsException(PlatformErrorIds.DatabaseBackupNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"{Database} has no snapshot '{backupId}'. Known: {(backups.Count == 0 ? "none" : string.Join(", ", backups.Take(10).Select(b => b.BackupId)))}. Run Get-AppDatabaseBackup to see them.") { TargetObject = backupId };
            if (!backup.Restorable)
                throw new IncidentOpsException(PlatformErrorIds.DatabaseBackupNotRestorable, IncidentOpsErrorCategory.InvalidOperation,
                    $"Snapshot '{backupId}' of {Database} is {backup.Status}, not available; pick an available one (Get-AppDatabaseBackup | Where-Object Restorable).") { TargetObject = backupId };
        });
    }

    public override PlannedDatabaseChange<AppDatabaseRestoreResult> PlanRestoreToTime(DateTimeOffset? time, string? newName, bool wait)
    {
        var label = time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "latest";
        var target = CheckNewName(newName ?? DerivedName(Id, time is { } u ? u.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) : "latest"));
        var cmd = Rds(["restore-db-instance-to-point-in-time", "--source-db-instance-identifier", Id, "--target-db-instance-identifier", target,
            .. time is null ? new[] { "--use-latest-restorable-time" } : ["--restore-time", label]]);
        return Restore(cmd, target, label, wait, null);
    }

    private PlannedDatabaseChange<AppDatabaseRestoreResult> Restore(CliCommand cmd, string target, string backupId, bool wait, Func<CancellationToken, Task>? check)
    {
        var waitCmd = new CliCommand("aws", "aws", ["rds", "wait", "db-instance-available", "--db-instance-identifier", target, "--no-cli-pager"]);
        var commands = wait ? new[] { cmd.CommandLine, waitCmd.CommandLine } : [cmd.CommandLine];
        var warning = $"RDS restores into a NEW DB instance '{target}'; {Database} is not changed. Once it is available, give it the source's security groups and parameter group (aws rds modify-db-instance) and point the app's DATABASE_URL at it.";
        return new(commands, async ct =>
        {
            if (check is not null) await check(ct).ConfigureAwait(false);
            var db = Instance(cmd, await RunJsonAsync(cmd, ct).ConfigureAwait(false), "DBInstance");
            if (wait) await RunTextAsync(waitCmd, ct).ConfigureAwait(false);
            Sink.Warning(warning);
            return new AppDatabaseRestoreResult
            {
                Platform = PlatformKind.Aws, Source = Id, BackupId = backupId, NewName = Str(db, "DBInstanceIdentifier") ?? target, DatabaseId = Str(db, "DBInstanceIdentifier") ?? target,
                Status = wait ? "available" : Str(db, "DBInstanceStatus"), Commands = commands, Warnings = [warning],
            };
        });
    }
}
