using System.Management.Automation;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Commands;

/// <summary>Sends an incident status update to Slack, Microsoft Teams, Discord, PagerDuty, Statuspage, Opsgenie and webhooks.</summary>
/// <remarks>
/// Renders the update from the seeds' communication templates (initial alert, progress update, resolution;
/// Scriban templates that channels can override per kind) into each channel's native format: Slack Block
/// Kit with a text fallback, a Teams Workflows Adaptive Card 1.4, a Discord embed within Discord's size
/// limits, a PagerDuty Events API v2 event (trigger while Investigating, acknowledge on Identified, resolve on
/// Monitoring and on the resolution, with the dedup_key incidentops-&lt;incident id&gt;-&lt;declared at&gt;), a Statuspage incident (created
/// on the first update, then updated), an Opsgenie alert (Alert API v2, aliased by the incident id and its declaration time: created while
/// Investigating, acknowledged on Identified, closed on Monitoring and on the resolution) or a generic JSON webhook.
/// Opsgenie answers 202 and processes the request later, so a send to it asks Get Request Status until Opsgenie says how
/// it went (within -TimeoutSec, for up to 10 s): a request it failed (an unknown responder, no such alert) is Failed with
/// Opsgenie's reason, and one it has not processed yet is Unknown, which -Pending checks again before sending anything.
/// Channels default to the configuration's routing for the incident's severity.
///
/// -Status Monitoring closes the pagers' alert instead of acknowledging it: a pager notifies nobody for a trigger that
/// lands on an acknowledged alert, so if the incident goes back to Investigating (a relapse), the same dedup_key and
/// alias open a new PagerDuty incident and a new Opsgenie alert, which page the on-call again. The resolution's
/// resolve/close then finds the alert closed already and changes nothing.
///
/// The update is written to the incident's outbox before anything is sent, and each attempt is recorded
/// before its request leaves. Rate limits (429, and Statuspage's 420) are retried after the provider's
/// Retry-After; server and network errors are retried only for PagerDuty and Opsgenie, whose dedup_key and
/// alias make a retry harmless; other 4xx are never retried. Whatever was not delivered stays pending: list it with
/// Get-IncidentUpdate -Pending and re-send it with Send-IncidentUpdate -Pending. A channel that received an
/// update never receives it again.
///
/// Sends of one incident to one channel are serialised across processes, and a Statuspage incident is looked
/// up by its IncidentOps id (metadata.incidentops) before one is created, so simultaneous first updates open
/// one public incident. An attempt interrupted by Ctrl+C or a crash, or left without an answer, is Unknown: the
/// provider may have it. -Pending re-sends Unknown deliveries to PagerDuty (same dedup_key), Opsgenie (same
/// alias; an unanswered create is looked up by its alias first and not posted again when the alert exists), webhooks (same
/// Idempotency-Key) and Statuspage (after checking whether the incident already carries the update); Slack,
/// Teams and Discord cannot be checked, so they are re-sent only with -Pending -Force. An update that a later
/// update of the same incident has superseded on a channel is marked Superseded there and never sent late; so is
/// an update (other than a resolution) of an incident resolved since it was prepared, even when the store failed
/// while the withdrawal was recorded (the error UpdateWithdrawalNotRecorded says so and names the -Pending to run).
/// When a team store's claim of a channel ended while its holder's request was still in flight (its PostgreSQL
/// connection killed, a server restart), the next sender to Statuspage (or -Pending -Force to the same update) first
/// waits, by the store server's clock, until that request has been answered or its deadline has passed, saying why in
/// verbose and progress text (Ctrl+C stops the wait at once); when that is longer than its own -TimeoutSec, it sends
/// nothing and says after what time -Pending is safe. When the store fails after a provider answered, every channel's
/// delivery still finishes and its result is written, followed by one error, UpdateDeliveryNotRecorded, that names per
/// channel what it got, the channels not to re-send with -Force, and the -Pending to run once the store is back.
/// Each sender records only the channels it works on, joined with what the store holds, so two teammates sending at
/// once never undo each other's recorded deliveries; each attempt is recorded with its own id, so a sender whose claim
/// ended and whose answer came late never clears the request in flight of the sender that took the channel over.
/// Stopped with Ctrl+C while the store failed to record a channel's outcome, it tries the outbox once more and keeps
/// what each channel got on the timeline. Each channel's delivery of an update is told by one timeline entry: a sender
/// that finds a delivery recorded by another sender that stopped before adding its entry adds it.
/// -Pending also completes the steps of an incident's own Slack channel (a Slack channel with a bot token and an
/// incidentChannel pattern) that New-Incident or Close-Incident could not finish: create, topic, invite, post, pin,
/// archive; each is a result with the UpdateId slack-channel-&lt;step&gt;, and nothing already done is repeated.
/// With -Channel only the named channels are touched, incident-channel steps included; -Pending -WhatIf lists the
/// Slack Web API calls it would make (token masked) and each pending update and channel with the request it would
/// re-send (secrets masked), or why it would be marked Superseded or skipped, and sends and changes nothing.
/// Without -Incident, -Pending asks the store first which incidents have a pending update or a delivery no timeline entry
/// tells (the PostgreSQL team store answers in one query) and reads only those, so a scheduled -Pending costs about the
/// same however many settled incidents the store holds; INCIDENTOPS_PENDING_ALL_INCIDENTS=1 makes it read every incident.
/// The incident's LastUpdateAt and NextUpdateDue move forward only when every channel has the update; while
/// one lacks it, the update counts as due, so Get-IncidentUpdateDue keeps reminding.
///
/// Each update and its delivery outcome are recorded on the incident's timeline, and the incident's
/// status, LastUpdateAt and NextUpdateDue (from -NextUpdateIn or the severity's update cadence) are set.
/// -WhatIf prints each channel's rendered request with secrets masked and sends nothing.
///
/// A channel whose secret does not resolve (an env: variable not set, a file: missing or empty, a secret: not in the vault)
/// is one ConfigReferenceUnresolved error per channel, naming the channel, the key (channels.pager.routingKey), the reference
/// and where it is written, and how to fix it (never the value). -WhatIf shows every selected channel: the What if line of
/// each that would be sent and the error of each that would not. A real send sends to no channel (and writes no outbox
/// entry) until every selected channel resolves, so an update is never half sent; each error names all the broken channels
/// and the -Channel that sends to the others now. -Pending goes on past such a channel: the other deliveries and incidents
/// are re-sent, the broken channel's delivery stays pending (its result says why, one error follows the results), and a
/// later -Pending sends it once the reference resolves.
/// </remarks>
/// <example>
/// <code>Send-IncidentUpdate -Message 'Checkout returns 502 for all users. Investigating.' -NextUpdateIn 15m</code>
/// <para>Sends the initial alert of the active incident to every channel routed for its severity.</para>
/// </example>
/// <example>
/// <code>Get-Incident -Active | Send-IncidentUpdate -Status Identified -Message 'Connection pool exhausted' -CurrentFocus 'Raising pool size' -Channel incidents,status</code>
/// <para>Sends a progress update to two named channels.</para>
/// </example>
/// <example>
/// <code>Send-IncidentUpdate -Pending</code>
/// <para>Re-sends every update some channel has not received yet.</para>
/// </example>
/// <example>
/// <code>Get-IncidentUpdate -Pending | Where-Object { $_.Deliveries.State -contains 'Unknown' }; Send-IncidentUpdate -Pending -Channel incidents -Force</code>
/// <para>Lists updates whose delivery was cut off (Unknown), then, after checking that #incidents does not show the update, re-sends it to Slack.</para>
/// </example>
[Cmdlet(VerbsCommunications.Send, "IncidentUpdate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = SendSet)]
[OutputType(typeof(NotificationResult))]
public sealed class SendIncidentUpdateCommand : ConfiguredCmdlet, IForceSwitch
{
    private const string SendSet = "Send";
    private const string PendingSet = "Pending";
    private string? _incidentId;

    /// <summary>Incident id (INC-20261122-001). Defaults to the active incident. Binds from Get-Incident output (IncidentId or Id).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = SendSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = PendingSet)]
    [Alias("IncidentId", "Id")]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    /// <summary>The incident's new status: Investigating, Identified, Monitoring or Resolved. Defaults to its current status.</summary>
    [Parameter(ParameterSetName = SendSet)]
    public IncidentStatus? Status { get; set; }

    /// <summary>The update text: what is happening now.</summary>
    [Parameter(ParameterSetName = SendSet)]
    public string? Message { get; set; }

    /// <summary>Template to use: Initial, Update or Resolved. Inferred when omitted (Initial for the first update, Resolved when the status is Resolved).</summary>
    [Parameter(ParameterSetName = SendSet)]
    public NotificationKind? Kind { get; set; }

    /// <summary>When the next update is due (15m, 1h, 00:30:00). Defaults to the severity's update cadence. A duration: 90s, 5m, 1h, 2d, hh:mm:ss, a [timespan], or a number of seconds.</summary>
    [Parameter(ParameterSetName = SendSet)]
    [DurationTransformation]
    public TimeSpan? NextUpdateIn { get; set; }

    /// <summary>Channel names from the configuration. Defaults to the routing for the incident's severity. With -Pending, re-sends only to these channels.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ChannelNameCompleter))]
    public string[]? Channel { get; set; }

    /// <summary>Actions taken so far, listed in the update.</summary>
    [Parameter(ParameterSetName = SendSet)]
    public string[] ActionsTaken { get; set; } = [];

    /// <summary>What the responders are working on now.</summary>
    [Parameter(ParameterSetName = SendSet)]
    public string? CurrentFocus { get; set; }

    /// <summary>Expected time to resolution, as text (for example "30 minutes" or "unknown").</summary>
    [Parameter(ParameterSetName = SendSet)]
    public string? Eta { get; set; }

    /// <summary>Re-send the updates that some channel has not received (of -Incident, or of every incident).</summary>
    [Parameter(Mandatory = true, ParameterSetName = PendingSet)]
    public SwitchParameter Pending { get; set; }

    /// <summary>
    /// With -Pending: also re-send the deliveries whose outcome is Unknown (the attempt was interrupted by Ctrl+C or
    /// a crash, or got no answer, so the provider may have it) to Slack, Teams and Discord, which offer no way to
    /// check or to drop a repeat: the channel may show the update twice. Check the channel first. PagerDuty,
    /// Statuspage, Opsgenie and webhooks are re-sent safely without it. Also skips the confirmation prompt.
    /// </summary>
    [Parameter(ParameterSetName = PendingSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Deadline in seconds for the whole send, counted from its start: every channel's requests and retries together (channels are sent in parallel). A channel that has not answered by then stays pending. Default 30: room for a few retries with backoff, including a 429's Retry-After, while a person at the prompt still gets an answer within half a minute; what is not sent by then waits in the outbox.</summary>
    [Parameter]
    [ValidateRange(1.0, 600.0)]
    public double TimeoutSec { get; set; } = 30;

    protected override string? TimelineIncidentId => _incidentId ?? Incident;

    protected override void ProcessRecord() => Run();

    /// <summary>This command, as the timeline entries of the updates it sends name it.</summary>
    private IncidentOps.Engine.Incidents.ChangeContext Invocation => new(MyInvocation.MyCommand?.Name, SafeParameters());

    private void Run()
    {
        Engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(TimeoutSec) };
        if (Pending)
        {
            // Reads as a sentence: "Re-send the pending updates of every incident: only to channel status".
            if (!ShouldChange(Incident ?? "every incident", "Re-send the pending updates of",
                    Channel is { Length: > 0 } ? $"only to channel{(Channel.Length == 1 ? "" : "s")} {string.Join(", ", Channel)}" : null))
            {
                // -WhatIf: the incident-channel steps it would complete, on the named channels only.
                if (IsWhatIf && TryInvoke(ct => Engine.IncidentChannels.PlanResumeAsync(Config, Incident, Channel, Force, ct), out var calls, Incident))
                    foreach (var call in calls) ShouldProcess(call, "Slack Web API call");
                // And each pending update it would re-send (the request), mark Superseded or skip, per channel.
                if (IsWhatIf && TryInvoke(ct => Engine.Notifications.PlanPendingAsync(Config, Incident, Channel, Force, ct), out var plan, Incident))
                    foreach (var step in plan) ShouldProcess(step.Target, step.Action);
                return;
            }
            // A channel whose reference does not resolve keeps its deliveries pending and the others are re-sent: one error
            // each, after the results.
            var unresolved = new List<IncidentOpsException>();
            WriteResults(ct => Engine.Notifications.SendPendingAsync(Config, Incident, Channel, Force, Invocation, ct, unresolved), Incident);
            foreach (var e in unresolved) WriteError(ToErrorRecord(e, e.TargetObject));
            return;
        }
        var request = new IncidentUpdateRequest
        {
            IncidentId = Incident, Status = Status, Message = Message, Kind = Kind, NextUpdateIn = NextUpdateIn, Channels = Channel,
            ActionsTaken = ActionsTaken, CurrentFocus = CurrentFocus, Eta = Eta,
        };
        var preparing = System.Diagnostics.Stopwatch.StartNew();
        if (!TryInvoke(ct => Engine.Notifications.PrepareAsync(Config, request, ct), out var prepared, Incident)) return;
        // -TimeoutSec is one deadline counted from the start: what preparing took is not available to the sends.
        // Half a second stays for the outbox and the timeline, which record the outcome after the sends.
        var left = TimeSpan.FromSeconds(TimeoutSec) - preparing.Elapsed - TimeSpan.FromMilliseconds(500);
        Engine.Notifications.Options = new NotificationOptions { RequestTimeout = left > TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100) };
        _incidentId = prepared.Incident.Id;
        // A channel whose secret does not resolve: one error each, all of them at once. Sent for real, nothing goes out (not
        // even to the channels that resolve, so no update is half sent) and nothing is asked; -WhatIf shows every channel.
        if (prepared.Unresolved.Count > 0 && !IsWhatIf)
        {
            foreach (var u in prepared.Unresolved) WriteError(ToErrorRecord(u.Error, u.Channel));
            return;
        }
        var approved = new List<string>();
        foreach (var name in prepared.Selected)
        {
            if (prepared.Unresolved.FirstOrDefault(u => u.Channel == name) is { } broken)
            {
                WriteError(ToErrorRecord(broken.Error, broken.Channel));
                continue;
            }
            if (prepared.Rendered.FirstOrDefault(x => x.Channel == name) is not { } r) continue;
            // "Send Initial alert to audit (Webhook) for INC-...: POST ..." (it read "Send Initial alert audit (Webhook) ...").
            if (ShouldChange($"to {r.Channel} ({r.ChannelType}) for {prepared.Incident.Id}", $"Send {NotificationTemplates.Describe(prepared.Update.Kind)}", r.ToString()))
                approved.Add(r.Channel);
        }
        if (approved.Count == 0) return;
        WriteResults(ct => Engine.Notifications.SendAsync(prepared, approved, Invocation, ct), prepared.Incident.Id);
    }

    /// <summary>
    /// Writes what each channel got; when the store failed while recording it (UpdateDeliveryNotRecorded), the results still
    /// come first, then the one error that says what was not recorded.
    /// </summary>
    private void WriteResults(Func<CancellationToken, Task<IReadOnlyList<NotificationResult>>> send, string? incidentId)
    {
        DeliveriesNotRecordedException? notRecorded = null;
        if (TryInvoke(async ct =>
            {
                try { return await send(ct).ConfigureAwait(false); }
                catch (DeliveriesNotRecordedException ex) { notRecorded = ex; return ex.Results; }
            }, out var results, incidentId))
            foreach (var r in results) WriteObject(r);
        if (notRecorded is not null) WriteError(ToErrorRecord(notRecorded, notRecorded.TargetObject ?? incidentId));
    }
}
