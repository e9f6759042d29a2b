using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Lists the backups of a platform database, newest first.</summary>
/// <remarks>
/// Replaces the seeds' 'flyctl postgres backups list --app ai-affiliate-empire-db' (flyctl prints flexctl's
/// table, which is parsed: ID/Name, Alias, Status, End time) and 'doctl databases backups list' (really 'doctl
/// databases backups CLUSTER-ID -o json': creation time and size; DigitalOcean backups are identified by their
/// UTC creation time). Each AppDatabaseBackup carries BackupId, Restorable, CreatedAt and the database's identity,
/// so it pipes into Restore-AppDatabaseBackup. Read-only.
/// </remarks>
/// <example>
/// <code>Get-AppDatabaseBackup -Platform Fly -DatabaseApp ai-affiliate-empire-db</code>
/// <para>Lists the Fly Postgres backups with their status and end time.</para>
/// </example>
/// <example>
/// <code>Get-AppDatabaseBackup -Service production/portfolio | Where-Object Restorable | Select-Object -First 1</code>
/// <para>The newest restorable backup of the DigitalOcean database configured for the service.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "AppDatabaseBackup")]
[OutputType(typeof(AppDatabaseBackup))]
public sealed class GetAppDatabaseBackupCommand : AppDatabaseReadCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
            if (TryInvoke(ct => Engine.AppDatabases.GetBackupsAsync(adapter, ct), out var backups, target.ToString()))
            {
                foreach (var b in backups) WriteObject(b);
                RecordRead(target.ToString(), "Read database backups", ReadSummary.Count(backups.Count, "backup")
                    + (backups.Max(b => b.CreatedAt) is { } newest ? $", newest {newest.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : ""));
            }
    }
}
