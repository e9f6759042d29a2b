using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>A database change described before it runs: the exact commands (what -WhatIf prints) and how to run them.</summary>
public sealed record PlannedDatabaseChange<T>(IReadOnlyList<string> Commands, Func<CancellationToken, Task<T>> Execute);

/// <summary>
/// One platform's managed database behind the AppDatabase cmdlets. Reads run at once; changes are planned
/// first (for -WhatIf). An operation the platform cannot do throws PlatformOperationNotSupported when planned,
/// saying what to do instead.
/// </summary>
public interface IDatabaseAdapter
{
    AppDatabaseTarget Database { get; }
    /// <summary>
    /// The account (and region) the adapter acts in, as objects it writes carry it (AppDatabase.Account); null where the
    /// database's name alone says where it is (a Fly app name, a DigitalOcean cluster UUID).
    /// </summary>
    string? Account => null;
    Task<AppDatabase> GetStatusAsync(CancellationToken cancellationToken);
    /// <summary>Backups, newest first.</summary>
    Task<IReadOnlyList<AppDatabaseBackup>> GetBackupsAsync(CancellationToken cancellationToken);
    /// <summary>Restarts the database; with failover, by failing over to its standby (only where the platform has one).</summary>
    PlannedDatabaseChange<AppActionResult> PlanRestart(bool failover = false);
    PlannedDatabaseChange<AppDatabaseBackup> PlanCreateBackup(string? name);
    /// <summary>Restores backupId into a new database (newName, or a name derived from the source and the backup).</summary>
    PlannedDatabaseChange<AppDatabaseRestoreResult> PlanRestore(string backupId, string? newName, bool wait);
    /// <summary>Restores the database as it was at a time (null: the latest restorable time) into a new database.</summary>
    PlannedDatabaseChange<AppDatabaseRestoreResult> PlanRestoreToTime(DateTimeOffset? time, string? newName, bool wait);
}

/// <summary>What the database adapters share on top of the app adapters' runner and tolerant JSON helpers.</summary>
public abstract class DatabaseAdapterBase(AppDatabaseTarget database, ProcessRunner runner, TimeSpan timeout, IOperationSink sink)
    // The app-side target names the database as -App (a Fly Postgres app) or -AppId (a DigitalOcean cluster), so the
    // platform's provider names and describes it as it does an app.
    : PlatformAdapterBase(new AppTarget
    {
        Platform = database.Platform, Service = database.Service,
        Options = new AppOptions(new Dictionary<string, string?> { ["App"] = database.DatabaseApp, ["AppId"] = database.DatabaseId }),
    }, runner, timeout, sink)
{
    public AppDatabaseTarget Database { get; } = database;

    private static readonly Regex NameRule = new("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\\z", RegexOptions.CultureInvariant);

    /// <summary>For platforms without point-in-time restore: says what to do instead.</summary>
    public virtual PlannedDatabaseChange<AppDatabaseRestoreResult> PlanRestoreToTime(DateTimeOffset? time, string? newName, bool wait) => throw NotSupportedError(
        $"{Database.Platform} databases cannot be restored to a point in time by these cmdlets. Restore one of its backups instead: Get-AppDatabaseBackup | Restore-AppDatabaseBackup.");

    /// <summary>For platforms without a standby to fail over to on request.</summary>
    protected IncidentOpsException FailoverNotSupported() => NotSupportedError(
        $"Restart-AppDatabase -Failover is not supported for {Database}: {Database.Platform} has no failover on request. Omit -Failover to restart it.");

    protected static IncidentOpsException NotSupportedError(string message) =>
        new(PlatformErrorIds.PlatformOperationNotSupported, IncidentOpsErrorCategory.NotImplemented, message);

    /// <summary>Fly app names, DigitalOcean cluster names and backup aliases share one rule: lowercase letters, digits and dashes.</summary>
    protected static string CheckNewName(string name, string what = "the restored database", string parameter = "-NewName orders-restore-1123")
    {
        if (!NameRule.IsMatch(name))
            throw new IncidentOpsException(PlatformErrorIds.DatabaseNameInvalid, IncidentOpsErrorCategory.InvalidArgument,
                $"'{name}' cannot name {what}: use 3 to 63 lowercase letters, digits and dashes, not starting or ending with a dash ({parameter}).") { TargetObject = name };
        return name;
    }

    /// <summary>source-restore-suffix, trimmed to 63 characters, so a restore without -NewName is deterministic and -WhatIf shows the name.</summary>
    protected static string DerivedName(string source, string suffix)
    {
        var clean = Regex.Replace(suffix.ToLowerInvariant(), "[^a-z0-9]+", "-").Trim('-');
        var name = $"{source}-restore-{clean}";
        return name.Length <= 63 ? name : name[..63].TrimEnd('-');
    }

    /// <summary>Registers every password and connection URI in a CLI's JSON so no stream can show them; returns nothing of them.</summary>
    protected static void RegisterSecrets(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String && p.Name.ToLowerInvariant() is "password" or "uri" or "private_uri")
                        SecretRedactor.Register(p.Value.GetString());
                    else RegisterSecrets(p.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var i in e.EnumerateArray()) RegisterSecrets(i);
                break;
        }
    }

    protected static double? Double(JsonElement e, params string[] path)
    {
        var v = Path(e, path);
        if (v is { ValueKind: JsonValueKind.Number } && v.Value.TryGetDouble(out var d)) return d;
        return v is { ValueKind: JsonValueKind.String } && double.TryParse(v.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d) ? d : null;
    }

    protected static string Trimmed(string text)
    {
        text = text.Trim();
        return text.Length > 2000 ? text[..2000] + " ..." : text;
    }
}
