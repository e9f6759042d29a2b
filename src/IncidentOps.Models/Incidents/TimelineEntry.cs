namespace IncidentOps.Incidents;

/// <summary>
/// Outcome of a recorded action. Unconfirmed: the change was sent but its answer never came (a timeout, a lost
/// connection, Ctrl+C while waiting), so it may or may not have happened; it needs checking, and is neither a success nor a failure.
/// </summary>
public enum TimelineOutcome { Succeeded, Failed, WhatIf, Info, Unconfirmed }

/// <summary>
/// One line of an incident's timeline. Written automatically by every state-changing cmdlet while an
/// incident is active. Parameters and texts are redacted of secrets before they are stored.
/// </summary>
public sealed class TimelineEntry
{
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    public string? IncidentId { get; set; }
    /// <summary>
    /// The entry's place in its incident's timeline (1, 2, 3, ...), assigned by the store when the entry is
    /// appended. Readers order a timeline by Timestamp, then Sequence, so every reader sees one total order.
    /// </summary>
    public long Sequence { get; set; }
    /// <summary>user@host of whoever ran it (alerting@host for the unattended alerting round).</summary>
    public string Actor { get; init; } = DefaultActor();
    /// <summary>Kind of entry: action, note, status, severity, update, evidence, declared, resolved.</summary>
    public string Kind { get; init; } = "action";
    public string? Cmdlet { get; init; }
    public string? Action { get; init; }
    public string? Target { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public TimelineOutcome Outcome { get; init; } = TimelineOutcome.Info;
    public string? Result { get; init; }
    /// <summary>
    /// The deliveries this entry tells (a status update's timeline entry: one key per channel it says the update was
    /// delivered to, "delivery:UPDATE-ID:channel"). The store refuses an entry that tells a delivery another entry of the
    /// incident already tells, so each delivery is told once, whichever sender (or spool) writes it. Null on every other
    /// entry, and on update entries written by older versions (those are matched by their Result text).
    /// </summary>
    public IReadOnlyList<string>? DeliveryKeys { get; init; }

    public static string DefaultActor() => TimelineActor.Override ?? $"{System.Environment.UserName}@{System.Environment.MachineName}";

    public override string ToString() => $"{Timestamp:u} {Actor} {Cmdlet ?? Kind} {Action} {Target} [{Outcome}] {Result}".Trim();
}
