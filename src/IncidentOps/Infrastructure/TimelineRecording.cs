using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Tunnels;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>
/// The timeline: builds the entry for a change or a read of one cmdlet (who, what, target, sanitised parameters,
/// outcome) and hands it to the engine's timeline recorder, which appends it to the incident in force. Never fails the cmdlet.
/// </summary>
internal sealed class TimelineRecording(
    PSCmdlet cmdlet,
    Func<IncidentOpsEngine> engine,
    ConfigResolution config,
    Func<string?> incidentId,
    Func<TunnelSpec?> tunnel,
    Func<CancellationToken> stop,
    Func<Func<CancellationToken, Task<string?>>, string?> invoke)
{
    /// <summary>How long the timeline entry of a stopped (Ctrl+C) change may take to write.</summary>
    private static readonly TimeSpan StopRecordTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Appends an entry for this cmdlet's change or read to the incident in force (if any).</summary>
    public string? RecordChange(string target, string action, TimelineOutcome outcome, string? result, string kind, bool quiet)
    {
        // One writer, one shape: the cmdlet only hands over its invocation facts.
        var entry = IncidentOps.Engine.Incidents.TimelineWriter.Entry(
            new(cmdlet.MyInvocation.MyCommand?.Name, ParameterSanitizer.Sanitize(cmdlet.MyInvocation.BoundParameters)), kind, action, target, outcome, ViaTunnel(result));
        return RecordEntry(entry, quiet);
    }

    /// <summary>The result of a change, with the tunnel it went through ("via kubectl port-forward svc/postgres -n ...").</summary>
    private string? ViaTunnel(string? result)
    {
        if (tunnel() is not { } current || (result?.Contains("through the tunnel", StringComparison.Ordinal) ?? false)) return result;
        return (result is null ? "" : result + " ") + $"(via {current.Description})";
    }

    /// <summary>Writes an entry through the engine's timeline recorder; returns the incident id written to.</summary>
    public string? RecordEntry(TimelineEntry entry, bool quiet)
    {
        try
        {
            IncidentOpsConfig loaded;
            try { loaded = config.LoadOrThrow(); }
            catch (IncidentOpsException ex)
            {
                // The configuration the command was given names the incident store, and it cannot be read: which store (and
                // so which incident) the entry belongs to is not known. Writing it to the default store would put it on
                // whatever incident is active there (an old one on this machine), another incident than the responder's.
                if (!stop().IsCancellationRequested && !quiet)
                    cmdlet.WriteWarning($"'{entry.Action} {entry.Target}' {Happened(entry)}, but its timeline entry was not recorded: the configuration could not be loaded ({ex.ErrorId}), " +
                        "so the incident store it names is not known, and no other store's incident gets the entry. Fix the configuration (Test-IncidentOpsConfig), " +
                        $"then record it by hand with Add-IncidentNote. {ex.Message}");
                return null;
            }
            var id = incidentId();
            if (stop().IsCancellationRequested || quiet)
            {
                // After Ctrl+C the cmdlet's token is cancelled and the pipeline can no longer be written to, but
                // the record of the stop must still land: write it on its own short deadline, without streams.
                using var deadline = new CancellationTokenSource(StopRecordTimeout);
                try { return Task.Run(() => engine().Timeline.RecordAsync(entry, id, loaded, deadline.Token), deadline.Token).GetAwaiter().GetResult(); }
                catch (Exception ex) when (ex is IncidentOpsException or OperationCanceledException or IOException) { return null; }
            }
            var written = invoke(ct => engine().Timeline.RecordAsync(entry, id, loaded, ct));
            if (written is not null) cmdlet.WriteVerbose($"Recorded on {written}'s timeline: {entry.Action} {entry.Target} ({entry.Outcome}).");
            return written;
        }
        catch (IncidentOpsException ex) when (!stop().IsCancellationRequested)
        {
            // Say what happened first: the change itself stands (or failed) whatever became of its record.
            cmdlet.WriteWarning($"'{entry.Action} {entry.Target}' {Happened(entry)}, but its timeline entry could not be written ({ex.ErrorId}): {ex.Message} " +
                $"Once the store is fixed, record it by hand with Add-IncidentNote.");
            return null;
        }
    }

    /// <summary>What became of the change itself, said first: it stands (or failed) whatever became of its record.</summary>
    private static string Happened(TimelineEntry entry) => entry.Outcome switch
    {
        TimelineOutcome.Succeeded => "was done",
        TimelineOutcome.Failed => "failed",
        TimelineOutcome.WhatIf => "was previewed (-WhatIf)",
        TimelineOutcome.Unconfirmed => "was sent but not confirmed (it may or may not have happened)",
        _ => "happened",
    };
}
