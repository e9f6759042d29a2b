namespace IncidentOps.Engine.Alerting;

/// <summary>The error ids of the alerting area (configuration findings and round failures). Part of the contract.</summary>
public static class AlertingErrorIds
{
    /// <summary>failureThreshold / successThreshold is not a whole number from 1 to 1000.</summary>
    public const string ThresholdInvalid = "AlertingThresholdInvalid";
    /// <summary>alerting.severity names no configured severity.</summary>
    public const string SeverityUnknown = "AlertingSeverityUnknown";
    /// <summary>alerting.channels names no configured channel.</summary>
    public const string ChannelUnknown = "AlertingChannelUnknown";
    /// <summary>alerting.evidence names no evidence source.</summary>
    public const string EvidenceSourceUnknown = "AlertingEvidenceSourceUnknown";
    /// <summary>alerting.services has a key that names no configured service.</summary>
    public const string ServiceUnknown = "AlertingServiceUnknown";
    /// <summary>autoResolveAfter is not a duration (or off).</summary>
    public const string DurationInvalid = "AlertingDurationInvalid";
    /// <summary>The alerting section (or one rule) is not a mapping of the known keys.</summary>
    public const string RuleInvalid = "AlertingRuleInvalid";
    /// <summary>The incident store (or the alerting state in it) could not be read or written: the round failed.</summary>
    public const string StoreUnavailable = "AlertingStoreUnavailable";
    /// <summary>The alerting state of a service could not be locked in time (another round is stuck holding it).</summary>
    public const string StateBusy = "AlertingStateBusy";
    /// <summary>The alerting state file is damaged.</summary>
    public const string StateCorrupt = "AlertingStateCorrupt";
    /// <summary>A piped HealthResult carries no Service, so no rules apply to it.</summary>
    public const string ResultWithoutService = "AlertingResultWithoutService";
    /// <summary>A service has no health endpoints to check.</summary>
    public const string NoHealthEndpoint = "AlertingNoHealthEndpoint";
}
