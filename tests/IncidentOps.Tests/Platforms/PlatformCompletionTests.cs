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

    [Fact]
    public void A_platform_that_is_not_one_is_refused_with_PlatformInvalid()
    {
        var r = fx.Run("Get-AppStatus -Platform Heroku -App x");
        Assert.Equal("PlatformInvalid,IncidentOps.Commands.GetAppStatusCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }
}
