using System.Diagnostics;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>What Invoke-Rollback -ToVersion completes from: the deployment history, bounded by a short timeout.</summary>
public class RollbackChoicesTests
{
    private static readonly AppTarget Target = new() { Platform = PlatformKind.Fly, Options = new Dictionary<string, string> { ["App"] = "ai-affiliate-empire" } };

    [Fact]
    public async Task RollbackChoices_lead_with_good_releases_and_leave_out_the_current_one()
    {
        var cli = new FakeCli();
        var paths = new ToolPaths { Flyctl = cli.Tool("flyctl", new Reply("releases -a ai-affiliate-empire --json --image", "fly-releases.json")) };
        var choices = await new PlatformsService(NullSink.Instance).GetRollbackChoicesAsync(Target, paths, null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(["v11", "v14", "v12"], choices.Select(d => d.Version));
        Assert.True(choices[0].IsLastGood);
    }

    [Fact]
    public async Task RollbackChoices_give_up_on_a_hanging_cli_at_the_timeout_and_kill_it()
    {
        var cli = new FakeCli();
        var paths = new ToolPaths { Flyctl = cli.Tool("flyctl", new Reply("releases", Sleep: true)) };
        var sw = Stopwatch.StartNew();
        var choices = await new PlatformsService(NullSink.Instance).GetRollbackChoicesAsync(Target, paths, null, TimeSpan.FromSeconds(1), CancellationToken.None)
            .ConfigureAwait(false);
        Assert.Empty(choices);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"returned after {sw.Elapsed}");   // "does not hang": the fake CLI sleeps 60 s
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!ProcessRunnerTests.Gone(cli.Pid("flyctl.pid")) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.pid")));
    }
}
