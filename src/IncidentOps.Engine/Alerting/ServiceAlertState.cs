namespace IncidentOps.Engine.Alerting;

/// <summary>Where a service stands in the alerting cycle.</summary>
public enum AlertPhase
{
    /// <summary>No incident: counting failures.</summary>
    Clear,
    /// <summary>An incident is open and the service is down.</summary>
    Down,
    /// <summary>The service recovered; the incident is in Monitoring.</summary>
    Recovered,
}

/// <summary>
/// The alerting state of one service, kept between runs in the incident store (see <see cref="IAlertStateStore"/>):
/// the consecutive counts, the open incident, and when the last update went out. Times come from the round's clock.
/// </summary>
public sealed class ServiceAlertState
{
    /// <summary>environment/service (the key).</summary>
    public required string Service { get; init; }
    public AlertPhase Phase { get; set; }
    public int ConsecutiveFailures { get; set; }
    public int ConsecutiveSuccesses { get; set; }
    /// <summary>When the probe behind the last counted result ran; an older result (an overlapping slow run) is not counted.</summary>
    public DateTimeOffset? LastCheckedAt { get; set; }
    /// <summary>First failure of the current failing streak.</summary>
    public DateTimeOffset? FailingSince { get; set; }
    /// <summary>First success of the current healthy streak.</summary>
    public DateTimeOffset? HealthySince { get; set; }
    public DateTimeOffset? LastFailureAt { get; set; }
    /// <summary>The open incident of the service (null in phase Clear).</summary>
    public string? IncidentId { get; set; }
    public string? Severity { get; set; }
    /// <summary>Start of the outage the incident is about (the first failure of the streak that crossed the threshold).</summary>
    public DateTimeOffset? OutageStartedAt { get; set; }
    /// <summary>When the service recovered (first success of the streak that crossed the success threshold).</summary>
    public DateTimeOffset? RecoveredAt { get; set; }
    /// <summary>When the alerting round last sent an update for the incident (the cadence counts from it).</summary>
    public DateTimeOffset? LastUpdateAt { get; set; }
    /// <summary>What the last failing round saw (for the messages).</summary>
    public string? LastFailure { get; set; }
    /// <summary>The incident whose health samples the rounds are recording (see <see cref="RoundHealthSamples"/>).</summary>
    public string? SamplesIncidentId { get; set; }
    /// <summary>How many rounds recorded samples for <see cref="SamplesIncidentId"/> (the next ring slot).</summary>
    public long SampleRounds { get; set; }
    /// <summary>
    /// An incident the rounds resolved while some channel still lacked one of its updates (the resolution, typically): the
    /// next rounds re-send its pending updates until every channel has them, as the resolving round's decision says.
    /// </summary>
    public string? UndeliveredIncidentId { get; set; }
    /// <summary>Host of the round that last changed the state.</summary>
    public string? Host { get; set; }

    public ServiceAlertState Clone() => (ServiceAlertState)MemberwiseClone();
}
