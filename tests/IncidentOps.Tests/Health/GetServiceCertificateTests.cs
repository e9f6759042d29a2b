using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

public sealed class GetServiceCertificateTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void The_chain_is_reported_with_the_intermediate_expiring_first_and_the_hostname_match()
    {
        var (leaf, intermediate, root) = TestCertificates.ChainWithEarlyIntermediate();
        using (leaf) using (intermediate) using (root)
        using (var tls = new HealthTestServer(leaf, [intermediate]))
        {
            var c = fx.Run($"Get-ServiceCertificate 127.0.0.1:{tls.Port} -ServerName localhost").AssertNoErrors().Single<CertificateFacts>();
            Assert.Equal("CN=localhost", c.Subject);
            Assert.Equal("CN=IncidentOps Test Intermediate", c.Issuer);
            Assert.Equal(("localhost", tls.Port), (c.Host, c.Port!.Value));
            Assert.True(c.HostnameMatches);
            Assert.InRange(c.DaysRemaining, 59.5, 60);
            Assert.InRange(c.ChainDaysRemaining, 1.5, 2);
            Assert.Equal("CN=IncidentOps Test Intermediate", c.ChainExpiresFirst);
            Assert.Contains(c.ValidationErrors, e => e.StartsWith("RemoteCertificateChainErrors"));
            Assert.False(string.IsNullOrEmpty(c.Protocol));

            var wrong = fx.Run($"Get-ServiceCertificate 'https://127.0.0.1:{tls.Port}/health' -ServerName other.test").AssertNoErrors().Single<CertificateFacts>();
            Assert.False(wrong.HostnameMatches);
            Assert.Contains(wrong.ValidationErrors, e => e.StartsWith("RemoteCertificateNameMismatch"));
        }
    }

    [Fact]
    public void A_refused_port_is_CertificateFetchFailed_and_a_bad_target_is_CertificateTargetInvalid()
    {
        var refused = fx.Run($"Get-ServiceCertificate 127.0.0.1:{TestServers.FreePort()} -TimeoutSec 5");
        Assert.Equal("CertificateFetchFailed,IncidentOps.Commands.GetServiceCertificateCommand", Assert.Single(refused.Errors).FullyQualifiedErrorId);
        Assert.Contains("refused", refused.Errors[0].ToString());
        // More time does not help a port nothing listens at: the fix says what does.
        Assert.Contains("Check the port (", refused.Errors[0].ToString());
        Assert.DoesNotContain("-TimeoutSec", refused.Errors[0].ToString());
        var bad = fx.Run("Get-ServiceCertificate 'host:notaport'");
        Assert.Equal("CertificateTargetInvalid,IncidentOps.Commands.GetServiceCertificateCommand", Assert.Single(bad.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void A_silent_port_is_CertificateFetchFailed_within_TimeoutSec()
    {
        using var silent = new SilentServer();
        var r = fx.Run($"Get-ServiceCertificate 127.0.0.1:{silent.Port} -TimeoutSec 0.5");
        var e = Assert.Single(r.Errors);
        Assert.Equal("CertificateFetchFailed,IncidentOps.Commands.GetServiceCertificateCommand", e.FullyQualifiedErrorId);
        Assert.Contains("within 0.5s", e.ToString());
        Assert.Contains("raise -TimeoutSec", e.ToString());
    }
}
