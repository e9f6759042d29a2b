using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// The platform cmdlets' input and outcome errors, each driven through the cmdlet in a real runspace against fake
/// CLIs (or a real releases folder), as a user meets them: the stable id and what the message tells them to do.
/// </summary>
public class PlatformErrorIdTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string DoId = "f1e2d3c4-0000-4000-8000-00000000a001";

    private static ErrorRecordView Error(PwshResult r, string id)
    {
        var e = r.Errors.FirstOrDefault(x => x.FullyQualifiedErrorId.StartsWith(id + ",", StringComparison.Ordinal));
        Assert.True(e is not null, $"expected {id}, got: {r.ErrorText}");
        return new ErrorRecordView(e!.FullyQualifiedErrorId, e.ToString());
    }

    private sealed record ErrorRecordView(string FullyQualifiedErrorId, string Message);

    [Fact]
    public void An_app_cmdlet_without_a_service_or_platform_target_is_AppTargetMissing()
    {
        var r = fx.Run("Get-AppStatus");
        var e = Error(r, PlatformErrorIds.AppTargetMissing);
        Assert.Equal("AppTargetMissing,IncidentOps.Commands.GetAppStatusCommand", e.FullyQualifiedErrorId);
        Assert.Contains("No app given. Pass -Service NAME", e.Message);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void SetAppScale_without_Count_or_Size_is_ScaleNothingGiven_and_runs_nothing()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl");
        var r = fx.Run($"Set-AppScale -Platform Fly -App ai-affiliate-empire -FlyctlPath '{path}' -Force");
        var e = Error(r, PlatformErrorIds.ScaleNothingGiven);
        Assert.Contains("Pass -Count, -Size or both.", e.Message);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void GetAppStatus_of_a_unit_systemd_does_not_know_is_AppNotFound()
    {
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("show nosuch --timestamp=unix --no-pager",
            Text: "Id=nosuch.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nResult=success\nNRestarts=0\n"));
        var r = fx.Run($"Get-AppStatus -Platform Systemd -Unit nosuch -SystemctlPath '{path}'");
        var e = Error(r, PlatformErrorIds.AppNotFound);
        Assert.Contains("The unit 'nosuch' does not exist (LoadState=not-found)", e.Message);
        Assert.Empty(r.Objects<AppStatus>());
    }

    [Fact]
    public void GetAppDeployment_of_a_local_unit_without_releases_is_ReleasesPathMissing()
    {
        var r = fx.Run("Get-AppDeployment -Platform Systemd -Unit fastapi");
        var e = Error(r, PlatformErrorIds.ReleasesPathMissing);
        Assert.Contains("No releases directory for unit 'fastapi': set 'releases:' on the service in incidentops.yml or pass -ReleasesPath.", e.Message);
    }

    [Fact]
    public void GetAppDeployment_with_a_releases_directory_that_does_not_exist_is_ReleasesPathMissing()
    {
        var missing = Path.Combine(Paths.TempDir("releases-gone"), "nope");
        var r = fx.Run($"Get-AppDeployment -Platform Systemd -Unit fastapi -ReleasesPath '{missing}'");
        var e = Error(r, PlatformErrorIds.ReleasesPathMissing);
        Assert.Contains($"The releases directory '{missing}' does not exist.", e.Message);
    }

    private static string Releases(params string[] names)
    {
        var root = Paths.TempDir("releases");
        foreach (var n in names) Directory.CreateDirectory(Path.Combine(root, n));
        return root;
    }

    [Fact]
    public void InvokeRollback_ToVersion_that_is_not_a_release_is_RollbackTargetNotFound_and_changes_nothing()
    {
        var root = Releases("r1", "r2");
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r2"));
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var r = fx.Run($"Invoke-Rollback -Platform Systemd -Unit fastapi -ReleasesPath '{root}' -SystemctlPath '{path}' -ToVersion r9 -Force");
        var e = Error(r, PlatformErrorIds.RollbackTargetNotFound);
        Assert.Contains("has no release 'r9'. Known: r2, r1.", e.Message);
        Assert.Equal(Path.Combine(root, "r2"), new FileInfo(Path.Combine(root, "current")).LinkTarget);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void InvokeRollback_with_no_good_older_release_is_RollbackTargetNotFound_and_changes_nothing()
    {
        var root = Releases("r1", "r2");
        File.WriteAllText(Path.Combine(root, "r1", "FAILED"), "health check failed");
        File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "r2"));
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var r = fx.Run($"Invoke-Rollback -Platform Systemd -Unit fastapi -ReleasesPath '{root}' -SystemctlPath '{path}' -Force");
        var e = Error(r, PlatformErrorIds.RollbackTargetNotFound);
        Assert.Contains("has no successful release older than the current one (r2)", e.Message);
        Assert.Contains("Pass -ToVersion", e.Message);
        Assert.Equal(Path.Combine(root, "r2"), new FileInfo(Path.Combine(root, "current")).LinkTarget);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void InvokeRollback_where_current_is_a_real_directory_not_a_symlink_is_RollbackFailed_and_restarts_nothing()
    {
        // A release copied into 'current' (not linked): the atomic rename of the new link over it cannot replace a directory.
        var root = Releases("r1", "r2", "current");
        File.WriteAllText(Path.Combine(root, "current", "app.py"), "print('copied')");
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("restart fastapi", Text: ""));
        var r = fx.Run($"Invoke-Rollback -Platform Systemd -Unit fastapi -ReleasesPath '{root}' -SystemctlPath '{path}' -ToVersion r1 -Force");
        var e = Error(r, PlatformErrorIds.RollbackFailed);
        Assert.Contains($"Could not repoint '{Path.Combine(root, "current")}' to '{Path.Combine(root, "r1")}'", e.Message);
        Assert.Contains("Check permissions on the releases directory.", e.Message);
        Assert.True(Directory.Exists(Path.Combine(root, "current")));
        Assert.Null(new DirectoryInfo(Path.Combine(root, "current")).LinkTarget);
        Assert.Equal(["current", "r1", "r2"], Directory.GetFileSystemEntries(root).Select(p => Path.GetFileName(p)!).Order().ToArray());
        Assert.Empty(cli.Calls);
    }
}
