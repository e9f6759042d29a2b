using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using System.Runtime.ExceptionServices;
using System.Management.Automation.Internal;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Incidents;

namespace IncidentOps.Commands;

/// <summary>
/// Base of every IncidentOps cmdlet. It owns the cancellation token (cancelled by Ctrl+C through
/// StopProcessing), runs engine calls while pumping the engine's verbose/warning/progress reports onto
/// the pipeline thread, maps engine exceptions to ErrorRecords with stable ids, gives access to the
/// configuration, and writes the incident timeline entry for every state change.
/// </summary>
public abstract class IncidentOpsCmdlet : PSCmdlet, IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();
    private CancellationTokenSource? _cts;
    private IncidentOpsEngine? _engine;
    private IncidentOpsConfig? _config;

    // Secrets this invocation registers are masked while it runs and forgotten when it is disposed, so a value
    // typed into one command never masks unrelated text of later commands (the record must stay readable).
    private readonly RedactionScope _redaction = SecretRedactor.BeginScope();

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

    protected override void EndProcessing()
    {
        Drain();
        base.EndProcessing();
    }

    public void Dispose()
    {
        // The end of the pipeline (or an error that ended it): let go of the tunnels; the last holder closes each.
        _engine?.Tunnels.Dispose();
        _redaction.Dispose();
        _cts?.Dispose();
        _queue.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The engine, created on first use (after the module initializer has hooked dependency loading).</summary>
    protected IncidentOpsEngine Engine
    {
        get
        {
            // Code of this cmdlet that reaches the engine registers secrets in this invocation's scope.
            SecretRedactor.Enter(_redaction);
            return _engine ??= CreateEngine();
        }
    }

    /// <summary>Registers a secret (a password from -Credential, a value set with -Secret) for this invocation only.</summary>
    protected void RegisterSecret(string? value) => _redaction.Register(value);

    private IncidentOpsEngine CreateEngine()
    {
        var sink = new CmdletSink(this);
        return new IncidentOpsEngine(sink, sink);
    }

    /// <summary>Explicit configuration path, when the cmdlet has one.</summary>
    protected virtual string? ConfigPathValue => null;

    /// <summary>The current PowerShell location as a file-system path (for ./incidentops.yml and relative paths).</summary>
    protected string CurrentDirectory
    {
        get
        {
            try { return SessionState.Path.CurrentFileSystemLocation.ProviderPath; }
            catch (Exception ex) when (ex is PSInvalidOperationException or NullReferenceException) { return Directory.GetCurrentDirectory(); }
        }
    }

    /// <summary>Resolves a user-supplied path against the current PowerShell location.</summary>
    protected string ResolvePath(string path) => GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>The loaded configuration; a configuration with errors stops the cmdlet with ConfigInvalid.</summary>
    protected IncidentOpsConfig Config => _config ??= LoadConfigCore();

    private IncidentOpsConfig LoadConfigCore()
    {
        try
        {
            return Engine.Config.LoadOrThrow(ConfigPathValue is null ? null : ResolvePath(ConfigPathValue), CurrentDirectory);
        }
        catch (IncidentOpsException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, ConfigPathValue));
            throw; // unreachable
        }
    }

    /// <summary>Resolves service names ("env/name", or name alone when unambiguous; wildcards allowed) through the configuration.</summary>
    protected IReadOnlyList<ServiceTarget> ResolveServices(string? environment, IEnumerable<string> names)
    {
        var result = new List<ServiceTarget>();
        foreach (var name in names)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                var found = ConfigService.FindServices(Config, environment, name);
                if (found.Count == 0)
                    WriteError(ToErrorRecord(new IncidentOpsException(ConfigErrorIds.ServiceNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                        $"No service matches '{name}' in {Config.Path ?? "the configuration"}.") { TargetObject = name }, name));
                result.AddRange(found);
                continue;
            }
            try { result.Add(ConfigService.ResolveService(Config, environment, name)); }
            catch (IncidentOpsException ex) { WriteError(ToErrorRecord(ex, name)); }
        }
        return result;
    }

    // ---------------------------------------------------------------- running engine calls

    /// <summary>
    /// The command's deadline (-TimeoutSec) for one engine call: one limit for the whole operation on one target,
    /// counted from its start. Null: no deadline beyond the engine's own limits (watch loops, the timeline).
    /// </summary>
    protected virtual TimeSpan? OperationTimeout => null;

    /// <summary>How long an engine call may take to wind down after Ctrl+C (the cmdlet returns within 250 ms).</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(100);
    /// <summary>How long an engine call may take to wind down after the deadline or after writing to the pipeline failed.</summary>
    private static readonly TimeSpan SettleGrace = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Runs an engine call to completion while writing its verbose/warning/progress reports from this
    /// (the pipeline) thread, under the command's deadline (<see cref="OperationTimeout"/>). Ctrl+C returns at once
    /// with PipelineStoppedException; the deadline gives OperationTimeout. Any other way out (writing to the
    /// pipeline threw: Select-Object -First, -WarningAction Stop) cancels the engine call and waits for it to wind
    /// down first, so no work continues after the cmdlet returns. Engine failures surface as
    /// <see cref="IncidentOpsException"/>; use <see cref="TryInvoke{T}"/> or <see cref="InvokeOrTerminate{T}"/> to
    /// turn them into ErrorRecords.
    /// </summary>
    protected T Invoke<T>(Func<CancellationToken, Task<T>> work) => Invoke(work, RemainingForTarget());

    /// <summary>End of the current target's deadline (Stopwatch timestamp); 0 when each engine call gets the full -TimeoutSec.</summary>
    private long _targetDeadline;

    /// <summary>
    /// Starts the deadline of one target: the engine calls that follow (until the next call of this method) share
    /// one -TimeoutSec, counted from now. Time spent at a confirmation prompt does not count.
    /// </summary>
    protected void StartTargetDeadline() =>
        _targetDeadline = OperationTimeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : 0;

    /// <summary>True when the current target's deadline (<see cref="StartTargetDeadline"/>) has passed.</summary>
    protected bool TargetDeadlinePassed => _targetDeadline != 0 && Stopwatch.GetTimestamp() >= _targetDeadline;

    private TimeSpan? RemainingForTarget()
    {
        if (_targetDeadline == 0) return OperationTimeout;
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _targetDeadline);
        return left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1);
    }

    /// <summary>Invoke with an explicit deadline (null: none).</summary>
    protected T Invoke<T>(Func<CancellationToken, Task<T>> work, TimeSpan? deadline)
    {
        var stop = Token;
        if (stop.IsCancellationRequested) throw new PipelineStoppedException();
        var operation = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var budget = deadline is { } d && d > TimeSpan.Zero ? d : (TimeSpan?)null;
        if (budget is { } b) operation.CancelAfter(b);
        var token = operation.Token;
        var scope = _redaction;
        var task = Task.Run(() =>
        {
            SecretRedactor.Enter(scope);
            if (budget is { } b2) OperationDeadline.Start(b2);
            return work(token);
        }, CancellationToken.None);
        bool finished;
        try
        {
            finished = Pump(task, token);
        }
        catch
        {
            // Ctrl+C, or writing to the pipeline threw: stop the engine work before leaving, so nothing runs on.
            // (Not disposed here: its callbacks may still be running on another thread.)
            _ = operation.CancelAsync();
            Settle(task, stop.IsCancellationRequested ? StopGrace : SettleGrace);
            if (stop.IsCancellationRequested) throw new PipelineStoppedException();
            throw;
        }
        // The deadline fired while the call was failing (its OperationCanceledException won the race to the pump).
        if (finished && budget is not null && !task.IsCompletedSuccessfully && operation.IsCancellationRequested && !stop.IsCancellationRequested)
            finished = false;
        if (!finished)
        {
            // The deadline passed: the engine call is cancelled through the token; let it wind down (briefly).
            Settle(task, SettleGrace);
            Drain();
            if (!task.IsCompletedSuccessfully) throw DeadlinePassed(budget!.Value, task.Exception?.InnerException);
        }
        operation.Dispose();
        return Unwrap(task, stop);
    }

    /// <summary>The command's deadline passed before its engine call finished.</summary>
    private IncidentOpsException DeadlinePassed(TimeSpan budget, Exception? cause)
    {
        var detail = cause is IncidentOpsException or OperationCanceledException && cause.Message != new OperationCanceledException().Message
            ? $" ({cause.Message})" : "";
        return new IncidentOpsException(DeadlineErrorIds.OperationTimeout, IncidentOpsErrorCategory.OperationTimeout,
            $"{MyInvocation.MyCommand?.Name ?? "The command"} did not finish within its deadline of {budget.TotalSeconds:0.###} s (-TimeoutSec) and was stopped{detail}. Raise -TimeoutSec if the target is known to be slow.", cause);
    }

    /// <summary>Waits (bounded) for a cancelled engine call to finish, without throwing.</summary>
    private static void Settle(Task task, TimeSpan grace)
    {
        try { task.Wait(grace); }
        catch (AggregateException) { /* its outcome is read by the caller, or no longer matters */ }
    }

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

    /// <summary>Runs queued reports until the task completes (true) or the token is cancelled (false).</summary>
    private bool Pump(Task task, CancellationToken token)
    {
        if (task.IsCompleted) { Drain(); return true; }
        // A wake-up of its own for this call (a stale one from an earlier, abandoned call must not end this one).
        var marker = new object();
        Action wake = () => GC.KeepAlive(marker);
        task.ContinueWith(_ => { try { _queue.Add(wake); } catch (ObjectDisposedException) { } catch (InvalidOperationException) { } }, TaskContinuationOptions.ExecuteSynchronously);
        try
        {
            while (true)
            {
                var action = _queue.Take(token);
                if (ReferenceEquals(action, wake)) break;
                action();
            }
        }
        catch (OperationCanceledException)
        {
            if (task.IsCompleted) { Drain(); return true; }
            // Ctrl+C: the engine call is cancelled through the token; do not wait for it.
            if (Token.IsCancellationRequested) throw new PipelineStoppedException();
            return false;
        }
        Drain();
        return true;
    }

    private void Drain()
    {
        while (_queue.TryTake(out var action)) action();
    }

    /// <summary>Queues work for the pipeline thread, which runs it at its next pump or drain (never on the calling thread).</summary>
    internal void Post(Action action)
    {
        try { _queue.Add(action); }
        catch (ObjectDisposedException) { }
        catch (InvalidOperationException) { }
    }

    private static T Unwrap<T>(Task<T> task, CancellationToken token)
    {
        if (task.IsCompletedSuccessfully) return task.Result;
        if (token.IsCancellationRequested) throw new PipelineStoppedException();
        var ex = task.Exception?.InnerExceptions.Count == 1 ? task.Exception.InnerException! : (Exception?)task.Exception ?? new OperationCanceledException();
        switch (ex)
        {
            case IncidentOpsException:
            case PipelineStoppedException:
                ExceptionDispatchInfo.Capture(ex).Throw();
                break;
            case OperationCanceledException when token.IsCancellationRequested:
                throw new PipelineStoppedException();
            case OperationCanceledException or TimeoutException:
                throw new IncidentOpsException(DeadlineErrorIds.ConnectionTimeout, IncidentOpsErrorCategory.OperationTimeout,
                    $"A call to the target did not finish in time and was stopped ({ex.Message}). Raise -TimeoutSec if the target is known to be slow.", ex);
        }
        throw new IncidentOpsException(CommonErrorIds.UnexpectedError, IncidentOpsErrorCategory.NotSpecified,
            $"Unexpected {ex.GetType().Name}: {ex.Message}", ex);
    }

    // ---------------------------------------------------------------- errors

    /// <summary>Turns an engine exception into an ErrorRecord whose id is the exception's ErrorId.</summary>
    protected ErrorRecord ToErrorRecord(IncidentOpsException ex, object? target = null)
    {
        var category = Enum.TryParse<ErrorCategory>(ex.Category.ToString(), out var c) ? c : ErrorCategory.NotSpecified;
        var record = new ErrorRecord(ex, ex.ErrorId, category, Redacted(target ?? ex.TargetObject));
        record.ErrorDetails = new ErrorDetails(SecretRedactor.Redact(ex.Message));
        if (ex.RecommendedAction is not null) record.ErrorDetails.RecommendedAction = SecretRedactor.Redact(ex.RecommendedAction);
        return record;
    }

    private static object? Redacted(object? target) => target is string s ? SecretRedactor.Redact(s) : target;

    /// <summary>A bad-input error (non-terminating): says what was wrong, with what value, and what to do.</summary>
    protected void WriteInputError(string errorId, string message, object? target, IncidentOpsErrorCategory category = IncidentOpsErrorCategory.InvalidArgument) =>
        WriteError(ToErrorRecord(new IncidentOpsException(errorId, category, message), target));

    /// <summary>A bad-input error that stops the cmdlet.</summary>
    protected void ThrowInputError(string errorId, string message, object? target, IncidentOpsErrorCategory category = IncidentOpsErrorCategory.InvalidArgument) =>
        ThrowTerminatingError(ToErrorRecord(new IncidentOpsException(errorId, category, message), target));

    // ---------------------------------------------------------------- state changes and the timeline

    /// <summary>True when -WhatIf is in force for this call.</summary>
    protected bool IsWhatIf =>
        (MyInvocation.BoundParameters.TryGetValue(nameof(ShouldProcessParameters.WhatIf), out var w) && w is SwitchParameter { IsPresent: true })
        || (!MyInvocation.BoundParameters.ContainsKey(nameof(ShouldProcessParameters.WhatIf)) && LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference")));

    private bool IsForced => this is IForceSwitch { Force.IsPresent: true };

    /// <summary>The incident a state change is recorded against: null means the active incident.</summary>
    protected virtual string? TimelineIncidentId => null;

    /// <summary>
    /// ShouldProcess for a state change. <paramref name="detail"/> is the exact SQL, command line or
    /// request (secrets masked) and is what -WhatIf prints. -Force skips the confirmation prompt (never
    /// -WhatIf). Under -WhatIf the would-be action is recorded on the active incident's timeline.
    /// </summary>
    protected bool ShouldChange(string target, string action, string? detail = null)
    {
        target = SecretRedactor.Redact(target);
        // A change to a database behind a tunnel says which tunnel it goes through (-WhatIf, the prompt, the record).
        if (ReportsTunnel && _engine?.Tunnels.Current is { } tunnel) detail = (detail is null ? "" : detail + "; ") + "through the tunnel " + IncidentOps.Engine.Tunnels.TunnelLeases.WouldOpen(tunnel);
        detail = detail is null ? null : SecretRedactor.Redact(detail);
        var description = detail is null ? $"{action} {target}" : $"{action} {target}: {detail}";
        bool ok;
        if (IsForced && !IsWhatIf)
        {
            WriteVerbose($"-Force: {description}");
            ok = true;
        }
        else
        {
            var asked = Stopwatch.GetTimestamp();
            ok = ShouldProcess(description, $"{action} {target}?{(detail is null ? "" : Environment.NewLine + detail)}", "Confirm");
            // The deadline is for the work on the target, not for the person reading the prompt.
            if (_targetDeadline != 0) _targetDeadline += Stopwatch.GetTimestamp() - asked;
        }
        if (!ok && IsWhatIf) RecordChange(target, action, TimelineOutcome.WhatIf, detail ?? description);
        return ok;
    }

    /// <summary>
    /// Runs a state change: ShouldChange, the engine call, then the timeline entry with its outcome.
    /// Returns false when declined, under -WhatIf, or on failure (already written as an ErrorRecord).
    /// </summary>
    protected bool TryChange<T>(string target, string action, string? detail, Func<CancellationToken, Task<T>> work,
        Func<T, string> summarize, out T result, Func<T, bool>? succeeded = null)
    {
        result = default!;
        if (!ShouldChange(target, action, detail)) return false;
        try
        {
            result = Invoke(work);
        }
        catch (IncidentOpsException ex)
        {
            RecordChange(target, action, TimelineOutcome.Failed, ex.Message);
            WriteError(ToErrorRecord(ex, target));
            return false;
        }
        catch (PipelineStoppedException) when (Token.IsCancellationRequested)
        {
            RecordChange(target, action, TimelineOutcome.Failed, "Stopped by the user (Ctrl+C) before it finished.");
            throw;
        }
        catch (Exception ex) when (ex is not IncidentOpsException)
        {
            // Writing to the pipeline threw (Select-Object -First, -WarningAction Stop, a host that cannot show a
            // stream): the engine call was cancelled and has wound down; the change must still be on the record.
            RecordChange(target, action, TimelineOutcome.Failed, $"Stopped before it finished: {ex.Message}", quiet: true);
            throw;
        }
        var ok = succeeded?.Invoke(result) ?? true;
        RecordChange(target, action, ok ? TimelineOutcome.Succeeded : TimelineOutcome.Failed, summarize(result));
        return true;
    }

    /// <summary>Appends a timeline entry for this cmdlet to the incident in force (if any). Never fails the cmdlet.</summary>
    protected string? RecordChange(string target, string action, TimelineOutcome outcome, string? result, string kind = "action", bool quiet = false)
    {
        // One writer, one shape: this cmdlet only hands over its invocation facts.
        var entry = IncidentOps.Engine.Incidents.TimelineWriter.Entry(new(MyInvocation.MyCommand?.Name, SafeParameters()), kind, action, target, outcome, ViaTunnel(result));
        return RecordEntry(entry, quiet);
    }

    /// <summary>
    /// True for cmdlets whose changes go to one database, possibly through a tunnel (Pg*, Redis*): their -WhatIf,
    /// prompt and timeline name the tunnel. Others may read databases through tunnels (evidence) but change other things.
    /// </summary>
    protected virtual bool ReportsTunnel => false;

    /// <summary>The result of a change, with the tunnel it went through ("via kubectl port-forward svc/postgres -n ...").</summary>
    private string? ViaTunnel(string? result)
    {
        if (!ReportsTunnel || _engine?.Tunnels.Current is not { } tunnel || (result?.Contains("through the tunnel", StringComparison.Ordinal) ?? false)) return result;
        return (result is null ? "" : result + " ") + $"(via {tunnel.Description})";
    }

    /// <summary>True when the cmdlet declares a -Record switch and the caller set it.</summary>
    protected bool RecordRequested => this is IRecordSwitch { Record.IsPresent: true };

    /// <summary>
    /// For read-only cmdlets: records what was read on the incident's timeline (kind "read"), only when
    /// the caller asked with -Record (see <see cref="IncidentReadCmdlet"/>). Never fails the cmdlet.
    /// Returns the id of the incident recorded on, or null when nothing was recorded.
    /// </summary>
    protected string? RecordRead(string target, string action, string? result) =>
        RecordRequested ? RecordChange(target, action, TimelineOutcome.Info, result, "read") : null;

    /// <summary>How long the timeline entry of a stopped (Ctrl+C) change may take to write.</summary>
    private static readonly TimeSpan StopRecordTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Writes an entry through the engine's timeline recorder; returns the incident id written to.</summary>
    protected string? RecordEntry(TimelineEntry entry, bool quiet = false)
    {
        try
        {
            IncidentOpsConfig? config = null;
            try { config = Engine.Config.LoadOrThrow(ConfigPathValue is null ? null : ResolvePath(ConfigPathValue), CurrentDirectory); }
            catch (IncidentOpsException ex)
            {
                // An invalid config must not stop the record; say which store is used instead.
                if (!Token.IsCancellationRequested && !quiet) WriteWarning($"The configuration could not be loaded ({ex.ErrorId}); the timeline entry goes to the default incident store.");
            }
            var incidentId = TimelineIncidentId;
            if (Token.IsCancellationRequested || quiet)
            {
                // After Ctrl+C the cmdlet's token is cancelled and the pipeline can no longer be written to, but
                // the record of the stop must still land: write it on its own short deadline, without streams.
                using var deadline = new CancellationTokenSource(StopRecordTimeout);
                try { return Task.Run(() => Engine.Timeline.RecordAsync(entry, incidentId, config, deadline.Token), deadline.Token).GetAwaiter().GetResult(); }
                catch (Exception ex) when (ex is IncidentOpsException or OperationCanceledException or IOException) { return null; }
            }
            var written = Invoke(ct => Engine.Timeline.RecordAsync(entry, incidentId, config, ct), deadline: null);
            if (written is not null) WriteVerbose($"Recorded on {written}'s timeline: {entry.Action} {entry.Target} ({entry.Outcome}).");
            return written;
        }
        catch (IncidentOpsException ex) when (!Token.IsCancellationRequested)
        {
            // Say what happened first: the change itself stands (or failed) whatever became of its record.
            var happened = entry.Outcome switch
            {
                TimelineOutcome.Succeeded => "was done",
                TimelineOutcome.Failed => "failed",
                TimelineOutcome.WhatIf => "was previewed (-WhatIf)",
                _ => "happened",
            };
            WriteWarning($"'{entry.Action} {entry.Target}' {happened}, but its timeline entry could not be written ({ex.ErrorId}): {ex.Message} " +
                $"Once the store is fixed, record it by hand with Add-IncidentNote.");
            return null;
        }
    }

    private static readonly HashSet<string> CommonParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable", "WarningVariable",
        "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm", "InputObject", "ConfigPath",
    };

    /// <summary>Bound parameters fit for a timeline: no credentials, secure strings, or secret-looking names; values redacted.</summary>
    protected IReadOnlyDictionary<string, string> SafeParameters()
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in MyInvocation.BoundParameters)
        {
            if (CommonParameters.Contains(name)) continue;
            if (value is PSCredential or System.Security.SecureString) continue;
            if (SecretRedactor.IsSecretName(name) && value is not SwitchParameter and not bool)
            {
                result[name] = SecretRedactor.Mask;
                continue;
            }
            result[name] = SecretRedactor.Redact(FormatValue(value));
        }
        return result;
    }

    private static string FormatValue(object? value) => value switch
    {
        null => "",
        SwitchParameter s => s.IsPresent ? "True" : "False",
        string s => s,
        PSObject p => FormatValue(p.BaseObject),
        IEnumerable e => string.Join(",", e.Cast<object?>().Take(50).Select(FormatValue)),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    // ---------------------------------------------------------------- engine sink

    /// <summary>
    /// Carries engine reports to the pipeline thread, and resolves secret: references through Get-Secret
    /// (which must run on the pipeline thread too).
    /// </summary>
    private sealed class CmdletSink(IncidentOpsCmdlet cmdlet) : IOperationSink, ISecretProvider
    {
        public void Verbose(string message) => cmdlet.Post(() => cmdlet.WriteVerbose(SecretRedactor.Redact(message)));
        public void Warning(string message) => cmdlet.Post(() => cmdlet.WriteWarning(SecretRedactor.Redact(message)));
        public void Debug(string message) => cmdlet.Post(() => cmdlet.WriteDebug(SecretRedactor.Redact(message)));

        public void Progress(OperationProgress p) => cmdlet.Post(() =>
        {
            var record = new ProgressRecord(p.ActivityId, p.Activity, string.IsNullOrEmpty(p.Status) ? "..." : p.Status)
            {
                PercentComplete = Math.Clamp(p.PercentComplete, -1, 100),
                SecondsRemaining = p.SecondsRemaining,
                RecordType = p.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            cmdlet.WriteProgress(record);
        });

        public Task<string?> GetSecretAsync(string name, CancellationToken cancellationToken)
        {
            var tcs = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var registration = cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken));
            tcs.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
            cmdlet.Post(() =>
            {
                try
                {
                    var available = cmdlet.InvokeCommand.GetCommand("Get-Secret", CommandTypes.Cmdlet | CommandTypes.Function);
                    if (available is null)
                    {
                        tcs.TrySetException(new IncidentOpsException(CommonErrorIds.SecretManagementNotAvailable, IncidentOpsErrorCategory.NotInstalled,
                            $"The secret '{name}' cannot be read: Get-Secret is not available. Install Microsoft.PowerShell.SecretManagement (Install-PSResource Microsoft.PowerShell.SecretManagement) and register a vault, or use an env: or file: reference."));
                        return;
                    }
                    var output = cmdlet.InvokeCommand.InvokeScript("param($n) Get-Secret -Name $n -AsPlainText -ErrorAction Stop", false,
                        System.Management.Automation.Runspaces.PipelineResultTypes.None, null, name);
                    var value = output.Count > 0 ? output[0]?.BaseObject?.ToString() : null;
                    tcs.TrySetResult(value);
                }
                catch (Exception ex) when (ex is RuntimeException or CmdletInvocationException)
                {
                    tcs.TrySetException(new IncidentOpsException(CommonErrorIds.SecretNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                        $"Get-Secret could not read '{name}': {ex.Message}"));
                }
            });
            return tcs.Task;
        }
    }
}

/// <summary>A cmdlet with a -Force switch (it skips the confirmation prompt, never -WhatIf).</summary>
internal interface IForceSwitch
{
    SwitchParameter Force { get; }
}

/// <summary>A read-only cmdlet with a -Record switch (what it read goes on the incident's timeline).</summary>
internal interface IRecordSwitch
{
    SwitchParameter Record { get; }
}

/// <summary>A cmdlet that reads incidentops.yml (-ConfigPath).</summary>
public abstract class ConfiguredCmdlet : IncidentOpsCmdlet
{
    /// <summary>Path of the incidentops.yml to use. When omitted: $env:INCIDENTOPS_CONFIG, ./incidentops.yml, then ~/.config/incidentops/config.yml.</summary>
    [Parameter]
    public string? ConfigPath { get; set; }

    protected override string? ConfigPathValue => ConfigPath;
}

/// <summary>A cmdlet whose actions are recorded on an incident's timeline (-Incident).</summary>
public abstract class IncidentActionCmdlet : ConfiguredCmdlet
{
    /// <summary>Incident id (INC-20261122-001) whose timeline records this command: every change it makes, and what it read when -Record is given. Defaults to the active incident; when no incident is active nothing is recorded.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string? Incident { get; set; }

    protected override string? TimelineIncidentId => Incident;
}

/// <summary>A read-only cmdlet that records what it read on the incident's timeline when asked with -Record.</summary>
public abstract class IncidentReadCmdlet : IncidentActionCmdlet, IRecordSwitch
{
    /// <summary>Also record what this cmdlet read (target and a short result) on the incident's timeline (the active incident, or -Incident). Without it, reads are not recorded.</summary>
    [Parameter]
    public SwitchParameter Record { get; set; }
}
