using System.Diagnostics;
using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

/// <summary>dnsmasq on a loopback port, started for this class and stopped after it.</summary>
public sealed class DnsmasqFixture : IDisposable
{
    private readonly Process _process;

    public DnsmasqFixture()
    {
        Port = TestServers.FreePort();
        var psi = new ProcessStartInfo("/usr/sbin/dnsmasq")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--no-daemon", $"--port={Port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
            "--pid-file=", $"--user={Environment.UserName}", "--local-ttl=300",
            "--host-record=svc.test,127.0.0.5,fd00::5", "--cname=www.svc.test,svc.test",
            "--txt-record=svc.test,hello", "--mx-host=svc.test,mail.svc.test,10",
        }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("dnsmasq did not start");
        // Ready once it answers a query.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException("dnsmasq exited: " + _process.StandardError.ReadToEnd());
            try
            {
                using var udp = new System.Net.Sockets.UdpClient();
                udp.Connect("127.0.0.1", Port);
                // A minimal query for svc.test A.
                byte[] q = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'s', (byte)'v', (byte)'c', 4, (byte)'t', (byte)'e', (byte)'s', (byte)'t', 0, 0, 1, 0, 1];
                udp.Send(q, q.Length);
                var receive = udp.ReceiveAsync();
                if (receive.Wait(TimeSpan.FromMilliseconds(300))) return;
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or AggregateException) { /* not listening yet */ }
            Thread.Sleep(50);
        }
        throw new InvalidOperationException("dnsmasq did not answer on port " + Port);
    }

    public int Port { get; }
    public string Server => $"127.0.0.1:{Port}";

    public void Dispose()
    {
        try { _process.Kill(); _process.WaitForExit(5000); }
        catch (InvalidOperationException) { /* already gone */ }
        _process.Dispose();
    }
}

public sealed class ResolveServiceDnsTests(ModuleFixture fx, DnsmasqFixture dns) : IClassFixture<ModuleFixture>, IClassFixture<DnsmasqFixture>
{
    [Fact]
    public void A_AAAA_CNAME_MX_and_TXT_come_back_with_TTLs_and_timing()
    {
        var r = fx.Run($"Resolve-ServiceDns svc.test -Type A, AAAA, MX, TXT -Server {dns.Server}").AssertNoErrors();
        var results = r.Objects<DnsLookupResult>().ToDictionary(x => x.Type);
        Assert.Equal("127.0.0.5", Assert.Single(results[DnsRecordType.A].Answers).Value);
        Assert.Equal(300, results[DnsRecordType.A].Answers[0].Ttl);
        Assert.Equal("fd00::5", Assert.Single(results[DnsRecordType.AAAA].Answers).Value);
        var mx = Assert.Single(results[DnsRecordType.MX].Answers);
        Assert.Equal(("mail.svc.test", 10), (mx.Value, mx.Preference!.Value));
        Assert.Equal("hello", Assert.Single(results[DnsRecordType.TXT].Answers).Value);
        Assert.All(results.Values, x => Assert.Equal("NoError", x.Status));
        Assert.All(results.Values, x => Assert.Equal($"127.0.0.1:{dns.Port}", x.Server));
        Assert.All(results.Values, x => Assert.True(x.ElapsedMs > 0));
    }

    [Fact]
    public void A_CNAME_is_followed_and_reported_and_a_uri_gives_its_host()
    {
        var r = fx.Run($"Resolve-ServiceDns 'https://www.svc.test/health' -Type A -Server {dns.Server}").AssertNoErrors();
        var result = r.Single<DnsLookupResult>();
        Assert.Equal("www.svc.test", result.Name);
        Assert.Contains(result.Answers, a => a.Type == "CNAME" && a.Value == "svc.test");
        Assert.Contains(result.Answers, a => a.Type == "A" && a.Value == "127.0.0.5");
    }

    [Fact]
    public void A_missing_name_is_an_NXDomain_result_not_an_error()
    {
        var r = fx.Run($"Resolve-ServiceDns nope.svc.test -Type A -Server {dns.Server}").AssertNoErrors();
        var result = r.Single<DnsLookupResult>();
        Assert.Empty(result.Answers);
        Assert.NotEqual("NoError", result.Status);
    }

    [Fact]
    public void A_server_that_does_not_answer_is_DnsQueryFailed_within_TimeoutSec()
    {
        var r = fx.Run($"Resolve-ServiceDns svc.test -Type A -Server 127.0.0.1:{TestServers.FreePort()} -TimeoutSec 0.5");
        Assert.Equal("DnsQueryFailed,IncidentOps.Commands.ResolveServiceDnsCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Bad_names_and_servers_are_input_errors()
    {
        Assert.Equal("DnsNameInvalid,IncidentOps.Commands.ResolveServiceDnsCommand", Assert.Single(fx.Run($"Resolve-ServiceDns 'not a name' -Server {dns.Server}").Errors).FullyQualifiedErrorId);
        Assert.Equal("DnsServerInvalid,IncidentOps.Commands.ResolveServiceDnsCommand", Assert.Single(fx.Run("Resolve-ServiceDns svc.test -Server '127.0.0.1:notaport'").Errors).FullyQualifiedErrorId);
    }
}
