using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Restores a platform database backup into a new database.</summary>
/// <remarks>
/// Both platforms restore into a NEW database and leave the source untouched. Fly: 'flyctl postgres backup restore
/// NEW-APP -a SOURCE --restore-target-name BACKUP-ID' (a WAL-based restore into a new Postgres app; the backup is
/// checked first: it must exist and be DONE). DigitalOcean: 'doctl databases fork NEW-NAME
/// --restore-from-cluster-id ID --restore-from-timestamp "2026-11-23 02:00:00 +0000 UTC"' (the same as 'doctl
/// databases create --restore-from-cluster-name' with the source's size and region). -BackupId is required: the
/// BackupId (or Fly alias) from Get-AppDatabaseBackup, which binds from the pipeline. -NewName defaults to
/// SOURCE-restore-BACKUP. Without -Wait, Fly returns once the new app is launching (--detach); with -Wait, flyctl
/// or doctl waits until it is up (raise -TimeoutSec). Afterwards attach the new database to the app. ConfirmImpact
/// is High; -WhatIf prints the exact command and runs nothing; the restore is recorded on the incident timeline.
/// </remarks>
/// <example>
/// <code>Restore-AppDatabaseBackup -Platform Fly -DatabaseApp ai-affiliate-empire-db -BackupId 20261123T020000 -NewName ai-affiliate-empire-db-restored -Wait -TimeoutSec 1800</code>
/// <para>Restores the Fly Postgres backup into a new Postgres app and waits for it.</para>
/// </example>
/// <example>
/// <code>Get-AppDatabaseBackup -Service production/portfolio | Where-Object Restorable | Select-Object -First 1 | Restore-AppDatabaseBackup -WhatIf</code>
/// <para>Shows the doctl command that would fork the newest DigitalOcean backup into a new cluster.</para>
/// </example>
[Cmdlet(VerbsData.Restore, "AppDatabaseBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(AppDatabaseRestoreResult))]
public sealed class RestoreAppDatabaseBackupCommand : AppDatabaseCmdlet, IForceSwitch
{
    /// <summary>The backup to restore: BackupId (or, on Fly, the Alias) from Get-AppDatabaseBackup. Binds from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string BackupId { get; set; } = "";

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
            if (!TryPlan(() => adapter.PlanRestore(BackupId, NewName, Wait), target, out var change)) continue;
            if (TryChange(target.ToString(), "Restore backup", $"backup {BackupId}: " + string.Join("; ", change.Commands), change.Execute,
                    r => $"backup {r.BackupId} restored into new database {r.NewName} ({r.Status}): " + string.Join("; ", r.Commands),
                    out var result))
                WriteObject(result);
        }
    }
}
