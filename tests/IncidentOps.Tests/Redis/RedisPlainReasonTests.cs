using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>
/// Test-RedisConnection's Reason for a port that is no Redis this client can talk to reads in plain words ("TLS expected
/// by server", "not a Redis server", "TLS certificate not trusted"), not the client library's state dump, which stays in
/// Detail and -Verbose. Real servers on loopback: a TLS-only redis-server, and a TCP server that answers HTTP.
/// </summary>
public sealed class RedisPlainReasonTests(ModuleFixture fx, TlsRedisFixture tls) : IClassFixture<ModuleFixture>, IClassFixture<TlsRedisFixture>
{
    [Fact]
    public void A_plain_client_on_a_TLS_Redis_says_TLS_expected_by_server()
    {
        var r = fx.Run($"Test-RedisConnection -ConnectionString '127.0.0.1:{tls.Port}' -TimeoutSec 3 -Verbose").AssertNoErrors();
        var t = r.Single<RedisConnectionTest>();
        Assert.False(t.Reachable);
        Assert.Equal("TLS expected by server (use rediss://)", t.Reason);
        Assert.False(string.IsNullOrEmpty(t.Detail));
        Assert.Contains(r.Verbose, v => v.StartsWith($"127.0.0.1:{tls.Port}: TLS expected by server (use rediss://); the client library said: ", StringComparison.Ordinal));
        // Get-RedisInfo's error says the same in its message.
        var e = Assert.Single(fx.Run($"Get-RedisInfo -Url 'redis://127.0.0.1:{tls.Port}' -TimeoutSec 3").Errors);
        Assert.Contains("unreachable: TLS expected by server (use rediss://).", e.ToString());
    }

    [Fact]
    public void A_TLS_client_that_does_not_trust_the_certificate_says_so_and_not_authentication_failed()
    {
        var t = fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{tls.Port}' -TimeoutSec 3").AssertNoErrors().Single<RedisConnectionTest>();
        Assert.False(t.Reachable);
        Assert.StartsWith("TLS certificate not trusted (", t.Reason);
        Assert.DoesNotContain("authentication", t.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrEmpty(t.Detail));
    }

    [Fact]
    public void A_TLS_URL_to_a_plain_Redis_says_it_does_not_speak_TLS_without_waiting_out_the_timeout()
    {
        // A plain Redis never answers a TLS handshake: the client would wait out -TimeoutSec and say "no answer".
        var sw = Stopwatch.StartNew();
        var t = fx.Run($"Test-RedisConnection -Url 'rediss://{TestServers.Redis}' -TimeoutSec 20").AssertNoErrors().Single<RedisConnectionTest>();
        sw.Stop();
        Assert.False(t.Reachable);
        Assert.Equal("server does not speak TLS (use redis://)", t.Reason);
        // A hang guard well below the 20 s deadline, not a performance assertion.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(12), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task A_server_that_answers_HTTP_is_not_a_Redis_server()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var serve = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var c = await listener.AcceptTcpClientAsync(stop.Token);
                var s = c.GetStream();
                var buffer = new byte[1024];
                try { _ = await s.ReadAsync(buffer, stop.Token); await s.WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), stop.Token); }
                catch (IOException) { }
            }
        });
        var t = fx.Run($"Test-RedisConnection -ConnectionString '127.0.0.1:{port}' -TimeoutSec 3").AssertNoErrors().Single<RedisConnectionTest>();
        Assert.False(t.Reachable);
        Assert.Equal("not a Redis server", t.Reason);
        Assert.False(string.IsNullOrEmpty(t.Detail));
        await stop.CancelAsync();
        listener.Stop();
        try { await serve; } catch (OperationCanceledException) { } catch (SocketException) { } catch (ObjectDisposedException) { }
    }
}

/// <summary>A redis-server that accepts only TLS (self-signed certificate for 127.0.0.1), shut down after the class.</summary>
public sealed class TlsRedisFixture : IDisposable
{
    public TlsRedisFixture()
    {
        Dir = Paths.TempDir("io-redis-tls");
        using var key = RSA.Create(2048);
        var req = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        File.WriteAllText(Path.Combine(Dir, "server.crt"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Dir, "server.key"), key.ExportPkcs8PrivateKeyPem());
        Port = RedisCli.StartServer(Dir, "redis-server --tls-port", ["--tls-port"], ["--port", "0", "--tls-cert-file", Path.Combine(Dir, "server.crt"),
            "--tls-key-file", Path.Combine(Dir, "server.key"), "--tls-auth-clients", "no"])[0];
    }

    public string Dir { get; }
    public int Port { get; }

    public void Dispose()
    {
        // The server's own pid: redis-cli would need TLS options to say SHUTDOWN.
        try
        {
            var pid = int.Parse(File.ReadAllText(Path.Combine(Dir, "redis.pid")).Trim());
            using var p = Process.GetProcessById(pid);
            p.Kill();
            p.WaitForExit(5_000);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidOperationException or FormatException) { }
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
