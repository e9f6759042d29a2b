using IncidentOps.Redis;
using IncidentOps.Tests.Redis;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// A real two-master Redis Cluster on loopback (slots 0-8191 and 8192-16383), with keys on both masters. Every test
/// seeds its own keys; the cluster is shut down after the class.
/// </summary>
public sealed class RedisClusterFixture : IDisposable
{
    public RedisClusterFixture()
    {
        Dir = Paths.TempDir("io-redis-cluster");
        Ports = new int[2];
        for (var i = 0; i < Ports.Length; i++)
        {
            var dir = Path.Combine(Dir, $"node{i}");
            Directory.CreateDirectory(dir);
            // The cluster bus port defaults to port + 10000, which may not exist above 55535: a free one is named too.
            Ports[i] = RedisCli.StartServer(dir, "Redis Cluster node", ["--port", "--cluster-port"],
                ["--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(dir, "nodes.conf")])[0];
        }
        WaitFor(() => Ports.All(p => RedisCli.Run(p, "PING").Trim() == "PONG"), "the nodes to start");
        RedisCli.Run(Ports[0], "CLUSTER", "ADDSLOTSRANGE", "0", "8191");
        RedisCli.Run(Ports[1], "CLUSTER", "ADDSLOTSRANGE", "8192", "16383");
        var bus = RedisCli.Run(Ports[1], "CONFIG", "GET", "cluster-port").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[1];
        RedisCli.Run(Ports[0], "CLUSTER", "MEET", "127.0.0.1", Ports[1].ToString(), bus);
        WaitFor(() => Ports.All(p => RedisCli.Run(p, "CLUSTER", "INFO").Contains("cluster_state:ok")), "cluster_state:ok");
    }

    public string Dir { get; }
    public int[] Ports { get; }
    public string Endpoint(int i) => $"127.0.0.1:{Ports[i]}";

    /// <summary>Writes keys until both masters hold some (each key goes to the master of its slot).</summary>
    public void Seed(string prefix)
    {
        for (var i = 0; i < 40; i++) RedisCli.Run("127.0.0.1", Ports[0], null, "-c", "SET", $"{prefix}:{i}", "v");
    }

    public long Keys(int i) => long.Parse(RedisCli.Run(Ports[i], "DBSIZE").Trim());

    private static void WaitFor(Func<bool> ready, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try { if (ready()) return; }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or IndexOutOfRangeException) { }
            if (DateTime.UtcNow > until) throw new TimeoutException($"Waited 20 s for {what}.");
            Thread.Sleep(100);
        }
    }

    public void Dispose()
    {
        foreach (var p in Ports)
            try { RedisCli.Run(p, "SHUTDOWN", "NOSAVE"); } catch (InvalidOperationException) { }
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}

/// <summary>
/// FLUSHDB on one master of a Redis Cluster empties only that node's slots, and DBSIZE there then says 0: the flush
/// looked complete while the other master kept its keys. Clear-RedisDatabase refuses it, before the prompt.
/// </summary>
public sealed class RedisClusterFlushTests(ModuleFixture fx, RedisClusterFixture cluster) : IClassFixture<ModuleFixture>, IClassFixture<RedisClusterFixture>
{
    [Theory]
    [InlineData("-Force")]
    [InlineData("-AllDatabases -Force")]
    [InlineData("-WhatIf")]
    public void A_flush_of_one_master_of_a_cluster_is_refused_and_no_key_goes(string switches)
    {
        cluster.Seed("io-cl-" + Guid.NewGuid().ToString("N")[..6]);
        var before = (cluster.Keys(0), cluster.Keys(1));
        Assert.True(before.Item1 > 0 && before.Item2 > 0, $"keys on both masters: {before}");

        var r = fx.Run($"Clear-RedisDatabase -ConnectionString '{cluster.Endpoint(0)}' {switches}");
        var e = Assert.Single(r.Errors);
        Assert.Equal("RedisClusterFlushPartial,IncidentOps.Commands.ClearRedisDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains(cluster.Endpoint(1), e.ToString());
        Assert.Empty(r.Objects<RedisFlushResult>());
        Assert.Equal(before, (cluster.Keys(0), cluster.Keys(1)));
    }
}
