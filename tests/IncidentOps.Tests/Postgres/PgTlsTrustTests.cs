using System.Diagnostics;
using IncidentOps.Postgres;
using IncidentOps.Tests.Health;
using Xunit;

namespace IncidentOps.Tests.Postgres;

/// <summary>
/// sslmode=verify-full against a PostgreSQL whose certificate is signed by a private CA: -CaCertificate,
/// postgres.caCertificate and the URL's sslrootcert make it work; without the CA, with another CA, or with a host name the
/// certificate does not name, the connection is refused (PgCertificateNotTrusted) and says how to pass the CA, never
/// silently made. A real PostgreSQL 15 with ssl=on on its own loopback port; the password never shows.
/// </summary>
public sealed class PgTlsTrustTests(ModuleFixture fx, TlsPgServer pg) : IClassFixture<ModuleFixture>, IClassFixture<TlsPgServer>
{
    private string Url(string query, string host = "127.0.0.1") => $"postgres://postgres:{TlsPgServer.Password}@{host}:{pg.Port}/postgres?{query}";

    private static void AssertNoPassword(PwshResult r) =>
        Assert.DoesNotContain(TlsPgServer.Password, string.Join("\n", r.Errors.Select(e => e.ToString() + e.ErrorDetails?.Message)) + string.Join("\n", r.Verbose) + string.Join("\n", r.Warnings) + r.HostText);

    [Fact]
    public void Verify_full_without_the_CA_is_refused_with_an_error_that_says_how_to_pass_it()
    {
        var r = fx.Run($"Get-PgConnectionSummary -Url '{Url("sslmode=verify-full")}' -TimeoutSec 10 -Verbose");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgCertificateNotTrusted,IncidentOps.Commands.GetPgConnectionSummaryCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-CaCertificate", e.ToString());
        Assert.Contains("sslrootcert", e.ToString());
        Assert.Empty(r.Output);
        AssertNoPassword(r);
    }

    [Fact]
    public void CaCertificate_makes_verify_full_against_a_private_CA_work()
    {
        var r = fx.Run($"Get-PgConnectionSummary -Url '{Url("sslmode=verify-full")}' -CaCertificate '{pg.Ca.PemPath}' -TimeoutSec 10").AssertNoErrors();
        Assert.True(r.Single<PgConnectionSummary>().MaxConnections > 0);
        // The alias of psql users' word works too.
        fx.Run($"Get-PgConnectionSummary -Url '{Url("sslmode=verify-full")}' -SslRootCert '{pg.Ca.PemPath}' -TimeoutSec 10").AssertNoErrors().Single<PgConnectionSummary>();
    }

    [Fact]
    public void The_URL_sslrootcert_works_as_in_libpq_and_require_with_a_wrong_root_is_refused()
    {
        fx.Run($"Get-PgConnectionSummary -Url '{Url($"sslmode=verify-full&sslrootcert={pg.Ca.PemPath}")}' -TimeoutSec 10").AssertNoErrors().Single<PgConnectionSummary>();
        // libpq: with a root certificate, require verifies the chain (verify-ca); a root that did not sign it is refused.
        var r = fx.Run($"Get-PgConnectionSummary -Url '{Url($"sslmode=require&sslrootcert={pg.Other.PemPath}")}' -TimeoutSec 10");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgCertificateNotTrusted,IncidentOps.Commands.GetPgConnectionSummaryCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"not signed by the CA of sslrootcert {pg.Other.PemPath}", e.ToString());
        AssertNoPassword(r);
    }

    [Fact]
    public void Another_CA_is_refused_and_named_even_when_the_URL_asks_only_for_require()
    {
        var r = fx.Run($"Get-PgConnectionSummary -Url '{Url("sslmode=require")}' -CaCertificate '{pg.Other.PemPath}' -TimeoutSec 10");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgCertificateNotTrusted,IncidentOps.Commands.GetPgConnectionSummaryCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"not signed by the CA of -CaCertificate {pg.Other.PemPath}", e.ToString());
        AssertNoPassword(r);
    }

    [Fact]
    public void A_host_name_the_certificate_does_not_name_is_refused_by_verify_full_and_accepted_by_verify_ca()
    {
        // The certificate names 127.0.0.1 only; localhost is the same server under another name.
        var r = fx.Run($"Get-PgConnectionSummary -Url '{Url("sslmode=verify-full", "localhost")}' -CaCertificate '{pg.Ca.PemPath}' -TimeoutSec 10");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgCertificateNotTrusted,IncidentOps.Commands.GetPgConnectionSummaryCommand", e.FullyQualifiedErrorId);
        Assert.Contains("does not name this host", e.ToString());
        fx.Run($"Get-PgConnectionSummary -Url '{Url("sslmode=verify-ca", "localhost")}' -CaCertificate '{pg.Ca.PemPath}' -TimeoutSec 10").AssertNoErrors().Single<PgConnectionSummary>();
    }

    [Fact]
    public void The_service_postgres_caCertificate_is_read_relative_to_the_configuration_file()
    {
        var dir = Paths.TempDir("io-pg-ca");
        Directory.CreateDirectory(Path.Combine(dir, "certs"));
        File.Copy(pg.Ca.PemPath, Path.Combine(dir, "certs", "db-ca.pem"));
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, "version: 1\nenvironments:\n  production:\n    services:\n      api:\n" +
            $"        postgres: {{ connectionString: 'postgres://postgres@127.0.0.1:{pg.Port}/postgres', caCertificate: certs/db-ca.pem }}\n" +
            $"store:\n  path: {dir}\n");
        var credential = $"([pscredential]::new('postgres', [System.Net.NetworkCredential]::new('', '{TlsPgServer.Password}').SecurePassword))";
        var r = fx.Run($"Get-PgConnectionSummary -Service api -Environment production -ConfigPath '{config}' -Credential {credential} -TimeoutSec 10").AssertNoErrors();
        Assert.Equal("production/api", r.Single<PgConnectionSummary>().Service);
    }

    [Fact]
    public void A_CaCertificate_that_is_no_certificate_is_PgCaCertificateInvalid()
    {
        var dir = Paths.TempDir("io-pg-badca");
        var path = Path.Combine(dir, "notes.txt");
        File.WriteAllText(path, "not a certificate");
        var r = fx.Run($"Get-PgConnectionSummary -Url '{Url("sslmode=verify-full")}' -CaCertificate '{path}' -TimeoutSec 10");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgCaCertificateInvalid,IncidentOps.Commands.GetPgConnectionSummaryCommand", e.FullyQualifiedErrorId);
        Assert.Contains(path, e.ToString());
        AssertNoPassword(r);
    }
}

/// <summary>
/// A PostgreSQL 15 cluster of the tests' own with ssl=on and a server certificate for 127.0.0.1 signed by a private CA
/// made in the test; password (scram) logins over TCP. Stopped and removed on dispose.
/// </summary>
public sealed class TlsPgServer : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    public const string Password = "canary-pg-tls-R8w2";
    private readonly string _root;

    public TlsPgServer()
    {
        Ca = new PrivateCa("CN=IncidentOps Test DB CA");
        Other = new PrivateCa("CN=Another DB CA");
        _root = Path.Combine(Path.GetTempPath(), "io-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_root);
        File.WriteAllText(Path.Combine(_root, "owner.pid"), Environment.ProcessId.ToString());
        using (var cert = Ca.Issue("127.0.0.1"))
        {
            File.WriteAllText(Path.Combine(_root, "server.crt"), cert.ExportCertificatePem());
            File.WriteAllText(Path.Combine(_root, "server.key"), PrivateCa.KeyPem(cert));
        }
        File.WriteAllText(Path.Combine(_root, "pw"), Password);
        TestServers.Shell($"chown -R postgres:postgres {_root} && chmod 600 {_root}/server.key {_root}/pw");
        TestServers.Shell($"runuser -u postgres -- {Bin}/initdb -D {_root}/data -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile={_root}/pw -E UTF8 --locale=C.UTF-8 --no-sync");
        var log = Path.Combine(_root, "server.log");
        // A free port, tried again on a fresh one when another process took it before the server bound it.
        Port = TestServers.StartOnFreePort(port =>
        {
            File.Delete(log);
            TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -l {log} -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p {port} -k {_root} -c fsync=off -c ssl=on -c ssl_cert_file={_root}/server.crt -c ssl_key_file={_root}/server.key\" start");
        }, _ => TestServers.PgLogSaysPortTaken(log));
    }

    public int Port { get; }
    public PrivateCa Ca { get; }
    public PrivateCa Other { get; }

    public void Dispose()
    {
        try { TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -m immediate -w stop"); } catch (InvalidOperationException) { }
        try { Directory.Delete(_root, true); } catch (IOException) { }
        Ca.Dispose();
        Other.Dispose();
    }
}
