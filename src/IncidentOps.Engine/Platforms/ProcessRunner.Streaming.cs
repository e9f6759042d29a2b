using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>
/// The runner's streaming mode, for a CLI that follows a log (flyctl logs, doctl apps logs --follow, kubectl logs -f,
/// journalctl -f): each stdout line goes to the caller as it arrives, and the CLI runs until it ends its stream, the
/// token is cancelled (Ctrl+C, the caller's -TimeoutSec, the pipeline stopped early) or the caller's line handler
/// throws. In every one of those cases the CLI and everything it started are killed before the call returns.
/// </summary>
/// <remarks>
/// The output caps still hold: a single line longer than <see cref="MaxStdoutChars"/> (a CLI printing without a
/// newline) is PlatformOutputTooLarge and the CLI is killed; stderr keeps its first <see cref="MaxStderrChars"/>.
/// There is no total cap on stdout, because a followed log has no end; instead a handler that waits stops the reading
/// (backpressure), so a slow consumer holds back the CLI rather than filling memory.
/// </remarks>
public sealed partial class ProcessRunner
{
    /// <summary>
    /// Runs a CLI and hands each line of its stdout (without the line break) to <paramref name="onLine"/>, on the
    /// reading thread, in order. Returns when the CLI ended its stream with exit code 0; a non-zero exit is
    /// PlatformCommandFailed with stderr; cancellation throws OperationCanceledException after the kill.
    /// </summary>
    public Task StreamLinesAsync(CliCommand command, Action<string> onLine, CancellationToken cancellationToken) =>
        StreamLinesAsync(command, (line, _) => { onLine(line); return ValueTask.CompletedTask; }, cancellationToken);

    /// <summary>
    /// Like <see cref="StreamLinesAsync(CliCommand, Action{string}, CancellationToken)"/>, but the next line is read only
    /// once <paramref name="onLine"/> has completed: a handler that waits (the consumer is slow, <see cref="LogHandoff"/>
    /// is full) stops the reading, the OS pipe fills and the CLI blocks on its next write, so nothing piles up here.
    /// The handler gets the token; cancelling it ends the wait, and the CLI is killed as on any other way out.
    /// </summary>
    public async Task StreamLinesAsync(CliCommand command, Func<string, CancellationToken, ValueTask> onLine, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        sink.Verbose($"Following: {command.CommandLine}");
        using var process = Start(command, out var marker);
        try { process.StandardInput.Close(); }
        catch (IOException) { /* it exited already; its exit code tells */ }

        var stderr = ReadCappedAsync(process.StandardError, MaxStderrChars, stopAtCap: false, null);
        // Killing on cancel (rather than waiting for a read to notice) ends a CLI that prints nothing at once.
        using var onCancel = cancellationToken.Register(() => KillNow(process, marker));
        var ended = false;
        try
        {
            await ReadLinesAsync(command, process, marker, onLine, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            // stdout is closed: the CLI has ended its stream (or is about to exit).
            using (var exitWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                exitWait.CancelAfter(OutputGrace + OutputGrace);
                try { await process.WaitForExitAsync(exitWait.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // It closed its stdout but lives on: nothing more can come from it.
                    KillNow(process, marker);
                    await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
                }
            }
            ended = true;
            await CompletesWithinAsync(stderr, OutputGrace, cancellationToken).ConfigureAwait(false);
            var (error, _) = stderr.IsCompletedSuccessfully ? stderr.Result : ("", false);
            if (process.ExitCode != 0)
                throw new IncidentOpsException(PlatformErrorIds.PlatformCommandFailed, IncidentOpsErrorCategory.FromStdErr,
                    $"{command.Tool} exited with code {process.ExitCode}: {command.CommandLine}{Environment.NewLine}{Trim(error)}")
                { TargetObject = command.CommandLine };
            sink.Verbose($"{command.Tool} ended its log stream (exit code 0): {command.CommandLine}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await KillAsync(process, marker).ConfigureAwait(false);
            throw new OperationCanceledException($"{command.Tool} was stopped and killed with its child processes: {command.CommandLine}", cancellationToken);
        }
        finally
        {
            // Any way out (the caller's handler threw, the output was too large, a stop): nothing this run started lives on.
            if (!ended) await KillAsync(process, marker).ConfigureAwait(false);
        }
    }

    /// <summary>Reads stdout line by line until it closes; a line past the stdout cap kills the CLI.</summary>
    private async Task ReadLinesAsync(CliCommand command, Process process, string marker, Func<string, CancellationToken, ValueTask> onLine, CancellationToken cancellationToken)
    {
        var reader = process.StandardOutput;
        var buffer = new char[16 * 1024];
        var line = new StringBuilder();
        while (true)
        {
            int n;
            try { n = await reader.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false); }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                break; // the pipe closed under us (the CLI was killed)
            }
            if (n == 0) break;
            var start = 0;
            for (var i = 0; i < n; i++)
            {
                if (buffer[i] != '\n') continue;
                line.Append(buffer, start, i - start);
                start = i + 1;
                await Emit(line, onLine, cancellationToken).ConfigureAwait(false);
            }
            line.Append(buffer, start, n - start);
            if (line.Length > MaxStdoutChars)
            {
                KillNow(process, marker);
                throw new IncidentOpsException(PlatformErrorIds.PlatformOutputTooLarge, IncidentOpsErrorCategory.LimitsExceeded,
                    $"{command.Tool} wrote a line longer than {MaxStdoutChars / (1024 * 1024.0):0.#} MB while following its log, so IncidentOps stopped reading and killed it (with its child processes): {command.CommandLine}.")
                { TargetObject = command.CommandLine };
            }
        }
        if (line.Length > 0) await Emit(line, onLine, cancellationToken).ConfigureAwait(false);
    }

    private static ValueTask Emit(StringBuilder line, Func<string, CancellationToken, ValueTask> onLine, CancellationToken cancellationToken)
    {
        var text = line.Length > 0 && line[^1] == '\r' ? line.ToString(0, line.Length - 1) : line.ToString();
        line.Clear();
        return onLine(text, cancellationToken);
    }

    /// <summary>Kills the CLI's tree and whatever else this run started, without waiting (safe from a cancel callback).</summary>
    private static void KillNow(Process process, string marker)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* exited, or never started */ }
        catch (Win32Exception) { /* exited while we were killing it */ }
        KillMarked(marker);
    }
}
