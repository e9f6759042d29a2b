using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Gets incident records from the incident store.</summary>
/// <remarks>
/// Returns incidents with their severity and its name, status, start and resolution times, duration,
/// roles (commander, scribe, liaison), services, impact, response and next-update deadlines, and an
/// Overdue flag. Filters: -Incident (alias -Id; wildcards allowed), -Active, -Status, -Severity, -Since. Incidents bind by
/// property name (Id, IncidentId) into Set-Incident, Close-Incident, Add-IncidentNote and the others. A
/// damaged record is reported as a warning naming its file; the other incidents are still returned.
/// </remarks>
/// <example>
/// <code>Get-Incident -Active</code>
/// <para>Shows the active incident.</para>
/// </example>
/// <example>
/// <code>Get-Incident -Status Investigating,Identified -Severity P0,P1</code>
/// <para>Lists open high-severity incidents.</para>
/// </example>
/// <example>
/// <code>Get-Incident -Since (Get-Date).AddDays(-30) | Where-Object Overdue</code>
/// <para>Finds incidents of the last 30 days whose response or status update is overdue.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "Incident", DefaultParameterSetName = "List")]
[OutputType(typeof(Incident))]
public sealed class GetIncidentCommand : ConfiguredCmdlet
{
    /// <summary>Incident ids (INC-20261122-001; wildcards allowed). -Id and -IncidentId are aliases; Tab offers open incidents first.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "List")]
    [Alias("Id", "IncidentId")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string[]? Incident { get; set; }

    /// <summary>Only the active incident (the one state changes are recorded on).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Active")]
    public SwitchParameter Active { get; set; }

    /// <summary>Only incidents with these statuses.</summary>
    [Parameter]
    public IncidentStatus[]? Status { get; set; }

    /// <summary>Only incidents with these severities (P0, P1 ...).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(SeverityCompleter))]
    public string[]? Severity { get; set; }

    /// <summary>Only incidents open at or after this time.</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    protected override void ProcessRecord()
    {
        var query = new IncidentQuery
        {
            Ids = Incident, ActiveOnly = Active.IsPresent, Status = Status, Severity = Severity,
            Since = Since is { } s ? new DateTimeOffset(s.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(s, DateTimeKind.Local) : s) : null,
        };
        if (!TryInvoke(ct => Engine.Incidents.ListAsync(Config, query, ct), out var list, Incident is null ? null : string.Join(",", Incident))) return;
        WriteObject(list, enumerateCollection: true);
        // A named incident the listing lacks: read it alone, so a record that exists but is damaged says so
        // (IncidentRecordCorrupt, naming the file) instead of reading as "no such incident"; one that exists and
        // does not match -Status, -Severity or -Since is simply not listed.
        if (Incident is { Length: > 0 })
            foreach (var id in Incident.Where(i => !WildcardPattern.ContainsWildcardCharacters(i) && !list.Any(x => string.Equals(x.Id, i, StringComparison.OrdinalIgnoreCase))))
                if (TryInvoke(ct => Engine.Incidents.GetAsync(Config, id, ct), out var one, id) && Status is null && Severity is null && Since is null && !Active)
                    WriteObject(one);
    }
}
