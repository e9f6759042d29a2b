using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Redis;
using IncidentOps.Tests.Health;
using Xunit;

namespace IncidentOps.Tests.Redis;

/// <summary>
/// A service's redis.caCertificate is renewed on disk while one pwsh session keeps its engine and configuration: the next
/// connection trusts the renewed CA, as a health endpoint's caCertificate does (HealthCaRenewalTests), never the one read
/// first. A real redis-server with --tls-port and a self-signed certificate; the file first holds a CA that did not sign it.
/// </summary>
public sealed class RedisCaRenewalTests(ModuleFixture fx, TlsRedisFixture tls) : IClassFixture<ModuleFixture>, IClassFixture<TlsRedisFixture>
{
    private static void Install(string from, string path)
    {
        var staged = path + ".new";
        File.Copy(from, staged, overwrite: true);
        File.Move(staged, path, overwrite: true);
    }

    [Theory]
    [InlineData("certs/redis-ca.pem")]
    [InlineData("file:certs/redis-ca.pem")]
    public void A_renewed_redis_caCertificate_is_used_by_the_next_connection_of_the_same_session(string written)
    {
        var dir = Paths.TempDir("io-redis-ca-renew");
        using var other = new PrivateCa("CN=Replaced Redis CA");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "certs"));
            var ca = Path.Combine(dir, "certs", "redis-ca.pem");
            Install(other.PemPath, ca);
            var config = Path.Combine(dir, "incidentops.yml");
            File.WriteAllText(config, $"version: 1\nenvironments:\n  production:\n    services:\n      cache:\n        redis: {{ url: 'rediss://127.0.0.1:{tls.Port}', caCertificate: '{written}' }}\nstore:\n  path: {dir}\n");
            var command = $"Test-RedisConnection -Service cache -Environment production -ConfigPath '{config}' -TimeoutSec 5";

            var before = fx.Run(command).AssertNoErrors().Single<RedisConnectionTest>();
            Assert.False(before.Reachable);
            Assert.StartsWith("TLS certificate not trusted (", before.Reason);

            Install(Path.Combine(tls.Dir, "server.crt"), ca);
            var after = fx.Run(command).AssertNoErrors().Single<RedisConnectionTest>();
            Assert.True(after.Reachable, after.Reason);

            Install(other.PemPath, ca);
            Assert.False(fx.Run(command).AssertNoErrors().Single<RedisConnectionTest>().Reachable);
        }
        finally { Paths.DeleteTree(dir); }
    }

    [Fact]
    public async Task One_engine_kept_for_a_long_session_connects_with_the_renewed_CA()
    {
        // A cmdlet's engine lives as long as the cmdlet (an alerting round's redis-info evidence, a watch): every connection
        // it opens reads the CA again, so a CA read earlier in its life is never reused.
        var dir = Paths.TempDir("io-redis-ca-engine");
        using var other = new PrivateCa("CN=Replaced Redis CA");
        try
        {
            var ca = Path.Combine(dir, "redis-ca.pem");
            Install(other.PemPath, ca);
            var config = Path.Combine(dir, "incidentops.yml");
            File.WriteAllText(config, $"version: 1\nenvironments:\n  production:\n    services:\n      cache:\n        redis: {{ url: 'rediss://127.0.0.1:{tls.Port}', caCertificate: redis-ca.pem }}\nstore:\n  path: {dir}\n");
            var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
            var service = ConfigService.FindServices(engine.Config.Load(config).Config!, "production", "cache").Single();
            var request = new RedisConnectionRequest { Service = service, Timeout = TimeSpan.FromSeconds(5) };
            Assert.False(Assert.Single(await engine.Redis.TestAsync(request, 1, CancellationToken.None)).Reachable);
            Install(Path.Combine(tls.Dir, "server.crt"), ca);
            var after = Assert.Single(await engine.Redis.TestAsync(request, 1, CancellationToken.None));
            Assert.True(after.Reachable, after.Reason);
            Install(other.PemPath, ca);
            Assert.False(Assert.Single(await engine.Redis.TestAsync(request, 1, CancellationToken.None)).Reachable);
        }
        finally { Paths.DeleteTree(dir); }
    }
}
