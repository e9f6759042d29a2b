using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

/// <summary>
/// An internal service whose certificate is signed by a private CA: Test-ServiceHealth calls it untrusted and says how to
/// pass the CA; with -CaCertificate (or caCertificate: in the service's health entry) it is healthy; a different CA or a
/// host name the certificate does not name is still refused. Real TLS on loopback: a certificate for 127.0.0.1 signed by
/// a CA made in the test.
/// </summary>
public sealed class HealthPrivateCaTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly PrivateCa _ca = new("CN=IncidentOps Test Private CA");
    private readonly PrivateCa _other = new("CN=Some Other CA");
    private HealthTestServer? _server;

    private HealthTestServer Server => _server ??= new HealthTestServer(_ca.Issue("127.0.0.1"));

    public void Dispose()
    {
        _server?.Dispose();
        _ca.Dispose();
        _other.Dispose();
    }

    [Fact]
    public void Without_the_CA_the_endpoint_is_untrusted_and_the_reason_says_how_to_pass_it()
    {
        var r = fx.Run($"Test-ServiceHealth '{Server.Url("/ok")}' -TimeoutSec 5").AssertNoErrors().Single<HealthResult>();
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.TlsFailure, r.FailureKind);
        Assert.StartsWith("certificate rejected: ", r.Reason);
        Assert.Contains("Pass its CA with -CaCertificate", r.Reason);
    }

    [Fact]
    public void With_CaCertificate_the_endpoint_is_healthy_and_reports_no_validation_error()
    {
        var r = fx.Run($"Test-ServiceHealth '{Server.Url("/ok")}' -CaCertificate '{_ca.PemPath}' -TimeoutSec 5").AssertNoErrors().Single<HealthResult>();
        Assert.True(r.Healthy, r.Reason);
        Assert.Empty(r.Certificate!.ValidationErrors);
        // Watch-ServiceHealth shares the parameter.
        var w = fx.Run($"Watch-ServiceHealth '{Server.Url("/ok")}' -CaCert '{_ca.PemPath}' -UntilHealthy -Duration 10s -Interval 1s -TimeoutSec 5").AssertNoErrors();
        var watched = w.Output.Select(o => o.BaseObject).OfType<HealthResult>().ToList();
        Assert.NotEmpty(watched);
        Assert.All(watched, x => Assert.True(x.Healthy, x.Reason));
        // Get-ServiceCertificate judges the chain against the same CA.
        var c = fx.Run($"Get-ServiceCertificate '127.0.0.1:{Server.Port}' -CaCertificate '{_ca.PemPath}'").AssertNoErrors().Single<CertificateFacts>();
        Assert.Empty(c.ValidationErrors);
        var plain = fx.Run($"Get-ServiceCertificate '127.0.0.1:{Server.Port}'").AssertNoErrors().Single<CertificateFacts>();
        Assert.NotEmpty(plain.ValidationErrors);
    }

    [Fact]
    public void A_different_CA_is_refused_and_named()
    {
        var r = fx.Run($"Test-ServiceHealth '{Server.Url("/ok")}' -CaCertificate '{_other.PemPath}' -TimeoutSec 5").AssertNoErrors().Single<HealthResult>();
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.TlsFailure, r.FailureKind);
        Assert.Contains($"not signed by the CA of -CaCertificate {_other.PemPath}", r.Reason);
    }

    [Fact]
    public void The_CA_does_not_excuse_a_host_name_the_certificate_does_not_name()
    {
        // The certificate names 127.0.0.1 only; localhost reaches the same server under another name.
        var r = fx.Run($"Test-ServiceHealth 'https://localhost:{Server.Port}/ok' -CaCertificate '{_ca.PemPath}' -TimeoutSec 5").AssertNoErrors().Single<HealthResult>();
        Assert.False(r.Healthy);
        Assert.Equal(HealthFailureKind.TlsFailure, r.FailureKind);
        Assert.Contains("does not name", r.Reason);
    }

    [Fact]
    public void The_health_entry_caCertificate_is_read_relative_to_the_configuration_file_and_a_bad_one_is_an_error()
    {
        var dir = Paths.TempDir("io-health-ca");
        Directory.CreateDirectory(Path.Combine(dir, "certs"));
        File.Copy(_ca.PemPath, Path.Combine(dir, "certs", "internal-ca.pem"));
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not a certificate");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, "version: 1\nenvironments:\n  production:\n    services:\n" +
            $"      api:\n        health:\n          - {{ url: '{Server.Url("/ok")}', caCertificate: certs/internal-ca.pem }}\n" +
            $"      pem:\n        health:\n          - {{ url: '{Server.Url("/json")}', caCertificate: 'file:certs/internal-ca.pem' }}\n" +
            $"      bad:\n        health:\n          - {{ url: '{Server.Url("/ok")}', caCertificate: notes.txt }}\n" +
            $"store:\n  path: {dir}\n");
        var r = fx.Run($"Test-ServiceHealth -Service api, pem, bad -Environment production -ConfigPath '{config}' -TimeoutSec 5");
        var results = r.Output.Select(o => o.BaseObject).OfType<HealthResult>().ToList();
        Assert.Equal(2, results.Count);
        Assert.All(results, x => Assert.True(x.Healthy, x.Reason));
        var e = Assert.Single(r.Errors);
        Assert.Equal("HealthCaCertificateInvalid,IncidentOps.Commands.TestServiceHealthCommand", e.FullyQualifiedErrorId);
        Assert.Contains("notes.txt", e.ToString());
    }

    [Fact]
    public void A_CaCertificate_file_that_holds_no_certificate_stops_the_command()
    {
        var dir = Paths.TempDir("io-health-badca");
        var path = Path.Combine(dir, "notes.txt");
        File.WriteAllText(path, "not a certificate");
        var r = fx.Run($"Test-ServiceHealth '{Server.Url("/ok")}' -CaCertificate '{path}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("HealthCaCertificateInvalid,IncidentOps.Commands.TestServiceHealthCommand", e.FullyQualifiedErrorId);
        Assert.Contains(path, e.ToString());
        Assert.Empty(r.Output);
    }
}

/// <summary>A CA made in the test (its PEM in a temp folder) that issues loopback server certificates.</summary>
public sealed class PrivateCa : IDisposable
{
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _cert;

    public PrivateCa(string subject)
    {
        var req = new CertificateRequest(subject, _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        _cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        Dir = Paths.TempDir("io-private-ca");
        PemPath = Path.Combine(Dir, "ca.pem");
        File.WriteAllText(PemPath, _cert.ExportCertificatePem());
    }

    public string Dir { get; }
    public string PemPath { get; }

    /// <summary>A server certificate (with its key) for <paramref name="ip"/> only, signed by this CA.</summary>
    public X509Certificate2 Issue(string ip, string? dns = null)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest($"CN={dns ?? ip}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Parse(ip));
        if (dns is not null) san.AddDnsName(dns);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_cert, true, false));
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var issued = req.Create(_cert, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    /// <summary>The key of a certificate issued by <see cref="Issue"/>, as PEM (for servers that read files: PostgreSQL).</summary>
    public static string KeyPem(X509Certificate2 cert) => cert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem();

    public void Dispose()
    {
        _cert.Dispose();
        _key.Dispose();
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
