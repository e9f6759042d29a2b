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
        for (var i = 0; i < 50; i++)
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
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(new IncidentOps.Platforms.CliPaths { Kubectl = path }, null));
        using var cts = new CancellationTokenSource();
        var task = runner.RunAsync(new CliCommand("kubectl", "kubectl", ["get", "pods"]), TimeSpan.FromMinutes(5), cts.Token);
        for (var i = 0; i < 100 && cli.Pid("kubectl.child") is null; i++) await Task.Delay(50);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(Gone(cli.Pid("kubectl.pid")));
        Assert.True(Gone(cli.Pid("kubectl.child")));
    }

    [Fact]
    public async Task Arguments_go_as_a_list_never_through_a_shell()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new FakeCli.Reply("set env", Text: "ok"));
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(new IncidentOps.Platforms.CliPaths { Kubectl = path }, null));
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
