using System.Collections;
using System.Net;
using System.Net.Sockets;
using IncidentOps.Engine;
using IncidentOps.Engine.Health;
using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

public sealed class HealthServiceTests : IDisposable
{
    private readonly HealthTestServer _http = new();
    private readonly CollectingSink _sink = new();
    private HealthService Service => new(_sink);

    public void Dispose() => _http.Dispose();

    private Task<HealthResult> Probe(string uri, Func<ProbeRequest, ProbeRequest>? tweak = null, params string[] conditions)
    {
        var request = new ProbeRequest { Uri = new Uri(uri), Conditions = HealthService.ParseConditions(conditions), Timeout = TimeSpan.FromSeconds(10) };
        return Service.ProbeAsync(tweak?.Invoke(request) ?? request, CancellationToken.None);
    }

    [Fact]
    public async Task A_2xx_endpoint_is_healthy_with_phase_timings_and_remote_address()
    {
        var r = await Probe(_http.Url("/ok"));
        Assert.True(r.Healthy, r.Reason);
        Assert.Equal(200, r.StatusCode);
        Assert.Equal(HealthFailureKind.None, r.FailureKind);
        Assert.Equal($"127.0.0.1:{_http.Port}", r.RemoteAddress);
        Assert.Equal("1.1", r.HttpVersion);
        Assert.Equal(0, r.DnsMs);
        Assert.True(r.ConnectMs > 0);
        Assert.Equal(0, r.TlsMs);
        Assert.True(r.TimeToFirstByteMs > 0);
        Assert.True(r.TotalMs >= r.ConnectMs + r.TimeToFirstByteMs);
        Assert.Null(r.Certificate);
    }

    [Fact]
    public async Task A_503_is_an_unhealthy_result_with_UnexpectedStatus()
    {
        var r = await Probe(_http.Url("/503"));
        Assert.False(r.Healthy);
        Assert.Equal(503, r.StatusCode);
        Assert.Equal(HealthFailureKind.UnexpectedStatus, r.FailureKind);
        Assert.Contains("expected 2xx", r.Reason);
    }

    [Fact]
    public async Task ExpectStatus_replaces_the_2xx_default()
    {
        var r = await Probe(_http.Url("/503"), q => new ProbeRequest { Uri = q.Uri, ExpectStatus = [503] });
        Assert.True(r.Healthy, r.Reason);
    }

    [Fact]
    public async Task Redirect_chains_are_followed_counted_and_timed_across_hops()
    {
        var r = await Probe(_http.Url("/redirect/3"));
        Assert.True(r.Healthy, r.Reason);
        Assert.Equal(3, r.RedirectCount);
        Assert.EndsWith("/json", r.FinalUri);
        // Connection: close on every hop, so four connections were timed and summed.
        Assert.Equal(4, _http.Requests);
        Assert.True(r.ConnectMs > 0);
    }

    [Fact]
    public async Task Phase_timings_are_summed_over_every_hop_of_a_redirect_chain()
    {
        // Two hops that each answer after 150 ms, then /json at once: the time to first byte covers both waits. Each hop's
        // wait lies inside the probe's time-to-first-byte window of that hop (the request is sent after the connect, the
        // server waits after reading it), and the server waits at least 150 ms on the probe's own clock (HoldAtLeast), so
        // the bound holds however loaded the machine is. Connect and first-byte windows never overlap and lie within the total.
        var r = await Probe(_http.Url("/hop/2?ms=150"));
        Assert.True(r.Healthy, r.Reason);
        Assert.Equal(2, r.RedirectCount);
        Assert.Equal(3, _http.Requests);
        Assert.True(r.TimeToFirstByteMs >= 300, $"TTFB {r.TimeToFirstByteMs} ms is not the sum over both delayed hops");
        Assert.True(r.TotalMs >= r.TimeToFirstByteMs + r.ConnectMs, $"total {r.TotalMs} ms < TTFB {r.TimeToFirstByteMs} ms + connect {r.ConnectMs} ms");
    }

    [Fact]
    public async Task NoFollowRedirect_reports_the_302_itself()
    {
        var r = await Probe(_http.Url("/redirect/3"), q => new ProbeRequest { Uri = q.Uri, FollowRedirects = false });
        Assert.False(r.Healthy);
        Assert.Equal(302, r.StatusCode);
        Assert.Equal(0, r.RedirectCount);
    }

    [Fact]
    public async Task Json_bodies_are_parsed_and_seed_000_component_statuses_surface()
    {
        var r = await Probe(_http.Url("/health/services"));
        Assert.True(r.Healthy, r.Reason);
        var body = Assert.IsType<Hashtable>(r.Body);
        Assert.Equal("degraded", body["status"]);
        Assert.Equal([("database", "up", true), ("redis", "down", false), ("queue", "ok", true)], r.Components.Select(c => (c.Name, c.Status, c.Healthy)));
    }

    [Fact]
    public async Task Conditions_on_status_body_time_and_header_are_evaluated()
    {
        var ok = await Probe(_http.Url("/json"), null, "[STATUS] == 200", "[BODY].status == ok", "[BODY].checks[0].name == db", "[RESPONSE_TIME] < 60000", "[HEADER].Content-Type == pat(*json*)", "len([BODY].checks) == 1", "[CONNECTED] == true");
        Assert.True(ok.Healthy, ok.Reason);
        Assert.All(ok.Conditions, c => Assert.True(c.Success, c.ToString()));

        var bad = await Probe(_http.Url("/json"), null, "[BODY].status == healthy", "[BODY].version == any(1.2.3, 2.0.0)");
        Assert.False(bad.Healthy);
        Assert.Equal(HealthFailureKind.ConditionFailed, bad.FailureKind);
        Assert.Contains("[BODY].status == healthy (actual: ok)", bad.Reason);
        Assert.True(bad.Conditions[1].Success);
    }

    [Fact]
    public void A_condition_that_does_not_parse_is_HealthConditionInvalid()
    {
        var ex = Assert.Throws<IncidentOpsException>(() => HealthService.ParseConditions(["[STAUTS] == 200"]));
        Assert.Equal("HealthConditionInvalid", ex.ErrorId);
        Assert.Contains("[STAUTS] == 200", ex.Message);
    }

    [Fact]
    public async Task A_port_that_never_answers_times_out_within_TimeoutSec()
    {
        using var silent = new SilentServer();
        // 2 s, not less: the connect must be seen complete (the phase the message names) before the timeout, and on a loaded
        // machine the continuation after a loopback connect can wait for a thread.
        var r = await Probe($"http://127.0.0.1:{silent.Port}/health", q => new ProbeRequest { Uri = q.Uri, Timeout = TimeSpan.FromSeconds(2) });
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.Timeout, r.FailureKind);
        Assert.Contains("Timed out after 2s waiting for the response headers", r.Reason);
        Assert.True(r.ConnectMs > 0);
    }

    [Fact]
    public async Task A_slow_endpoint_past_the_timeout_is_a_Timeout_and_within_it_is_healthy()
    {
        var slow = await Probe(_http.Url("/slow?ms=3000"), q => new ProbeRequest { Uri = q.Uri, Timeout = TimeSpan.FromMilliseconds(500) });
        Assert.Equal(HealthFailureKind.Timeout, slow.FailureKind);
        var fine = await Probe(_http.Url("/slow?ms=100"));
        Assert.True(fine.Healthy, fine.Reason);
        Assert.True(fine.TimeToFirstByteMs >= 90);
    }

    [Fact]
    public async Task A_refused_port_is_ConnectionRefused()
    {
        var port = TestServers.FreePort();
        var r = await Probe($"http://127.0.0.1:{port}/health");
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.ConnectionRefused, r.FailureKind);
        // The Target names host:port already: the reason says only what happened, and the exception's text stays in Error.
        Assert.Equal("connection refused", r.Reason);
        Assert.False(string.IsNullOrEmpty(r.Error));
    }

    [Fact]
    public async Task Https_to_a_plain_HTTP_server_says_no_TLS_and_keeps_the_exception_text_in_Error()
    {
        var r = await Probe(_http.Url("/ok").Replace("http://", "https://", StringComparison.Ordinal));
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.TlsFailure, r.FailureKind);
        Assert.Equal("no TLS (try http://)", r.Reason);
        Assert.False(string.IsNullOrEmpty(r.Error));
    }

    [Fact]
    public async Task Plain_HTTP_to_a_TLS_port_says_no_HTTP_reply_and_suggests_TLS()
    {
        using var cert = TestCertificates.ShortLivedLeaf(3);
        using var tls = new HealthTestServer(cert);
        var r = await Probe(tls.Url("/ok").Replace("https://", "http://", StringComparison.Ordinal));
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.ProtocolError, r.FailureKind);
        Assert.Matches(@"^no HTTP reply: (reset|closed) \(TLS\?\)$", r.Reason);
        Assert.False(string.IsNullOrEmpty(r.Error));
    }

    [Fact]
    public async Task A_server_of_another_protocol_is_not_an_HTTP_server()
    {
        // A TCP server on loopback that greets like SMTP, not HTTP.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var c = await listener.AcceptTcpClientAsync();
            var s = c.GetStream();
            await s.WriteAsync("220 mail.test ESMTP ready\r\n"u8.ToArray());
            var buffer = new byte[1024];
            try { _ = await s.ReadAsync(buffer); await Task.Delay(500); } catch (IOException) { }
        });
        var r = await Probe($"http://127.0.0.1:{port}/health");
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.ProtocolError, r.FailureKind);
        Assert.Equal("not an HTTP server", r.Reason);
        Assert.False(string.IsNullOrEmpty(r.Error));
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_unresolvable_host_is_DnsFailure()
    {
        var r = await Probe("http://no-such-host.invalid/health");
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.DnsFailure, r.FailureKind);
        Assert.Equal("DNS: host not found", r.Reason);
    }

    [Fact]
    public async Task Method_headers_and_body_are_sent()
    {
        var r = await Probe(_http.Url("/echo"), q => new ProbeRequest
        {
            Uri = q.Uri, Method = "post", Body = """{"a":1}""",
            Headers = new Dictionary<string, string> { ["X-Test"] = "canary-header" },
        });
        Assert.Equal("""POST canary-header {"a":1}""", r.BodyText);
    }

    [Fact]
    public async Task Count_aggregates_success_ratio_latency_spread_and_every_failure()
    {
        var r = await Probe(_http.Url("/503"), q => new ProbeRequest { Uri = q.Uri, Count = 3, Interval = TimeSpan.FromMilliseconds(10) });
        Assert.Equal(3, r.Samples);
        Assert.Equal(0, r.Successes);
        Assert.Equal(0, r.SuccessRatio);
        Assert.Equal(3, r.Failures.Count);
        Assert.True(r.MinMs <= r.P50Ms && r.P50Ms <= r.P95Ms && r.P95Ms <= r.MaxMs);

        var good = await Probe(_http.Url("/ok"), q => new ProbeRequest { Uri = q.Uri, Count = 4, Interval = TimeSpan.Zero });
        Assert.True(good.Healthy);
        Assert.Equal(1.0, good.SuccessRatio);
    }

    [Fact]
    public void Percentiles_use_nearest_rank()
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(5, HealthService.Percentile(sorted, 0.5));
        Assert.Equal(10, HealthService.Percentile(sorted, 0.95));
    }

    [Fact]
    public async Task A_leaf_expiring_in_3_days_reports_its_days_and_fails_a_48h_plus_condition()
    {
        using var cert = TestCertificates.ShortLivedLeaf(3);
        using var tls = new HealthTestServer(cert);
        var r = await Probe(tls.Url("/ok"), q => new ProbeRequest { Uri = q.Uri, SkipCertificateCheck = true, Conditions = q.Conditions }, "[CERTIFICATE_EXPIRATION] > 96h");
        Assert.Equal(200, r.StatusCode);
        Assert.NotNull(r.Certificate);
        Assert.Equal("CN=short.test", r.Certificate!.Subject);
        Assert.InRange(r.Certificate.DaysRemaining, 2.9, 3.0);
        Assert.Contains("DNS:short.test", r.Certificate.SubjectAlternativeNames);
        Assert.Contains("IP:127.0.0.1", r.Certificate.SubjectAlternativeNames);
        Assert.True(r.TlsMs > 0);
        Assert.NotEmpty(r.Certificate.ValidationErrors);
        Assert.Equal(HealthFailureKind.ConditionFailed, r.FailureKind);

        var ok = await Probe(tls.Url("/ok"), q => new ProbeRequest { Uri = q.Uri, SkipCertificateCheck = true, Conditions = q.Conditions }, "[CERTIFICATE_EXPIRATION] > 48h");
        Assert.True(ok.Healthy, ok.Reason);
    }

    [Fact]
    public async Task An_intermediate_that_expires_before_the_leaf_is_reported_separately()
    {
        var (leaf, intermediate, root) = TestCertificates.ChainWithEarlyIntermediate();
        using (leaf) using (intermediate) using (root)
        using (var tls = new HealthTestServer(leaf, [intermediate]))
        {
            var r = await Probe(tls.Url("/json"), q => new ProbeRequest { Uri = q.Uri, SkipCertificateCheck = true });
            Assert.True(r.Healthy, r.Reason);
            var c = r.Certificate!;
            Assert.InRange(c.DaysRemaining, 59.5, 60);
            Assert.InRange(c.ChainDaysRemaining, 1.5, 2);
            Assert.Equal("CN=IncidentOps Test Intermediate", c.ChainExpiresFirst);
            Assert.Contains(c.Chain, x => x.Subject == "CN=IncidentOps Test Intermediate");
        }
    }

    [Fact]
    public async Task An_untrusted_certificate_without_SkipCertificateCheck_is_TlsFailure()
    {
        using var cert = TestCertificates.ShortLivedLeaf(3);
        using var tls = new HealthTestServer(cert);
        var r = await Probe(tls.Url("/ok"));
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.TlsFailure, r.FailureKind);
        Assert.StartsWith("certificate rejected: ", r.Reason);
        Assert.EndsWith("-SkipCertificateCheck probes anyway", r.Reason);
        Assert.DoesNotContain("127.0.0.1", r.Reason);
        Assert.Contains(r.Certificate!.ValidationErrors, e => e.StartsWith("RemoteCertificateChainErrors", StringComparison.Ordinal));
        Assert.Null(r.StatusCode);
    }

    [Fact]
    public async Task Speaking_TLS_to_a_plain_HTTP_port_is_TlsFailure()
    {
        var r = await Probe($"https://127.0.0.1:{_http.Port}/ok", q => new ProbeRequest { Uri = q.Uri, SkipCertificateCheck = true, Timeout = TimeSpan.FromSeconds(5) });
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.TlsFailure, r.FailureKind);
    }

    [Fact]
    public async Task Fan_out_streams_each_result_and_respects_the_throttle()
    {
        var requests = Enumerable.Range(0, 20).Select(i => new ProbeRequest { Uri = new Uri(_http.Url("/slow?ms=100")) }).ToList();
        var results = new List<HealthResult>();
        await Service.ProbeManyAsync(requests, 5, r => { lock (results) results.Add(r); }, CancellationToken.None);
        Assert.Equal(20, results.Count);
        Assert.All(results, r => Assert.True(r.Healthy, r.Reason));
        Assert.InRange(_http.SlowMaxInFlight, 1, 5);
        Assert.Contains(_sink.ProgressReports, p => p.Completed);
    }

    [Fact]
    public async Task Concurrent_probes_of_one_host_share_a_lookup_and_later_probes_resolve_afresh()
    {
        var service = Service;
        var calls = 0;
        service.Resolver = async (host, ct) =>
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(300, ct);
            return [IPAddress.Loopback];
        };
        var requests = Enumerable.Range(0, 20).Select(i => new ProbeRequest { Uri = new Uri($"http://health.test:{_http.Port}/ok?i={i}") }).ToList();
        var results = new List<HealthResult>();
        await service.ProbeManyAsync(requests, 20, r => { lock (results) results.Add(r); }, CancellationToken.None);
        Assert.Equal(20, results.Count);
        Assert.All(results, r => Assert.True(r.Healthy, r.Reason));
        Assert.All(results, r => Assert.True(r.DnsMs > 0));
        Assert.Equal(1, calls);
        Assert.Equal(1, service.LookupsStarted);

        var again = await service.ProbeAsync(requests[0], CancellationToken.None);
        Assert.True(again.Healthy, again.Reason);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task A_shared_lookup_that_fails_is_DnsFailure_for_every_probe_waiting_on_it()
    {
        var service = Service;
        service.Resolver = async (host, ct) =>
        {
            await Task.Delay(200, ct);
            throw new SocketException((int)SocketError.HostNotFound);
        };
        var requests = Enumerable.Range(0, 5).Select(_ => new ProbeRequest { Uri = new Uri("http://gone.test/health") }).ToList();
        var results = new List<HealthResult>();
        await service.ProbeManyAsync(requests, 5, r => { lock (results) results.Add(r); }, CancellationToken.None);
        Assert.Equal(5, results.Count);
        Assert.All(results, r => Assert.Equal(HealthFailureKind.DnsFailure, r.FailureKind));
        Assert.All(results, r => Assert.StartsWith("DNS", r.Reason));
        Assert.Equal(1, service.LookupsStarted);
    }

    [Fact]
    public async Task Cancelling_stops_every_probe_at_once()
    {
        using var silent = new SilentServer();
        var requests = Enumerable.Range(0, 10).Select(_ => new ProbeRequest { Uri = new Uri($"http://127.0.0.1:{silent.Port}/"), Timeout = TimeSpan.FromMinutes(5) }).ToList();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var results = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Service.ProbeManyAsync(requests, 10, _ => Interlocked.Increment(ref results), cts.Token));
        Assert.Equal(0, results);
    }

    [Fact]
    public void Invalid_uris_are_HealthUriInvalid()
    {
        Assert.Equal("HealthUriInvalid", Assert.Throws<IncidentOpsException>(() => HealthService.ParseUri("ftp://x/y")).ErrorId);
        Assert.Equal("HealthUriInvalid", Assert.Throws<IncidentOpsException>(() => HealthService.ParseUri("not a uri")).ErrorId);
    }
}
