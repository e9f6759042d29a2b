using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>How the platform cmdlets handle a change the platform refuses while it is being planned: one ErrorRecord, nothing run.</summary>
public class PlatformLayerTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void RestartApp_Pod_on_DigitalOcean_is_refused_with_an_error_record_and_restarts_nothing()
    {
        // Before: -Pod was ignored and the whole app was redeployed (doctl apps create-deployment --force-rebuild).
        var cli = new FakeCli();
        var doctl = cli.Tool("doctl", new Reply("apps create-deployment", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Restart-App -Platform DigitalOcean -AppId f1e2d3c4-0000-4000-8000-00000000a001 -Pod web-1 -DoctlPath '{doctl}' -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.RestartAppCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-Pod", e.ToString());
        Assert.Empty(r.Output);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void RestartApp_Pod_on_systemd_is_refused_and_the_next_target_still_runs()
    {
        var cli = new FakeCli();
        var systemctl = cli.Tool("systemctl", new Reply("restart", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Restart-App -Platform Systemd -Unit fastapi -Pod 1234 -SystemctlPath '{systemctl}' -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.RestartAppCommand", e.FullyQualifiedErrorId);
        Assert.Contains("systemd unit 'fastapi'", e.ToString());
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void A_database_platform_on_an_App_cmdlet_and_an_unknown_platform_say_which_platforms_exist()
    {
        var e = Assert.Single(fx.Run("Get-AppStatus -Platform Aws -App orders").Errors);
        Assert.Equal("AppTargetIncomplete,IncidentOps.Commands.GetAppStatusCommand", e.FullyQualifiedErrorId);
        Assert.Contains("Get-AppDatabase -Platform Aws", e.ToString());
        var u = Assert.Single(fx.Run("Get-AppDatabase -Platform Heroku -DatabaseId x").Errors);
        Assert.Equal("PlatformInvalid,IncidentOps.Commands.GetAppDatabaseCommand", u.FullyQualifiedErrorId);
        Assert.Contains("Fly, DigitalOcean or Aws (AppDatabase cmdlets)", u.ToString());
    }
}
