using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>
/// A TLS Redis with a self-signed (or private-CA) certificate can be trusted: -CaCertificate, the service's
/// redis.caCertificate, or -SkipCertificateCheck; without them the reason and the error say how. And nothing but TLS is
/// ever sent to a rediss:// port, even when its handshake is slow. Real servers on loopback: a TLS-only redis-server and
/// a TCP relay in front of it that holds back the server's first reply.
/// </summary>
public sealed class RedisTlsTrustTests(ModuleFixture fx, TlsRedisFixture tls) : IClassFixture<ModuleFixture>, IClassFixture<TlsRedisFixture>
{
    private string Ca => Path.Combine(tls.Dir, "server.crt");

    [Fact]
    public void An_untrusted_certificate_says_how_to_trust_it_in_the_reason_and_the_error()
    {
        var t = fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{tls.Port}' -TimeoutSec 3").AssertNoErrors().Single<RedisConnectionTest>();
        Assert.False(t.Reachable);
        Assert.StartsWith("TLS certificate not trusted (", t.Reason);
        Assert.EndsWith("pass its CA with -CaCertificate", t.Reason);
        var e = Assert.Single(fx.Run($"Get-RedisInfo Server -Url 'rediss://127.0.0.1:{tls.Port}' -TimeoutSec 3").Errors);
        Assert.Equal("RedisConnectionFailed,IncidentOps.Commands.GetRedisInfoCommand", e.FullyQualifiedErrorId);
        Assert.Contains("pass -CaCertificate <ca.pem>, or set caCertificate:", e.ToString());
        Assert.Contains("-SkipCertificateCheck", e.ToString());
    }

    [Fact]
    public void CaCertificate_trusts_a_self_signed_certificate()
    {
        var t = fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{tls.Port}' -CaCertificate '{Ca}' -TimeoutSec 5").AssertNoErrors().Single<RedisConnectionTest>();
        Assert.True(t.Reachable, t.Reason);
        Assert.True(t.Tls);
        var info = fx.Run($"Get-RedisInfo Server -Url 'rediss://127.0.0.1:{tls.Port}' -CaCert '{Ca}' -TimeoutSec 5").AssertNoErrors().Single<RedisServerInfo>();
        Assert.False(string.IsNullOrEmpty(info.Version));
    }

    [Fact]
    public void The_service_redis_caCertificate_is_read_relative_to_the_configuration_file()
    {
        var dir = Paths.TempDir("io-redis-ca");
        Directory.CreateDirectory(Path.Combine(dir, "certs"));
        File.Copy(Ca, Path.Combine(dir, "certs", "redis-ca.pem"));
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"version: 1\nenvironments:\n  production:\n    services:\n      cache:\n        redis: {{ url: 'rediss://127.0.0.1:{tls.Port}', caCertificate: certs/redis-ca.pem }}\n      pem:\n        redis: {{ url: 'rediss://127.0.0.1:{tls.Port}', caCertificate: 'file:certs/redis-ca.pem' }}\nstore:\n  path: {dir}\n");
        var r = fx.Run($"Test-RedisConnection -Service cache, pem -Environment production -ConfigPath '{config}' -TimeoutSec 5").AssertNoErrors();
        Assert.All(r.Output.Select(o => o.BaseObject).OfType<RedisConnectionTest>(), t => Assert.True(t.Reachable, t.Reason));
        Assert.Equal(2, r.Output.Count);
    }

    [Fact]
    public void A_CA_that_did_not_sign_the_certificate_is_named_in_the_reason()
    {
        var dir = Paths.TempDir("io-redis-otherca");
        using var key = RSA.Create(2048);
        using var other = new CertificateRequest("CN=Other CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        var path = Path.Combine(dir, "other-ca.pem");
        File.WriteAllText(path, other.ExportCertificatePem());
        var t = fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{tls.Port}' -CaCertificate '{path}' -TimeoutSec 3").AssertNoErrors().Single<RedisConnectionTest>();
        Assert.False(t.Reachable);
        Assert.StartsWith("TLS certificate not trusted (", t.Reason);
        Assert.Contains($"not signed by the CA of -CaCertificate {path}", t.Reason);
    }

    [Fact]
    public void A_CaCertificate_that_is_no_certificate_is_RedisCaCertificateInvalid()
    {
        var dir = Paths.TempDir("io-redis-badca");
        var path = Path.Combine(dir, "notes.txt");
        File.WriteAllText(path, "not a certificate");
        var e = Assert.Single(fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{tls.Port}' -CaCertificate '{path}'").Errors);
        Assert.Equal("RedisCaCertificateInvalid,IncidentOps.Commands.TestRedisConnectionCommand", e.FullyQualifiedErrorId);
        Assert.Contains(path, e.ToString());
        var missing = Assert.Single(fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{tls.Port}' -CaCertificate '{dir}/absent.pem'").Errors);
        Assert.Contains("does not exist", missing.ToString());
    }

    [Fact]
    public void SkipCertificateCheck_connects_without_checking()
    {
        var t = fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{tls.Port}' -SkipCertificateCheck -TimeoutSec 5").AssertNoErrors().Single<RedisConnectionTest>();
        Assert.True(t.Reachable, t.Reason);
    }

    [Fact]
    public async Task A_slow_TLS_Redis_gets_nothing_but_TLS_from_any_connection()
    {
        // A slow link: the relay holds back every reply of the server by 300 ms, so the client's TLS connect (handshake,
        // then its own commands) is still running after the half second at which the module looks for a plain Redis behind
        // the URL. Each connection's first bytes are kept.
        using var relay = new SlowRelay(tls.Port, TimeSpan.FromMilliseconds(300));
        var t = fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{relay.Port}' -SkipCertificateCheck -TimeoutSec 10").AssertNoErrors().Single<RedisConnectionTest>();
        Assert.True(t.Reachable, t.Reason);
        var firsts = relay.FirstBytes();
        Assert.NotEmpty(firsts);
        // 0x16: a TLS handshake record. A plain "PING\r\n" (0x50) to this port was the defect.
        Assert.All(firsts, b => Assert.True(b == 0x16, $"a connection began with 0x{b:x2} ('{(char)b}'), not a TLS handshake"));
    }

    /// <summary>A TCP relay to a loopback port that delays every reply of the server (a slow link).</summary>
    private sealed class SlowRelay : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<byte> _firsts = new();

        public SlowRelay(int upstream, TimeSpan delay)
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient client;
                    try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                    catch (Exception) { return; }
                    _ = Task.Run(() => RelayAsync(client, upstream, delay));
                }
            });
        }

        public int Port { get; }
        public byte[] FirstBytes() => [.. _firsts];

        private async Task RelayAsync(TcpClient client, int upstream, TimeSpan delay)
        {
            using (client)
            using (var server = new TcpClient())
            {
                try
                {
                    await server.ConnectAsync(IPAddress.Loopback, upstream, _stop.Token);
                    var c = client.GetStream();
                    var s = server.GetStream();
                    var up = Task.Run(async () =>
                    {
                        var buffer = new byte[16384];
                        var first = true;
                        int n;
                        while ((n = await c.ReadAsync(buffer, _stop.Token)) > 0)
                        {
                            if (first) { _firsts.Enqueue(buffer[0]); first = false; }
                            await s.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                        }
                        server.Client.Shutdown(SocketShutdown.Send);
                    });
                    var down = Task.Run(async () =>
                    {
                        var buffer = new byte[16384];
                        int n;
                        while ((n = await s.ReadAsync(buffer, _stop.Token)) > 0)
                        {
                            await Task.Delay(delay, _stop.Token);
                            await c.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                        }
                        client.Client.Shutdown(SocketShutdown.Send);
                    });
                    await Task.WhenAny(Task.WhenAll(up, down), Task.Delay(Timeout.Infinite, _stop.Token));
                }
                catch (Exception) { }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
