using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Postgres;

/// <summary>Postgres error ids that had no test, each against the real server on loopback.</summary>
public sealed class PgErrorIdTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void A_server_that_refuses_the_session_for_another_reason_is_PgConnectionFailed_with_the_servers_reason()
    {
        // ALLOW_CONNECTIONS false: the server answers, then refuses the session (SQLSTATE 55000), which is
        // neither a missing database, authentication, TLS nor full slots.
        var admin = new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Pooling = false };
        var db = "io_closed_" + Guid.NewGuid().ToString("N")[..8];
        Exec(admin.ConnectionString, $"CREATE DATABASE {db} ALLOW_CONNECTIONS false");
        try
        {
            var cs = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = db }.ConnectionString;
            var r = fx.Run($"Get-PgActivity -ConnectionString '{cs}'");
            var e = Assert.Single(r.Errors);
            Assert.Equal("PgConnectionFailed,IncidentOps.Commands.GetPgActivityCommand", e.FullyQualifiedErrorId);
            Assert.Contains("55000", e.ToString());
            Assert.Contains("not currently accepting connections", e.ToString());
        }
        finally { Exec(admin.ConnectionString, $"DROP DATABASE {db}"); }
    }

    [Fact]
    public void A_connection_string_that_cannot_be_read_is_PgConnectionStringInvalid()
    {
        var r = fx.Run("Get-PgActivity -ConnectionString 'Host=127.0.0.1;NoSuchKeyword=1'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgConnectionStringInvalid,IncidentOps.Commands.GetPgActivityCommand", e.FullyQualifiedErrorId);
    }

    [Fact]
    public void A_service_without_postgres_is_PgNotConfigured()
    {
        var path = Path.Combine(Paths.TempDir("io-pgid"), "incidentops.yml");
        File.WriteAllText(path, "version: 1\nenvironments:\n  production:\n    services:\n      web:\n        health: [http://127.0.0.1:1/health]\n");
        var r = fx.Run($"Get-PgActivity -Service production/web -ConfigPath '{path}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgNotConfigured,IncidentOps.Commands.GetPgActivityCommand", e.FullyQualifiedErrorId);
        Assert.Contains("production/web", e.ToString());
    }

    private static void Exec(string cs, string sql)
    {
        using var c = new NpgsqlConnection(cs);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }
}
