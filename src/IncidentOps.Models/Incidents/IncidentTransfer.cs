namespace IncidentOps.Incidents;

/// <summary>One incident moved through an archive (Export-Incident and Import-Incident output).</summary>
public sealed class IncidentTransfer
{
    public required string IncidentId { get; init; }
    /// <summary>Exported, Imported, Completed (an earlier, interrupted import finished), Unchanged (already in the store), or Conflict (the store has another incident with this id; nothing written).</summary>
    public required string Action { get; init; }
    /// <summary>The archive file.</summary>
    public required string Path { get; init; }
    /// <summary>The store written to or read from (no credentials).</summary>
    public required string IncidentStore { get; init; }
    public int TimelineEntries { get; init; }
    public int ActionItems { get; init; }
    public int Updates { get; init; }
    public int Evidence { get; init; }
    public override string ToString() => $"{IncidentId} {Action} ({TimelineEntries} entries, {Evidence} evidence) {Path}";
}
