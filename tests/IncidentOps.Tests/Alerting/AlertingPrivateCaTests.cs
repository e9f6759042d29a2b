using IncidentOps.Alerting;
using IncidentOps.Health;
using IncidentOps.Tests.Health;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// Invoke-ServiceAlert against a health endpoint whose certificate a private CA signed. Test-ServiceHealth and
/// Watch-ServiceHealth took -CaCertificate; Invoke-ServiceAlert had no such parameter, so a scheduled round could trust the CA
/// only through caCertificate: in incidentops.yml, and `Invoke-ServiceAlert -CaCertificate ca.pem` failed to bind. Now it has
/// the same parameter (alias -CaCert, HealthCaCertificateInvalid for a file that holds no certificate, overriding the
/// configured caCertificate), and Watch-ServiceHealth -Alert passes its -CaCertificate on to the rounds it alerts on. Real TLS
/// on loopback: a certificate for 127.0.0.1 signed by a CA made in the test.
/// </summary>
public sealed class AlertingPrivateCaTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly PrivateCa _ca = new("CN=IncidentOps Alerting Test CA");
    private readonly PrivateCa _other = new("CN=Some Other CA");
    private readonly string _dir = Paths.TempDir("io-alert-ca");
    private HealthTestServer? _server;

    private HealthTestServer Server => _server ??= new HealthTestServer(_ca.Issue("127.0.0.1"));

    /// <summary>
    /// A configuration with production/api on the private-CA endpoint (<paramref name="endpoint"/>); <paramref name="caCertificate"/>
    /// is its health entry's caCertificate, <paramref name="more"/> more top-level YAML.
    /// </summary>
    private string Config(string? caCertificate = null, string endpoint = "/ok", string more = "")
    {
        var path = Path.Combine(_dir, "incidentops.yml");
        var ca = caCertificate is null ? "" : $", caCertificate: '{caCertificate}'";
        File.WriteAllText(path, $"""
            version: 1
            store: {"{"} path: '{Path.Combine(_dir, "store")}' {"}"}
            environments:
              production:
                services:
                  api:
                    health:
                      - {"{"} url: '{Server.Url(endpoint)}'{ca} {"}"}

            """ + more);
        return path;
    }

    [Fact]
    public void Without_the_CA_the_round_sees_the_endpoint_fail_its_certificate_check()
    {
        var d = fx.Run($"Invoke-ServiceAlert -ConfigPath '{Config()}' -Service production/api -TimeoutSec 5").AssertNoErrors().Single<AlertDecision>();
        Assert.False(d.Healthy);
        Assert.Contains("certificate rejected", d.Observed);
        Assert.Equal(1, d.ConsecutiveFailures);
    }

    [Theory]
    [InlineData("-CaCertificate")]
    [InlineData("-CaCert")]
    public void With_CaCertificate_the_round_trusts_the_private_CA_and_counts_the_service_healthy(string parameter)
    {
        var d = fx.Run($"Invoke-ServiceAlert -ConfigPath '{Config()}' -Service production/api {parameter} '{_ca.PemPath}' -TimeoutSec 5").AssertNoErrors().Single<AlertDecision>();
        Assert.True(d.Healthy, d.Observed);
        Assert.Equal(0, d.ConsecutiveFailures);
        // Piped service targets are probed with it too.
        var piped = fx.Run($"Get-IncidentOpsService production/api -ConfigPath '{Config()}' | Invoke-ServiceAlert -ConfigPath '{Config()}' {parameter} '{_ca.PemPath}' -TimeoutSec 5")
            .AssertNoErrors().Single<AlertDecision>();
        Assert.True(piped.Healthy, piped.Observed);
    }

    [Fact]
    public void CaCertificate_overrides_the_configured_caCertificate_and_a_wrong_CA_is_refused_and_named()
    {
        // The configuration names the wrong CA: -CaCertificate wins, as in Test-ServiceHealth.
        var config = Config(_other.PemPath);
        var configured = fx.Run($"Invoke-ServiceAlert -ConfigPath '{config}' -Service production/api -TimeoutSec 5").AssertNoErrors().Single<AlertDecision>();
        Assert.False(configured.Healthy);
        var overridden = fx.Run($"Invoke-ServiceAlert -ConfigPath '{config}' -Service production/api -CaCertificate '{_ca.PemPath}' -TimeoutSec 5").AssertNoErrors().Single<AlertDecision>();
        Assert.True(overridden.Healthy, overridden.Observed);
        var wrong = fx.Run($"Invoke-ServiceAlert -ConfigPath '{Config(_ca.PemPath)}' -Service production/api -CaCertificate '{_other.PemPath}' -TimeoutSec 5").AssertNoErrors().Single<AlertDecision>();
        Assert.False(wrong.Healthy);
        Assert.Contains($"not signed by the CA of -CaCertificate {_other.PemPath}", wrong.Observed);
    }

    [Fact]
    public void A_CaCertificate_file_that_holds_no_certificate_stops_the_round_before_any_probe()
    {
        var notes = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(notes, "not a certificate");
        var config = Config();
        var before = Server.Requests;
        var r = fx.Run($"Invoke-ServiceAlert -ConfigPath '{config}' -Service production/api -CaCertificate '{notes}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("HealthCaCertificateInvalid,IncidentOps.Commands.InvokeServiceAlertCommand", e.FullyQualifiedErrorId);
        Assert.Contains(notes, e.ToString());
        Assert.Empty(r.Output);
        Assert.Equal(before, Server.Requests);
        Assert.False(Directory.Exists(Path.Combine(_dir, "store", "alerting")), "the round saved alerting state");
    }

    [Fact]
    public void CaCertificate_is_not_offered_with_piped_health_results_whose_probes_have_run()
    {
        var r = fx.Run($"Test-ServiceHealth -Service production/api -ConfigPath '{Config()}' -CaCertificate '{_ca.PemPath}' | Invoke-ServiceAlert -ConfigPath '{Config()}' -CaCertificate '{_ca.PemPath}'");
        Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("InputObjectNotBound,", StringComparison.Ordinal)
            || e.FullyQualifiedErrorId.StartsWith("AmbiguousParameterSet,", StringComparison.Ordinal));
    }

    [Fact]
    public void Watch_ServiceHealth_Alert_passes_its_CaCertificate_to_the_alerting_rounds()
    {
        var r = fx.Run($"Watch-ServiceHealth -Service production/api -ConfigPath '{Config()}' -Alert -CaCertificate '{_ca.PemPath}' -UntilHealthy -Duration 10s -Interval 1s -TimeoutSec 5")
            .AssertNoErrors();
        var decisions = r.Objects<AlertDecision>().ToList();
        Assert.NotEmpty(decisions);
        Assert.All(decisions, d => Assert.True(d.Healthy, d.Observed));
        Assert.All(r.Objects<HealthResult>(), x => Assert.True(x.Healthy, x.Reason));
    }

    [Fact]
    public void The_evidence_of_a_round_with_CaCertificate_shows_the_endpoint_s_own_failure_not_a_rejected_certificate()
    {
        // A private-CA service that answers 503: the round trusts the CA through -CaCertificate, declares on the first failure,
        // and its health evidence must say 503 (what the round saw), not "certificate rejected" from a probe without the CA.
        var path = Config(endpoint: "/503", more: """
            alerting:
              failureThreshold: 1
              evidence: [health]
            """);
        var d = fx.Run($"Invoke-ServiceAlert -ConfigPath '{path}' -Service production/api -CaCertificate '{_ca.PemPath}' -TimeoutSec 5 -Confirm:$false").AssertNoErrors().Single<AlertDecision>();
        Assert.Equal(AlertAction.Declared, d.Action);
        var evidence = Directory.GetFiles(Path.Combine(_dir, "store", "incidents", d.IncidentId!, "evidence"), "*-health-*.json").Single();
        var text = File.ReadAllText(evidence);
        Assert.Contains("\"statusCode\": 503", text);
        Assert.DoesNotContain("certificate", text, StringComparison.OrdinalIgnoreCase);
    }

    public void Dispose()
    {
        _server?.Dispose();
        _ca.Dispose();
        _other.Dispose();
        Paths.DeleteTree(_dir);
    }
}
