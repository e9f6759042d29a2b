using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Tests.Platforms;
using Xunit;

namespace IncidentOps.Tests.Config;

/// <summary>
/// One rule for env:NAME, in incidentops.yml and in parameters: an unset variable is an error that names it. The
/// parameter path used to pass "env:NAME" on as if it were the value (a literal app id reached doctl).
/// </summary>
public sealed class EnvReferenceTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Unset = "INCIDENTOPS_TEST_SURELY_UNSET_VARIABLE";

    [Fact]
    public void An_unset_variable_throws_ConfigReferenceUnresolved_naming_the_parameter_and_the_variable()
    {
        var ex = Assert.Throws<IncidentOpsException>(() => EnvReference.Resolve($"env:{Unset}", "-AppId"));
        Assert.Equal("ConfigReferenceUnresolved", ex.ErrorId);
        Assert.Contains($"-AppId 'env:{Unset}'", ex.Message);
        Assert.Contains($"the environment variable {Unset} is not set", ex.Message);
    }

    [Fact]
    public void A_set_variable_gives_its_value_and_anything_else_passes_as_it_is()
    {
        var name = $"INCIDENTOPS_TEST_ENV_{Guid.NewGuid():N}";
        System.Environment.SetEnvironmentVariable(name, "f1e2d3c4");
        try { Assert.Equal("f1e2d3c4", EnvReference.Resolve($"env:{name}", "-AppId")); }
        finally { System.Environment.SetEnvironmentVariable(name, null); }
        Assert.Equal("my-app", EnvReference.Resolve("my-app", "-AppId"));
        Assert.Null(EnvReference.Resolve(null, "-AppId"));
    }

    [Fact]
    public void The_config_resolver_and_the_parameter_resolver_give_the_same_reason()
    {
        var resolver = new ReferenceResolver(new NoSecrets());
        var ex = Assert.ThrowsAsync<IncidentOpsException>(() => resolver.ResolveAsync(new ConfigValue($"env:{Unset}", isSecret: false, location: null), CancellationToken.None)).Result;
        Assert.Equal("ConfigReferenceUnresolved", ex.ErrorId);
        Assert.Contains(EnvReference.NotSet(Unset), ex.Message);
    }

    [Fact]
    public void An_unset_env_AppId_stops_the_cmdlet_before_the_cli_runs()
    {
        var cli = new FakeCli();
        var doctl = cli.Tool("doctl");
        var r = fx.Run($"Get-AppStatus -Platform DigitalOcean -AppId env:{Unset} -DoctlPath '{doctl}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ConfigReferenceUnresolved,IncidentOps.Commands.GetAppStatusCommand", e.FullyQualifiedErrorId);
        Assert.Contains(Unset, e.ToString());
        Assert.Empty(cli.Calls);
    }

    private sealed class NoSecrets : ISecretProvider
    {
        public Task<string?> GetSecretAsync(string name, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
    }
}
