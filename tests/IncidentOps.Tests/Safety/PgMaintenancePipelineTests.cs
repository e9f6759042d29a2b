using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Get-PgIndex | Invoke-PgMaintenance: an index of billing.orders used to give its bare table name, so VACUUM ran on
/// public.orders (another table), and, carrying no origin, on the libpq environment's server instead of the one it was
/// read from. Real PostgreSQL on loopback, tables of this class's own database.
/// </summary>
public sealed class PgMaintenancePipelineTests : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>, IDisposable
{
    private readonly ModuleFixture _fx;
    private readonly PgTestDatabase _db;
    private readonly string _dir = Paths.TempDir("io-mx");

    public PgMaintenancePipelineTests(ModuleFixture fx, PgTestDatabase db)
    {
        (_fx, _db) = (fx, db);
        db.ExecAs(db.SuperRole, """
            CREATE SCHEMA IF NOT EXISTS billing;
            CREATE TABLE IF NOT EXISTS billing.orders (id int PRIMARY KEY, total int);
            CREATE INDEX IF NOT EXISTS orders_total ON billing.orders (total);
            CREATE TABLE IF NOT EXISTS public.orders (id int PRIMARY KEY);
            """);
        File.WriteAllText(Config, $$"""
            version: 1
            store: { path: {{Path.Combine(_dir, "store")}} }
            environments:
              production:
                services:
                  db:
                    postgres: '{{db.ConnectionString("postgres")}}'
            """);
    }

    private string Config => Path.Combine(_dir, "incidentops.yml");

    private PwshResult Run(string script) => _fx.Session.Run(script, new Dictionary<string, object?>
    {
        ["cs"] = _db.ConnectionString("postgres"),
        ["other"] = TestServers.PostgresConnectionString,
        ["cfg"] = Config,
    });

    [Fact]
    public void A_piped_index_is_processed_on_its_own_schema_qualified_table_once_on_the_service_it_came_from()
    {
        // No -Service on Invoke-PgMaintenance: the index's Service binds (before, the libpq environment was used).
        var r = Run("Get-PgIndex -Service production/db -ConfigPath $cfg | Where-Object Schema -eq billing | Invoke-PgMaintenance -Operation Analyze -ConfigPath $cfg -Force").AssertNoErrors();
        var result = r.Single<PgMaintenanceResult>();   // two indexes of billing.orders, one ANALYZE
        Assert.Equal("billing.orders", result.Table);
        Assert.Equal("ANALYZE \"billing\".\"orders\"", result.Sql);
    }

    [Fact]
    public void A_piped_index_from_another_database_is_refused()
    {
        var r = Run("Get-PgIndex -ConnectionString $cs | Where-Object Schema -eq billing | Invoke-PgMaintenance -ConnectionString $other -Force");
        Assert.NotEmpty(r.Errors);
        Assert.All(r.Errors, e => Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.InvokePgMaintenanceCommand", e.FullyQualifiedErrorId));
        Assert.Empty(r.Objects<PgMaintenanceResult>());
    }

    [Fact]
    public async Task Piped_backends_are_refused_instead_of_running_maintenance_on_the_whole_database_for_each()
    {
        var app = "io-mx-" + Guid.NewGuid().ToString("N")[..6];
        await _db.OpenAsync(_db.AppRole, app);
        var r = Run($"Get-PgActivity -ConnectionString $cs -ApplicationName '{app}' | Invoke-PgMaintenance -ConnectionString $cs -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PgPipedBackendNotAccepted,IncidentOps.Commands.InvokePgMaintenanceCommand", e.FullyQualifiedErrorId);
        Assert.Empty(r.Objects<PgMaintenanceResult>());
    }

    public void Dispose() => Paths.DeleteTree(_dir);
}
