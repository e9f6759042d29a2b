using System.Globalization;
using System.Text.Json;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// DigitalOcean managed databases through doctl -o json. 'databases get' returns the cluster (with its
/// connection passwords, which are registered as secrets and never carried); 'databases backups' lists the
/// daily backups as {created_at, size_gigabytes}, so a backup is identified by its creation time. There is no
/// on-demand backup and no restart; a restore is a fork into a NEW cluster ('databases fork NAME
/// --restore-from-cluster-id ID --restore-from-timestamp "2006-01-02 15:04:05 +0000 UTC"').
/// </summary>
public sealed class DigitalOceanDatabaseAdapter(AppDatabaseTarget database, ProcessRunner runner, TimeSpan timeout, IOperationSink sink, string? doctlContext = null, string? doctlConfig = null)
    : DatabaseAdapterBase(database, runner, timeout, sink), IDatabaseAdapter
{
    private string Id => Database.DatabaseId!;
    /// <summary>doctl with <paramref name="args"/>, then --context with the auth context the command started with (DoctlAuth).</summary>
    private CliCommand Doctl(params string[] args) => DoctlAuth.Command(doctlContext, doctlConfig, args);

    /// <summary>doctl prints a one-element array for a single resource; older versions an object.</summary>
    private static JsonElement Single(CliCommand cmd, JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Array) root = root.EnumerateArray().FirstOrDefault();
        if (root.ValueKind == JsonValueKind.Object && Path(root, "database") is { ValueKind: JsonValueKind.Object } inner) root = inner;
        if (root.ValueKind != JsonValueKind.Object) throw Invalid(cmd, "[0]", "is missing");
        return root;
    }

    public async Task<AppDatabase> GetStatusAsync(CancellationToken ct)
    {
        var cmd = Doctl("databases", "get", Id, "-o", "json");
        var root = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
        RegisterSecrets(root);
        var db = Single(cmd, root);
        var status = RequireStr(cmd, db, "[0].status", "status");
        var (state, why) = status.ToLowerInvariant() switch
        {
            "online" => (AppState.Healthy, (string?)null),
            "creating" or "forking" => (AppState.Unknown, $"status {status}: the cluster is being built"),
            "resizing" or "migrating" => (AppState.Degraded, $"status {status}: maintenance in progress"),
            _ => (AppState.Down, $"status {status}"),
        };
        return new AppDatabase
        {
            Platform = PlatformKind.DigitalOcean, Name = Str(db, "name") ?? Id, Service = Database.Service, DatabaseId = Str(db, "id") ?? Id,
            Engine = Str(db, "engine"), Version = Str(db, "version"), State = state, Reason = why, Status = status,
            Region = Str(db, "region"), Size = Str(db, "size"), NodeCount = Int(db, "num_nodes"), CreatedAt = Time(db, "created_at"),
        };
    }

    public async Task<IReadOnlyList<AppDatabaseBackup>> GetBackupsAsync(CancellationToken ct)
    {
        var cmd = Doctl("databases", "backups", Id, "-o", "json");
        var text = await RunTextAsync(cmd, ct).ConfigureAwait(false);
        // doctl prints "null" (or nothing) for a cluster without backups yet.
        if (text.Trim() is "" or "null") return [];
        var root = RequireArray(cmd, ParseJson(cmd, text), "(document)");
        return root.EnumerateArray().Select(b =>
        {
            var created = Time(b, "created_at") ?? throw Invalid(cmd, "[].created_at", "is missing or not a time");
            return new AppDatabaseBackup
            {
                Platform = PlatformKind.DigitalOcean, Service = Database.Service, DatabaseId = Id, BackupId = BackupIdOf(created),
                Status = "available", Restorable = true, CreatedAt = created, SizeGigabytes = Double(b, "size_gigabytes"),
            };
        }).OrderByDescending(b => b.CreatedAt).ToList();
    }

    private static string BackupIdOf(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public PlannedDatabaseChange<AppActionResult> PlanRestart(bool failover = false) => throw NotSupportedError(
        $"DigitalOcean managed databases cannot be restarted: neither doctl nor the API has a restart. DigitalOcean replaces a failed node and fails over to a standby on its own. " +
        $"To recover {Database}: check it with Get-AppDatabase, resize it (doctl databases resize {Id}), restore a backup into a new cluster with Restore-AppDatabaseBackup, or open a DigitalOcean support ticket.");

    public PlannedDatabaseChange<AppDatabaseBackup> PlanCreateBackup(string? name) => throw NotSupportedError(
        $"DigitalOcean has no on-demand backup for managed databases (doctl has no 'backups create'): it takes one daily on its own and keeps 7 days of them. " +
        $"List them with Get-AppDatabaseBackup -Platform DigitalOcean -DatabaseId {Id}. To keep the current state before a risky change, take a pg_dump, " +
        $"or copy the cluster now with 'doctl databases fork NEW-NAME --restore-from-cluster-id {Id}' (a fork of the latest backup).");

    public PlannedDatabaseChange<AppDatabaseRestoreResult> PlanRestore(string backupId, string? newName, bool wait)
    {
        var text = backupId.Trim();
        if (text.EndsWith(" UTC", StringComparison.Ordinal)) text = text[..^4];
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            throw new IncidentOpsException(PlatformErrorIds.BackupIdInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"'{backupId}' is not a DigitalOcean backup time. Pass the BackupId shown by Get-AppDatabaseBackup -Platform DigitalOcean -DatabaseId {Id} (2026-11-23T02:00:00Z).") { TargetObject = backupId };
        var utc = when.ToUniversalTime();
        var target = CheckNewName(newName ?? DerivedName("db-" + Id[..Math.Min(8, Id.Length)], utc.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
        var args = new List<string>
        {
            "databases", "fork", target, "--restore-from-cluster-id", Id,
            "--restore-from-timestamp", utc.ToString("yyyy-MM-dd HH:mm:ss '+0000 UTC'", CultureInfo.InvariantCulture),
        };
        if (wait) args.Add("--wait");
        args.AddRange(["-o", "json"]);
        var cmd = Doctl([.. args]);
        var warning = $"DigitalOcean restores into a NEW cluster '{target}'; {Database} is not changed. Once it is online, add its trusted sources (doctl databases firewalls append) and point the app's DATABASE_URL at it.";
        return new([cmd.CommandLine], async ct =>
        {
            var root = await RunJsonAsync(cmd, ct).ConfigureAwait(false);
            RegisterSecrets(root);
            var db = Single(cmd, root);
            Sink.Warning(warning);
            return new AppDatabaseRestoreResult
            {
                Platform = PlatformKind.DigitalOcean, Source = Id, BackupId = BackupIdOf(utc), NewName = Str(db, "name") ?? target,
                DatabaseId = RequireStr(cmd, db, "[0].id", "id"), Status = Str(db, "status"), Commands = [cmd.CommandLine], Warnings = [warning],
            };
        });
    }
}
