using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Engine.Tunnels;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// A name checked by a pattern is the whole value: '$' also matched before a final newline, so "bastion\n" or
/// "deploy\n" passed as an ssh host or user and reached the CLI. Every name rule now ends at the end of the text.
/// </summary>
public sealed class TrailingNewlineNameTests
{
    private static readonly TunnelSpec Ssh = new(TunnelKind.Ssh, "bastion", null, null, null, "db", 5432, null, null, null, null);

    public static TheoryData<TunnelSpec> Specs() =>
    [
        Ssh with { Target = "bastion\n" },
        Ssh with { User = "deploy\n" },
        Ssh with { RemoteHost = "db\n" },
        Ssh with { Identity = "/home/me/.ssh/id\n" },
        new TunnelSpec(TunnelKind.Kubectl, "svc/postgres\n", "db", null, null, "db", 5432, null, null, null, null),
        new TunnelSpec(TunnelKind.Kubectl, "svc/postgres", "db", "production\n", null, "db", 5432, null, null, null, null),
        new TunnelSpec(TunnelKind.Fly, "ai-affiliate-empire-db\n", null, null, null, "", 5432, null, null, null, null),
    ];

    [Theory]
    [MemberData(nameof(Specs))]
    public void A_tunnel_name_with_a_trailing_newline_is_AppTargetInvalidName(TunnelSpec spec)
    {
        var ex = Assert.Throws<IncidentOpsException>(() => TunnelCommand.Arguments(spec, 1234));
        Assert.Equal("AppTargetInvalidName", ex.ErrorId);
        Assert.Contains("Nothing was run.", ex.Message);
    }

    [Fact]
    public void The_same_tunnels_without_the_newline_pass()
    {
        Assert.Contains("bastion", TunnelCommand.Arguments(Ssh with { User = "deploy", Identity = "/home/me/.ssh/id" }, 1234));
    }

    [Theory]
    [InlineData("web\n")]
    [InlineData("web\r\n")]
    public void TargetNames_refuse_a_trailing_newline_for_every_kind(string value)
    {
        foreach (var kind in new[] { TargetNames.KubernetesName, TargetNames.KubernetesNamespace, TargetNames.KubeContext, TargetNames.DoctlContext, TargetNames.FlyApp,
                     TargetNames.DigitalOceanId, TargetNames.SystemdUnit, TargetNames.SshHost, TargetNames.Token })
            Assert.NotNull(TargetNames.Error("-Name", value, kind));
    }
}
