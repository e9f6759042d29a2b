using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using IncidentOps.Redis;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>
/// What a user sees in three corner cases: an empty keyspace, a password given to a Redis that needs none, and a TLS port
/// that accepts TCP but never answers the handshake (which must get no plain text). A private, empty, password-less
/// redis-server and a silent TCP listener on loopback.
/// </summary>
public sealed class RedisOutputFixesTests(ModuleFixture fx, EmptyRedisFixture empty) : IClassFixture<ModuleFixture>, IClassFixture<EmptyRedisFixture>
{
    [Fact]
    public void Get_RedisInfo_keyspace_on_an_empty_Redis_says_the_keyspace_is_empty()
    {
        var r = fx.Run($"Get-RedisInfo Keyspace -Url 'redis://127.0.0.1:{empty.Port}'").AssertNoErrors();
        var row = r.Single<RedisKeyspaceInfo>();
        Assert.True(row.Empty);
        Assert.Equal(0, row.Keys);
        Assert.EndsWith("keyspace empty (no keys in any database)", row.ToString());
        // The table and list views show it: tests/pester/Get-RedisInfo.Tests.ps1 (a real pwsh formats).
    }

    [Fact]
    public void A_password_given_to_a_Redis_that_needs_none_is_reported_not_read_as_reachable_without_a_word()
    {
        const string canary = "canary-unneeded-7Qx";
        var r = fx.Run($"Test-RedisConnection -Url 'redis://:{canary}@127.0.0.1:{empty.Port}' -TimeoutSec 5").AssertNoErrors();
        var t = r.Single<RedisConnectionTest>();
        Assert.True(t.Reachable);
        Assert.Equal("password refused: none needed", t.Reason);
        Assert.Contains(r.Warnings, w => w.Contains("refused the password given", StringComparison.Ordinal) && w.Contains("needs none", StringComparison.Ordinal));
        var info = fx.Run($"Get-RedisInfo Server -Url 'redis://:{canary}@127.0.0.1:{empty.Port}' -TimeoutSec 5").AssertNoErrors();
        Assert.Contains(info.Warnings, w => w.Contains("refused the password given", StringComparison.Ordinal));
        Assert.DoesNotContain(canary, string.Join("\n", r.Warnings.Concat(r.Verbose).Concat(info.Warnings)) + t.Detail + t.Reason + r.HostText + info.HostText);
        // Without a password nothing is said.
        var plain = fx.Run($"Test-RedisConnection -Url 'redis://127.0.0.1:{empty.Port}' -TimeoutSec 5").AssertNoErrors();
        Assert.Null(plain.Single<RedisConnectionTest>().Reason);
        Assert.Empty(plain.Warnings);
    }

    [Fact]
    public async Task A_TLS_port_that_accepts_TCP_but_never_answers_the_handshake_gets_no_plain_text()
    {
        // A fully blocked TLS Redis: the port accepts the connection, reads, and never says a word.
        using var silent = new SilentListener();
        var r = fx.Run($"Test-RedisConnection -Url 'rediss://127.0.0.1:{silent.Port}' -TimeoutSec 4").AssertNoErrors();
        var t = r.Single<RedisConnectionTest>();
        Assert.False(t.Reachable);
        await Task.Delay(200); // the last connection's bytes reach the listener
        var firsts = silent.FirstBytes();
        Assert.NotEmpty(firsts);
        // 0x16: a TLS handshake record. A plain "PING\r\n" (0x50) to this port was the defect.
        Assert.All(firsts, b => Assert.True(b == 0x16, $"a connection began with 0x{b:x2} ('{(char)b}'), not a TLS handshake"));
    }

    /// <summary>Accepts TCP connections, keeps the first byte of each, and never writes.</summary>
    private sealed class SilentListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<byte> _firsts = new();
        private readonly ConcurrentBag<TcpClient> _held = [];

        public SilentListener()
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
                    _held.Add(client);
                    _ = Task.Run(async () =>
                    {
                        var buffer = new byte[4096];
                        var first = true;
                        try
                        {
                            int n;
                            while ((n = await client.GetStream().ReadAsync(buffer, _stop.Token)) > 0)
                                if (first) { _firsts.Enqueue(buffer[0]); first = false; }
                        }
                        catch (Exception) { }
                    });
                }
            });
        }

        public int Port { get; }
        public byte[] FirstBytes() => [.. _firsts];

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            foreach (var c in _held) c.Dispose();
            _stop.Dispose();
        }
    }
}

/// <summary>A private redis-server with no keys and no password, shut down after the class.</summary>
public sealed class EmptyRedisFixture : IDisposable
{
    public EmptyRedisFixture()
    {
        Dir = Paths.TempDir("io-redis-empty");
        Port = RedisCli.StartServer(Dir, "redis-server (empty)", ["--port"], [])[0];
    }

    public string Dir { get; }
    public int Port { get; }

    public void Dispose()
    {
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
