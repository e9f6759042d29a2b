using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

public class SystemdCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void GetAppStatus_reads_systemctl_show_with_unix_timestamps()
    {
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("show fastapi --timestamp=unix --no-pager", "systemctl-show.txt"));
        var s = fx.Run($"Get-AppStatus -Platform Systemd -Unit fastapi -SystemctlPath '{path}'").AssertNoErrors().Single<AppStatus>();
        Assert.Equal(["systemctl show fastapi --timestamp=unix --no-pager"], cli.Calls);
        Assert.Equal((AppState.Down, "failed (exit-code)"), (s.State, s.Reason));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795424400), s.LastDeployedAt);
        Assert.Equal(5, s.Instances[0].Restarts);
    }

    [Fact]
    public void A_remote_unit_runs_through_ssh_in_batch_mode()
    {
        var cli = new FakeCli();
        var ssh = cli.Tool("ssh", new Reply("-o BatchMode=yes -- deploy@api-1.example.com systemctl show fastapi", "systemctl-show.txt"));
        var s = fx.Run($"Get-AppStatus -Platform Systemd -Unit fastapi -ComputerName deploy@api-1.example.com -SshPath '{ssh}'").AssertNoErrors().Single<AppStatus>();
        Assert.Equal(["ssh -o BatchMode=yes -- deploy@api-1.example.com systemctl show fastapi --timestamp=unix --no-pager"], cli.Calls);
        Assert.Equal("deploy@api-1.example.com", s.ComputerName);
    }

    [Fact]
    public void GetAppLog_handles_journal_strings_nulls_arrays_and_byte_arrays()
    {
        var cli = new FakeCli();
        var path = cli.Tool("journalctl", new Reply("-u fastapi -o json --no-pager -n 100", "journal.jsonl"));
        var logs = fx.Run($"Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath '{path}'").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal(["journalctl -u fastapi -o json --no-pager -n 100"], cli.Calls);
        Assert.Equal(5, logs.Count);
        Assert.Equal(("error", "api-1[4242]"), (logs[1].Level, logs[1].Instance));
        Assert.Contains("over 4 KiB", logs[2].Message);
        Assert.Equal("first value\nsecond value", logs[3].Message);
        Assert.Equal("café bytes", logs[4].Message);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795424455), logs[0].Timestamp);
    }

    private static (string Root, string Current) Releases()
    {
        var root = Paths.TempDir("releases");
        foreach (var r in new[] { "20261120T1000", "20261121T1000", "20261122T1000" }) Directory.CreateDirectory(Path.Combine(root, r));
        File.WriteAllText(Path.Combine(root, "20261121T1000", "FAILED"), "health check failed");
        var current = Path.Combine(root, "current");
        File.CreateSymbolicLink(current, Path.Combine(root, "20261122T1000"));
        return (root, current);
    }

    [Fact]
    public void InvokeRollback_repoints_current_to_the_previous_good_release_and_restarts()
    {
        var (root, current) = Releases();
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var t = $"-Platform Systemd -Unit fastapi -ReleasesPath '{root}' -SystemctlPath '{path}'";
        var list = fx.Run($"Get-AppDeployment {t}").AssertNoErrors().Objects<AppDeployment>().ToList();
        Assert.Equal(["20261122T1000", "20261121T1000", "20261120T1000"], list.Select(d => d.Version));
        Assert.True(list[0].IsCurrent);
        Assert.True(list[2].IsLastGood);

        var w = fx.Run($"Invoke-Rollback {t} -WhatIf").AssertNoErrors();
        Assert.Contains("20261122T1000 -> 20261120T1000", w.HostText);
        Assert.Equal(Path.Combine(root, "20261122T1000"), new FileInfo(current).LinkTarget);
        Assert.Empty(cli.Calls);

        var r = fx.Run($"Invoke-Rollback {t} -Force").AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(("20261122T1000", "20261120T1000", true), (r.From, r.To, r.Succeeded));
        Assert.Equal(Path.Combine(root, "20261120T1000"), new FileInfo(current).LinkTarget);
        Assert.Equal(["systemctl restart fastapi"], cli.Calls);
        Assert.Equal(["20261120T1000", "20261121T1000", "20261122T1000", "current"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName).Order().ToArray());
    }

    [Fact]
    public async Task The_local_swap_refuses_when_current_is_not_the_planned_release()
    {
        // A rollback planned (and confirmed) from 20261122T1000 runs while a deploy has made 20261123T1000 current:
        // the window between the re-read after the confirmation and the swap. Before, the swap ran blind.
        var (root, current) = Releases();
        Directory.CreateDirectory(Path.Combine(root, "20261123T1000"));
        File.Delete(current);
        File.CreateSymbolicLink(current, Path.Combine(root, "20261123T1000"));
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var runner = new IncidentOps.Engine.Platforms.ProcessRunner(IncidentOps.Engine.NullSink.Instance,
            new IncidentOps.Engine.Platforms.ToolResolver(new IncidentOps.Config.ToolPaths([KeyValuePair.Create("systemctl", (string?)path)]), null));
        var target = new AppTarget { Platform = IncidentOps.Config.PlatformKind.Systemd, Options = new Dictionary<string, string> { ["Unit"] = "fastapi", ["ReleasesPath"] = root } };
        var adapter = new IncidentOps.Engine.Platforms.SystemdAdapter(target, runner, TimeSpan.FromSeconds(30), IncidentOps.Engine.NullSink.Instance);
        var prepared = adapter.PlanRollback(new AppDeployment { Platform = IncidentOps.Config.PlatformKind.Systemd, Name = "fastapi", Version = "20261122T1000", IsCurrent = true },
            new AppDeployment { Platform = IncidentOps.Config.PlatformKind.Systemd, Name = "fastapi", Version = "20261120T1000" });

        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => prepared.Execute(CancellationToken.None));

        Assert.Equal("RollbackCurrentChanged", ex.ErrorId);
        Assert.Contains("is now 20261123T1000, not 20261122T1000", ex.Message);
        Assert.Equal(Path.Combine(root, "20261123T1000"), new FileInfo(current).LinkTarget);
        Assert.Empty(cli.Calls);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(root), f => Path.GetFileName(f).StartsWith("current.tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void A_rollback_whose_restart_fails_is_RollbackFailed_saying_current_was_already_swapped()
    {
        // Before, the failed restart surfaced as a bare PlatformCommandFailed of systemctl, as if nothing had changed,
        // while 'current' already pointed at the older release.
        var (root, current) = Releases();
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("restart fastapi", Exit: 1, Stderr: "Job for fastapi.service failed because the control process exited with error code."));
        var r = fx.Run($"Invoke-Rollback -Platform Systemd -Unit fastapi -ReleasesPath '{root}' -SystemctlPath '{path}' -Force");

        var e = Assert.Single(r.Errors);
        Assert.Equal("RollbackFailed,IncidentOps.Commands.InvokeRollbackCommand", e.FullyQualifiedErrorId);
        Assert.Contains("to 20261120T1000 was applied ('current' now points at 20261120T1000), but restarting fastapi failed, so it is half done", e.ToString());
        Assert.Contains("Job for fastapi.service failed", e.ToString());
        Assert.Contains("Invoke-Rollback -ToVersion 20261122T1000", e.ToString());
        Assert.Empty(r.Objects<RollbackResult>());
        Assert.Equal(Path.Combine(root, "20261120T1000"), new FileInfo(current).LinkTarget);
    }

    [Fact]
    public void SetAppScale_is_not_supported_on_systemd()
    {
        var e = Assert.Single(fx.Run("Set-AppScale -Platform Systemd -Unit fastapi -Count 2 -Force").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.SetAppScaleCommand", e.FullyQualifiedErrorId);
        Assert.Contains("not supported", e.ToString());
    }

    [Fact]
    public void RestartApp_runs_systemctl_restart_and_WhatIf_runs_nothing()
    {
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var w = fx.Run($"Restart-App -Platform Systemd -Unit fastapi -SystemctlPath '{path}' -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        Assert.Contains("systemctl restart fastapi", w.HostText);
        fx.Run($"Restart-App -Platform Systemd -Unit fastapi -SystemctlPath '{path}' -Force").AssertNoErrors();
        Assert.Equal(["systemctl restart fastapi"], cli.Calls);
    }
}

public class SystemdVerifyHealthTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void InvokeRollback_VerifyHealth_polls_the_unit_until_it_is_healthy()
    {
        var root = Paths.TempDir("releases");
        Directory.CreateDirectory(Path.Combine(root, "r1"));
        Directory.CreateDirectory(Path.Combine(root, "r2"));
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r2"));
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new FakeCli.Reply("restart fastapi", Text: ""),
            new FakeCli.Reply("show fastapi --timestamp=unix", Text: "ActiveState=active\nSubState=running\nMainPID=4242\nNRestarts=0\nActiveEnterTimestamp=@1795424400\n"));
        var r = fx.Run($"Invoke-Rollback -Platform Systemd -Unit fastapi -ReleasesPath '{root}' -SystemctlPath '{path}' -VerifyHealth -Force").AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(("r2", "r1", true, true), (r.From, r.To, r.HealthyAfter, r.Succeeded));
        Assert.Equal(["systemctl restart fastapi", "systemctl show fastapi --timestamp=unix --no-pager"], cli.Calls);
        Assert.Equal("verified: healthy (platform status)", r.Steps[^1]);
    }
}
