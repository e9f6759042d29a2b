using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>A read-only cmdlet with a -Record switch (what it read goes on the incident's timeline).</summary>
internal interface IRecordSwitch
{
    SwitchParameter Record { get; }
}

/// <summary>
/// The timeline: the entry a cmdlet writes for each state change (and, with -Record, each read) on the incident in
/// force. Writing it never fails the cmdlet: a store that cannot be written gives a warning that says what happened.
/// </summary>
internal sealed class TimelineWriter(
    PSCmdlet cmdlet,
    Func<IncidentOpsEngine> engine,
    ConfigResolution configuration,
    Func<CancellationToken> stopToken,
    Func<string?> incidentId,
    Func<Func<CancellationToken, Task<string?>>, string?> invoke)
{
    /// <summary>How long the timeline entry of a stopped (Ctrl+C) change may take to write.</summary>
    private static readonly TimeSpan StopRecordTimeout = TimeSpan.FromSeconds(5);

    /// <summary>True when the cmdlet has -Record and the caller set it.</summary>
    public bool RecordRequested => cmdlet is IRecordSwitch { Record.IsPresent: true };

    /// <summary>Appends a timeline entry for this cmdlet to the incident in force (if any). Never fails the cmdlet.</summary>
    public void RecordChange(string target, string action, TimelineOutcome outcome, string? result, string kind = "action", bool quiet = false)
    {
        var entry = new TimelineEntry
        {
            Kind = kind,
            Cmdlet = cmdlet.MyInvocation.MyCommand?.Name,
            Action = action,
            Target = SecretRedactor.Redact(target),
            Parameters = TimelineParameters.From(cmdlet.MyInvocation.BoundParameters),
            Outcome = outcome,
            Result = result is null ? null : SecretRedactor.Redact(result),
        };
        RecordEntry(entry, quiet);
    }

    /// <summary>Writes an entry through the engine's timeline recorder; returns the incident id written to.</summary>
    public string? RecordEntry(TimelineEntry entry, bool quiet = false)
    {
        var stopped = stopToken();
        try
        {
            IncidentOpsConfig? config = null;
            try { config = configuration.LoadOrThrow(); }
            catch (IncidentOpsException ex)
            {
                // An invalid config must not stop the record; say which store is used instead.
                if (!stopped.IsCancellationRequested && !quiet) cmdlet.WriteWarning($"The configuration could not be loaded ({ex.ErrorId}); the timeline entry goes to the default incident store.");
            }
            var id = incidentId();
            if (stopped.IsCancellationRequested || quiet)
            {
                // After Ctrl+C the cmdlet's token is cancelled and the pipeline can no longer be written to, but
                // the record of the stop must still land: write it on its own short deadline, without streams.
                using var deadline = new CancellationTokenSource(StopRecordTimeout);
                try { return Task.Run(() => engine().Timeline.RecordAsync(entry, id, config, deadline.Token), deadline.Token).GetAwaiter().GetResult(); }
                catch (Exception ex) when (ex is IncidentOpsException or OperationCanceledException or IOException) { return null; }
            }
            var written = invoke(ct => engine().Timeline.RecordAsync(entry, id, config, ct));
            if (written is not null) cmdlet.WriteVerbose($"Recorded on {written}'s timeline: {entry.Action} {entry.Target} ({entry.Outcome}).");
            return written;
        }
        catch (IncidentOpsException ex) when (!stopped.IsCancellationRequested)
        {
            // Say what happened first: the change itself stands (or failed) whatever became of its record.
            var happened = entry.Outcome switch
            {
                TimelineOutcome.Succeeded => "was done",
                TimelineOutcome.Failed => "failed",
                TimelineOutcome.WhatIf => "was previewed (-WhatIf)",
                _ => "happened",
            };
            cmdlet.WriteWarning($"'{entry.Action} {entry.Target}' {happened}, but its timeline entry could not be written ({ex.ErrorId}): {ex.Message} " +
                $"Once the store is fixed, record it by hand with Add-IncidentNote.");
            return null;
        }
    }
}
