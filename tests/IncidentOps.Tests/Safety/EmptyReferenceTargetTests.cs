using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// A service's postgres connection written as file:PATH, where the file is there but empty (a secret mount that was
/// never filled in). The empty text used to parse as a connection string with nothing in it, which means libpq's
/// defaults: localhost:5432, the user's own database. A destructive command then acted on whatever runs there.
/// </summary>
public sealed class EmptyReferenceTargetTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly string _dir = Paths.TempDir("io-emptyref");

    [Theory]
    [InlineData("Stop-IdleConnections -Service production/db -IdleFor 0s -Force")]
    [InlineData("Stop-PgBackend -Service production/db -Pid 1 -Force")]
    [InlineData("Invoke-PgMaintenance -Service production/db -Force")]
    public void An_empty_file_reference_is_an_error_not_localhost(string command)
    {
        var empty = Path.Combine(_dir, "database-url");
        File.WriteAllText(empty, "\n");
        var cfg = Path.Combine(_dir, "incidentops.yml");
        File.WriteAllText(cfg, $$"""
            version: 1
            store: { path: {{Path.Combine(_dir, "store")}} }
            environments:
              production:
                services:
                  db:
                    postgres: file:{{empty}}
            """);
        var r = fx.Run($"{command} -ConfigPath '{cfg}'");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("ConfigReferenceUnresolved,", e.FullyQualifiedErrorId);
        Assert.Contains("is empty", e.ToString());
        Assert.DoesNotContain("localhost", e.ToString());
        Assert.Empty(r.Output);
    }

    public void Dispose() => Paths.DeleteTree(_dir);
}

/// <summary>
/// -Service and -ConnectionString typed together: the connection string was used and the service silently ignored, so
/// Stop-IdleConnections -Service production/db -ConnectionString $stale terminated sessions of $stale's server.
/// </summary>
public sealed class PgTargetConflictTests(ModuleFixture fx, IncidentOps.Tests.Postgres.PgTestDatabase db)
    : IClassFixture<ModuleFixture>, IClassFixture<IncidentOps.Tests.Postgres.PgTestDatabase>, IDisposable
{
    private readonly string _dir = Paths.TempDir("io-conflict");

    [Theory]
    [InlineData("Stop-IdleConnections -IdleFor 0s -ApplicationName $app -Force")]
    [InlineData("Stop-PgBackend -Pid $backend -Force")]
    [InlineData("Get-PgActivity -ApplicationName $app")]
    public async Task Service_and_ConnectionString_together_are_PgTargetConflict_and_nothing_happens(string command)
    {
        var app = "io-conflict-" + Guid.NewGuid().ToString("N")[..6];
        var session = await db.OpenAsync(db.AppRole, app);
        var cfg = Path.Combine(_dir, "incidentops.yml");
        // The service names the server's postgres database; the connection string, the class database with the session.
        File.WriteAllText(cfg, $$"""
            version: 1
            store: { path: {{Path.Combine(_dir, "store")}} }
            environments:
              production:
                services:
                  db:
                    postgres: '{{TestServers.PostgresConnectionString}}'
            """);
        var r = fx.Session.Run($"{command} -Service production/db -ConnectionString $cs -ConfigPath $cfg", new Dictionary<string, object?>
        {
            ["cs"] = db.ConnectionString("postgres"), ["cfg"] = cfg, ["app"] = app, ["backend"] = session.ProcessID,
        });
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("PgTargetConflict,", e.FullyQualifiedErrorId);
        Assert.Empty(r.Output);
        Assert.True(db.Exists(session.ProcessID));
    }

    public void Dispose() => Paths.DeleteTree(_dir);
}

/// <summary>A PGPORT that is not a port was ignored, so the command connected to 5432: another server than the one meant.</summary>
public sealed class PgPortTargetTests
{
    [Theory]
    [InlineData("5433x")]
    [InlineData("${DB_PORT}")]
    [InlineData("70000")]
    public async Task A_PGPORT_that_is_not_a_port_is_an_error_not_5432(string value)
    {
        var env = new Dictionary<string, string?> { ["PGHOST"] = "127.0.0.1", ["PGPORT"] = value, ["PGUSER"] = "postgres" };
        var svc = IncidentOps.Tests.Postgres.PgTestDatabase.Service(k => env.GetValueOrDefault(k));
        var ex = await Assert.ThrowsAsync<IncidentOps.IncidentOpsException>(() => svc.Connections.BuildAsync(new IncidentOps.Postgres.PgConnectionSpec(), CancellationToken.None));
        Assert.Equal(IncidentOps.Engine.Postgres.PostgresErrorIds.PgConnectionStringInvalid, ex.ErrorId);
        Assert.Contains("PGPORT", ex.Message);
    }

    [Fact]
    public async Task A_port_in_a_postgres_url_query_that_is_not_a_port_is_an_error()
    {
        var svc = IncidentOps.Tests.Postgres.PgTestDatabase.Service();
        var ex = await Assert.ThrowsAsync<IncidentOps.IncidentOpsException>(() => svc.Connections.BuildAsync(new IncidentOps.Postgres.PgConnectionSpec { ConnectionString = "postgres://u@127.0.0.1/db?port=5433x" }, CancellationToken.None));
        Assert.Equal(IncidentOps.Engine.Postgres.PostgresErrorIds.PgConnectionStringInvalid, ex.ErrorId);
    }
}
