using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;

namespace IncidentOps.Engine.Tunnels;

/// <summary>
/// The tunnels open in this pwsh process, one per <see cref="TunnelSpec"/>, counted by their holders: the cmdlets of
/// a pipeline that reach the same database share one tunnel (Get-PgActivity | Stop-PgBackend opens one), and the last
/// holder to let go closes it. Every tunnel process is killed, with its children, when it is released, when opening
/// it fails or is cancelled (Ctrl+C), and when pwsh exits (ProcessExit). On Linux and macOS the CLI runs under a small
/// sh watchdog that holds a pipe from this process: when pwsh dies without running its exit hooks (kill -9, a crash),
/// the pipe closes and the watchdog kills the CLI, so no tunnel outlives its session.
/// </summary>
public static class TunnelRegistry
{
    private static readonly object Gate = new();
    private static readonly Dictionary<TunnelSpec, Entry> Entries = [];

    static TunnelRegistry()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => CloseAll();
        if (System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(TunnelRegistry).Assembly) is { } alc)
            alc.Unloading += _ => CloseAll();
    }

    /// <summary>The open tunnels (tests and diagnostics): spec, local port, process id and holders.</summary>
    public static IReadOnlyList<(TunnelSpec Spec, int LocalPort, int ProcessId, int Holders)> Open
    {
        get
        {
            lock (Gate)
                return Entries.Values.Where(e => e.Opening.IsCompletedSuccessfully)
                    .Select(e => (e.Spec, e.Opening.Result.LocalPort, e.Opening.Result.ProcessId, e.Holders)).ToList();
        }
    }

    /// <summary>
    /// A hold on the tunnel for <paramref name="spec"/>: the open one, or a new one on a free loopback port once that port
    /// accepts connections (within <paramref name="timeout"/>). Dispose the lease to let go of it.
    /// </summary>
    public static async Task<TunnelLease> AcquireAsync(TunnelSpec spec, TimeSpan timeout, IOperationSink sink, CancellationToken cancellationToken)
    {
        TunnelCommand.Validate(spec);
        Entry entry;
        lock (Gate)
        {
            if (Entries.TryGetValue(spec, out var existing) && existing.Opening.IsCompleted
                && (!existing.Opening.IsCompletedSuccessfully || !existing.Opening.Result.IsUsable))
            {
                // The last opening failed, or the CLI died under us (the pod restarted, the bastion dropped the
                // session): open a fresh one. Holders of the old entry let go of it on their own.
                Entries.Remove(spec);
                if (existing.Opening.IsCompletedSuccessfully) existing.Opening.Result.Kill();
                existing = null;
            }
            if (existing is null)
            {
                existing = new Entry(spec);
                Entries[spec] = existing;
                existing.Opening = Task.Run(() => OpenProcessAsync(spec, timeout, sink, cancellationToken), CancellationToken.None);
            }
            else sink.Verbose($"Reusing the open tunnel {spec.Description}.");
            existing.Holders++;
            entry = existing;
        }
        try
        {
            var tunnel = await entry.Opening.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new TunnelLease(entry, tunnel.LocalPort);
        }
        catch
        {
            Release(entry);
            throw;
        }
    }

    internal static void Release(Entry entry)
    {
        TunnelProcess? toKill = null;
        lock (Gate)
        {
            if (--entry.Holders > 0) return;
            if (Entries.TryGetValue(entry.Spec, out var current) && ReferenceEquals(current, entry)) Entries.Remove(entry.Spec);
            if (entry.Opening.IsCompletedSuccessfully) toKill = entry.Opening.Result;
        }
        // An opening still under way is killed by its own cancellation or failure path; an open one is killed here.
        toKill?.Kill();
    }

    /// <summary>Kills every tunnel (pwsh exits, the module's context unloads).</summary>
    public static void CloseAll()
    {
        List<Entry> all;
        lock (Gate)
        {
            all = Entries.Values.ToList();
            Entries.Clear();
        }
        foreach (var e in all)
            if (e.Opening.IsCompletedSuccessfully) e.Opening.Result.Kill();
        TunnelProcess.KillStarting();
    }

    private static async Task<TunnelProcess> OpenProcessAsync(TunnelSpec spec, TimeSpan timeout, IOperationSink sink, CancellationToken cancellationToken)
    {
        // kubectl and flyctl pick a free port themselves and print it; ssh gets one picked here, and TunnelProcess
        // checks that the socket listening on it is ssh's own before anything is sent through it.
        var chosen = TunnelCommand.CliChoosesPort(spec.Kind) ? 0 : FreeLoopbackPort();
        var args = TunnelCommand.OpenArguments(spec, chosen.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var command = new CliCommand(spec.Tool, spec.Tool, args) { Environment = spec.Environment };
        var file = new ToolResolver(null, spec.ToolPath is null ? null : new ToolPaths([new(spec.Tool, spec.ToolPath)])).Resolve(spec.Tool);
        sink.Verbose($"Opening the tunnel: {command.CommandLine}");
        var tunnel = TunnelProcess.Start(file, args, command, spec.Kind, chosen);
        try
        {
            await tunnel.WaitUntilReadyAsync(timeout, cancellationToken).ConfigureAwait(false);
            sink.Verbose($"Tunnel open: 127.0.0.1:{tunnel.LocalPort} forwards to {spec.Description} (process {tunnel.ProcessId}).");
            return tunnel;
        }
        catch
        {
            tunnel.Kill();
            throw;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    internal sealed class Entry(TunnelSpec spec)
    {
        public TunnelSpec Spec { get; } = spec;
        public Task<TunnelProcess> Opening { get; set; } = null!;
        public int Holders { get; set; }
    }
}

/// <summary>One hold on an open tunnel; disposing it lets go (the last holder closes the tunnel).</summary>
public sealed class TunnelLease : IDisposable
{
    private readonly TunnelRegistry.Entry _entry;
    private int _released;

    internal TunnelLease(TunnelRegistry.Entry entry, int localPort)
    {
        _entry = entry;
        LocalPort = localPort;
    }

    public TunnelSpec Spec => _entry.Spec;
    /// <summary>The loopback port that forwards to the database.</summary>
    public int LocalPort { get; }
    /// <summary>True while the tunnel's CLI still runs and still holds its port (<see cref="TunnelProcess.IsUsable"/>).</summary>
    public bool IsAlive => _entry.Opening.IsCompletedSuccessfully && _entry.Opening.Result.IsUsable;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) TunnelRegistry.Release(_entry);
    }
}

/// <summary>A running tunnel CLI: started under the watchdog (Unix), its stderr kept (capped) for error messages.</summary>
internal sealed partial class TunnelProcess
{
    /// <summary>
    /// Runs the CLI in the background and waits for it; a second background job reads the pipe on fd 3 (this process's
    /// end of stdin) and kills the CLI when it closes, which happens when pwsh exits in any way, kill -9 included.
    /// </summary>
    private const string Watchdog =
        "exec 3<&0\n" +
        "\"$@\" </dev/null &\n" +
        "c=$!\n" +
        "( while read -r _ <&3; do :; done; kill -TERM \"$c\" 2>/dev/null ) &\n" +
        "w=$!\n" +
        "wait \"$c\"; s=$?\n" +
        "kill \"$w\" 2>/dev/null\n" +
        "exit $s\n";

    private const int MaxStderrChars = 8 * 1024;
    private static readonly TimeSpan OpenReserve = OperationDeadline.Margin + TimeSpan.FromSeconds(1.5);
    private static readonly HashSet<Process> Starting = [];

    private readonly Process _process;
    private readonly CliCommand _command;
    private readonly StringBuilder _stderr = new();
    private int _killed;

    private readonly TunnelKind _kind;
    private volatile int _localPort;
    private volatile bool _announcedZero;

    private TunnelProcess(Process process, CliCommand command, TunnelKind kind, int localPort)
    {
        _process = process;
        _command = command;
        _kind = kind;
        _localPort = localPort;
        ProcessId = process.Id;
    }

    /// <summary>
    /// The loopback port the tunnel listens on: the one handed to ssh, or the one kubectl or flyctl printed once they
    /// bound it (0 until then).
    /// </summary>
    public int LocalPort => _localPort;
    public int ProcessId { get; }

    public bool HasExited
    {
        get
        {
            try { return _process.HasExited; }
            catch (InvalidOperationException) { return true; }
        }
    }

    /// <summary>
    /// True while the CLI runs and (where it can be read) the listener on its port is still its own: a tunnel whose CLI
    /// dropped its listener, or whose port another process now holds, is not reused; a fresh one opens on a new port.
    /// </summary>
    public bool IsUsable => !HasExited && ListenerOwnership.Check(LocalPort, ProcessId) is ListenerOwner.Tunnel or ListenerOwner.Unknown;

    public static TunnelProcess Start(string file, IReadOnlyList<string> args, CliCommand command, TunnelKind kind, int localPort)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardErrorEncoding = Encoding.UTF8,
            StandardOutputEncoding = Encoding.UTF8,
        };
        if (OperatingSystem.IsWindows())
        {
            psi.FileName = file;
        }
        else
        {
            psi.FileName = "/bin/sh";
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(Watchdog);
            psi.ArgumentList.Add("incidentops-tunnel");
            psi.ArgumentList.Add(file);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        // kubectl's KUBECONFIG pinned to the list of files the command started with (TunnelSpec.Pinned).
        if (command.Environment is { } environment)
            foreach (var (name, value) in environment) psi.Environment[name] = value;
        var process = new Process { StartInfo = psi };
        try
        {
            if (!process.Start()) throw ProcessRunner.NotFound(command.Tool, file, null);
        }
        catch (Win32Exception ex)
        {
            process.Dispose();
            throw ProcessRunner.NotFound(command.Tool, file, ex);
        }
        lock (Starting) Starting.Add(process);
        var tunnel = new TunnelProcess(process, command, kind, localPort);
        _ = tunnel.PumpAsync(process.StandardError, keep: true);
        _ = tunnel.PumpLinesAsync(process.StandardOutput);
        return tunnel;
    }

    /// <summary>Kills tunnels still being opened (pwsh exits while one opens).</summary>
    public static void KillStarting()
    {
        Process[] all;
        lock (Starting) all = Starting.ToArray();
        foreach (var p in all) KillTree(p);
    }

    private async Task PumpAsync(StreamReader reader, bool keep)
    {
        var buffer = new char[4096];
        try
        {
            while (true)
            {
                var n = await reader.ReadAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (n == 0) break;
                if (!keep) continue;
                lock (_stderr)
                    if (_stderr.Length < MaxStderrChars) _stderr.Append(buffer, 0, Math.Min(n, MaxStderrChars - _stderr.Length));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException) { /* closed under us */ }
    }

    /// <summary>Reads the CLI's stdout line by line for the port it announces (kubectl's "Forwarding from", flyctl's "Proxying").</summary>
    private async Task PumpLinesAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } line)
            {
                if (_localPort != 0 || !TunnelCommand.CliChoosesPort(_kind)) continue;
                if (AnnouncedPort(_kind, line) is not { } port) continue;
                if (port == 0) _announcedZero = true;
                else _localPort = port;
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException) { /* closed under us */ }
    }

    /// <summary>
    /// The port in the line a CLI prints once it listens: kubectl port-forward "Forwarding from 127.0.0.1:N -> REMOTE"
    /// (client-go's portforward, one line per address it bound; only the 127.0.0.1 one counts), flyctl proxy
    /// "Proxying localhost:N to remote [host]:REMOTE" (older releases: "Proxying local port N to remote ...").
    /// </summary>
    internal static int? AnnouncedPort(TunnelKind kind, string line)
    {
        var m = kind switch
        {
            TunnelKind.Kubectl => KubectlForwarding().Match(line),
            TunnelKind.Fly => FlyctlProxying().Match(line),
            _ => Match.Empty,
        };
        return m.Success && int.TryParse(m.Groups[1].ValueSpan, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) && p <= 65535 ? p : null;
    }

    [GeneratedRegex(@"^Forwarding from 127\.0\.0\.1:([0-9]{1,5}) -> [0-9]+\s*$")]
    private static partial Regex KubectlForwarding();

    [GeneratedRegex(@"^Proxying (?:localhost:|local port )([0-9]{1,5}) to remote ")]
    private static partial Regex FlyctlProxying();

    private string Stderr
    {
        get
        {
            string text;
            lock (_stderr) text = _stderr.ToString().Trim();
            return text.Length == 0 ? "(it wrote nothing to stderr)" : SecretRedactor.Redact(text);
        }
    }

    /// <summary>
    /// Waits until the tunnel listens on its own loopback port. kubectl and flyctl bind a port of their choosing and
    /// print it, and only that port is used. On Linux the LISTEN socket that a connection to 127.0.0.1:port would reach
    /// must be an open fd of the CLI's process tree (<see cref="ListenerOwnership"/>): a port another process took is
    /// TunnelPortTaken at once, before anything is sent to it. Where that cannot be read (macOS, Windows, a /proc that
    /// hides it) the port is ready when it accepts a connection: kubectl's and flyctl's port cannot be taken (they bind
    /// it in the same step as choosing it), and ssh exits rather than forward nothing (ExitOnForwardFailure), which is
    /// TunnelPortTaken when it said the address was in use; a port taken while ssh was still logging in can then still
    /// be reached before ssh exits, which only the Linux check rules out. The CLI exiting first, or the time running
    /// out, is an error with its stderr; every wait is bounded and stops at once on Ctrl+C.
    /// </summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Ends before the command's deadline leaves the database code its own reserve, so "the tunnel did not open" is
        // what the user reads, with the CLI's stderr, rather than "the host did not answer".
        var limit = OperationDeadline.Cap(timeout, OpenReserve);
        var start = Stopwatch.GetTimestamp();
        var delay = 25;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (HasExited)
            {
                // Let the pumps catch the last words.
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                var code = SafeExitCode();
                if (AddressInUse(Stderr)) throw PortTaken(_localPort, $" ({_command.Tool} could not listen on it and exited{(code is { } c0 ? $" with code {c0}" : "")})");
                throw new IncidentOpsException(TunnelErrorIds.TunnelOpenFailed, IncidentOpsErrorCategory.ConnectionError,
                    $"The tunnel could not be opened: {_command.Tool} exited{(code is { } c ? $" with code {c}" : "")} before {PortText} accepted connections. " +
                    $"Command: {_command.CommandLine}{System.Environment.NewLine}{_command.Tool} said: {Stderr}{System.Environment.NewLine}" +
                    $"Check that {_command.Tool} is logged in and can reach the target (run the command above by hand), and the tunnel settings in incidentops.yml.")
                { TargetObject = _command.CommandLine };
            }
            if (_announcedZero && _localPort == 0)
                throw new IncidentOpsException(TunnelErrorIds.TunnelOpenFailed, IncidentOpsErrorCategory.NotImplemented,
                    $"The tunnel could not be opened: this {_command.Tool} does not say which local port it chose for port 0, so IncidentOps cannot tell its port from another process's. " +
                    $"Command: {_command.CommandLine}{System.Environment.NewLine}Update {_command.Tool} to a current release.")
                { TargetObject = _command.CommandLine };
            if (_localPort is var port and > 0)
            {
                switch (ListenerOwnership.Check(port, ProcessId))
                {
                    case ListenerOwner.Tunnel:
                        return;
                    case ListenerOwner.Other:
                        throw PortTaken(port, "");
                    case ListenerOwner.Unknown:
                        // Not Linux, or the fds cannot be read: the port accepting is the best sign left (see above).
                        if (await AcceptsAsync(port, cancellationToken).ConfigureAwait(false)) return;
                        break;
                    case ListenerOwner.None:
                        break;
                }
            }
            if (Stopwatch.GetElapsedTime(start) >= limit)
                throw new IncidentOpsException(TunnelErrorIds.TunnelOpenTimedOut, IncidentOpsErrorCategory.OperationTimeout,
                    $"The tunnel did not open within {limit.TotalSeconds:0.#} s: {(_localPort == 0 ? $"{_command.Tool} did not say which loopback port it listens on" : $"127.0.0.1:{_localPort} accepted no connection")}, and {_command.Tool} was killed. " +
                    $"Command: {_command.CommandLine}{System.Environment.NewLine}{_command.Tool} said: {Stderr}{System.Environment.NewLine}" +
                    "Raise -TimeoutSec if the platform is slow to connect, or run the command above by hand to see where it stops.")
                { TargetObject = _command.CommandLine };
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 200);
        }
    }

    private string PortText => _localPort == 0 ? "its loopback port" : $"127.0.0.1:{_localPort}";

    /// <summary>ssh: "bind [127.0.0.1]:N: Address already in use"; Go CLIs: "bind: address already in use".</summary>
    private static bool AddressInUse(string stderr) => stderr.Contains("address already in use", StringComparison.OrdinalIgnoreCase);

    private IncidentOpsException PortTaken(int port, string detail) =>
        new(TunnelErrorIds.TunnelPortTaken, IncidentOpsErrorCategory.ResourceBusy,
            $"The tunnel was not opened: another process holds its local port 127.0.0.1:{port}{detail}, so the connection would have gone to that process " +
            $"instead of through {_command.Tool}. {_command.Tool} was stopped and nothing was sent to that port. " +
            $"Command: {_command.CommandLine}{System.Environment.NewLine}" +
            $"Run the command again: the tunnel gets a new free port each time. If this repeats, find what takes the port (ss -ltnp 'sport = :{port}' on Linux, lsof -nP -iTCP:{port} -sTCP:LISTEN on macOS).")
        { TargetObject = _command.CommandLine };

    private int? SafeExitCode()
    {
        try { return _process.ExitCode; }
        catch (InvalidOperationException) { return null; }
    }

    private static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromMilliseconds(500));
        try
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), attempt.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException) { return false; }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return false; }
    }

    /// <summary>Kills the CLI and the watchdog (the whole process tree) and reaps them; safe to call more than once.</summary>
    public void Kill()
    {
        if (Interlocked.Exchange(ref _killed, 1) != 0) return;
        KillTree(_process);
        try { _process.WaitForExit(2000); }
        catch (InvalidOperationException) { }
        try { _process.StandardInput.Close(); } catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException) { }
        lock (Starting) Starting.Remove(_process);
        _process.Dispose();
    }

    private static void KillTree(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* exited */ }
        catch (Win32Exception) { /* exited while we were killing it */ }
        catch (NotSupportedException) { }
    }
}
