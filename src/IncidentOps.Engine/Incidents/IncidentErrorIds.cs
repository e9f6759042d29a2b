namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Error ids of the incident store (a contract: tests and scripts match them). Ids that predate this class are still
/// written inline where they are raised; new ones are added here.
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
    /// <summary>An outbox claim or record lock stayed busy for the whole wait.</summary>
    public const string StoreLockTimeout = "StoreLockTimeout";
    /// <summary>An archive given to Import-Incident is not an IncidentOps archive, or its content does not match its hashes.</summary>
    public const string ArchiveInvalid = "IncidentArchiveInvalid";
    /// <summary>A status move decided while the incident was open (the alerting round's) found it resolved since: it stays resolved.</summary>
    public const string ResolvedMeanwhile = "IncidentResolvedMeanwhile";
}
