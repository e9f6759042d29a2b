using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Restores a platform database backup into a new database.</summary>
/// <remarks>
/// Both platforms restore into a NEW database and leave the source untouched. Fly: 'flyctl postgres backup restore
/// NEW-APP -a SOURCE --restore-target-name BACKUP-ID' (a WAL-based restore into a new Postgres app; the backup is
/// checked first: it must exist and be DONE). DigitalOcean: 'doctl databases fork NEW-NAME
/// --restore-from-cluster-id ID --restore-from-timestamp "2026-11-23 02:00:00 +0000 UTC"' (the same as 'doctl
/// databases create --restore-from-cluster-name' with the source's size and region). AWS RDS: 'aws rds
/// restore-db-instance-from-db-snapshot' from a snapshot (-BackupId), or 'aws rds restore-db-instance-to-point-in-time'
/// with -RestoreTime or -LatestRestorableTime, each into a new DB instance. -BackupId is required otherwise: the
/// BackupId (or Fly alias) from Get-AppDatabaseBackup, which binds from the pipeline. -NewName defaults to
/// SOURCE-restore-BACKUP. Without -Wait, Fly returns once the new app is launching (--detach); with -Wait, flyctl
/// or doctl waits until it is up (raise -TimeoutSec). Afterwards attach the new database to the app. ConfirmImpact
/// is High; -WhatIf prints the exact command and runs nothing; the restore is recorded on the incident timeline.
/// </remarks>
/// <example>
/// <code>Restore-AppDatabaseBackup -Platform Aws -DatabaseId fastapi-db -RestoreTime '2026-11-23T01:55:00Z' -NewName fastapi-db-before-migration -WhatIf</code>
/// <para>Shows the aws rds restore-db-instance-to-point-in-time command that would create a new instance from the RDS backups as of 01:55 UTC.</para>
/// </example>
/// <example>
/// <code>Restore-AppDatabaseBackup -Platform Fly -DatabaseApp ai-affiliate-empire-db -BackupId 20261123T020000 -NewName ai-affiliate-empire-db-restored -Wait -TimeoutSec 1800</code>
/// <para>Restores the Fly Postgres backup into a new Postgres app and waits for it.</para>
/// </example>
/// <example>
/// <code>Get-AppDatabaseBackup -Service production/portfolio | Where-Object Restorable | Select-Object -First 1 | Restore-AppDatabaseBackup -WhatIf</code>
/// <para>Shows the doctl command that would fork the newest DigitalOcean backup into a new cluster.</para>
/// </example>
[Cmdlet(VerbsData.Restore, "AppDatabaseBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Backup")]
[OutputType(typeof(AppDatabaseRestoreResult))]
public sealed class RestoreAppDatabaseBackupCommand : AppDatabaseCmdlet, IForceSwitch
{
    /// <summary>The backup to restore: BackupId (or, on Fly, the Alias) from Get-AppDatabaseBackup. Binds from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Backup")]
    [ValidateNotNullOrEmpty]
    public string BackupId { get; set; } = "";

    /// <summary>AWS RDS: restore the database as it was at this time (UTC unless the value says otherwise) instead of from a snapshot, into a new instance (aws rds restore-db-instance-to-point-in-time). Must lie within the instance's backup retention.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "PointInTime")]
    public DateTimeOffset RestoreTime { get; set; }

    /// <summary>AWS RDS: restore to the latest restorable time (--use-latest-restorable-time), into a new instance.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Latest")]
    public SwitchParameter LatestRestorableTime { get; set; }

    /// <summary>Name of the new Fly Postgres app or DigitalOcean cluster (lowercase letters, digits, dashes). Defaults to SOURCE-restore-BACKUP.</summary>
    [Parameter]
    [Alias("DestinationApp")]
    public string? NewName { get; set; }

    /// <summary>Wait until the new database is up (flyctl without --detach, doctl --wait); raise -TimeoutSec accordingly.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Restore without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
        {
            var pointInTime = ParameterSetName != "Backup";
            if (!TryPlan(() => Engine.AppDatabases.PlanRestore(adapter, pointInTime ? null : BackupId, LatestRestorableTime ? null : RestoreTime, NewName, Wait), target, out var change)) continue;
            var what = pointInTime ? $"point in time {(LatestRestorableTime ? "latest" : RestoreTime.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture))}" : $"backup {BackupId}";
            if (TryChange(target.ToString(), "Restore backup", $"{what}: " + string.Join("; ", change.Commands), change.Execute,
                    r => $"backup {r.BackupId} restored into new database {r.NewName} ({r.Status}): " + string.Join("; ", r.Commands),
                    out var result))
                WriteObject(result);
        }
    }
}
