using System.Management.Automation;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>Declares an incident and makes it the active incident.</summary>
/// <remarks>
/// Creates an incident record (id INC-yyyyMMdd-NNN) in the incident store with its severity from the
/// configured matrix (P0-P3 by default), the response deadline from the severity's response target and the
/// next status update from its update cadence. The declaration is the first timeline entry. The new
/// incident becomes the active incident for this user: every state-changing IncidentOps cmdlet, in this
/// session or in another process such as a scheduled script, then records its actions on its timeline.
/// Services come from -Service or from pipeline objects with a Service property (ServiceTarget, health
/// results), so unhealthy services can be piped straight in.
/// When a Slack channel of the configuration has a bot token and an incidentChannel name pattern, the incident also
/// gets its own Slack channel (seed 002: #incident-YYYY-MM-DD-NNN): created, its topic set, the configured responders
/// invited, the initial update posted and pinned. Its id is kept in the incident's ExternalIds (slack:&lt;channel&gt;) and
/// each step is on the timeline. A failed step is a warning: the incident stays declared, and
/// Send-IncidentUpdate -Pending completes the missing steps without creating or posting anything twice. -WhatIf lists
/// the Slack Web API calls that would be made.
/// </remarks>
/// <example>
/// <code>New-Incident -Title 'API returns 502' -Severity P1 -Service production/api -Commander alice</code>
/// <para>Declares a P1 incident on the production API with Alice as incident commander.</para>
/// </example>
/// <example>
/// <code>Get-IncidentOpsService -Environment production | Test-ServiceHealth | Where-Object { -not $_.Healthy } | New-Incident -Title 'Health checks failing' -Severity P1</code>
/// <para>Declares one incident covering every service whose health check failed.</para>
/// </example>
/// <example>
/// <code>New-Incident -Title 'Checkout errors' -Severity P2 -StartedAt (Get-Date).AddMinutes(-40)</code>
/// <para>Back-dates the start to when the problem began, so time to detect is measured from there.</para>
/// </example>
/// <example>
/// <code>New-Incident -Title 'Image optimizer down' -Severity P1 -Service production/portfolio -WhatIf</code>
/// <para>Shows the incident that would be declared and, with a Slack incidentChannel configured, each Slack Web API call (conversations.create, conversations.invite, chat.postMessage, pins.add) that would be made; nothing is created.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Incident))]
public sealed class NewIncidentCommand : ConfiguredCmdlet
{
    private readonly List<string> _services = [];

    /// <summary>What is broken, in a few words.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Title { get; set; } = "";

    /// <summary>Severity id from the configured matrix (P0-P3 by default; Get-IncidentSeverity lists them).</summary>
    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(SeverityCompleter))]
    public string Severity { get; set; } = "";

    /// <summary>Affected services (names or environment/name).</summary>
    [Parameter]
    public string[]? Service { get; set; }

    /// <summary>Objects with a Service property (and optionally Environment), such as ServiceTarget or health results, from the pipeline.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    /// <summary>Who or what is affected, as users would say it.</summary>
    [Parameter]
    public string? Impact { get; set; }

    /// <summary>Incident commander.</summary>
    [Parameter]
    public string? Commander { get; set; }

    /// <summary>When the incident began, if earlier than now (back-dating).</summary>
    [Parameter]
    public DateTime? StartedAt { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is null) return;
        var service = InputObject.Properties["Service"]?.Value?.ToString();
        if (string.IsNullOrWhiteSpace(service))
        {
            if (InputObject.BaseObject is string s) { _services.Add(s); return; }
            WriteInputError(IncidentErrorIds.ServiceMissing, $"The pipeline object '{InputObject}' has no Service property. Pipe service targets or health results, or use -Service.", InputObject);
            return;
        }
        var environment = InputObject.Properties["Environment"]?.Value?.ToString();
        _services.Add(string.IsNullOrWhiteSpace(environment) || service.Contains('/') ? service : $"{environment}/{service}");
    }

    protected override void EndProcessing()
    {
        var services = (Service ?? []).Concat(_services).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var severity = IncidentService.Severities(Config).FirstOrDefault(l => string.Equals(l.Id, Severity, StringComparison.OrdinalIgnoreCase));
        if (severity is null)
        {
            try { IncidentService.ResolveSeverity(Config, Severity); }
            catch (IncidentOpsException ex) { ThrowTerminatingError(ToErrorRecord(ex, Severity)); }
        }
        var what = $"{Severity.ToUpperInvariant()} '{Title}'{(services.Length == 0 ? "" : $" on {string.Join(", ", services)}")}";
        if (ShouldProcess(what, "Declare incident"))
        {
            var request = new NewIncidentRequest
            {
                Title = Title, Severity = Severity, Services = services, Impact = Impact, Commander = Commander,
                StartedAt = StartedAt is { } d ? new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Local) : d) : null,
            };
            var context = new ChangeContext(MyInvocation.MyCommand?.Name, SafeParameters());
            var incident = InvokeOrTerminate(ct => Engine.Incidents.CreateAsync(Config, request, context, ct), Title);
            WriteObject(OpenIncidentChannel(incident, context));
        }
        else if (IsWhatIf && TryInvoke(ct => Engine.IncidentChannels.PlanOpenAsync(Config, new NewIncidentRequest
                 { Title = Title, Severity = Severity, Services = services, Impact = Impact, Commander = Commander }, ct), out var calls))
            foreach (var call in calls) ShouldProcess(call, "Slack Web API call");
        base.EndProcessing();
    }

    /// <summary>The incident's own Slack channel; a failure is a warning (the incident is declared), retried by Send-IncidentUpdate -Pending.</summary>
    private Incident OpenIncidentChannel(Incident incident, ChangeContext context)
    {
        if (IncidentOps.Engine.Notifications.Slack.SlackIncidentChannel.Configured(Config).Count == 0) return incident;
        try
        {
            Invoke(ct => Engine.IncidentChannels.OpenAsync(Config, incident.Id, context, force: false, ct));
            return Invoke(ct => Engine.Incidents.GetAsync(Config, incident.Id, ct));
        }
        catch (IncidentOpsException ex)
        {
            WriteWarning($"{incident.Id} is declared, but its Slack incident channel was not opened ({ex.ErrorId}): {SecretRedactor.Redact(ex.Message)} Retry with Send-IncidentUpdate -Incident {incident.Id} -Pending.");
            return incident;
        }
    }
}
