using IncidentOps.Config;
using IncidentOps.Engine.Config;
using Xunit;

namespace IncidentOps.Tests.Config;

/// <summary>The caCertificate keys of health entries and postgres:, beside redis.caCertificate.</summary>
public sealed class ConfigTlsKeysTests
{
    private static ConfigLoadResult Parse(string yaml) => ConfigParser.Parse(yaml, "/cfg/incidentops.yml");

    [Fact]
    public void Health_entries_and_postgres_take_a_caCertificate_reference_or_path()
    {
        var r = Parse("version: 1\nenvironments:\n  production:\n    services:\n      api:\n" +
            "        health:\n          - https://api.example.com/health\n          - { url: 'https://api.internal/health', caCertificate: certs/ca.pem }\n" +
            "        postgres: { connectionString: 'postgres://app@db.internal/app?sslmode=verify-full', caCertificate: 'env:DB_CA' }\n");
        Assert.Empty(r.Findings.Where(f => f.Severity == FindingSeverity.Error));
        var api = r.Config!.Services.Single();
        Assert.Null(api.Health[0].CaCertificate);
        Assert.Equal("certs/ca.pem", api.Health[1].CaCertificate!.ToString());
        Assert.Equal("env:DB_CA", api.Postgres!.CaCertificate!.ToString());
        Assert.Contains(api.Postgres.CaCertificate, ConfigValidator.EnumerateValues(r.Config));
        Assert.Contains(api.Health[1].CaCertificate, ConfigValidator.EnumerateValues(r.Config));
    }

    [Fact]
    public void A_postgres_caCertificate_without_a_connectionString_is_an_error()
    {
        var r = Parse("version: 1\nenvironments:\n  production:\n    services:\n      api:\n        postgres: { caCertificate: ca.pem, fly: api-db }\n");
        var e = Assert.Single(r.Findings.Where(f => f.Severity == FindingSeverity.Error));
        Assert.Contains("has a caCertificate but no connectionString", e.Message);
    }
}
