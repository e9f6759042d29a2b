using IncidentOps.Engine;
using IncidentOps.Engine.Platforms;
using Xunit;

namespace IncidentOps.Tests.Platforms;

public class ProcessRunnerTests
{
    /// <summary>True once the process has exited (allowing the kernel a moment to reap a re-parented child).</summary>
    public static bool Gone(int? pid)
    {
        Assert.NotNull(pid);
        for (var i = 0; i < 150; i++)   // up to 15 s: a kill is at once, but a loaded machine may be slow to reap
        {
            var stat = $"/proc/{pid}/stat";
            if (!File.Exists(stat)) return true;
            try { if (File.ReadAllText(stat).Split(") ").ElementAtOrDefault(1)?.StartsWith('Z') == true) return true; }
            catch (IOException) { return true; }
            Thread.Sleep(100);
        }
        return false;
    }

    [Fact]
    public async Task Cancellation_kills_the_process_tree_at_once()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new FakeCli.Reply("get", Sleep: true));
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(new IncidentOps.Config.ToolPaths { Kubectl = path }, null));
        using var cts = new CancellationTokenSource();
        var task = runner.RunAsync(new CliCommand("kubectl", "kubectl", ["get", "pods"]), TimeSpan.FromMinutes(5), cts.Token);
        for (var i = 0; i < 100 && cli.Pid("kubectl.child") is null; i++) await Task.Delay(50);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(Gone(cli.Pid("kubectl.pid")));
        Assert.True(Gone(cli.Pid("kubectl.child")));
    }

    /// <summary>A stand-in CLI: a bash script with the given body, in its own folder.</summary>
    internal static (string Path, string Dir) Script(string body)
    {
        var dir = Paths.TempDir("clistub");
        var path = System.IO.Path.Combine(dir, "flyctl");
        ExecutableFile.Write(path, "#!/bin/bash\ncd '" + dir + "'\n" + body + "\n");
        return (path, dir);
    }

    private static int? PidIn(string dir, string file) =>
        File.Exists(System.IO.Path.Combine(dir, file)) && int.TryParse(File.ReadAllText(System.IO.Path.Combine(dir, file)).Trim(), out var p) ? p : null;

    [Theory]
    [InlineData(2)]
    [InlineData(60)]
    public async Task A_cli_that_exits_leaving_a_child_on_its_stdout_returns_at_once_and_the_child_is_killed(int timeoutSec)
    {
        // Like flyctl starting its background agent, or ssh leaving a ControlPersist master: the child inherits stdout.
        var (path, dir) = Script("echo '{\"ok\":true}'\nsleep 300 &\necho $! > child.pid\nexit 0");
        var runner = new ProcessRunner(NullSink.Instance);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = await runner.RunAsync(new CliCommand("flyctl", path, ["status"]), TimeSpan.FromSeconds(timeoutSec), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        sw.Stop();
        Assert.Equal("{\"ok\":true}", r.StandardOutput.Trim());
        Assert.Equal(0, r.ExitCode);
        // Returned with the CLI's own result, so not at the timeout (that throws PlatformCommandTimedOut); and long before
        // the child that holds stdout ends (300 s): a generous "does not hang" bound for a loaded machine.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"returned after {sw.Elapsed.TotalSeconds:0.0} s");
        Assert.True(Gone(PidIn(dir, "child.pid")), "the child holding stdout is still running");
    }

    [Fact]
    public async Task A_child_that_starts_its_own_session_is_killed_on_timeout_too()
    {
        // setsid takes the child out of the process tree and group; the run marker still finds it.
        var (path, dir) = Script("setsid bash -c 'echo $$ > child.pid; exec sleep 300' &\nsleep 300");
        var runner = new ProcessRunner(NullSink.Instance);
        var ex = await Assert.ThrowsAsync<IncidentOps.IncidentOpsException>(() => runner.RunAsync(new CliCommand("flyctl", path, ["status"]), TimeSpan.FromSeconds(2), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("PlatformCommandTimedOut", ex.ErrorId);
        Assert.True(Gone(PidIn(dir, "child.pid")));
    }

    [Fact]
    public async Task Endless_stdout_is_cut_at_the_cap_with_PlatformOutputTooLarge_and_the_cli_is_killed()
    {
        var (path, dir) = Script("echo $$ > cli.pid\nexec yes 'a log line that never ends'");
        var runner = new ProcessRunner(NullSink.Instance) { MaxStdoutChars = 4 * 1024 * 1024 };
        var ex = await Assert.ThrowsAsync<IncidentOps.IncidentOpsException>(() => runner.RunAsync(new CliCommand("flyctl", path, ["logs"]), TimeSpan.FromSeconds(60), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("PlatformOutputTooLarge", ex.ErrorId);
        Assert.Contains("4 MB", ex.Message);
        Assert.Contains("cut", ex.Message);
        Assert.True(Gone(PidIn(dir, "cli.pid")));
    }

    [Fact]
    public async Task Stderr_past_its_cap_is_dropped_with_a_warning_and_the_command_still_succeeds()
    {
        var (path, _) = Script("head -c 3000000 /dev/zero | tr '\\0' e >&2\necho done");
        var sink = new CollectingSink();
        var runner = new ProcessRunner(sink);
        var r = await runner.RunAsync(new CliCommand("flyctl", path, ["status"]), TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.Equal("done", r.StandardOutput.Trim());
        Assert.True(r.StandardError.Length < ProcessRunner.DefaultMaxStderrChars + 100);
        Assert.EndsWith("[stderr cut at 1024 KB]", r.StandardError);
        Assert.Contains(sink.Warnings, w => w.Contains("stderr") && w.Contains("cut"));
    }

    [Fact]
    public async Task Arguments_go_as_a_list_never_through_a_shell()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new FakeCli.Reply("set env", Text: "ok"));
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(new IncidentOps.Config.ToolPaths { Kubectl = path }, null));
        var cmd = new CliCommand("kubectl", "kubectl", ["set", "env", "deployment/x", "A=$(touch /tmp/pwned-io); b"]);
        var r = await runner.RunAsync(cmd, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal("ok", r.StandardOutput);
        Assert.Equal(["kubectl set env deployment/x A=$(touch /tmp/pwned-io); b"], cli.Calls);
        Assert.Equal("kubectl set env deployment/x 'A=$(touch /tmp/pwned-io); b'", cmd.CommandLine);
    }

    [Fact]
    public void Command_lines_mask_registered_secrets()
    {
        IncidentOps.SecretRedactor.Register("canary-runner-9931");
        var cmd = new CliCommand("kubectl", "kubectl", ["set", "env", "deployment/x", "KEY=canary-runner-9931"]);
        Assert.DoesNotContain("canary-runner-9931", cmd.CommandLine);
    }

    [Fact]
    public async Task A_missing_cli_on_PATH_is_PlatformCliNotFound()
    {
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(null, new IncidentOps.Config.ToolPaths { Doctl = "/nonexistent/doctl" }));
        var ex = await Assert.ThrowsAsync<IncidentOps.IncidentOpsException>(() => runner.RunAsync(new CliCommand("doctl", "doctl", ["apps", "list"]), TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal("PlatformCliNotFound", ex.ErrorId);
        Assert.Contains("-DoctlPath", ex.Message);
    }
}
