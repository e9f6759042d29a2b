using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// Release directories on a remote host through ssh -o BatchMode=yes. The fake ssh records the exact argv and runs
/// the remote command with sh -c on a local folder, so the quoting is proven by a real shell, not by string compares alone.
/// </summary>
public class SystemdRemoteTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Host = "deploy@api-1.example.com";
    private const string Hostile1 = "x$(touch PWNED)";
    private const string Hostile2 = "y'; touch PWNED; '";

    private static (FakeCli Cli, string Root, string Target) Setup()
    {
        // A space in the root proves the root is quoted too.
        var root = Path.Combine(Paths.TempDir("remote"), "my releases");
        foreach (var r in new[] { "r1", "r2", "r3", Hostile1, Hostile2 }) Directory.CreateDirectory(Path.Combine(root, r));
        File.WriteAllText(Path.Combine(root, "r1", "REVISION"), "abc123\n");
        File.WriteAllText(Path.Combine(root, "r2", "FAILED"), "health check failed");
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r3"));
        var cli = new FakeCli();
        cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var ssh = cli.Ssh();
        return (cli, root, $"-Platform Systemd -Unit fastapi -ComputerName {Host} -ReleasesPath '{root}' -SshPath '{ssh}'");
    }

    private static string ListScript(string root) =>
        $$"""cd -- '{{root}}' || exit 66; for d in */; do d="${d%/}"; [ -d "$d" ] && [ ! -L "$d" ] || continue; f=0; { [ -e "$d/FAILED" ] || [ -e "$d/.failed" ]; } && f=1; t=$(stat -c %Y -- "$d" 2>/dev/null || echo 0); r=$(head -n 1 -- "$d/REVISION" 2>/dev/null | tr -d '\t\r'); printf 'R\t%s\t%s\t%s\t%s\n' "$d" "$f" "$t" "$r"; done; printf 'C\t%s\n' "$(readlink -- current)" """.TrimEnd();

    private static string SwapScript(string root, string from, string to) =>
        $$"""check() { c=$(readlink -- '{{root}}/current'); c=${c%/}; c=${c##*/}; [ "$c" = {{from}} ] && return 0; rm -f -- '{{root}}/.current.tmp'; printf 'CURRENT\t%s\n' "$c"; exit 75; }; check; ln -sfn -- '{{root}}/{{to}}' '{{root}}/.current.tmp' || exit 1; check; mv -Tf -- '{{root}}/.current.tmp' '{{root}}/current'""";

    private static void AssertNothingInjected(FakeCli cli, string root)
    {
        Assert.False(File.Exists(Path.Combine(root, "PWNED")), "a release name ran a command in the listing");
        Assert.False(File.Exists(Path.Combine(cli.Dir, "PWNED")), "a release name ran a command in the swap");
    }

    [Fact]
    public void GetAppDeployment_lists_remote_releases_with_one_ssh_command()
    {
        var (cli, root, t) = Setup();
        var list = fx.Run($"Get-AppDeployment {t}").AssertNoErrors().Objects<AppDeployment>().ToList();
        Assert.Equal([$"<-o><BatchMode=yes><--><{Host}><{ListScript(root)}>"], cli.ArgvCalls);
        Assert.Equal([Hostile2, Hostile1, "r3", "r2", "r1"], list.Select(d => d.Version));
        var current = Assert.Single(list, d => d.IsCurrent);
        Assert.Equal("r3", current.Version);
        Assert.Equal(("failed", false), (list[3].Status, list[3].Succeeded));
        Assert.Equal(("abc123", true), (list[4].Image, list[4].IsLastGood));
        Assert.Equal(root + "/r1", list[4].Cause);
        Assert.NotNull(list[4].CreatedAt);
        AssertNothingInjected(cli, root);
    }

    [Fact]
    public void InvokeRollback_swaps_the_remote_symlink_atomically_then_restarts_and_WhatIf_changes_nothing()
    {
        var (cli, root, t) = Setup();
        var swap = SwapScript(root, "r3", "r1");

        var w = fx.Run($"Invoke-Rollback {t} -WhatIf").AssertNoErrors();
        Assert.Contains("r3 -> r1", w.HostText);
        Assert.Contains("mv -Tf", w.HostText);
        Assert.Equal([$"<-o><BatchMode=yes><--><{Host}><{ListScript(root)}>"], cli.ArgvCalls);
        Assert.Equal(Path.Combine(root, "r3"), new FileInfo(Path.Combine(root, "current")).LinkTarget);

        var r = fx.Run($"Invoke-Rollback {t} -Force").AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(("r3", "r1", true), (r.From, r.To, r.Succeeded));
        Assert.Equal(
        [
            $"<-o><BatchMode=yes><--><{Host}><{ListScript(root)}>",
            $"<-o><BatchMode=yes><--><{Host}><{ListScript(root)}>",
            $"<-o><BatchMode=yes><--><{Host}><{ListScript(root)}>", // read again after the confirmation: still r3
            $"<-o><BatchMode=yes><--><{Host}><{swap}>",
            $"<-o><BatchMode=yes><--><{Host}><systemctl restart fastapi>",
        ], cli.ArgvCalls);
        Assert.Equal(root + "/r1", new FileInfo(Path.Combine(root, "current")).LinkTarget);
        Assert.False(File.Exists(Path.Combine(root, ".current.tmp")) || new FileInfo(Path.Combine(root, ".current.tmp")).LinkTarget is not null);
        Assert.Contains("systemctl restart fastapi", cli.Calls[^1]);
        AssertNothingInjected(cli, root);
    }

    [Fact]
    public void InvokeRollback_swaps_nothing_when_a_deploy_lands_on_the_host_between_the_last_read_and_the_swap()
    {
        // The stand-in ssh repoints 'current' to a new release r4 just before the swap script runs: another deploy landing
        // in the ssh round trip after the cmdlet's last read (which still saw r3). The swap must check on the host itself.
        var root = Path.Combine(Paths.TempDir("remote-cas"), "my releases");
        foreach (var v in new[] { "r1", "r2", "r3" }) Directory.CreateDirectory(Path.Combine(root, v));
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r3"));
        var cli = new FakeCli();
        cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var ssh = cli.Ssh(beforeSwap: $"mkdir -p '{root}/r4' && ln -sfn '{root}/r4' '{root}/.deploy' && mv -Tf '{root}/.deploy' '{root}/current'");

        var r = fx.Run($"Invoke-Rollback -Platform Systemd -Unit fastapi -ComputerName {Host} -ReleasesPath '{root}' -SshPath '{ssh}' -ToVersion r1 -Force");

        var e = Assert.Single(r.Errors);
        Assert.Equal("RollbackCurrentChanged,IncidentOps.Commands.InvokeRollbackCommand", e.FullyQualifiedErrorId);
        Assert.Contains("is now r4, not r3", e.ToString());
        Assert.Contains("Nothing was changed", e.ToString());
        Assert.Empty(r.Objects<RollbackResult>());
        // The newer release stays; nothing was restarted; no temporary link is left behind.
        Assert.Equal(root + "/r4", new FileInfo(Path.Combine(root, "current")).LinkTarget);
        Assert.DoesNotContain(cli.ArgvCalls, c => c.Contains("systemctl restart", StringComparison.Ordinal));
        Assert.Equal($"<-o><BatchMode=yes><--><{Host}><{SwapScript(root, "r3", "r1")}>", cli.ArgvCalls[^1]);
        Assert.Null(new FileInfo(Path.Combine(root, ".current.tmp")).LinkTarget);
    }

    [Fact]
    public async Task The_remote_swap_refuses_when_current_is_not_the_planned_release_and_exits_75()
    {
        // Engine level: a rollback planned from r3 runs while the host's 'current' is r4 (the window between the
        // re-read after the confirmation and the swap). Before, the swap ran blind and r4 was replaced by r1.
        var root = Path.Combine(Paths.TempDir("remote-cas-engine"), "rel");
        foreach (var v in new[] { "r1", "r3", "r4" }) Directory.CreateDirectory(Path.Combine(root, v));
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r4"));
        var cli = new FakeCli();
        cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var ssh = cli.Ssh();
        var runner = new IncidentOps.Engine.Platforms.ProcessRunner(IncidentOps.Engine.NullSink.Instance,
            new IncidentOps.Engine.Platforms.ToolResolver(new IncidentOps.Config.ToolPaths([KeyValuePair.Create("ssh", (string?)ssh)]), null));
        var target = new AppTarget { Platform = IncidentOps.Config.PlatformKind.Systemd, Options = new Dictionary<string, string> { ["Unit"] = "fastapi", ["ComputerName"] = Host, ["ReleasesPath"] = root } };
        var adapter = new IncidentOps.Engine.Platforms.SystemdAdapter(target, runner, TimeSpan.FromSeconds(30), IncidentOps.Engine.NullSink.Instance);
        var prepared = adapter.PlanRollback(new AppDeployment { Platform = IncidentOps.Config.PlatformKind.Systemd, Name = "fastapi", Version = "r3", IsCurrent = true },
            new AppDeployment { Platform = IncidentOps.Config.PlatformKind.Systemd, Name = "fastapi", Version = "r1" });

        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => prepared.Execute(CancellationToken.None));

        Assert.Equal("RollbackCurrentChanged", ex.ErrorId);
        Assert.Equal(root + "/r4", new FileInfo(Path.Combine(root, "current")).LinkTarget);
        Assert.Single(cli.ArgvCalls);
    }

    [Theory]
    [InlineData(Hostile1)]
    [InlineData(Hostile2)]
    public void A_hostile_release_name_is_only_ever_data(string name)
    {
        var (cli, root, t) = Setup();
        var r = fx.Run($"Invoke-Rollback {t} -ToVersion \"{name.Replace("$", "`$").Replace("\"", "`\"")}\" -Force").AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(name, r.To);
        Assert.Equal(root + "/" + name, new FileInfo(Path.Combine(root, "current")).LinkTarget);
        AssertNothingInjected(cli, root);
    }

    [Fact]
    public void GetAppStatus_reads_the_remote_current_release()
    {
        var (cli, root, t) = Setup();
        cli.Tool("systemctl", new Reply("show fastapi --timestamp=unix --no-pager", "systemctl-show.txt"));
        var s = fx.Run($"Get-AppStatus {t}").AssertNoErrors().Single<AppStatus>();
        Assert.Equal(
        [
            $"<-o><BatchMode=yes><--><{Host}><systemctl show fastapi --timestamp=unix --no-pager>",
            $"<-o><BatchMode=yes><--><{Host}><readlink -- '{root}/current' || true>",
        ], cli.ArgvCalls);
        Assert.Equal(("r3", Host), (s.Version, s.ComputerName));
    }

    [Fact]
    public void A_relative_remote_releases_path_is_refused()
    {
        var cli = new FakeCli();
        var ssh = cli.Ssh();
        var e = Assert.Single(fx.Run($"Get-AppDeployment -Platform Systemd -Unit fastapi -ComputerName {Host} -ReleasesPath releases -SshPath '{ssh}'").Errors);
        Assert.Equal("ReleasesPathInvalid,IncidentOps.Commands.GetAppDeploymentCommand", e.FullyQualifiedErrorId);
        Assert.Empty(cli.Calls);
    }
}
