using System.Collections;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;
using System.Text;

namespace IncidentOps.Tests;

/// <summary>
/// A hosted PowerShell 7.6 runspace with the built module imported from out/IncidentOps, as a user
/// would have it. Every stream is captured, including host text (where -WhatIf messages go).
/// </summary>
public sealed class PwshSession : IDisposable
{
    private static readonly object ImportLock = new();
    private readonly Runspace _runspace;
    private readonly CapturingHost _host = new();

    public PwshSession(bool importModule = true)
    {
        // One session set up at a time in this process. Two test classes' sessions importing the module at the same
        // instant (the first ones of a run) once failed both imports with "no valid module file was found" in CI, and
        // runspaces opened at the same instant can miss built-in commands (PowerShell/PowerShell#7377, #17150): a loaded
        // full run once failed a session with "The term 'Import-Module' is not recognized".
        lock (ImportLock)
        {
            var iss = InitialSessionState.CreateDefault2();
            _runspace = RunspaceFactory.CreateRunspace(_host, iss);
            _runspace.Open();
            if (importModule)
            {
                _ = Paths.ModuleAssembly;
                var r = Run($"Import-Module '{Paths.Module}' -ErrorAction Stop");
                if (r.Errors.Count > 0) throw new InvalidOperationException("Import-Module failed: " + string.Join("; ", r.Errors));
            }
        }
    }

    public Runspace Runspace => _runspace;

    /// <summary>
    /// Answers confirmation prompts (PromptForChoice) in place of a person: gets the caption and message and returns the
    /// chosen index (ShouldProcess: 0 Yes, 1 Yes to All, 2 No, 3 No to All). Null (the default): a prompt is an error, as
    /// in a non-interactive host. What it does before answering happens while the prompt is open.
    /// </summary>
    public Func<string, string, int>? ConfirmWith { get => _host.ConfirmWith; set => _host.ConfirmWith = value; }

    /// <summary>Runs a script; variables are set in the session first.</summary>
    public PwshResult Run(string script, IDictionary<string, object?>? variables = null, TimeSpan? timeout = null)
    {
        if (variables is not null)
            foreach (var (k, v) in variables) _runspace.SessionStateProxy.SetVariable(k, v);
        _host.Clear();
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        var result = new PwshResult();
        IList<PSObject> output;
        try
        {
            var async = ps.BeginInvoke();
            if (!async.AsyncWaitHandle.WaitOne(timeout ?? TimeSpan.FromMinutes(2)))
            {
                ps.Stop();
                throw new TimeoutException($"Script did not finish within {timeout ?? TimeSpan.FromMinutes(2)}: {script}");
            }
            output = ps.EndInvoke(async);
        }
        catch (RuntimeException ex)
        {
            output = new List<PSObject>();
            result.Terminating = ex.ErrorRecord;
        }
        result.Output.AddRange(output);
        result.Errors.AddRange(ps.Streams.Error);
        if (result.Terminating is not null) result.Errors.Add(result.Terminating);
        result.Warnings.AddRange(ps.Streams.Warning.Select(w => w.Message));
        result.Verbose.AddRange(ps.Streams.Verbose.Select(w => w.Message));
        result.Debug.AddRange(ps.Streams.Debug.Select(w => w.Message));
        result.Information.AddRange(ps.Streams.Information.Select(i => i.MessageData?.ToString() ?? ""));
        result.Progress.AddRange(ps.Streams.Progress);
        result.HostText = _host.Text;
        return result;
    }

    /// <summary>Starts a script and stops it (as Ctrl+C would) after <paramref name="stopAfter"/>; returns how long Stop took to return.</summary>
    [Obsolete("A fixed wait races a loaded machine (the command may not be in the state to interrupt yet, or may have ended): use RunAndStopWhen with a readiness condition.")]
    public (TimeSpan StopLatency, PwshResult Result) RunAndStop(string script, TimeSpan stopAfter) =>
        RunAndStop(script, stopAfter, null, TimeSpan.Zero);

    /// <summary>How long <see cref="RunAndStopWhen"/> waits for the state to interrupt: far more than any loaded machine needs.</summary>
    public static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs <paramref name="script"/> and presses Ctrl+C as soon as <paramref name="ready"/> holds: the proof that the command
    /// is in the state the test means to interrupt (the fake server has the request, the fake CLI is running, the backend is
    /// being polled). A fixed wait instead can end before that state exists on a loaded machine, or after the command ended.
    /// Throws when the state was never reached (within <see cref="ReadyWithin"/>, or the command ended first), after
    /// stopping the command: such a run says nothing about Ctrl+C.
    /// </summary>
    public (TimeSpan StopLatency, PwshResult Result) RunAndStopWhen(string script, Func<bool> ready) =>
        RunAndStop(script, TimeSpan.Zero, ready, ReadyWithin, mustBeReady: true);

    /// <summary>
    /// Runs <paramref name="script"/> and presses Ctrl+C once <paramref name="ready"/> holds (polled every 20 ms, for at
    /// most <paramref name="readyWithin"/>) and at least <paramref name="stopAfter"/> has passed: on a loaded machine a
    /// fixed wait can end before the state the test is about exists (a CLI that has not written yet). A readiness check that
    /// throws (a file being written) counts as not ready yet.
    /// </summary>
    public (TimeSpan StopLatency, PwshResult Result) RunAndStop(string script, TimeSpan stopAfter, Func<bool>? ready, TimeSpan readyWithin, bool mustBeReady = false)
    {
        _host.Clear();
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        var async = ps.BeginInvoke();
        if (stopAfter > TimeSpan.Zero) Thread.Sleep(stopAfter);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var isReady = ready is null || Holds(ready);
        while (!isReady && waited.Elapsed < readyWithin && !async.IsCompleted)
        {
            Thread.Sleep(20);
            isReady = Holds(ready!);
        }
        var endedFirst = async.IsCompleted;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        ps.Stop();
        async.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30));
        sw.Stop();
        var result = new PwshResult();
        result.Errors.AddRange(ps.Streams.Error);
        try { result.Output.AddRange(ps.EndInvoke(async)); }
        catch (Exception ex) when (ex is PipelineStoppedException or RuntimeException) { result.Stopped = true; }
        result.HostText = _host.Text;
        if (mustBeReady && !isReady)
            throw new Xunit.Sdk.XunitException(
                (endedFirst ? "The command ended before the state to interrupt was reached" : $"The state to interrupt was not reached within {readyWithin.TotalSeconds:0} s")
                + $"; Ctrl+C was pressed anyway. Errors: [{result.ErrorText}], output: [{string.Join(" | ", result.Output)}]. Script: {script}");
        return (sw.Elapsed, result);
    }

    private static bool Holds(Func<bool> ready)
    {
        try { return ready(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or System.Text.Json.JsonException or InvalidOperationException) { return false; }
    }

    public void Dispose()
    {
        _runspace.Dispose();
    }
}

public sealed class PwshResult
{
    public List<PSObject> Output { get; } = [];
    public List<ErrorRecord> Errors { get; } = [];
    public List<string> Warnings { get; } = [];
    public List<string> Verbose { get; } = [];
    public List<string> Debug { get; } = [];
    public List<string> Information { get; } = [];
    public List<ProgressRecord> Progress { get; } = [];
    public ErrorRecord? Terminating { get; set; }
    public string HostText { get; set; } = "";
    public bool Stopped { get; set; }

    public IEnumerable<T> Objects<T>() => Output.Select(o => o.BaseObject).OfType<T>();

    public T Single<T>()
    {
        var items = Objects<T>().ToList();
        if (items.Count != 1) throw new Xunit.Sdk.XunitException($"Expected one {typeof(T).Name}, got {items.Count}. Errors: {ErrorText}");
        return items[0];
    }

    public string ErrorText => string.Join(" | ", Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}"));

    /// <summary>Throws with every error when the script wrote any.</summary>
    public PwshResult AssertNoErrors()
    {
        if (Errors.Count > 0) throw new Xunit.Sdk.XunitException("Unexpected errors: " + ErrorText);
        return this;
    }

    /// <summary>All text a user could see on any stream, for secret scans.</summary>
    public string AllText()
    {
        var sb = new StringBuilder();
        foreach (var o in Output) { sb.AppendLine(o?.ToString()); if (o is not null) foreach (var p in o.Properties) { try { sb.AppendLine(Convert.ToString(p.Value, CultureInfo.InvariantCulture)); } catch (Exception) { /* getter threw: not shown to a user either */ } } }
        foreach (var e in Errors) { sb.AppendLine(e.ToString()).AppendLine(e.Exception?.ToString()).AppendLine(e.ErrorDetails?.Message).AppendLine(e.TargetObject?.ToString()); }
        foreach (var s in Warnings.Concat(Verbose).Concat(Debug).Concat(Information)) sb.AppendLine(s);
        foreach (var p in Progress) sb.AppendLine(p.Activity).AppendLine(p.StatusDescription);
        sb.AppendLine(HostText);
        return sb.ToString();
    }
}

/// <summary>A non-interactive host that records what would be written to the console (WhatIf text among it).</summary>
internal sealed class CapturingHost : PSHost
{
    private readonly CapturingUI _ui = new();
    public string Text => _ui.Buffer.ToString();
    public Func<string, string, int>? ConfirmWith { get => _ui.ConfirmWith; set => _ui.ConfirmWith = value; }
    public void Clear() => _ui.Buffer.Clear();
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override string Name => "IncidentOpsTestHost";
    public override PSHostUserInterface UI => _ui;
    public override Version Version => new(1, 0);
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) { }

    private sealed class CapturingUI : PSHostUserInterface
    {
        public StringBuilder Buffer { get; } = new();
        public Func<string, string, int>? ConfirmWith { get; set; }
        public override PSHostRawUserInterface? RawUI => null;
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw new PSInvalidOperationException("The test host is not interactive: " + message);
        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) =>
            ConfirmWith is { } answer ? answer(caption, message) : throw new PSInvalidOperationException("The test host is not interactive: " + message);
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new PSInvalidOperationException("not interactive");
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new PSInvalidOperationException("not interactive");
        public override string ReadLine() => throw new PSInvalidOperationException("not interactive");
        public override SecureString ReadLineAsSecureString() => throw new PSInvalidOperationException("not interactive");
        public override void Write(string value) { lock (Buffer) Buffer.Append(value); }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
        public override void WriteLine(string value) { lock (Buffer) Buffer.AppendLine(value); }
        public override void WriteErrorLine(string value) => WriteLine(value);
        public override void WriteDebugLine(string message) => WriteLine("DEBUG: " + message);
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) => WriteLine("VERBOSE: " + message);
        public override void WriteWarningLine(string message) => WriteLine("WARNING: " + message);
    }
}

/// <summary>One module session per test class (the first runspace costs ~2 s).</summary>
public sealed class ModuleFixture : IDisposable
{
    private readonly Lazy<PwshSession> _session = new(() => new PwshSession());
    public PwshSession Session => _session.Value;
    public PwshResult Run(string script, IDictionary<string, object?>? variables = null) => Session.Run(script, variables);
    public void Dispose() { if (_session.IsValueCreated) _session.Value.Dispose(); }
}
