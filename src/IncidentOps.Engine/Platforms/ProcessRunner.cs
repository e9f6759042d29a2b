using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using IncidentOps.Config;
using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>One CLI invocation: the tool's name (for messages), the executable and the argument list (never a shell string).</summary>
public sealed record CliCommand(string Tool, string FileName, IReadOnlyList<string> Arguments, string? StandardInput = null, string? StdinDisplay = null)
{
    /// <summary>The command line as a user would type it, secrets masked.</summary>
    public string CommandLine
    {
        get
        {
            var text = string.Join(" ", new[] { Tool }.Concat(Arguments.Select(Quote)));
            if (StandardInput is not null) text += $" (stdin: {StdinDisplay ?? "..."})";
            return SecretRedactor.Redact(text);
        }
    }

    public override string ToString() => CommandLine;

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
public sealed class ProcessRunner(IOperationSink sink, ToolResolver? resolver = null)
{
    public async Task<ProcessResult> RunAsync(CliCommand command, TimeSpan timeout, CancellationToken cancellationToken, bool throwOnError = true)
    {
        var fileName = resolver?.Resolve(command.Tool) ?? command.FileName;
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
        sink.Verbose($"Running: {command.CommandLine}");
        var sw = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        try
        {
            if (!process.Start()) throw NotFound(command.Tool, fileName, null);
        }
        catch (Win32Exception ex)
        {
            throw NotFound(command.Tool, fileName, ex);
        }
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (command.StandardInput is not null) await process.StandardInput.WriteAsync(command.StandardInput).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException) { /* the tool exited without reading its input; its exit code tells */ }

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await KillAsync(process).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException("Stopped by the user; the process tree was killed.", cancellationToken);
            throw new IncidentOpsException("PlatformCommandTimedOut", IncidentOpsErrorCategory.OperationTimeout,
                $"{command.Tool} did not finish within {timeout.TotalSeconds:0.#} s and was killed (with its child processes): {command.CommandLine}. Raise -TimeoutSec if the platform is known to be slow.")
            { TargetObject = command.CommandLine };
        }
        var output = await stdout.ConfigureAwait(false);
        var error = await stderr.ConfigureAwait(false);
        sw.Stop();
        var result = new ProcessResult(process.ExitCode, output, error, sw.Elapsed);
        if (throwOnError && result.ExitCode != 0)
            throw new IncidentOpsException("PlatformCommandFailed", IncidentOpsErrorCategory.FromStdErr,
                $"{command.Tool} exited with code {result.ExitCode}: {command.CommandLine}{Environment.NewLine}{Trim(error.Length > 0 ? error : output)}")
            { TargetObject = command.CommandLine };
        return result;
    }

    private static string Trim(string text)
    {
        text = text.Trim();
        return text.Length > 4000 ? text[..4000] + " ..." : text;
    }

    private static async Task KillAsync(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already exited */ }
        catch (Win32Exception) { /* exited while we were killing it */ }
        // Reap it so no zombie is left; the kill makes this quick, the bound keeps us from hanging.
        using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await process.WaitForExitAsync(reap.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { /* it did not die in 5 s; the error below still reports the kill */ }
        catch (InvalidOperationException) { /* never started */ }
    }

    internal static IncidentOpsException NotFound(string tool, string fileName, Exception? inner)
    {
        var (install, param) = ToolResolver.Hints(tool);
        return new IncidentOpsException("PlatformCliNotFound", IncidentOpsErrorCategory.NotInstalled,
            $"{tool} was not found ({fileName}). Install {install}, or pass {param} or set tools.{tool} in incidentops.yml to its full path.", inner)
        { TargetObject = tool };
    }
}

/// <summary>Finds a platform CLI: an explicit -…Path parameter, then the configuration's tools: key, then PATH.</summary>
public sealed class ToolResolver(CliPaths? explicitPaths, ToolPaths? configured)
{
    public static (string Install, string Parameter) Hints(string tool) => tool switch
    {
        "flyctl" => ("flyctl (https://fly.io/docs/flyctl/install/)", "-FlyctlPath"),
        "doctl" => ("doctl (https://docs.digitalocean.com/reference/doctl/how-to/install/)", "-DoctlPath"),
        "kubectl" => ("kubectl (https://kubernetes.io/docs/tasks/tools/)", "-KubectlPath"),
        "systemctl" => ("systemd's systemctl (run on a systemd host, or use -ComputerName)", "-SystemctlPath"),
        "journalctl" => ("systemd's journalctl (run on a systemd host, or use -ComputerName)", "-JournalctlPath"),
        "ssh" => ("an OpenSSH client", "-SshPath"),
        _ => (tool, "-" + tool + "Path"),
    };

    public string Resolve(string tool)
    {
        var explicitPath = tool switch
        {
            "flyctl" => explicitPaths?.Flyctl ?? configured?.Flyctl,
            "doctl" => explicitPaths?.Doctl ?? configured?.Doctl,
            "kubectl" => explicitPaths?.Kubectl ?? configured?.Kubectl,
            "systemctl" => explicitPaths?.Systemctl ?? configured?.Systemctl,
            "journalctl" => explicitPaths?.Journalctl ?? configured?.Journalctl,
            "ssh" => explicitPaths?.Ssh ?? configured?.Ssh,
            _ => null,
        };
        if (!string.IsNullOrEmpty(explicitPath))
        {
            if (File.Exists(explicitPath)) return explicitPath;
            throw ProcessRunner.NotFound(tool, explicitPath, null);
        }
        var names = tool == "flyctl" ? new[] { "flyctl", "fly" } : [tool];
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
