using System.Management.Automation;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Gets the timeline entries of an incident.</summary>
/// <remarks>
/// Returns the entries in the order they were written: declaration, every state change made by an
/// IncidentOps cmdlet while the incident was active (with actor, cmdlet, target, non-secret parameters
/// and outcome), notes, evidence captures, status and severity changes, and the resolution. A corrupt or
/// truncated line is skipped with a warning naming the file and line. With -Wait, it keeps running and writes
/// each entry that any responder or script adds, as it lands (the team store announces them; the file store is
/// watched), until Ctrl+C.
/// </remarks>
/// <example>
/// <code>Get-IncidentTimeline</code>
/// <para>Shows the active incident's timeline.</para>
/// </example>
/// <example>
/// <code>Get-IncidentTimeline -Incident INC-20261122-001 -Kind action | Where-Object Outcome -eq Failed</code>
/// <para>Lists the actions that failed during an incident.</para>
/// </example>
/// <example>
/// <code>Get-IncidentTimeline -Wait</code>
/// <para>Follows the active incident's timeline as the team writes it, until Ctrl+C.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentTimeline")]
[OutputType(typeof(TimelineEntry))]
public sealed class GetIncidentTimelineCommand : IncidentRecordCmdlet
{
    /// <summary>Incident id (INC-20261122-001); defaults to the active incident. -Id and -IncidentId are aliases; binds from Get-Incident output.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "IncidentId")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>Only entries of these kinds (action, note, status, severity, role, evidence, declared, resolved, update, read).</summary>
    [Parameter]
    public string[]? Kind { get; set; }

    /// <summary>Only entries at or after this time.</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    /// <summary>Keep running and write each new entry as it is added (by anyone), until Ctrl+C.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected override string? IdValue => Incident;

    protected override void ProcessRecord()
    {
        if (!TryResolveIncidentId(out var id)) return;
        var since = SetIncidentCommand.ToUtc(Since);
        bool Wanted(TimelineEntry e) =>
            (Kind is not { Length: > 0 } || Kind.Contains(e.Kind, StringComparer.OrdinalIgnoreCase)) && (since is not { } s || e.Timestamp >= s);
        if (Wait)
        {
            try { InvokeStreaming<TimelineEntry>((emit, ct) => Engine.Incidents.FollowTimelineAsync(Config, id, e => { if (Wanted(e)) emit(e); }, ct)); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, id)); }
            return;
        }
        if (!TryInvoke(ct => Engine.Incidents.GetTimelineAsync(Config, id, ct), out var entries, id)) return;
        foreach (var e in entries.Where(Wanted)) WriteObject(e);
    }
}
