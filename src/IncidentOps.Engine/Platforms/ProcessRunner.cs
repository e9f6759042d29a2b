using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>One CLI invocation: the tool's name (for messages), the executable and the argument list (never a shell string).</summary>
public sealed record CliCommand(string Tool, string FileName, IReadOnlyList<string> Arguments, string? StandardInput = null, string? StdinDisplay = null)
{
    /// <summary>
    /// Environment variables set for this process only (kubectl's KUBECONFIG pinned to the files the command started with),
    /// over what the session has. Names and paths only, never a secret: they are shown in the command line.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>
    /// The directory the CLI runs in (null: this process's). flyctl deploy reads a fly.toml from it, so a rollback runs it
    /// in an empty one: the app's own configuration from Fly, never the fly.toml of whatever directory pwsh is in.
    /// </summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The command line as a user would type it (NAME=value before the tool for each of Environment), secrets masked.</summary>
    public string CommandLine
    {
        get
        {
            var env = Environment is { Count: > 0 } e ? e.Select(kv => $"{kv.Key}={Quote(kv.Value)}") : [];
            var text = string.Join(" ", env.Concat([Tool]).Concat(Arguments.Select(Quote)));
            if (StandardInput is not null) text += $" (stdin: {StdinDisplay ?? "..."})";
            return SecretRedactor.Redact(text);
        }
    }

    public override string ToString() => CommandLine;

    /// <summary>True when <paramref name="args"/> give one of <paramref name="options"/> (as "--opt value" or "--opt=value"): an action's own choice of cluster or account.</summary>
    public static bool GivesOption(IEnumerable<string> args, params string[] options) =>
        args.Any(a => options.Any(o => a == o || a.StartsWith(o + "=", StringComparison.Ordinal)));

    internal static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=:@,+%^".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
}

/// <summary>What a finished process produced.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed);

/// <summary>
/// The one way the engine runs a CLI. Arguments go as a list; a timeout or cancellation kills the whole
/// process tree; a non-zero exit, a missing executable and a timeout each become an IncidentOpsException
/// naming the CLI, the redacted command line and stderr.
/// </summary>
/// <remarks>
/// Two things a CLI does that must not hang or exhaust the session: it exits but leaves a child holding its
/// stdout (flyctl's background agent, an ssh ControlPersist master), and it prints without end. The runner
/// therefore stops waiting for output shortly after the CLI exits and kills whatever this run started that
/// still holds the pipe (found by a marker in the environment, which survives re-parenting); and it reads at
/// most <see cref="MaxStdoutChars"/> of stdout (more is PlatformOutputTooLarge, and the CLI is killed) and
/// keeps at most <see cref="MaxStderrChars"/> of stderr (more is drained, dropped and reported).
/// </remarks>
public sealed partial class ProcessRunner(IOperationSink sink, ToolResolver? resolver = null)
{
    /// <summary>The most stdout read from one CLI run (characters): 64 Mi.</summary>
    public const int DefaultMaxStdoutChars = 64 * 1024 * 1024;
    /// <summary>The most stderr kept from one CLI run (characters): 1 Mi; the rest is read and dropped.</summary>
    public const int DefaultMaxStderrChars = 1024 * 1024;
    /// <summary>The environment variable that marks every process one run started, so leftovers can be found.</summary>
    public const string RunMarkerVariable = "INCIDENTOPS_RUN_ID";

    /// <summary>How long to wait for the output pipes to close after the CLI itself exited.</summary>
    internal static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(1);

    public int MaxStdoutChars { get; init; } = DefaultMaxStdoutChars;
    public int MaxStderrChars { get; init; } = DefaultMaxStderrChars;

    /// <summary>
    /// Starts the CLI with its stdin, stdout and stderr redirected (UTF-8) and this run's marker in its environment
    /// (<see cref="RunMarkerVariable"/>), so whatever it starts can be found and killed later. A CLI that cannot be
    /// started is PlatformCliNotFound with its install hint.
    /// </summary>
    private Process Start(CliCommand command, out string marker)
    {
        var fileName = resolver?.Resolve(command.Tool) ?? command.FileName;
        marker = Guid.NewGuid().ToString("N");
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in command.Arguments) psi.ArgumentList.Add(a);
        if (command.WorkingDirectory is { } directory)
        {
            psi.WorkingDirectory = directory;
            // A relative tool path (-FlyctlPath ./flyctl) meant this process's directory, not the CLI's.
            if (!Path.IsPathRooted(fileName) && fileName.Contains(Path.DirectorySeparatorChar)) psi.FileName = Path.GetFullPath(fileName);
        }
        if (command.Environment is { } environment)
            foreach (var (name, value) in environment) psi.Environment[name] = value;
        psi.Environment[RunMarkerVariable] = marker;
        var process = new Process { StartInfo = psi };
        try
        {
            if (!process.Start()) throw NotFound(command.Tool, fileName, null);
            return process;
        }
        catch (Win32Exception ex)
        {
            process.Dispose();
            // ENOENT (2) is a missing file; anything else (not executable, a wrong binary, "text file busy") is a file that
            // is there but did not start, which "not found" would hide.
            throw ex.NativeErrorCode == 2 ? NotFound(command.Tool, fileName, ex) : NotStarted(command.Tool, fileName, ex);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    public async Task<ProcessResult> RunAsync(CliCommand command, TimeSpan timeout, CancellationToken cancellationToken, bool throwOnError = true)
    {
        sink.Verbose($"Running: {command.CommandLine}");
        var sw = Stopwatch.StartNew();
        using var process = Start(command, out var marker);
        var tooMuch = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = ReadCappedAsync(process.StandardOutput, MaxStdoutChars, stopAtCap: true, () => tooMuch.TrySetResult());
        var stderr = ReadCappedAsync(process.StandardError, MaxStderrChars, stopAtCap: false, null);
        try
        {
            if (command.StandardInput is not null) await process.StandardInput.WriteAsync(command.StandardInput).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException) { /* the tool exited without reading its input; its exit code tells */ }

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // When the command's deadline comes first, its token ends the call (and the error says the deadline passed);
        // otherwise this call's own limit does (PlatformCommandTimedOut: one call was killed).
        if (!OperationDeadline.Bounds(timeout)) timeoutCts.CancelAfter(timeout);
        try
        {
            var exited = process.WaitForExitAsync(timeoutCts.Token);
            if (await Task.WhenAny(exited, tooMuch.Task).ConfigureAwait(false) == tooMuch.Task)
            {
                await KillAsync(process, marker).ConfigureAwait(false);
                throw new IncidentOpsException(PlatformErrorIds.PlatformOutputTooLarge, IncidentOpsErrorCategory.LimitsExceeded,
                    $"{command.Tool} wrote more than {MaxStdoutChars / (1024 * 1024.0):0.#} MB to its output, so IncidentOps stopped reading there and killed it (with its child processes): {command.CommandLine}. The output was cut; narrow the request (for logs: -Tail or -Since).")
                { TargetObject = command.CommandLine };
            }
            await exited.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await KillAsync(process, marker).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
                throw new OperationCanceledException($"{command.Tool} was stopped and killed with its child processes: {command.CommandLine}", cancellationToken);
            throw new IncidentOpsException(PlatformErrorIds.PlatformCommandTimedOut, IncidentOpsErrorCategory.OperationTimeout,
                $"{command.Tool} did not finish within {timeout.TotalSeconds:0.#} s and was killed (with its child processes): {command.CommandLine}. Raise -TimeoutSec if the platform is known to be slow.")
            { TargetObject = command.CommandLine };
        }

        // The CLI has exited. Its output is complete once both pipes close; a child it left behind (an agent, an
        // ssh master) may hold them open for its whole life, so wait briefly, then kill what this run started.
        var outputs = Task.WhenAll(stdout, stderr);
        if (!await CompletesWithinAsync(outputs, OutputGrace, cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var killed = KillMarked(marker);
            sink.Verbose($"{command.Tool} exited but {(killed > 0 ? $"{killed} process(es) it started" : "a process it started")} still held its output open; stopped them and used the output read so far.");
            if (!await CompletesWithinAsync(outputs, OutputGrace, cancellationToken).ConfigureAwait(false))
            {
                // Something this run cannot kill holds the pipe: close our end and use what was read.
                try { process.StandardOutput.Close(); process.StandardError.Close(); } catch (IOException) { }
                await CompletesWithinAsync(outputs, OutputGrace, CancellationToken.None).ConfigureAwait(false);
            }
        }
        var (output, outputCut) = stdout.IsCompletedSuccessfully ? stdout.Result : ("", false);
        var (error, errorCut) = stderr.IsCompletedSuccessfully ? stderr.Result : ("", false);
        if (outputCut)
            throw new IncidentOpsException(PlatformErrorIds.PlatformOutputTooLarge, IncidentOpsErrorCategory.LimitsExceeded,
                $"{command.Tool} wrote more than {MaxStdoutChars / (1024 * 1024.0):0.#} MB to its output; the output was cut there: {command.CommandLine}. Narrow the request (for logs: -Tail or -Since).")
            { TargetObject = command.CommandLine };
        if (errorCut)
        {
            sink.Warning($"{command.Tool} wrote more than {MaxStderrChars / 1024} KB to stderr; only the first {MaxStderrChars / 1024} KB were kept (the rest was cut): {command.CommandLine}");
            error += $"{Environment.NewLine}[stderr cut at {MaxStderrChars / 1024} KB]";
        }
        sw.Stop();
        var result = new ProcessResult(process.ExitCode, output, error, sw.Elapsed);
        if (throwOnError && result.ExitCode != 0) throw Failed(command, result);
        return result;
    }

    /// <summary>PlatformCommandFailed for a CLI that exited non-zero: its exit code, command line and stderr (else stdout).</summary>
    public static IncidentOpsException Failed(CliCommand command, ProcessResult result) =>
        new(PlatformErrorIds.PlatformCommandFailed, IncidentOpsErrorCategory.FromStdErr,
            $"{command.Tool} exited with code {result.ExitCode}: {command.CommandLine}{Environment.NewLine}{Trim(result.StandardError.Length > 0 ? result.StandardError : result.StandardOutput)}")
        { TargetObject = command.CommandLine };

    /// <summary>True when the task completed within the wait (false on timeout or cancellation; never throws for them).</summary>
    private static async Task<bool> CompletesWithinAsync(Task task, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException) { return false; }
        catch (OperationCanceledException) when (!task.IsCompleted) { return false; }
        catch (Exception) when (task.IsCompleted) { return true; }
    }

    /// <summary>
    /// Reads a pipe to its end, keeping at most <paramref name="max"/> characters. With stopAtCap the read stops
    /// there (the caller kills the writer); otherwise the rest is read and dropped so the writer never blocks.
    /// </summary>
    private static async Task<(string Text, bool Cut)> ReadCappedAsync(StreamReader reader, int max, bool stopAtCap, Action? onCap)
    {
        var text = new StringBuilder();
        var buffer = new char[16 * 1024];
        var cut = false;
        try
        {
            while (true)
            {
                var n = await reader.ReadAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (n == 0) break;
                if (cut) continue;
                var room = max - text.Length;
                if (n <= room) { text.Append(buffer, 0, n); continue; }
                text.Append(buffer, 0, room);
                cut = true;
                onCap?.Invoke();
                if (stopAtCap) break;
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException) { /* pipe closed under us */ }
        return (text.ToString(), cut);
    }

    private static string Trim(string text)
    {
        text = text.Trim();
        return text.Length > 4000 ? text[..4000] + " ..." : text;
    }

    private static async Task KillAsync(Process process, string marker)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already exited */ }
        catch (Win32Exception) { /* exited while we were killing it */ }
        // Children that were re-parented (their parent exited first) are not in the tree any more.
        KillMarked(marker);
        // Reap it so no zombie is left; the kill makes this quick, the bound keeps us from hanging.
        using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await process.WaitForExitAsync(reap.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { /* it did not die in 5 s; the error below still reports the kill */ }
        catch (InvalidOperationException) { /* never started */ }
    }

    /// <summary>
    /// Kills every process that carries this run's marker in its environment (Linux: /proc/PID/environ), which
    /// finds a CLI's descendants even after they were re-parented or started their own session. Returns how many.
    /// </summary>
    internal static int KillMarked(string marker)
    {
        if (!OperatingSystem.IsLinux()) return 0;
        var needle = Encoding.ASCII.GetBytes($"{RunMarkerVariable}={marker}\0");
        var self = System.Environment.ProcessId;
        var killed = 0;
        string[] dirs;
        try { dirs = Directory.GetDirectories("/proc"); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return 0; }
        foreach (var dir in dirs)
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == self) continue;
            byte[] environ;
            try { environ = File.ReadAllBytes(Path.Combine(dir, "environ")); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }
            if (environ.AsSpan().IndexOf(needle) < 0) continue;
            try
            {
                using var p = Process.GetProcessById(pid);
                p.Kill(entireProcessTree: true);
                killed++;
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or Win32Exception) { /* gone meanwhile */ }
        }
        return killed;
    }

    /// <summary>PlatformCliNotStarted: the CLI's file is there, but the system would not start it (the reason is the system's).</summary>
    internal static IncidentOpsException NotStarted(string tool, string fileName, Win32Exception inner)
    {
        var (_, param) = ToolResolver.Hints(tool);
        var hint = inner.NativeErrorCode switch
        {
            13 => $"Make it executable (chmod +x '{fileName}'), or pass {param} or set tools.{tool} in incidentops.yml to the right file.",
            8 => $"It is not a program this machine can run (a download for another system?): reinstall {tool}, or pass {param} or set tools.{tool} to the right file.",
            _ => $"Check the file, or pass {param} or set tools.{tool} in incidentops.yml to another one, then run the command again.",
        };
        return new IncidentOpsException(PlatformErrorIds.PlatformCliNotStarted, IncidentOpsErrorCategory.ResourceUnavailable,
            $"{tool} at '{fileName}' could not be started: {new Win32Exception(inner.NativeErrorCode).Message.TrimEnd('.')}. Nothing was run. {hint}", inner)
        { TargetObject = tool };
    }

    internal static IncidentOpsException NotFound(string tool, string fileName, Exception? inner)
    {
        var (install, param) = ToolResolver.Hints(tool);
        return new IncidentOpsException(PlatformErrorIds.PlatformCliNotFound, IncidentOpsErrorCategory.NotInstalled,
            $"{tool} was not found ({fileName}). Install {install}, or pass {param} or set tools.{tool} in incidentops.yml to its full path.", inner)
        { TargetObject = tool };
    }
}

/// <summary>Finds a platform CLI: an explicit -…Path parameter, then the configuration's tools: key, then PATH.</summary>
public sealed class ToolResolver(ToolPaths? explicitPaths, ToolPaths? configured)
{
    /// <summary>Where to get a CLI and the parameter that overrides its path, from the provider that drives it.</summary>
    public static (string Install, string Parameter) Hints(string tool) =>
        PlatformRegistry.Tool(tool) is { } t ? (t.Install, t.PathParameter) : (tool, "-" + tool + "Path");

    public string Resolve(string tool)
    {
        var explicitPath = explicitPaths?.Get(tool) ?? configured?.Get(tool);
        if (!string.IsNullOrEmpty(explicitPath))
        {
            if (File.Exists(explicitPath)) return explicitPath;
            throw ProcessRunner.NotFound(tool, explicitPath, null);
        }
        var names = PlatformRegistry.Tool(tool)?.Executables ?? [tool];
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var name in names)
            foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? name + ".exe" : name);
                if (File.Exists(candidate)) return candidate;
            }
        throw ProcessRunner.NotFound(tool, "not on PATH", null);
    }
}
