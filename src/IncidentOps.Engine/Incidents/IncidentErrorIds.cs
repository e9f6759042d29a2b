namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Error ids of the incidents area (a contract: tests and scripts match them).
/// </summary>
public static class IncidentErrorIds
{
    /// <summary>The team store cannot be reached (names host and port, never credentials); reads fail, changes go to the spool.</summary>
    public const string StoreUnavailable = "StoreUnavailable";
    /// <summary>The store's schema is newer than this version of IncidentOps understands.</summary>
    public const string StoreSchemaTooNew = "StoreSchemaTooNew";
    /// <summary>The team store has no IncidentOps schema yet: run Initialize-IncidentStore.</summary>
    public const string StoreNotInitialized = "StoreNotInitialized";
    /// <summary>The store configuration cannot be used (a connection string that does not parse, a bad schema name).</summary>
    public const string StoreConfigInvalid = "StoreConfigInvalid";
    /// <summary>A store call did not finish within its timeout.</summary>
    public const string StoreTimeout = "StoreTimeout";
    /// <summary>A timeline entry that tells a delivery another entry of the incident already tells (each delivery is told once).</summary>
    public const string DeliveryAlreadyTold = "TimelineDeliveryAlreadyTold";
    /// <summary>An outbox claim or record lock stayed busy for the whole wait.</summary>
    public const string StoreLockTimeout = "StoreLockTimeout";
    /// <summary>An archive given to Import-Incident is not an IncidentOps archive, or its content does not match its hashes.</summary>
    public const string ArchiveInvalid = "IncidentArchiveInvalid";
    /// <summary>A status move decided while the incident was open (the alerting round's) found it resolved since: it stays resolved.</summary>
    public const string ResolvedMeanwhile = "IncidentResolvedMeanwhile";
    /// <summary>A -Severity the configuration does not define (the message lists the defined ones).</summary>
    public const string SeverityUnknown = "SeverityUnknown";
    /// <summary>New-Incident without a -Title.</summary>
    public const string TitleMissing = "IncidentTitleMissing";
    /// <summary>A -StartedAt in the future.</summary>
    public const string StartInFuture = "IncidentStartInFuture";
    /// <summary>A status change to Resolved asked of Set-Incident: Close-Incident resolves, with a resolution summary.</summary>
    public const string UseClose = "IncidentUseClose";
    /// <summary>Close-Incident without a -Resolution summary.</summary>
    public const string ResolutionMissing = "IncidentResolutionMissing";
    /// <summary>Close-Incident of an incident that is already resolved.</summary>
    public const string AlreadyResolved = "IncidentAlreadyResolved";
    /// <summary>A -ResolvedAt before the incident started.</summary>
    public const string ResolvedBeforeStart = "IncidentResolvedBeforeStart";
    /// <summary>A resolved incident asked to become the active one.</summary>
    public const string ResolvedNotActive = "IncidentResolvedNotActive";
    /// <summary>Add-IncidentNote with an empty note.</summary>
    public const string NoteEmpty = "IncidentNoteEmpty";
    /// <summary>An action item without -Action text.</summary>
    public const string ActionItemEmpty = "ActionItemEmpty";
    /// <summary>An action item id the incident does not have.</summary>
    public const string ActionItemNotFound = "ActionItemNotFound";
    /// <summary>A report -Template file that does not exist.</summary>
    public const string ReportTemplateNotFound = "ReportTemplateNotFound";
    /// <summary>A report -Template that is neither a built-in template nor a file.</summary>
    public const string ReportTemplateUnknown = "ReportTemplateUnknown";
    /// <summary>A report template that does not parse.</summary>
    public const string ReportTemplateInvalid = "ReportTemplateInvalid";
    /// <summary>A report template that failed while rendering.</summary>
    public const string ReportTemplateFailed = "ReportTemplateFailed";
    /// <summary>A file store's incident record that is not valid JSON.</summary>
    public const string RecordCorrupt = "IncidentRecordCorrupt";
    /// <summary>A file store's action items file that is not valid JSON.</summary>
    public const string ActionItemsCorrupt = "ActionItemsCorrupt";
    /// <summary>Export-Incident to a path that exists, without -Force.</summary>
    public const string ArchiveExists = "IncidentArchiveExists";
    /// <summary>Import-Incident of a path that holds no archive.</summary>
    public const string ArchiveNotFound = "IncidentArchiveNotFound";
    /// <summary>A string that is not an incident id (INC-yyyyMMdd-NNN).</summary>
    public const string IdInvalid = "IncidentIdInvalid";
    /// <summary>An evidence source name that is not known (the message lists the known ones).</summary>
    public const string EvidenceSourceUnknown = "EvidenceSourceUnknown";
    /// <summary>An incident id the store does not have.</summary>
    public const string NotFound = "IncidentNotFound";
    /// <summary>A piped object that names no service New-Incident can record.</summary>
    public const string ServiceMissing = "IncidentServiceMissing";
    /// <summary>Set-Incident without any change to make.</summary>
    public const string NothingToChange = "IncidentNothingToChange";
    /// <summary>A report -Path in a folder that does not exist.</summary>
    public const string ReportFolderNotFound = "ReportFolderNotFound";
    /// <summary>A report -Path that exists, without -Force.</summary>
    public const string ReportFileExists = "ReportFileExists";
    /// <summary>The report file could not be written (permissions, a full disk).</summary>
    public const string ReportWriteFailed = "ReportWriteFailed";
}
