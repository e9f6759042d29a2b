using System.Text.Json;
using IncidentOps.Platforms;
using IncidentOps.Tests.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Invoke-Rollback plans from the history it reads before the confirmation, which can stay open for minutes. A deploy
/// (or a colleague's rollback) that lands meanwhile made the rollback replace the newer release with the plan's older
/// target. The history is now read again just before the rollback runs; a changed current release stops it with
/// RollbackCurrentChanged, and nothing is changed. The stand-in CLIs change the history right after the first listing.
/// </summary>
public sealed class RollbackCurrentChangedTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static string Json(object o) => JsonSerializer.Serialize(o);

    private static object Release(int v, string image) =>
        new { Version = v, Status = "complete", CreatedAt = $"2026-11-{10 + v}T10:00:00Z", ImageRef = "registry.fly.io/api:" + image, Description = "Release" };

    /// <summary>A flyctl whose first 'releases' answer is <paramref name="before"/>; every later one is <paramref name="after"/> (a deploy landed).</summary>
    private static string FlyWithDeployAfterFirstListing(FakeCli cli, string before, string after)
    {
        File.WriteAllText(Path.Combine(cli.Dir, "releases.json"), before);
        File.WriteAllText(Path.Combine(cli.Dir, "releases-after.json"), after);
        var path = Path.Combine(cli.Dir, "flyctl");
        ExecutableFile.Write(path, "#!/bin/bash\n" +
            $"printf '%s\\n' \"flyctl $*\" >> '{cli.Log}'\n" +
            "case \"$*\" in\n" +
            $"  'releases -a api --json --image'*) cat '{cli.Dir}/releases.json'; cp '{cli.Dir}/releases-after.json' '{cli.Dir}/releases.json';;\n" +
            "  'deploy -a api --image'*) echo deployed;;\n" +
            "  *) echo \"fake flyctl: unexpected arguments: $*\" >&2; exit 97;;\nesac\n");
        return path;
    }

    [Fact]
    public void Fly_a_release_deployed_after_the_plan_is_never_replaced_by_the_rollback()
    {
        var cli = new FakeCli();
        var before = Json(new[] { Release(9, "1.9.0"), Release(8, "1.8.0") });
        var after = Json(new[] { Release(10, "1.10.0"), Release(9, "1.9.0"), Release(8, "1.8.0") });
        var path = FlyWithDeployAfterFirstListing(cli, before, after);

        var r = fx.Run($"Invoke-Rollback -Platform Fly -App api -FlyctlPath '{path}' -Force");

        var e = Assert.Single(r.Errors);
        Assert.StartsWith("RollbackCurrentChanged,", e.FullyQualifiedErrorId);
        Assert.Equal("InvalidOperation", e.CategoryInfo.Category.ToString());
        Assert.Contains("is now v10, not v9", e.Exception.Message);
        Assert.Contains("Nothing was changed", e.Exception.Message);
        Assert.Empty(r.Objects<RollbackResult>());
        Assert.DoesNotContain(cli.Calls, c => c.StartsWith("flyctl deploy", StringComparison.Ordinal));
        Assert.Equal(2, cli.Calls.Count(c => c.StartsWith("flyctl releases", StringComparison.Ordinal)));
    }

    [Fact]
    public void Fly_an_unchanged_history_still_rolls_back_after_reading_it_again()
    {
        var cli = new FakeCli();
        var history = Json(new[] { Release(9, "1.9.0"), Release(8, "1.8.0") });
        var path = FlyWithDeployAfterFirstListing(cli, history, history);
        var result = fx.Run($"Invoke-Rollback -Platform Fly -App api -FlyctlPath '{path}' -Force").AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(("v9", "v8", true), (result.From, result.To, result.Succeeded));
        Assert.Equal("flyctl deploy -a api --image registry.fly.io/api:1.8.0 --yes", cli.Calls.Last());
    }

    /// <summary>
    /// Systemd over ssh: right after the first listing, 'current' moves to <paramref name="newCurrent"/> (r4: a deploy;
    /// r1: a colleague already rolled back to the plan's target). The rollback stops before its swap and restart.
    /// </summary>
    [Theory]
    [InlineData("r4", "is now r4, not r3")]
    [InlineData("r1", "is already r1, the rollback's target")]
    public void Systemd_remote_a_current_release_that_moved_after_the_plan_stops_the_rollback(string newCurrent, string said)
    {
        const string host = "deploy@api-1.example.com";
        var root = Path.Combine(Paths.TempDir("remote-moved"), "releases");
        foreach (var rel in new[] { "r1", "r2", "r3", "r4" }) Directory.CreateDirectory(Path.Combine(root, rel));
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r3"));
        var cli = new FakeCli();
        cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var realSsh = cli.Ssh();
        // The ssh a deploy races: after the first command it runs, 'current' points at the new release.
        var ssh = Path.Combine(cli.Dir, "ssh-racing");
        ExecutableFile.Write(ssh, "#!/bin/bash\n" +
            $"'{realSsh}' \"$@\"; rc=$?\n" +
            $"if [ ! -e '{cli.Dir}/moved' ]; then touch '{cli.Dir}/moved'; ln -sfn '{root}/{newCurrent}' '{root}/current'; fi\n" +
            "exit $rc\n");

        // r2 is not marked failed: the plan goes r3 -> r2 unless r1 is named; name r1 so the "already the target" case is real.
        var r = fx.Run($"Invoke-Rollback -Platform Systemd -Unit fastapi -ComputerName {host} -ReleasesPath '{root}' -SshPath '{ssh}' -ToVersion r1 -Force");

        var e = Assert.Single(r.Errors);
        Assert.StartsWith("RollbackCurrentChanged,", e.FullyQualifiedErrorId);
        Assert.Contains(said, e.Exception.Message);
        Assert.Equal(Path.Combine(root, newCurrent), new FileInfo(Path.Combine(root, "current")).LinkTarget);
        Assert.DoesNotContain(cli.ArgvCalls, c => c.Contains("mv -Tf", StringComparison.Ordinal));
        Assert.DoesNotContain(cli.Calls, c => c.Contains("restart", StringComparison.Ordinal));
    }
}
