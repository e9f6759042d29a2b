using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Incidents;
using IncidentOps.Tests.Incidents;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// The <see cref="IAlertStateStore"/> contract against the team store on the real PostgreSQL (INCIDENTOPS_TEST_PG;
/// under CI it must be there). Each test gets a schema of its own (initialised as Initialize-IncidentStore does,
/// dropped after the test); every Open is a separate store object with its own sessions, as two processes would be.
/// </summary>
public sealed class PostgresAlertStateStoreContractTests : AlertStateStoreContract, IDisposable
{
    private readonly PostgresIncidentStore _store = PgStores.NewSchema(Paths.TempDir("io-pg-alertstate"), "alerts");

    protected override IAlertStateStore Open(string shared) =>
        new PostgresAlertStateStore(new PostgresIncidentStore(TestServers.PostgresConnectionString, _store.Schema, Paths.TempDir("io-pg-alertstate-open")));

    public void Dispose() => PgStores.Drop(_store.Schema);

    [Fact]
    public async Task The_state_is_one_json_row_per_service_in_the_alert_state_table()
    {
        await using (var lease = await Open("").LockAsync("production/api", TimeSpan.FromSeconds(5), CancellationToken.None))
        {
            lease.State.ConsecutiveFailures = 3;
            await lease.SaveAsync(lease.State, CancellationToken.None);
        }
        await using var c = new NpgsqlConnection(TestServers.PostgresConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT service, state->>'consecutiveFailures' FROM \"{_store.Schema}\".alert_state", c);
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal(("production/api", "3"), (r.GetString(0), r.GetString(1)));
        Assert.False(await r.ReadAsync());
    }

    [Fact]
    public async Task A_holder_whose_session_dies_releases_the_service_lock()
    {
        var lease = await Open("").LockAsync("production/api", TimeSpan.FromSeconds(5), CancellationToken.None);
        // The holder's session ends on the server (a killed process, a dropped connection).
        await using (var c = new NpgsqlConnection(TestServers.PostgresConnectionString))
        {
            await c.OpenAsync();
            await using var kill = new NpgsqlCommand("""
                WITH k AS (SELECT hashtextextended('incidentops.alerting.' || @schema || '.production/api', 0) AS h)
                SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l, k
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.classid::bigint = (k.h >> 32) & x'FFFFFFFF'::bigint AND l.objid::bigint = k.h & x'FFFFFFFF'::bigint
                """, c);
            kill.Parameters.AddWithValue("schema", _store.Schema);
            Assert.True(Convert.ToInt32(await kill.ExecuteScalarAsync()) >= 1);
        }
        await using var next = await Open("").LockAsync("production/api", TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal("production/api", next.State.Service);
        // The dead lease cannot save any more (its lock is gone), and says why instead of throwing a driver exception.
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => lease.SaveAsync(lease.State, CancellationToken.None));
        Assert.Equal(AlertingErrorIds.StoreUnavailable, ex.ErrorId);
        await lease.DisposeAsync();
    }

    [Fact]
    public async Task Waiting_for_a_held_lock_stops_at_once_when_cancelled()
    {
        await using var first = await Open("").LockAsync("production/api", TimeSpan.FromSeconds(5), CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var waiting = Open("").LockAsync("production/api", TimeSpan.FromMinutes(5), cts.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(5.5)));
        // The cancelled waiter took nothing: the holder still has it, and after it, the next one gets it.
        await first.DisposeAsync();
        await using var next = await Open("").LockAsync("production/api", TimeSpan.FromSeconds(5), CancellationToken.None);
    }

    [Fact]
    public async Task An_unreachable_server_is_AlertingStoreUnavailable_naming_host_and_port_never_the_password()
    {
        var port = TestServers.FreePort();
        var store = new PostgresAlertStateStore(new PostgresIncidentStore($"Host=127.0.0.1;Port={port};Username=postgres;Password=CANARYalertPgP4ss;Timeout=2", _store.Schema,
            Paths.TempDir("io-pg-alertstate-down")));
        foreach (var call in new Func<Task>[]
                 {
                     () => store.GetAsync("production/api", CancellationToken.None),
                     () => store.ListAsync(CancellationToken.None),
                     () => store.LockAsync("production/api", TimeSpan.FromSeconds(1), CancellationToken.None),
                 })
        {
            var ex = await Assert.ThrowsAsync<IncidentOpsException>(call);
            Assert.Equal(AlertingErrorIds.StoreUnavailable, ex.ErrorId);
            Assert.Contains($"127.0.0.1:{port}", ex.Message);
            Assert.DoesNotContain("CANARY", ex.ToString());
        }
    }

    [Fact]
    public async Task A_version_1_store_is_upgraded_by_adding_the_table_and_keeps_its_incidents()
    {
        var incident = await _store.CreateAsync(id => new IncidentOps.Incidents.Incident
        {
            Id = id, Title = "before the upgrade", Severity = "P1", SeverityName = "High",
            StartedAt = DateTimeOffset.UtcNow, DeclaredAt = DateTimeOffset.UtcNow, DetectedAt = DateTimeOffset.UtcNow,
        }, CancellationToken.None);
        // Make the schema what version 1 left behind.
        await using (var c = new NpgsqlConnection(TestServers.PostgresConnectionString))
        {
            await c.OpenAsync();
            await using var down = new NpgsqlCommand($"DROP TABLE \"{_store.Schema}\".alert_state; DELETE FROM \"{_store.Schema}\".schema_version WHERE version = 2", c);
            await down.ExecuteNonQueryAsync();
        }
        var fresh = new PostgresIncidentStore(TestServers.PostgresConnectionString, _store.Schema, Paths.TempDir("io-pg-alertstate-upgrade"));
        Assert.Equal(1, await fresh.GetSchemaVersionAsync(CancellationToken.None));
        var (current, pending) = await fresh.PlanAsync(CancellationToken.None);
        Assert.Equal(1, current);
        Assert.Equal([(2, "alerting state")], pending);
        Assert.Equal(1, await fresh.InitializeAsync(CancellationToken.None));
        Assert.Equal(2, await fresh.GetSchemaVersionAsync(CancellationToken.None));
        Assert.Equal("before the upgrade", (await fresh.GetAsync(incident.Id, CancellationToken.None))!.Title);
        Assert.Null(await new PostgresAlertStateStore(fresh).GetAsync("production/api", CancellationToken.None));
    }
}
