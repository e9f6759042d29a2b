using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Changes an incident: status, severity, roles, impact, root cause, resolution and post-mortem notes.</summary>
/// <remarks>
/// Each changed field becomes a timeline entry. A severity change is recorded in the severity history (for
/// the post-mortem's time in each severity) and recomputes the response and update deadlines. Moving to
/// Identified records the acknowledgement, moving to Monitoring records the mitigation time. To resolve,
/// use Close-Incident, or -Status Resolved with -Resolution (a resolution summary is required either way);
/// a resolved incident stops being the active one. -Status Investigating (or Identified, Monitoring) on a
/// resolved incident reopens it. -Activate makes the incident the active one; a resolved incident cannot be.
/// </remarks>
/// <example>
/// <code>Set-Incident -Status Identified -RootCause 'Connection pool exhausted by a slow query'</code>
/// <para>Updates the active incident's status and root cause.</para>
/// </example>
/// <example>
/// <code>Get-Incident INC-20261122-001 | Set-Incident -Severity P0 -Scribe bob -Liaison carol</code>
/// <para>Escalates an incident and assigns the scribe and communications liaison.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Incident))]
public sealed class SetIncidentCommand : IncidentRecordCmdlet
{
    /// <summary>Incident id (INC-20261122-001); defaults to the active incident. -Id and -IncidentId are aliases; binds from Get-Incident output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>New title.</summary>
    [Parameter]
    public string? Title { get; set; }

    /// <summary>New status: Investigating, Identified or Monitoring (Resolved through Close-Incident).</summary>
    [Parameter]
    public IncidentStatus? Status { get; set; }

    /// <summary>New severity from the configured matrix.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(SeverityCompleter))]
    public string? Severity { get; set; }

    /// <summary>Incident commander.</summary>
    [Parameter]
    public string? Commander { get; set; }

    /// <summary>Scribe (keeps the record).</summary>
    [Parameter]
    public string? Scribe { get; set; }

    /// <summary>Communications liaison.</summary>
    [Parameter]
    public string? Liaison { get; set; }

    /// <summary>Impact, as users would say it.</summary>
    [Parameter]
    public string? Impact { get; set; }

    /// <summary>How many or which users were affected.</summary>
    [Parameter]
    public string? UsersAffected { get; set; }

    /// <summary>Revenue impact, if known.</summary>
    [Parameter]
    public string? RevenueImpact { get; set; }

    /// <summary>Whether data was lost.</summary>
    [Parameter]
    public bool? DataLoss { get; set; }

    /// <summary>Root cause.</summary>
    [Parameter]
    public string? RootCause { get; set; }

    /// <summary>Contributing factors (replaces the list).</summary>
    [Parameter]
    public string[]? ContributingFactor { get; set; }

    /// <summary>Resolution summary.</summary>
    [Parameter]
    public string? Resolution { get; set; }

    /// <summary>Summary for the post-mortem.</summary>
    [Parameter]
    public string? Summary { get; set; }

    /// <summary>Affected services (replaces the list).</summary>
    [Parameter]
    public string[]? Service { get; set; }

    /// <summary>What went well (replaces the list).</summary>
    [Parameter]
    public string[]? WentWell { get; set; }

    /// <summary>What went wrong (replaces the list).</summary>
    [Parameter]
    public string[]? WentWrong { get; set; }

    /// <summary>Lessons learned (replaces the list).</summary>
    [Parameter]
    public string[]? LessonsLearned { get; set; }

    /// <summary>Prevention measures (replaces the list).</summary>
    [Parameter]
    public string[]? Prevention { get; set; }

    /// <summary>When the problem was detected (for time to detect).</summary>
    [Parameter]
    public DateTime? DetectedAt { get; set; }

    /// <summary>When user impact ended (for time to mitigate).</summary>
    [Parameter]
    public DateTime? MitigatedAt { get; set; }

    /// <summary>
    /// Make this incident the active incident. On a file store in a shared folder the active incident is everyone's who
    /// uses the folder: the change is stamped with your user@host and the time (active.by), and the next change another
    /// session records on the active incident warns once that you switched it, naming the incident it is recorded on.
    /// </summary>
    [Parameter]
    public SwitchParameter Activate { get; set; }

    /// <summary>Return the changed incident.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        var changes = new IncidentChanges
        {
            Title = Title, Status = Status, Severity = Severity, Commander = Commander, Scribe = Scribe, Liaison = Liaison, Impact = Impact,
            UsersAffected = UsersAffected, RevenueImpact = RevenueImpact, DataLoss = DataLoss, RootCause = RootCause, ContributingFactors = ContributingFactor,
            Resolution = Resolution, Summary = Summary, Services = Service, WentWell = WentWell, WentWrong = WentWrong, LessonsLearned = LessonsLearned,
            Prevention = Prevention, DetectedAt = ToUtc(DetectedAt), MitigatedAt = ToUtc(MitigatedAt),
        };
        if (changes.IsEmpty && !Activate && !PassThru)
        {
            WriteInputError(IncidentErrorIds.NothingToChange, $"Nothing to change on {id}: give at least one of -Status, -Severity, -Commander, -Impact, -RootCause, -Resolution ...", id);
            return;
        }
        var described = string.Join(", ", SafeParameters().Where(p => p.Key is not (nameof(Incident) or nameof(PassThru))).Select(p => $"{p.Key}={p.Value}"));
        if (!ShouldProcess(id, $"Set {described}")) return;
        Incident? incident = null;
        if (!changes.IsEmpty && !TryInvoke(ct => Engine.Incidents.UpdateAsync(Config, id, changes, Context, ct), out incident, id)) return;
        if (Activate && !TryInvoke(async ct => { await Engine.Incidents.SetActiveAsync(Config, id, ct).ConfigureAwait(false); return true; }, out _, id)) return;
        if (PassThru) WriteObject(incident ?? InvokeOrTerminate(ct => Engine.Incidents.GetAsync(Config, id, ct), id));
    }

    internal static DateTimeOffset? ToUtc(DateTime? d) =>
        d is { } x ? new DateTimeOffset(x.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(x, DateTimeKind.Local) : x).ToUniversalTime() : null;
}
