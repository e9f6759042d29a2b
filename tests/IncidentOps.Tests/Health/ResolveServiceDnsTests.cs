using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

/// <summary>
/// dnsmasq on a free loopback port, authoritative for svc.test (so NS and SOA are real), started for this class
/// in its own temp dir and killed when the class is done. dnsmasq is required: the test fails, never skips,
/// when it is missing (.ci/run installs dnsmasq-base).
/// </summary>
public sealed class DnsmasqFixture : IDisposable
{
    /// <summary>TTL of every authoritative answer (--auth-ttl).</summary>
    public const int Ttl = 1234;
    private readonly Process _process;

    public DnsmasqFixture()
    {
        var binary = FindDnsmasq() ?? throw new InvalidOperationException(
            "dnsmasq is not installed; the DNS tests need it (apt-get install dnsmasq-base). " + (Paths.IsCI ? "CI=true: failing rather than skipping." : "Tests are never skipped."));
        Directory = Paths.TempDir("io-dnsmasq");
        Exception? last = null;
        // The free port is only free when probed (and only for TCP): retry when another process takes it first.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            Port = TestServers.FreePort();
            try
            {
                _process = Start(binary);
                return;
            }
            catch (InvalidOperationException ex) { last = ex; }
        }
        throw new InvalidOperationException("dnsmasq did not start after 5 attempts", last);
    }

    public int Port { get; private set; }
    public string Directory { get; }
    public string Server => $"127.0.0.1:{Port}";

    private static string? FindDnsmasq()
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin", "/usr/local/sbin"]);
        return dirs.Select(d => Path.Combine(d, "dnsmasq")).FirstOrDefault(File.Exists);
    }

    private Process Start(string binary)
    {
        var log = Path.Combine(Directory, $"dnsmasq-{Port}.log");
        var psi = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "--keep-in-foreground", "--conf-file=/dev/null", $"--port={Port}", "--listen-address=127.0.0.1", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--no-poll", "--pid-file=", $"--user={Environment.UserName}", $"--log-facility={log}", "--log-queries",
            // Authoritative for svc.test: NS (ns1 + the secondary), SOA, and negative answers that are NXDOMAIN / NODATA.
            "--auth-zone=svc.test,127.0.0.0/8,fd00::/64", "--auth-server=ns1.svc.test,127.0.0.1", "--auth-sec-servers=ns2.svc.test", $"--auth-ttl={Ttl}",
            "--host-record=ns1.svc.test,127.0.0.1", "--host-record=svc.test,127.0.0.5,fd00::5", "--host-record=v4only.svc.test,127.0.0.6",
            "--cname=www.svc.test,svc.test", "--txt-record=svc.test,hello", "--mx-host=svc.test,mail.svc.test,10", "--mx-host=svc.test,backup.svc.test,20",
        }) psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dnsmasq did not start");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                var why = process.StandardError.ReadToEnd();
                process.Dispose();
                throw new InvalidOperationException($"dnsmasq exited on port {Port}: {why}");
            }
            if (Answers()) return process;
            Thread.Sleep(50);
        }
        Kill(process);
        throw new InvalidOperationException("dnsmasq did not answer on port " + Port);
    }

    // Ready once it answers a minimal query for svc.test A.
    private bool Answers()
    {
        try
        {
            using var udp = new UdpClient();
            udp.Connect(IPAddress.Loopback, Port);
            byte[] q = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'s', (byte)'v', (byte)'c', 4, (byte)'t', (byte)'e', (byte)'s', (byte)'t', 0, 0, 1, 0, 1];
            udp.Send(q, q.Length);
            return udp.ReceiveAsync().Wait(TimeSpan.FromMilliseconds(300));
        }
        catch (Exception ex) when (ex is SocketException or AggregateException) { return false; /* not listening yet */ }
    }

    private static void Kill(Process process)
    {
        try { process.Kill(); process.WaitForExit(5000); }
        catch (InvalidOperationException) { /* already gone */ }
        process.Dispose();
    }

    public void Dispose() => Kill(_process);
}

/// <summary>A UDP port that receives queries and never answers: proves -TimeoutSec on a silent server.</summary>
public sealed class SilentUdpServer : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    public int Port => ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;
    public void Dispose() => _udp.Dispose();
}

public sealed class ResolveServiceDnsTests(ModuleFixture fx, DnsmasqFixture dns) : IClassFixture<ModuleFixture>, IClassFixture<DnsmasqFixture>
{
    private const int Ttl = DnsmasqFixture.Ttl;

    // dnsmasq ages its authoritative answers like a cache (1234, then 1233 a second later...): the TTL
    // must be the zone's, give or take the seconds the fixture has been running.
    private static bool ZoneTtl(int ttl) => ttl is > Ttl - 300 and <= Ttl;

    [Fact]
    public void Every_record_type_comes_back_with_its_TTL_and_timing()
    {
        var r = fx.Run($"Resolve-ServiceDns svc.test -Type A, AAAA, NS, MX, TXT -Server {dns.Server}").AssertNoErrors();
        var results = r.Objects<DnsLookupResult>().ToDictionary(x => x.Type);
        Assert.Equal([DnsRecordType.A, DnsRecordType.AAAA, DnsRecordType.NS, DnsRecordType.MX, DnsRecordType.TXT], results.Keys.Order());

        var a = Assert.Single(results[DnsRecordType.A].Answers);
        Assert.Equal(("svc.test", "A", "127.0.0.5"), (a.Name, a.Type, a.Value));
        var aaaa = Assert.Single(results[DnsRecordType.AAAA].Answers);
        Assert.Equal(("AAAA", "fd00::5"), (aaaa.Type, aaaa.Value));

        var ns = results[DnsRecordType.NS].Answers;
        Assert.Equal(["ns1.svc.test", "ns2.svc.test"], ns.Select(x => x.Value).Order());
        Assert.All(ns, x => Assert.Equal(("svc.test", "NS"), (x.Name, x.Type)));

        var mx = results[DnsRecordType.MX].Answers.OrderBy(x => x.Preference).ToList();
        Assert.Equal([("mail.svc.test", 10), ("backup.svc.test", 20)], mx.Select(x => (x.Value, x.Preference!.Value)));
        Assert.All(mx, x => Assert.Equal("MX", x.Type));

        var txt = Assert.Single(results[DnsRecordType.TXT].Answers);
        Assert.Equal(("TXT", "hello"), (txt.Type, txt.Value));
        Assert.All(results.Values.SelectMany(x => x.Answers), x => Assert.True(ZoneTtl(x.Ttl), $"{x}: TTL {x.Ttl} is not the zone's {Ttl}"));

        Assert.All(results.Values, x => Assert.Equal("NoError", x.Status));
        Assert.All(results.Values, x => Assert.Equal("svc.test", x.Name));
        Assert.All(results.Values, x => Assert.Equal($"127.0.0.1:{dns.Port}", x.Server));
        Assert.All(results.Values, x => Assert.True(x.ElapsedMs > 0));
    }

    [Fact]
    public void A_CNAME_lookup_returns_the_alias_with_its_TTL()
    {
        var result = fx.Run($"Resolve-ServiceDns www.svc.test -Type CNAME -Server {dns.Server}").AssertNoErrors().Single<DnsLookupResult>();
        Assert.Equal((DnsRecordType.CNAME, "NoError"), (result.Type, result.Status));
        var cname = Assert.Single(result.Answers, x => x.Type == "CNAME");
        Assert.Equal(("www.svc.test", "svc.test"), (cname.Name, cname.Value));
        Assert.True(ZoneTtl(cname.Ttl), $"TTL {cname.Ttl}");
    }

    [Fact]
    public void A_CNAME_is_followed_and_reported_and_a_uri_gives_its_host()
    {
        var r = fx.Run($"Resolve-ServiceDns 'https://www.svc.test/health' -Type A -Server {dns.Server}").AssertNoErrors();
        var result = r.Single<DnsLookupResult>();
        Assert.Equal("www.svc.test", result.Name);
        Assert.Contains(result.Answers, a => a.Type == "CNAME" && a.Value == "svc.test" && ZoneTtl(a.Ttl));
        Assert.Contains(result.Answers, a => a.Type == "A" && a.Value == "127.0.0.5" && ZoneTtl(a.Ttl));
    }

    [Fact]
    public void Names_pipe_in_and_each_name_and_type_is_one_result()
    {
        var r = fx.Run($"'svc.test', 'v4only.svc.test' | Resolve-ServiceDns -Type A -Server {dns.Server}").AssertNoErrors();
        var results = r.Objects<DnsLookupResult>().ToDictionary(x => x.Name);
        Assert.Equal("127.0.0.5", Assert.Single(results["svc.test"].Answers).Value);
        Assert.Equal("127.0.0.6", Assert.Single(results["v4only.svc.test"].Answers).Value);
    }

    [Fact]
    public void A_missing_name_is_an_NXDomain_result_not_an_error()
    {
        var r = fx.Run($"Resolve-ServiceDns nope.svc.test -Type A, NS -Server {dns.Server}").AssertNoErrors();
        Assert.Equal(2, r.Objects<DnsLookupResult>().Count());
        Assert.All(r.Objects<DnsLookupResult>(), x => Assert.Equal("NXDomain", x.Status));
        Assert.All(r.Objects<DnsLookupResult>(), x => Assert.Empty(x.Answers));
    }

    [Fact]
    public void A_name_without_records_of_the_type_is_a_NoError_result_with_no_answers()
    {
        var r = fx.Run($"Resolve-ServiceDns v4only.svc.test -Type AAAA, MX, TXT -Server {dns.Server}").AssertNoErrors();
        var results = r.Objects<DnsLookupResult>().ToList();
        Assert.Equal(3, results.Count);
        Assert.All(results, x => Assert.Equal("NoError", x.Status));
        Assert.All(results, x => Assert.Empty(x.Answers));
    }

    [Fact]
    public void Server_accepts_a_host_name_with_a_port()
    {
        var result = fx.Run($"Resolve-ServiceDns svc.test -Type A -Server localhost:{dns.Port}").AssertNoErrors().Single<DnsLookupResult>();
        Assert.Equal($"127.0.0.1:{dns.Port}", result.Server);
        Assert.Equal("127.0.0.5", Assert.Single(result.Answers).Value);
    }

    [Fact]
    public void A_server_that_never_answers_is_DnsQueryFailed_within_TimeoutSec()
    {
        using var silent = new SilentUdpServer();
        var r = fx.Run($"Resolve-ServiceDns svc.test -Type A -Server 127.0.0.1:{silent.Port} -TimeoutSec 0.5");
        var error = Assert.Single(r.Errors);
        Assert.Equal("DnsQueryFailed,IncidentOps.Commands.ResolveServiceDnsCommand", error.FullyQualifiedErrorId);
        Assert.Contains($"127.0.0.1:{silent.Port}", error.Exception.Message);
        Assert.Empty(r.Objects<DnsLookupResult>());
    }

    [Fact]
    public void A_closed_port_is_DnsQueryFailed_and_the_other_names_are_still_looked_up()
    {
        var r = fx.Run($"Resolve-ServiceDns svc.test -Type A -Server 127.0.0.1:{TestServers.FreePort()} -TimeoutSec 0.5");
        var error = Assert.Single(r.Errors);
        Assert.Equal("DnsQueryFailed,IncidentOps.Commands.ResolveServiceDnsCommand", error.FullyQualifiedErrorId);
        // It says that nothing answered, in words of its own: not DnsClient's "Query 35483 => ... transient error.." with its query id.
        Assert.Contains("failed: no answer", error.Exception.Message);
        Assert.DoesNotContain("..", error.Exception.Message);
        Assert.DoesNotContain("Query ", error.Exception.Message);
        var mixed = fx.Run($"Resolve-ServiceDns 'not a name', svc.test -Type A -Server {dns.Server}");
        Assert.Equal("DnsNameInvalid,IncidentOps.Commands.ResolveServiceDnsCommand", Assert.Single(mixed.Errors).FullyQualifiedErrorId);
        Assert.Equal("127.0.0.5", Assert.Single(mixed.Single<DnsLookupResult>().Answers).Value);
    }

    [Fact]
    public void Bad_names_and_servers_are_input_errors()
    {
        Assert.Equal("DnsNameInvalid,IncidentOps.Commands.ResolveServiceDnsCommand", Assert.Single(fx.Run($"Resolve-ServiceDns 'not a name' -Server {dns.Server}").Errors).FullyQualifiedErrorId);
        Assert.Equal("DnsServerInvalid,IncidentOps.Commands.ResolveServiceDnsCommand", Assert.Single(fx.Run("Resolve-ServiceDns svc.test -Server '127.0.0.1:notaport'").Errors).FullyQualifiedErrorId);
        Assert.Equal("DnsServerNotFound,IncidentOps.Commands.ResolveServiceDnsCommand", Assert.Single(fx.Run("Resolve-ServiceDns svc.test -Server 'no-such-host.invalid:53'").Errors).FullyQualifiedErrorId);
    }
}

public sealed class DnsStatusNameTests
{
    [Theory]
    [InlineData(0, "NoError")]
    [InlineData(2, "ServFail")]
    [InlineData(3, "NXDomain")]
    [InlineData(5, "Refused")]
    [InlineData(23, "RCode23")]
    public void Response_codes_are_named_as_dig_names_them(int code, string expected) =>
        Assert.Equal(expected, IncidentOps.Engine.Health.DnsService.StatusName(code));
}
