using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>Tab completion of -Platform and Invoke-Rollback -ToVersion through TabExpansion2, as a user presses Tab.</summary>
public class PlatformCompletionTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private string[] Complete(string line) =>
        fx.Run($"(TabExpansion2 -inputScript '{line.Replace("'", "''")}' -cursorColumn {line.Length}).CompletionMatches.CompletionText")
            .AssertNoErrors().Output.Select(o => o.ToString()).ToArray();

    [Theory]
    [InlineData("Get-AppStatus", new[] { "Fly", "DigitalOcean", "Kubernetes", "Systemd" })]
    [InlineData("Invoke-Rollback", new[] { "Fly", "DigitalOcean", "Kubernetes", "Systemd" })]
    [InlineData("Get-AppDatabaseBackup", new[] { "Fly", "DigitalOcean", "Aws" })]
    public void Platform_completion_offers_real_platforms_and_never_None(string command, string[] expected) =>
        Assert.Equal(expected, Complete($"{command} -Platform "));

    [Fact]
    public void ToVersion_completes_from_the_deployment_history_without_the_current_release()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("releases -a ai-affiliate-empire --json --image", "fly-releases.json"));
        Assert.Equal(["v11", "v14", "v12"], Complete($"Invoke-Rollback -Platform Fly -App ai-affiliate-empire -FlyctlPath {path} -ToVersion "));
    }

    [Fact]
    public void ToVersion_completes_a_StatefulSets_earlier_ControllerRevisions()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl",
            new Reply("-n akaind-platform get statefulset postgres -o json", "k8s-statefulset.json"),
            new Reply("-n akaind-platform get controllerrevisions -l app=postgres -o json", "k8s-controllerrevisions.json"));
        Assert.Equal(["1"], Complete($"Invoke-Rollback -Platform Kubernetes -Namespace akaind-platform -StatefulSet postgres -KubectlPath {path} -ToVersion "));
        Assert.Equal(["kubectl -n akaind-platform get statefulset postgres -o json", "kubectl -n akaind-platform get controllerrevisions -l app=postgres -o json"], cli.Calls);
    }

    [Theory]
    [InlineData("Get-AppLog -Since ", new[] { "10m", "30m", "1h", "6h", "1d", "7d" })]
    [InlineData("Get-AppLog -Since 1", new[] { "1m", "1h", "1d" })]
    [InlineData("Get-AppLog -Since 45", new[] { "45m", "45h", "45d" })]
    [InlineData("Get-AppLog -Since 6", new[] { "6m", "6h", "6d" })]
    [InlineData("Get-AppLog -Since 3", new[] { "3m", "3h", "3d" })]
    [InlineData("Get-AppLog -Since 1d", new[] { "1d" })]
    [InlineData("Get-AppEvent -Since ", new[] { "10m", "30m", "1h", "6h", "1d", "7d" })]
    [InlineData("Get-AppLog -Tail ", new[] { "100", "200", "500", "1000", "50" })]
    [InlineData("Get-AppLog -Tail 5", new[] { "500", "50" })]
    [InlineData("Get-AppDeployment -First ", new[] { "5", "10", "20" })]
    [InlineData("Restart-App -TimeoutSec ", new[] { "30", "60", "120", "300", "600" })]
    [InlineData("Set-AppScale -Count ", new[] { "1", "2", "3", "5", "10" })]
    [InlineData("Get-AppLog -Pattern ", new[] { "error", "exception", "timeout", "'OOM|killed'", "refused" })]
    public void Non_path_parameters_complete_sensible_values_not_file_names(string line, string[] expected) =>
        Assert.Equal(expected, Complete(line));

    [Fact]
    public void Since_completion_offers_what_binds_to_that_duration()
    {
        foreach (var text in Complete("Get-AppLog -Since "))
            Assert.True(fx.Run($"(Get-Command Get-AppLog).Parameters['Since'].Attributes.Where({{ $_ -is [System.Management.Automation.ArgumentTransformationAttribute] }})[0].Transform($ExecutionContext, '{text}')").AssertNoErrors().Output.Single().BaseObject is TimeSpan { Ticks: > 0 }, text);
    }

    [Fact]
    public void App_identity_parameters_complete_from_the_configured_services()
    {
        var dir = Paths.TempDir("io-appcomplete");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, """
            environments:
              production:
                services:
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                  marketing:
                    platform: kubernetes
                    context: production
                    namespace: akaind-platform
                    deployment: marketing
                  worker:
                    platform: systemd
                    unit: fastapi
                    host: deploy@10.0.0.5
              staging:
                services:
                  api:
                    platform: fly
                    app: ai-affiliate-staging
            """);
        Assert.Equal(["ai-affiliate-empire", "ai-affiliate-staging"], Complete($"Get-AppLog -ConfigPath {config} -App "));
        Assert.Equal(["ai-affiliate-staging"], Complete($"Get-AppLog -ConfigPath {config} -Environment staging -App "));
        Assert.Equal(["akaind-platform"], Complete($"Get-AppStatus -ConfigPath {config} -Namespace "));
        Assert.Equal(["production"], Complete($"Restart-App -ConfigPath {config} -Context "));
        Assert.Equal(["marketing"], Complete($"Invoke-Rollback -ConfigPath {config} -Deployment m"));
        Assert.Equal(["'deploy@10.0.0.5'"], Complete($"Get-AppLog -ConfigPath {config} -ComputerName "));
        Assert.Equal(["fastapi"], Complete($"Get-AppLog -ConfigPath {config} -Unit "));
    }

    [Fact]
    public void A_platform_that_is_not_one_is_refused_with_PlatformInvalid()
    {
        var r = fx.Run("Get-AppStatus -Platform Heroku -App x");
        Assert.Equal("PlatformInvalid,IncidentOps.Commands.GetAppStatusCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }
}
