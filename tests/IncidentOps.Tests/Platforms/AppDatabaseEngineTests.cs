using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>The database adapters called directly: the output quirks the module tests do not reach.</summary>
public class AppDatabaseEngineTests
{
    private static IDatabaseAdapter Fly(FakeCli cli, params Reply[] replies) =>
        new AppDatabaseService(NullSink.Instance).Open(new AppDatabaseTarget { Platform = PlatformKind.Fly, DatabaseApp = "pg1" },
            new ToolPaths { Flyctl = cli.Tool("flyctl", replies) }, null, TimeSpan.FromSeconds(30));

    [Fact]
    public async Task The_backup_table_is_read_with_plus_corners_and_a_leading_exit_code_zero()
    {
        const string table = """
            Exit code: 0
            +-----------------+-------+-----------+--------------------------+--------------------------+
            | ID/NAME         | ALIAS | STATUS    | END TIME                 | BEGIN WAL                |
            +-----------------+-------+-----------+--------------------------+--------------------------+
            | 20261123T101500 |       | STARTED   |                          | 000000010000000000000030 |
            | 20261123T020012 | nightly | DONE    | Mon Nov 23 02:00:41 2026 | 000000010000000000000021 |
            +-----------------+-------+-----------+--------------------------+--------------------------+
            """;
        var cli = new FakeCli();
        var list = await Fly(cli, new Reply("postgres backup list", Text: table)).GetBackupsAsync(CancellationToken.None);
        Assert.Equal(["20261123T101500", "20261123T020012"], list.Select(b => b.BackupId));
        Assert.Equal([false, true], list.Select(b => b.Restorable));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 15, 0, TimeSpan.Zero), list[0].CreatedAt);
        Assert.Equal("nightly", list[1].Alias);
    }

    [Fact]
    public void Restore_plans_are_deterministic_and_run_nothing()
    {
        var cli = new FakeCli();
        var plan = Fly(cli).PlanRestore("20261123T020012", null, wait: false);
        Assert.Equal(["flyctl postgres backup restore pg1-restore-20261123t020012 -a pg1 --restore-target-name 20261123T020012 --detach"], plan.Commands);
        var bad = Assert.Throws<IncidentOpsException>(() => Fly(cli).PlanRestore("x; rm -rf /", null, wait: false));
        Assert.Equal("BackupIdInvalid", bad.ErrorId);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void A_target_without_its_name_or_id_says_what_is_missing()
    {
        var service = new AppDatabaseService(NullSink.Instance);
        var fly = Assert.Throws<IncidentOpsException>(() => service.Open(new AppDatabaseTarget { Platform = PlatformKind.Fly }, null, null, TimeSpan.FromSeconds(5)));
        Assert.Equal("DatabaseTargetIncomplete", fly.ErrorId);
        Assert.Contains("-DatabaseApp", fly.Message);
        var systemd = Assert.Throws<IncidentOpsException>(() => service.Open(new AppDatabaseTarget { Platform = PlatformKind.Systemd, DatabaseId = "x" }, null, null, TimeSpan.FromSeconds(5)));
        Assert.Equal("PlatformOperationNotSupported", systemd.ErrorId);
    }

    [Fact]
    public async Task A_hanging_flyctl_is_killed_with_its_children_at_the_timeout()
    {
        var cli = new FakeCli();
        var adapter = new AppDatabaseService(NullSink.Instance).Open(new AppDatabaseTarget { Platform = PlatformKind.Fly, DatabaseApp = "pg1" },
            new ToolPaths { Flyctl = cli.Tool("flyctl", new Reply("postgres backup list", Sleep: true)) }, null, TimeSpan.FromSeconds(1));
        var e = await Assert.ThrowsAsync<IncidentOpsException>(() => adapter.GetBackupsAsync(CancellationToken.None));
        Assert.Equal("PlatformCommandTimedOut", e.ErrorId);
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.pid")));
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.child")));
    }
}
