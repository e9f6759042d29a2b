using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine.Incidents;

namespace IncidentOps.Commands;

/// <summary>Shows the configured severity matrix.</summary>
/// <remarks>
/// Lists the severities of incidentops.yml (P0-P3 from the seeds by default, P1-P4 or others when
/// configured) with their definition, response target, update cadence and escalation. New-Incident and
/// Set-Incident accept exactly these ids. With -Record, the lookup is noted on the incident's timeline.
/// </remarks>
/// <example>
/// <code>Get-IncidentSeverity</code>
/// <para>Shows the whole matrix.</para>
/// </example>
/// <example>
/// <code>Get-IncidentSeverity P1 -ConfigPath ./incidentops.yml</code>
/// <para>Shows one severity's response target and update cadence.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentSeverity")]
[OutputType(typeof(SeverityLevel))]
public sealed class GetIncidentSeverityCommand : IncidentReadCmdlet
{
    /// <summary>Severity ids to show (wildcards allowed); all by default.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SeverityCompleter))]
    public string[]? Id { get; set; }

    protected override void ProcessRecord()
    {
        var shown = new List<string>();
        foreach (var level in IncidentService.Severities(Config))
        {
            if (Id is { Length: > 0 } && !Id.Any(p => new WildcardPattern(p, WildcardOptions.IgnoreCase).IsMatch(level.Id))) continue;
            shown.Add($"{level.Id} {level.Name} (respond {level.ResponseTarget}, update {level.UpdateEvery?.ToString() ?? "-"})");
            WriteObject(level);
        }
        if (Id is { Length: > 0 } && shown.Count == 0)
        {
            try { IncidentService.ResolveSeverity(Config, Id[0]); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, Id[0])); }
        }
        RecordRead("severity matrix", "Viewed severity matrix", string.Join("; ", shown));
    }
}
