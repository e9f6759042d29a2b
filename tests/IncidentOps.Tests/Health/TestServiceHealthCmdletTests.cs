using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

public sealed class TestServiceHealthCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly HealthTestServer _http = new();

    public void Dispose() => _http.Dispose();

    private string Config(string services)
    {
        var dir = Paths.TempDir();
        var file = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(file, $"version: 1\nstore: {{ path: '{dir}' }}\nenvironments:\n  production:\n    services:\n{services}");
        return file;
    }

    [Fact]
    public void Reasons_are_short_and_the_exception_text_goes_to_Error_and_Verbose()
    {
        var port = TestServers.FreePort();
        var https = _http.Url("/ok").Replace("http://", "https://", StringComparison.Ordinal);
        var r = fx.Run($"Test-ServiceHealth 'http://127.0.0.1:{port}/health', '{https}' -TimeoutSec 5 -Verbose").AssertNoErrors();
        var results = r.Objects<HealthResult>().ToDictionary(x => x.Uri);
        var refused = results[$"http://127.0.0.1:{port}/health"];
        var noTls = results[https];
        Assert.Equal("connection refused", refused.Reason);
        Assert.Equal("no TLS (try http://)", noTls.Reason);
        // What the Target column shows is not repeated in the Reason.
        Assert.All(results.Values, x => Assert.DoesNotContain("127.0.0.1", x.Reason));
        foreach (var x in results.Values)
        {
            Assert.False(string.IsNullOrEmpty(x.Error));
            Assert.Contains($"{x.Uri}: {x.Reason}; {x.Error}", r.Verbose);
        }
    }

    [Fact]
    public void GetIncidentOpsService_piped_into_TestServiceHealth_probes_each_configured_endpoint()
    {
        var cfg = Config(
            $"      api:\n        platform: fly\n        app: api\n        health:\n          - {_http.Url("/json")}\n          - {{ url: '{_http.Url("/health/services")}', conditions: ['[BODY].services.redis.status == up'] }}\n" +
            $"      web:\n        platform: fly\n        app: web\n        health:\n          - {{ url: '{_http.Url("/503")}', expectStatus: [503] }}\n");
        var r = fx.Run($"Get-IncidentOpsService -Path '{cfg}' | Test-ServiceHealth").AssertNoErrors();
        var results = r.Objects<HealthResult>().OrderBy(x => x.Uri).ToList();
        Assert.Equal(3, results.Count);
        var services = results.Single(x => x.Uri.EndsWith("/health/services"));
        Assert.Equal("production/api", services.Service);
        Assert.False(services.Healthy);
        Assert.Equal(HealthFailureKind.ConditionFailed, services.FailureKind);
        Assert.Contains(services.Components, c => c.Name == "redis" && !c.Healthy);
        Assert.True(results.Single(x => x.Uri.EndsWith("/json")).Healthy);
        var web = results.Single(x => x.Uri.EndsWith("/503"));
        Assert.Equal("production/web", web.Service);
        Assert.True(web.Healthy, web.Reason);
    }

    [Fact]
    public void Service_names_resolve_through_the_configuration_and_unknown_ones_are_ServiceNotFound()
    {
        var cfg = Config($"      api:\n        platform: fly\n        app: api\n        health: [{_http.Url("/ok")}]\n");
        var r = fx.Run($"Test-ServiceHealth -Service api, nope -ConfigPath '{cfg}'");
        Assert.True(Assert.Single(r.Objects<HealthResult>()).Healthy);
        Assert.Equal("ServiceNotFound,IncidentOps.Commands.TestServiceHealthCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Uris_come_positionally_and_from_the_pipeline_and_unhealthy_is_a_result_not_an_error()
    {
        var refused = $"http://127.0.0.1:{TestServers.FreePort()}/health";
        var r = fx.Run($"'{_http.Url("/ok")}', '{refused}' | Test-ServiceHealth; Test-ServiceHealth '{_http.Url("/503")}'").AssertNoErrors();
        var results = r.Objects<HealthResult>().ToList();
        Assert.Equal(3, results.Count);
        Assert.Equal(HealthFailureKind.ConnectionRefused, results.Single(x => x.Uri == refused).FailureKind);
        Assert.Equal(HealthFailureKind.UnexpectedStatus, results.Single(x => x.StatusCode == 503).FailureKind);
    }

    [Fact]
    public void An_invalid_uri_is_HealthUriInvalid_and_the_others_are_still_probed()
    {
        var r = fx.Run($"Test-ServiceHealth 'not-a-uri', '{_http.Url("/ok")}'");
        Assert.Single(r.Objects<HealthResult>());
        var e = Assert.Single(r.Errors);
        Assert.Equal("HealthUriInvalid,IncidentOps.Commands.TestServiceHealthCommand", e.FullyQualifiedErrorId);
        Assert.Contains("not-a-uri", e.ToString());
    }

    [Fact]
    public void A_bad_condition_stops_the_cmdlet_with_HealthConditionInvalid()
    {
        var r = fx.Run($"Test-ServiceHealth '{_http.Url("/ok")}' -Condition '[STATUS] === 200'");
        Assert.Empty(r.Objects<HealthResult>());
        Assert.Equal("HealthConditionInvalid,IncidentOps.Commands.TestServiceHealthCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Request_options_checks_and_repetition_work_through_the_module()
    {
        var r = fx.Run($"Test-ServiceHealth '{_http.Url("/echo")}' -Method PUT -Header @{{ 'X-Test' = 'hdr' }} -Body 'payload' -ExpectStatus 200 -Condition '[BODY] == \"PUT hdr payload\"', '[RESPONSE_TIME] < 60000' -Count 3 -IntervalMs 10").AssertNoErrors();
        var result = r.Single<HealthResult>();
        Assert.True(result.Healthy, result.Reason);
        Assert.Equal(3, result.Samples);
        Assert.Equal(1.0, result.SuccessRatio);
        Assert.True(result.MaxMs >= result.MinMs);

        var noFollow = fx.Run($"Test-ServiceHealth '{_http.Url("/redirect/2")}' -NoFollowRedirect").AssertNoErrors().Single<HealthResult>();
        Assert.Equal(302, noFollow.StatusCode);
        var follow = fx.Run($"Test-ServiceHealth '{_http.Url("/redirect/2")}'").AssertNoErrors().Single<HealthResult>();
        Assert.Equal(2, follow.RedirectCount);
    }

    [Fact]
    public void TimeoutSec_holds_against_a_port_that_never_answers()
    {
        using var silent = new SilentServer();
        var result = fx.Run($"Test-ServiceHealth 'http://127.0.0.1:{silent.Port}/' -TimeoutSec 0.5").AssertNoErrors().Single<HealthResult>();
        Assert.Equal(HealthFailureKind.Timeout, result.FailureKind);
        Assert.Contains("Timed out after 0.5s", result.Reason);
    }

    [Fact]
    public void SkipCertificateCheck_probes_a_self_signed_endpoint_and_reports_its_certificate()
    {
        using var cert = TestCertificates.ShortLivedLeaf(3);
        using var tls = new HealthTestServer(cert);
        var strict = fx.Run($"Test-ServiceHealth '{tls.Url("/ok")}'").AssertNoErrors().Single<HealthResult>();
        Assert.Equal(HealthFailureKind.TlsFailure, strict.FailureKind);
        var skipped = fx.Run($"Test-ServiceHealth '{tls.Url("/ok")}' -SkipCertificateCheck -Condition '[CERTIFICATE_EXPIRATION] > 48h'").AssertNoErrors().Single<HealthResult>();
        Assert.True(skipped.Healthy, skipped.Reason);
        Assert.InRange(skipped.Certificate!.DaysRemaining, 2.9, 3);
    }

    [Fact]
    public void Quiet_returns_one_boolean_for_all_targets()
    {
        Assert.True((bool)fx.Run($"Test-ServiceHealth '{_http.Url("/ok")}', '{_http.Url("/json")}' -Quiet").AssertNoErrors().Output.Single().BaseObject);
        Assert.False((bool)fx.Run($"Test-ServiceHealth '{_http.Url("/ok")}', '{_http.Url("/503")}' -Quiet").AssertNoErrors().Output.Single().BaseObject);
    }

    [Fact]
    public void Fan_out_returns_every_result_with_a_throttle()
    {
        var uris = string.Join(", ", Enumerable.Range(0, 30).Select(_ => $"'{_http.Url("/slow?ms=50")}'"));
        var r = fx.Run($"@(Test-ServiceHealth {uris} -ThrottleLimit 10 | Where-Object Healthy).Count").AssertNoErrors();
        Assert.Equal(30, (int)r.Output.Single().BaseObject);
    }

    [Fact]
    public void Ctrl_C_stops_all_probes_at_once()
    {
        using var silent = new SilentServer();
        using var session = new PwshSession();
        var uris = string.Join(", ", Enumerable.Range(0, 5).Select(_ => $"'http://127.0.0.1:{silent.Port}/'"));
        var (_, result) = session.RunAndStopWhen($"Test-ServiceHealth {uris} -TimeoutSec 300", () => silent.Connections >= 5);
        Assert.True(result.Stopped);
        Assert.Empty(result.Objects<HealthResult>());
    }

    [Fact]
    public void Header_secrets_never_reach_any_stream()
    {
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        var r = fx.Run($"Test-ServiceHealth '{_http.Url("/ok")}' -Header @{{ Authorization = 'Bearer {canary}' }} -Verbose | ForEach-Object {{ $_; $_.ToString() }}").AssertNoErrors();
        Assert.DoesNotContain(canary, r.AllText());
    }

    [Fact]
    public void Every_failure_reason_is_an_unhealthy_result_with_its_kind_and_a_reason_in_words()
    {
        using var silent = new SilentServer();
        using var cert = TestCertificates.ShortLivedLeaf(3);
        using var tls = new HealthTestServer(cert);
        var targets = new Dictionary<string, HealthFailureKind>
        {
            [$"http://127.0.0.1:{silent.Port}/health"] = HealthFailureKind.Timeout,
            [$"http://127.0.0.1:{TestServers.FreePort()}/health"] = HealthFailureKind.ConnectionRefused,
            ["http://no-such-host.invalid/health"] = HealthFailureKind.DnsFailure,
            [tls.Url("/ok")] = HealthFailureKind.TlsFailure,
            [_http.Url("/503")] = HealthFailureKind.UnexpectedStatus,
            [_http.Url("/health/services")] = HealthFailureKind.ConditionFailed,
        };
        var list = string.Join(", ", targets.Keys.Select(u => $"'{u}'"));
        // -TimeoutSec only has to outlast the answers (and ends the silent port's wait): 5 s leaves a loaded machine room for
        // the TLS handshake and the replies, which a shorter one would turn into Timeout results.
        var r = fx.Run($"Test-ServiceHealth {list} -TimeoutSec 5 -Condition '[BODY].status == ok'").AssertNoErrors();
        var results = r.Objects<HealthResult>().ToDictionary(x => x.Uri);
        Assert.Equal(targets.Count, results.Count);
        foreach (var (uri, kind) in targets)
        {
            var result = results[uri];
            Assert.False(result.Healthy, uri);
            Assert.Equal(kind, result.FailureKind);
            Assert.False(string.IsNullOrWhiteSpace(result.Reason), uri);
            Assert.Equal([result.Reason!], result.Failures);
        }
        Assert.Contains("Timed out after 5s", results.Single(x => x.Value.FailureKind == HealthFailureKind.Timeout).Value.Reason);
        Assert.Equal("connection refused", results.Single(x => x.Value.FailureKind == HealthFailureKind.ConnectionRefused).Value.Reason);
        Assert.Equal("DNS: host not found", results["http://no-such-host.invalid/health"].Reason);
        Assert.StartsWith("certificate rejected: ", results[tls.Url("/ok")].Reason);
        Assert.Contains("Status 503", results[_http.Url("/503")].Reason);
        Assert.Contains("[BODY].status == ok (actual: degraded)", results[_http.Url("/health/services")].Reason);

        Assert.False((bool)fx.Run($"Test-ServiceHealth '{_http.Url("/ok")}', 'http://127.0.0.1:{TestServers.FreePort()}/' -Quiet").AssertNoErrors().Output.Single().BaseObject);
    }

    [Fact]
    public void Results_are_written_as_each_probe_completes_not_in_input_order()
    {
        var r = fx.Run($"Test-ServiceHealth '{_http.Url("/slow?ms=1500")}', '{_http.Url("/ok")}' -ThrottleLimit 2 | ForEach-Object {{ $_.Uri }}").AssertNoErrors();
        Assert.Equal([_http.Url("/ok"), _http.Url("/slow?ms=1500")], r.Output.Select(o => o.BaseObject.ToString()));
    }

    [Fact]
    public void The_certificate_chain_reports_the_leaf_and_the_earliest_expiry_in_the_chain_separately()
    {
        var (leaf, intermediate, root) = TestCertificates.ChainWithEarlyIntermediate();
        using (leaf) using (intermediate) using (root)
        using (var tls = new HealthTestServer(leaf, [intermediate]))
        {
            var r = fx.Run($"Test-ServiceHealth '{tls.Url("/json")}' -SkipCertificateCheck -Condition '[CERTIFICATE_EXPIRATION] > 24h'").AssertNoErrors().Single<HealthResult>();
            Assert.True(r.Healthy, r.Reason);
            Assert.InRange(r.Certificate!.DaysRemaining, 59.5, 60);
            Assert.InRange(r.Certificate.ChainDaysRemaining, 1.5, 2);
            Assert.Equal("CN=IncidentOps Test Intermediate", r.Certificate.ChainExpiresFirst);
            Assert.True(r.TlsMs > 0);
        }
    }

    [Fact]
    public void Count_reports_success_ratio_latency_spread_and_each_failure_through_the_module()
    {
        var r = fx.Run($"Test-ServiceHealth '{_http.Url("/flaky?fail=2")}' -Count 4 -IntervalMs 0").AssertNoErrors().Single<HealthResult>();
        Assert.False(r.Healthy);
        Assert.Equal((4, 2, 0.5), (r.Samples, r.Successes, r.SuccessRatio));
        Assert.Equal(HealthFailureKind.UnexpectedStatus, r.FailureKind);
        Assert.Contains("2 of 4 probes failed", r.Reason);
        Assert.Equal(2, r.Failures.Count);
        Assert.All(r.Failures, f => Assert.Contains("Status 503", f));
        Assert.True(r.MinMs <= r.P50Ms && r.P50Ms <= r.P95Ms && r.P95Ms <= r.MaxMs);
        Assert.Equal(4, _http.Requests);
    }

    [Fact]
    public void Environment_alone_probes_every_service_of_that_environment()
    {
        var cfg = Config($"      api:\n        platform: fly\n        app: api\n        health: [{_http.Url("/ok")}]\n      web:\n        platform: fly\n        app: web\n        health: [{_http.Url("/json")}]\n");
        var r = fx.Run($"Test-ServiceHealth -Environment production -ConfigPath '{cfg}'").AssertNoErrors();
        Assert.Equal(["production/api", "production/web"], r.Objects<HealthResult>().Select(x => x.Service!).Order());
        Assert.All(r.Objects<HealthResult>(), x => Assert.True(x.Healthy, x.Reason));
    }
}
