using System.Management.Automation;
using IncidentOps.Infrastructure;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>
/// Base of every IncidentOps cmdlet: a thin composition of one home per job. It owns the cancellation token
/// (cancelled by Ctrl+C through StopProcessing) and the engine, and hands the rest on:
/// <see cref="PipelinePump"/> runs engine calls while writing their reports from the pipeline thread, under the
/// command's deadline (<see cref="TargetDeadline"/>); <see cref="ConfigResolution"/> loads incidentops.yml and
/// resolves services; <see cref="ErrorMapping"/> makes ErrorRecords with stable ids; <see cref="ChangeGate"/> is
/// ShouldProcess for state changes; <see cref="TimelineRecording"/> writes the incident timeline entry of every
/// state change (with <see cref="ParameterSanitizer"/>); <see cref="SecretBridge"/> answers secret: references
/// through Get-Secret.
/// </summary>
public abstract class IncidentOpsCmdlet : PSCmdlet, IDisposable
{
    private CancellationTokenSource? _cts;
    private IncidentOpsEngine? _engine;

    // Secrets this invocation registers are masked while it runs and forgotten when it is disposed, so a value
    // typed into one command never masks unrelated text of later commands (the record must stay readable).
    private readonly RedactionScope _redaction = SecretRedactor.BeginScope();

    private readonly PipelinePump _pump;
    private readonly TargetDeadline _deadline = new();
    private readonly ConfigResolution _config;
    private readonly ChangeGate _gate;
    private readonly TimelineRecording _timeline;

    protected IncidentOpsCmdlet()
    {
        _pump = new PipelinePump(() => MyInvocation.MyCommand?.Name);
        _config = new ConfigResolution(this, () => Engine, () => ConfigPathValue);
        _gate = new ChangeGate(this, _deadline);
        _timeline = new TimelineRecording(this, () => Engine, _config, () => TimelineIncidentId, () => CurrentTunnel, () => Token,
            work => Invoke(work, deadline: null));
    }

    /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing) or the pipeline is stopped.</summary>
    protected CancellationToken Token => (_cts ??= new CancellationTokenSource()).Token;

    protected override void StopProcessing()
    {
        // Cancel without running the callbacks on this thread: a driver's cancel callback (Npgsql sends a cancel
        // request) must not delay the return from Ctrl+C.
        _ = (_cts ??= new CancellationTokenSource()).CancelAsync();
        // Ctrl+C closes the tunnels this command holds (kubectl port-forward, flyctl proxy, ssh -L) at once.
        _engine?.Tunnels.Dispose();
        base.StopProcessing();
    }

    /// <summary>Loads the module's format views into this session before the first object is written (see <see cref="ModuleViews"/>).</summary>
    protected override void BeginProcessing()
    {
        ModuleViews.EnsureLoaded(WriteVerbose);
        base.BeginProcessing();
    }

    protected override void EndProcessing()
    {
        _pump.Drain();
        base.EndProcessing();
    }

    public void Dispose()
    {
        // The end of the pipeline (or an error that ended it): let go of the tunnels; the last holder closes each.
        _engine?.Tunnels.Dispose();
        _redaction.Dispose();
        _cts?.Dispose();
        _pump.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The engine, created on first use (after the module initializer has hooked dependency loading).</summary>
    protected IncidentOpsEngine Engine
    {
        get
        {
            // Code of this cmdlet that reaches the engine registers secrets in this invocation's scope.
            SecretRedactor.Enter(_redaction);
            return _engine ??= new IncidentOpsEngine(new CmdletSink(this, _pump), new SecretBridge(this, _pump));
        }
    }

    /// <summary>Registers a secret (a password from -Credential, a value set with -Secret) for this invocation only.</summary>
    protected void RegisterSecret(string? value) => _redaction.Register(value);

    // ---------------------------------------------------------------- configuration (ConfigResolution)

    /// <summary>Explicit configuration path, when the cmdlet has one.</summary>
    protected virtual string? ConfigPathValue => null;

    /// <summary>The current PowerShell location as a file-system path (for ./incidentops.yml and relative paths).</summary>
    protected string CurrentDirectory => _config.CurrentDirectory;

    /// <summary>Resolves a user-supplied path against the current PowerShell location.</summary>
    protected string ResolvePath(string path) => _config.ResolvePath(path);

    /// <summary>The loaded configuration; a configuration with errors stops the cmdlet with ConfigInvalid.</summary>
    protected IncidentOpsConfig Config => _config.Config;

    /// <summary>Resolves service names ("env/name", or name alone when unambiguous; wildcards allowed) through the configuration.</summary>
    protected IReadOnlyList<ServiceTarget> ResolveServices(string? environment, IEnumerable<string> names) => _config.ResolveServices(environment, names);

    /// <summary>
    /// The services a cmdlet with an "InputObject" set (piped from Get-IncidentOpsService) and a "Service" set (-Service,
    /// -Environment) acts on in the current parameter set; null in any other set (the cmdlet's own targets).
    /// </summary>
    protected IEnumerable<ServiceTarget>? ServicesOfParameterSet(ServiceTarget[] inputObject, string? environment, string[] service) => ParameterSetName switch
    {
        "InputObject" => inputObject,
        "Service" => ResolveServices(environment, service),
        _ => null,
    };

    // ---------------------------------------------------------------- running engine calls (PipelinePump, TargetDeadline)

    /// <summary>
    /// The command's deadline (-TimeoutSec) for one engine call: one limit for the whole operation on one target,
    /// counted from its start. Null: no deadline beyond the engine's own limits (watch loops, the timeline).
    /// </summary>
    protected virtual TimeSpan? OperationTimeout => null;

    /// <summary>
    /// Runs an engine call to completion while writing its verbose/warning/progress reports from this
    /// (the pipeline) thread, under the command's deadline (<see cref="OperationTimeout"/>). Ctrl+C returns at once
    /// with PipelineStoppedException; the deadline gives OperationTimeout. Any other way out (writing to the
    /// pipeline threw: Select-Object -First, -WarningAction Stop) cancels the engine call and waits for it to wind
    /// down first, so no work continues after the cmdlet returns. Engine failures surface as
    /// <see cref="IncidentOpsException"/>; use <see cref="TryInvoke{T}"/> or <see cref="InvokeOrTerminate{T}"/> to
    /// turn them into ErrorRecords.
    /// </summary>
    protected T Invoke<T>(Func<CancellationToken, Task<T>> work) => Invoke(work, _deadline.Remaining(OperationTimeout));

    /// <summary>Invoke with an explicit deadline (null: none).</summary>
    protected T Invoke<T>(Func<CancellationToken, Task<T>> work, TimeSpan? deadline) => _pump.Run(work, deadline, Token, _redaction);

    /// <summary>
    /// Starts the deadline of one target: the engine calls that follow (until the next call of this method) share
    /// one -TimeoutSec, counted from now. Time spent at a confirmation prompt does not count.
    /// </summary>
    protected void StartTargetDeadline() => _deadline.Start(OperationTimeout);

    /// <summary>True when the current target's deadline (<see cref="StartTargetDeadline"/>) has passed.</summary>
    protected bool TargetDeadlinePassed => _deadline.Passed;

    /// <summary>Runs an engine call that produces items as they arrive; each is written to the pipeline at once.</summary>
    protected void InvokeStreaming<T>(Func<Action<T>, CancellationToken, Task> work)
    {
        Invoke<bool>(async ct =>
        {
            await work(item => Post(() => WriteObject(item)), ct).ConfigureAwait(false);
            return true;
        });
    }

    /// <summary>Invoke; on an engine error writes a non-terminating ErrorRecord and returns false.</summary>
    protected bool TryInvoke<T>(Func<CancellationToken, Task<T>> work, out T result, object? target = null)
    {
        try
        {
            result = Invoke(work);
            return true;
        }
        catch (IncidentOpsException ex)
        {
            WriteError(ToErrorRecord(ex, target));
            result = default!;
            return false;
        }
    }

    /// <summary>Invoke; on an engine error stops the cmdlet with a terminating ErrorRecord.</summary>
    protected T InvokeOrTerminate<T>(Func<CancellationToken, Task<T>> work, object? target = null)
    {
        try { return Invoke(work); }
        catch (IncidentOpsException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, target));
            throw; // unreachable
        }
    }

    /// <summary>Queues work for the pipeline thread, which runs it at its next pump or drain (never on the calling thread).</summary>
    internal void Post(Action action) => _pump.Post(action);

    // ---------------------------------------------------------------- errors (ErrorMapping)

    /// <summary>Turns an engine exception into an ErrorRecord whose id is the exception's ErrorId.</summary>
    protected ErrorRecord ToErrorRecord(IncidentOpsException ex, object? target = null) => ErrorMapping.ToErrorRecord(ex, target);

    /// <summary>A bad-input error (non-terminating): says what was wrong, with what value, and what to do.</summary>
    protected void WriteInputError(string errorId, string message, object? target, IncidentOpsErrorCategory category = IncidentOpsErrorCategory.InvalidArgument) =>
        WriteError(ErrorMapping.InputError(errorId, message, target, category));

    /// <summary>A bad-input error that stops the cmdlet.</summary>
    protected void ThrowInputError(string errorId, string message, object? target, IncidentOpsErrorCategory category = IncidentOpsErrorCategory.InvalidArgument) =>
        ThrowTerminatingError(ErrorMapping.InputError(errorId, message, target, category));

    // ---------------------------------------------------------------- state changes (ChangeGate) and the timeline (TimelineRecording)

    /// <summary>True when -WhatIf is in force for this call.</summary>
    protected bool IsWhatIf => _gate.IsWhatIf;

    /// <summary>The incident a state change is recorded against: null means the active incident.</summary>
    protected virtual string? TimelineIncidentId => null;

    /// <summary>
    /// True for cmdlets whose changes go to one database, possibly through a tunnel (Pg*, Redis*): their -WhatIf,
    /// prompt and timeline name the tunnel. Others may read databases through tunnels (evidence) but change other things.
    /// </summary>
    protected virtual bool ReportsTunnel => false;

    /// <summary>The tunnel this cmdlet's changes go through (only for <see cref="ReportsTunnel"/> cmdlets).</summary>
    private IncidentOps.Engine.Tunnels.TunnelSpec? CurrentTunnel => ReportsTunnel ? _engine?.Tunnels.Current : null;

    /// <summary>
    /// ShouldProcess for a state change. <paramref name="detail"/> is the exact SQL, command line or
    /// request (secrets masked) and is what -WhatIf prints. -Force skips the confirmation prompt (never
    /// -WhatIf). Under -WhatIf the would-be action is recorded on the active incident's timeline.
    /// </summary>
    protected bool ShouldChange(string target, string action, string? detail = null)
    {
        var decision = _gate.Ask(target, action, detail, CurrentTunnel);
        if (!decision.Approved && IsWhatIf) RecordChange(decision.Target, action, TimelineOutcome.WhatIf, decision.Detail ?? decision.Description);
        return decision.Approved;
    }

    /// <summary>
    /// Runs a state change: ShouldChange, the engine call, then the timeline entry with its outcome.
    /// Returns false when declined, under -WhatIf, or on failure (already written as an ErrorRecord).
    /// </summary>
    protected bool TryChange<T>(string target, string action, string? detail, Func<CancellationToken, Task<T>> work,
        Func<T, string> summarize, out T result, Func<T, bool>? succeeded = null, Func<IncidentOpsException, TimelineOutcome>? outcomeOfError = null)
    {
        result = default!;
        if (!ShouldChange(target, action, detail)) return false;
        try
        {
            result = Invoke(work);
        }
        catch (IncidentOpsException ex)
        {
            // An error whose outcome is not known (sent, no answer: it may still complete) is not recorded as a failure.
            RecordChange(target, action, outcomeOfError?.Invoke(ex) ?? TimelineOutcome.Failed, ex.Message);
            WriteError(ToErrorRecord(ex, target));
            return false;
        }
        catch (PipelineStoppedException) when (Token.IsCancellationRequested)
        {
            // The change had started (the statement, request or CLI was on its way): it may have been applied in
            // part or in full, so the record must not say it failed (the review lists Unconfirmed steps to check).
            RecordChange(target, action, TimelineOutcome.Unconfirmed, "Stopped by the user (Ctrl+C) before it finished: it had started, so it may have been applied in part or in full. Check the target before repeating it.");
            throw;
        }
        catch (Exception ex) when (ex is not IncidentOpsException)
        {
            // Writing to the pipeline threw (Select-Object -First, -WarningAction Stop, a host that cannot show a
            // stream): the engine call was cancelled and has wound down; the change must still be on the record.
            RecordChange(target, action, TimelineOutcome.Unconfirmed, $"Stopped before it finished ({ex.Message}): it had started, so it may have been applied in part or in full. Check the target before repeating it.", quiet: true);
            throw;
        }
        var ok = succeeded?.Invoke(result) ?? true;
        RecordChange(target, action, ok ? TimelineOutcome.Succeeded : TimelineOutcome.Failed, summarize(result));
        return true;
    }

    /// <summary>Appends a timeline entry for this cmdlet to the incident in force (if any). Never fails the cmdlet.</summary>
    protected string? RecordChange(string target, string action, TimelineOutcome outcome, string? result, string kind = "action", bool quiet = false) =>
        _timeline.RecordChange(target, action, outcome, result, kind, quiet);

    /// <summary>True when the cmdlet declares a -Record switch and the caller set it.</summary>
    protected bool RecordRequested => this is IRecordSwitch { Record.IsPresent: true };

    /// <summary>
    /// For read-only cmdlets: records what was read on the incident's timeline (kind "read"), only when
    /// the caller asked with -Record (see <see cref="IncidentReadCmdlet"/>). Never fails the cmdlet.
    /// Returns the id of the incident recorded on, or null when nothing was recorded.
    /// </summary>
    protected string? RecordRead(string target, string action, string? result) =>
        RecordRequested ? RecordChange(target, action, TimelineOutcome.Info, result, "read") : null;

    /// <summary>Writes an entry through the engine's timeline recorder; returns the incident id written to.</summary>
    protected string? RecordEntry(TimelineEntry entry, bool quiet = false) => _timeline.RecordEntry(entry, quiet);

    /// <summary>Bound parameters fit for a timeline: no credentials, secure strings, or secret-looking names; values redacted.</summary>
    protected IReadOnlyDictionary<string, string> SafeParameters() => ParameterSanitizer.Sanitize(MyInvocation.BoundParameters);
}
