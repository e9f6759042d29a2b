namespace IncidentOps.Engine.Platforms;

/// <summary>The error ids of the Platforms area (App and AppDatabase cmdlets): a contract, so they are constants.</summary>
public static class PlatformErrorIds
{
    public const string AppNotFound = "AppNotFound";
    public const string AppTargetIncomplete = "AppTargetIncomplete";
    /// <summary>A Kubernetes target names more than one workload (-Deployment with -StatefulSet or -DaemonSet).</summary>
    public const string AppTargetConflict = "AppTargetConflict";
    public const string AppTargetMissing = "AppTargetMissing";
    public const string BackupIdInvalid = "BackupIdInvalid";
    public const string ComponentNotFound = "ComponentNotFound";
    public const string DatabaseBackupNotFound = "DatabaseBackupNotFound";
    public const string DatabaseBackupNotRestorable = "DatabaseBackupNotRestorable";
    public const string DatabaseNameInvalid = "DatabaseNameInvalid";
    public const string DatabaseTargetIncomplete = "DatabaseTargetIncomplete";
    public const string DatabaseTargetMissing = "DatabaseTargetMissing";
    public const string InvalidPattern = "InvalidPattern";
    /// <summary>Get-AppLog -Level names no log level (debug, info, notice, warning, error, critical, alert, emergency).</summary>
    public const string LogLevelInvalid = "LogLevelInvalid";
    public const string PlatformAuthMissing = "PlatformAuthMissing";
    public const string PlatformCliNotFound = "PlatformCliNotFound";
    /// <summary>The CLI's file exists but the system would not start it (not executable, not a program for this machine).</summary>
    public const string PlatformCliNotStarted = "PlatformCliNotStarted";
    public const string PlatformCommandFailed = "PlatformCommandFailed";
    public const string PlatformCommandTimedOut = "PlatformCommandTimedOut";
    public const string PlatformInvalid = "PlatformInvalid";
    public const string PlatformOperationNotSupported = "PlatformOperationNotSupported";
    public const string PlatformOutputInvalid = "PlatformOutputInvalid";
    public const string PlatformOutputTooLarge = "PlatformOutputTooLarge";
    public const string PlatformRequestFailed = "PlatformRequestFailed";
    public const string ReleasesPathInvalid = "ReleasesPathInvalid";
    public const string ReleasesPathMissing = "ReleasesPathMissing";
    public const string RollbackFailed = "RollbackFailed";
    public const string RollbackInvalid = "RollbackInvalid";
    public const string RollbackTargetNotFound = "RollbackTargetNotFound";
    /// <summary>The current release changed between planning a rollback (and its confirmation) and running it: nothing was changed.</summary>
    public const string RollbackCurrentChanged = "RollbackCurrentChanged";
    /// <summary>
    /// The platform itself refused the rollback because its target changed after the plan was read (Kubernetes: the JSON
    /// patch's test of metadata.generation failed): nothing was changed.
    /// </summary>
    public const string RollbackTargetMoved = "RollbackTargetMoved";
    /// <summary>The app has a single release (revision) and nothing earlier to roll back to.</summary>
    public const string RollbackNoEarlierRevision = "RollbackNoEarlierRevision";
    /// <summary>DIGITALOCEAN_API_URL is set to something that is not an http(s) address.</summary>
    public const string PlatformApiUrlInvalid = "PlatformApiUrlInvalid";
    public const string ScaleNothingGiven = "ScaleNothingGiven";
    /// <summary>Set-AppSetting: a setting name that is not an environment variable name (it could be read as an option, --context=..., or as another name), or a value the platform would split into another setting.</summary>
    public const string AppSettingInvalid = "AppSettingInvalid";
}
