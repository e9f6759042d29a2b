using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Postgres;
using IncidentOps.Tests.Health;
using Xunit;

namespace IncidentOps.Tests.Postgres;

/// <summary>
/// A service's postgres.caCertificate is renewed on disk (the file replaced, as a PKI rotation or a managed database's new CA
/// download does) while one pwsh session keeps its engine and configuration: the next connection checks the server against the
/// renewed CA, as a health endpoint's caCertificate does (HealthCaRenewalTests), never against the one read first. A real
/// PostgreSQL 15 with ssl=on whose certificate the fixture's CA signed; the file first holds another CA.
/// </summary>
public sealed class PgCaRenewalTests(ModuleFixture fx, TlsPgServer pg) : IClassFixture<ModuleFixture>, IClassFixture<TlsPgServer>
{
    private static void Install(string from, string path)
    {
        var staged = path + ".new";
        File.Copy(from, staged, overwrite: true);
        File.Move(staged, path, overwrite: true);
    }

    [Theory]
    [InlineData("certs/db-ca.pem")]
    [InlineData("file:certs/db-ca.pem")]
    public void A_renewed_postgres_caCertificate_is_used_by_the_next_connection_of_the_same_session(string written)
    {
        var dir = Paths.TempDir("io-pg-ca-renew");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "certs"));
            var ca = Path.Combine(dir, "certs", "db-ca.pem");
            Install(pg.Other.PemPath, ca);
            var config = Path.Combine(dir, "incidentops.yml");
            File.WriteAllText(config, "version: 1\nenvironments:\n  production:\n    services:\n      api:\n" +
                $"        postgres: {{ connectionString: 'postgres://postgres@127.0.0.1:{pg.Port}/postgres', caCertificate: '{written}' }}\n" +
                $"store:\n  path: {dir}\n");
            var credential = $"([pscredential]::new('postgres', [System.Net.NetworkCredential]::new('', '{TlsPgServer.Password}').SecurePassword))";
            var command = $"Get-PgConnectionSummary -Service api -Environment production -ConfigPath '{config}' -Credential {credential} -TimeoutSec 10";

            var before = Assert.Single(fx.Run(command).Errors);
            Assert.Equal("PgCertificateNotTrusted,IncidentOps.Commands.GetPgConnectionSummaryCommand", before.FullyQualifiedErrorId);

            Install(pg.Ca.PemPath, ca);
            Assert.Equal("production/api", fx.Run(command).AssertNoErrors().Single<PgConnectionSummary>().Service);

            // And back: a CA replaced by one that did not sign the server is refused at once, not trusted from memory.
            Install(pg.Other.PemPath, ca);
            Assert.Equal("PgCertificateNotTrusted,IncidentOps.Commands.GetPgConnectionSummaryCommand", Assert.Single(fx.Run(command).Errors).FullyQualifiedErrorId);
        }
        finally { Paths.DeleteTree(dir); }
    }

    [Fact]
    public async Task One_engine_kept_for_a_long_session_connects_with_the_renewed_CA()
    {
        // A cmdlet's engine lives as long as the cmdlet (a Watch loop, an alerting round's evidence): the CA is read for
        // every connection it opens, so no CA read earlier in its life is reused.
        var dir = Paths.TempDir("io-pg-ca-engine");
        try
        {
            var ca = Path.Combine(dir, "db-ca.pem");
            Install(pg.Other.PemPath, ca);
            var config = Path.Combine(dir, "incidentops.yml");
            File.WriteAllText(config, "version: 1\nenvironments:\n  production:\n    services:\n      api:\n" +
                $"        postgres: {{ connectionString: 'postgres://postgres@127.0.0.1:{pg.Port}/postgres', caCertificate: db-ca.pem }}\n" +
                $"store:\n  path: {dir}\n");
            var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
            var service = ConfigService.FindServices(engine.Config.Load(config).Config!, "production", "api").Single();
            var spec = new PgConnectionSpec { Service = service, UserName = "postgres", Password = TlsPgServer.Password, TimeoutSec = 10 };
            var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Postgres.GetConnectionSummaryAsync(spec, CancellationToken.None));
            Assert.Equal("PgCertificateNotTrusted", ex.ErrorId);
            Install(pg.Ca.PemPath, ca);
            Assert.True((await engine.Postgres.GetConnectionSummaryAsync(spec, CancellationToken.None)).MaxConnections > 0);
            Install(pg.Other.PemPath, ca);
            Assert.Equal("PgCertificateNotTrusted", (await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Postgres.GetConnectionSummaryAsync(spec, CancellationToken.None))).ErrorId);
        }
        finally { Paths.DeleteTree(dir); }
    }

    [Fact]
    public void A_renewed_sslrootcert_file_is_used_by_the_next_connection()
    {
        var dir = Paths.TempDir("io-pg-rootcert-renew");
        try
        {
            var ca = Path.Combine(dir, "root.crt");
            Install(pg.Other.PemPath, ca);
            var url = $"postgres://postgres:{TlsPgServer.Password}@127.0.0.1:{pg.Port}/postgres?sslmode=verify-full&sslrootcert={ca}";
            var command = $"Get-PgConnectionSummary -Url '{url}' -TimeoutSec 10";
            Assert.Equal("PgCertificateNotTrusted,IncidentOps.Commands.GetPgConnectionSummaryCommand", Assert.Single(fx.Run(command).Errors).FullyQualifiedErrorId);
            Install(pg.Ca.PemPath, ca);
            fx.Run(command).AssertNoErrors().Single<PgConnectionSummary>();
        }
        finally { Paths.DeleteTree(dir); }
    }
}
