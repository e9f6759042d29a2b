using System.Collections;
using System.Management.Automation;
using IncidentOps.Notifications;

namespace IncidentOps.Commands;

/// <summary>Sends a PagerDuty Change event, for example after a rollback or a configuration change.</summary>
/// <remarks>
/// Posts a Change event (Events API v2, /v2/change/enqueue) to the PagerDuty channels of the configuration
/// (or the ones named with -Channel), so responders see the rollback next to the alert. Change events have
/// no dedup_key, so they are retried only on rate limits (429), never after a server or network error.
/// The event is recorded on the incident's timeline.
/// </remarks>
/// <example>
/// <code>Send-IncidentChangeEvent -Summary 'Rolled back api from v42 to v41' -Source api -Detail @{ from = 'v42'; to = 'v41' }</code>
/// <para>Tells PagerDuty about a rollback of the api service.</para>
/// </example>
[Cmdlet(VerbsCommunications.Send, "IncidentChangeEvent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(NotificationResult))]
public sealed class SendIncidentChangeEventCommand : ConfiguredCmdlet
{
    /// <summary>What changed, in one line (PagerDuty payload.summary, at most 1,024 characters).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string Summary { get; set; } = "";

    /// <summary>The system that changed (payload.source), for example the service name. Defaults to "incidentops".</summary>
    [Parameter]
    public string Source { get; set; } = "incidentops";

    /// <summary>Extra facts (payload.custom_details), for example @{ from = 'v42'; to = 'v41' }.</summary>
    [Parameter]
    public Hashtable? Detail { get; set; }

    /// <summary>PagerDuty channel names from the configuration. Defaults to every PagerDuty channel.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ChannelNameCompleter))]
    public string[]? Channel { get; set; }

    /// <summary>Incident id (INC-20261122-001) to record the event on. Defaults to the active incident.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("IncidentId", "Id")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>Deadline in seconds for the send to each PagerDuty channel: every request and retry together. Default 30: room for a few retries with backoff, including a 429's Retry-After, while a script still gets its answer within half a minute.</summary>
    [Parameter]
    [ValidateRange(1.0, 600.0)]
    public double TimeoutSec { get; set; } = 30;

    protected override string? TimelineIncidentId => Incident;

    protected override void ProcessRecord() => Run();

    private void Run()
    {
        Engine.Notifications.Options = new Engine.Notifications.NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(TimeoutSec) };
        var details = new Dictionary<string, string>();
        if (Detail is not null) foreach (DictionaryEntry e in Detail) details[e.Key.ToString()!] = e.Value?.ToString() ?? "";
        var target = Channel is { Length: > 0 } ? string.Join(",", Channel) : "PagerDuty channels";
        if (TryChange(target, "Send change event", $"POST /v2/change/enqueue: {Summary}",
                ct => Engine.Notifications.SendChangeEventAsync(Config, Summary, Source, details, Channel, Incident, ct),
                rs => string.Join("; ", rs.Select(r => r.Delivered ? $"{r.Channel}: delivered" : $"{r.Channel}: NOT delivered ({r.Error})")),
                out var results, rs => rs.All(r => r.Delivered)))
            foreach (var r in results) WriteObject(r);
    }
}
