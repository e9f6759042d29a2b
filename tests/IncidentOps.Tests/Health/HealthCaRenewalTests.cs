using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Health;
using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

/// <summary>
/// A health endpoint's configured caCertificate is renewed (the CA file is replaced, as cert-manager or a PKI rotation does)
/// while one engine keeps running (Watch-ServiceHealth, a long pwsh session). The engine kept the CA it read first, keyed by
/// the config value, so the new CA was not read until the configuration reloaded. Now the file's last-write time and
/// length are checked before each use and a changed file is read again. Real TLS on loopback.
/// </summary>
public sealed class HealthCaRenewalTests : IDisposable
{
    private readonly PrivateCa _old = new("CN=IncidentOps Old CA");
    private readonly PrivateCa _renewed = new("CN=IncidentOps Renewed Private CA");
    private readonly string _dir = Paths.TempDir("io-ca-renew");
    private readonly HealthTestServer _server;

    public HealthCaRenewalTests() => _server = new HealthTestServer(_renewed.Issue("127.0.0.1"));

    public void Dispose()
    {
        _server.Dispose();
        _old.Dispose();
        _renewed.Dispose();
        Paths.DeleteTree(_dir);
    }

    /// <summary>Replaces the file the way a rotation does: a new file moved over the old one.</summary>
    private void Install(PrivateCa ca, string path)
    {
        var staged = path + ".new";
        File.Copy(ca.PemPath, staged, overwrite: true);
        File.Move(staged, path, overwrite: true);
    }

    [Theory]
    [InlineData("path")]
    [InlineData("file:")]
    public async Task A_replaced_CA_file_is_read_again_by_the_next_probe_of_the_same_engine(string written)
    {
        var path = Path.Combine(_dir, "ca.pem");
        Install(_old, path);
        var sink = new CollectingSink();
        var engine = new IncidentOpsEngine(sink, NoSecretProvider.Instance);
        var ca = new ConfigValue(written == "path" ? path : "file:" + path, false, new ConfigLocation(Path.Combine(_dir, "incidentops.yml"), 7, 9));
        var request = new ProbeRequest { Uri = new Uri(_server.Url("/ok")), Service = "production/api", CaCertificate = ca, Timeout = TimeSpan.FromSeconds(10) };

        var before = await engine.Health.ProbeAsync(request, CancellationToken.None);
        Assert.False(before.Healthy);
        Assert.Contains("not signed by the CA of the caCertificate of production/api", before.Reason);

        Install(_renewed, path);
        var after = await engine.Health.ProbeAsync(request, CancellationToken.None);
        Assert.True(after.Healthy, after.Reason);
        Assert.Contains(sink.VerboseMessages, v => v.Contains("again: its file changed", StringComparison.Ordinal));

        // Unchanged, it is not read again; and the way back (an old CA restored) is noticed as well.
        var count = sink.VerboseMessages.Count(v => v.Contains("again: its file changed", StringComparison.Ordinal));
        Assert.True((await engine.Health.ProbeAsync(request, CancellationToken.None)).Healthy);
        Assert.Equal(count, sink.VerboseMessages.Count(v => v.Contains("again: its file changed", StringComparison.Ordinal)));
        Install(_old, path);
        Assert.False((await engine.Health.ProbeAsync(request, CancellationToken.None)).Healthy);
    }

    [Fact]
    public async Task A_CA_file_that_goes_bad_is_HealthCaCertificateInvalid_until_it_is_fixed()
    {
        var path = Path.Combine(_dir, "ca.pem");
        Install(_renewed, path);
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var ca = new ConfigValue(path, false, null);
        Assert.NotNull(await engine.Health.TrustForAsync(ca, "production/api", _server.Url("/ok"), CancellationToken.None));
        File.WriteAllText(path, "truncated by a failed rotation");
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Health.TrustForAsync(ca, "production/api", _server.Url("/ok"), CancellationToken.None));
        Assert.Equal(HealthErrorIds.HealthCaCertificateInvalid, ex.ErrorId);
        Install(_renewed, path);
        Assert.NotNull(await engine.Health.TrustForAsync(ca, "production/api", _server.Url("/ok"), CancellationToken.None));
    }
}
