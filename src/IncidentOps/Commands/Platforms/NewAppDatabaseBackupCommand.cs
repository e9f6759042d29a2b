using System.Management.Automation;
using IncidentOps.Platforms;

namespace IncidentOps.Commands;

/// <summary>Takes a backup of a Fly Postgres cluster now.</summary>
/// <remarks>
/// Replaces the seed's 'flyctl postgres backup create --app ai-affiliate-empire-db' (backups must be enabled on
/// the cluster: flyctl postgres backup enable). -Name gives the backup an alias that Restore-AppDatabaseBackup
/// accepts. Returns the new backup (read back with flyctl postgres backup list), so it pipes into
/// Restore-AppDatabaseBackup; use it to preserve the database before a rollback. A backup can take minutes:
/// raise -TimeoutSec. DigitalOcean has no on-demand backup (it takes one daily on its own); the cmdlet says so
/// with PlatformOperationNotSupported and what to do instead. -WhatIf prints the exact flyctl command and runs
/// nothing; the backup is recorded on the active incident's timeline.
/// </remarks>
/// <example>
/// <code>New-AppDatabaseBackup -Platform Fly -DatabaseApp ai-affiliate-empire-db -Name before-rollback -TimeoutSec 600</code>
/// <para>Preserves the database before rolling the app back.</para>
/// </example>
/// <example>
/// <code>New-AppDatabaseBackup -Service production/api -WhatIf</code>
/// <para>Shows the flyctl command for the service's configured Fly Postgres app.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "AppDatabaseBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AppDatabaseBackup))]
public sealed class NewAppDatabaseBackupCommand : AppDatabaseCmdlet, IForceSwitch
{
    /// <summary>Alias of the new backup (lowercase letters, digits and dashes); it must be unique on the cluster.</summary>
    [Parameter]
    [Alias("BackupName")]
    public string? Name { get; set; }

    /// <summary>Take the backup without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var (target, adapter) in Targets())
        {
            if (!TryPlan(() => Engine.AppDatabases.PlanCreateBackup(adapter, Name), target, out var change)) continue;
            if (TryChange(target.ToString(), "Create backup", string.Join("; ", change.Commands), change.Execute,
                    b => $"backup {b.BackupId}{(b.Alias is null ? "" : " (" + b.Alias + ")")} {b.Status}: " + string.Join("; ", change.Commands),
                    out var backup, b => b.Status is null || !b.Status.Contains("FAIL", StringComparison.OrdinalIgnoreCase)))
                WriteObject(backup);
        }
    }
}
