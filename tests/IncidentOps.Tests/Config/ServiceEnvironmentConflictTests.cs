using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Tests.Actions;
using Xunit;

namespace IncidentOps.Tests.Config;

/// <summary>
/// -Service production/api names its environment, and -Environment staging names another: the two disagree about the
/// server. The environment inside the service name used to win without a word, so a command typed for staging acted on
/// production. Now the disagreement is an error and nothing runs.
/// </summary>
public class ServiceEnvironmentConflictTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static string Yaml(string baseUrl) => $$"""
        environments:
          production:
            services:
              api:
                baseUrl: {{baseUrl}}/production
                actions:
                  emergency-stop: { url: /api/workflows/emergency-stop }
          staging:
            services:
              api:
                baseUrl: {{baseUrl}}/staging
                actions:
                  emergency-stop: { url: /api/workflows/emergency-stop }
        """;

    [Fact]
    public void A_service_named_with_one_environment_and_given_another_resolves_to_neither()
    {
        var config = ConfigParser.Parse(Yaml("http://127.0.0.1:9"), "/cfg/incidentops.yml").Config!;
        var ex = Assert.Throws<IncidentOpsException>(() => ConfigService.ResolveService(config, "staging", "production/api"));
        Assert.Equal(ConfigErrorIds.ServiceEnvironmentConflict, ex.ErrorId);
        Assert.Contains("production/api", ex.Message);
        Assert.Contains("-Environment staging", ex.Message);
        Assert.Throws<IncidentOpsException>(() => ConfigService.FindServices(config, "staging", "production/*"));
        // The same environment twice (in any case) is no conflict; nor is either alone.
        Assert.Equal("production/api", ConfigService.ResolveService(config, "Production", "production/api").FullName);
        Assert.Equal("staging/api", ConfigService.ResolveService(config, "staging", "api").FullName);
        Assert.Equal("production/api", ConfigService.ResolveService(config, null, "production/api").FullName);
    }

    [Fact]
    public void InvokeServiceAction_with_a_service_of_production_and_Environment_staging_acts_on_neither()
    {
        using var stub = new ActionHttpStub();
        var dir = Paths.TempDir("io-envconflict");
        try
        {
            var config = Path.Combine(dir, "incidentops.yml");
            File.WriteAllText(config, Yaml(stub.BaseUrl) + $"\nstore: {{ path: '{Path.Combine(dir, "store")}' }}\n");
            var r = fx.Run($"Invoke-ServiceAction -ConfigPath '{config}' -Service production/api -Environment staging -Name emergency-stop -Force");
            var error = Assert.Single(r.Errors);
            Assert.Equal("ServiceEnvironmentConflict,IncidentOps.Commands.InvokeServiceActionCommand", error.FullyQualifiedErrorId);
            Assert.Empty(stub.Requests);
            Assert.Empty(r.Output);

            // Get-IncidentOpsService, which pipes targets into every other command, says the same.
            r = fx.Run($"Get-IncidentOpsService -Path '{config}' -Environment staging -Name production/api");
            Assert.Equal("ServiceEnvironmentConflict,IncidentOps.Commands.GetIncidentOpsServiceCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
            Assert.Empty(r.Output);
        }
        finally { Paths.DeleteTree(dir); }
    }
}
