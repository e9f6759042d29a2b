using IncidentOps.Engine.Incidents;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>The team store's own refusals: a schema name it will not quote into SQL, and a call that runs out of time on a lock.</summary>
public sealed class PostgresStoreErrorIdTests : IDisposable
{
    private readonly string _schema = $"errids_{Guid.NewGuid().ToString("N")[..8]}";

    public void Dispose()
    {
        try
        {
            using var c = new NpgsqlConnection(TestServers.PostgresConnectionString);
            c.Open();
            using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE", c);
            cmd.ExecuteNonQuery();
        }
        catch (NpgsqlException) { /* best effort */ }
    }

    [Theory]
    [InlineData("a; DROP SCHEMA public")]
    [InlineData("Team Store")]
    [InlineData("x\"y")]
    public void A_schema_that_is_not_a_plain_name_is_StoreConfigInvalid_before_any_connection(string schema)
    {
        // Nothing listens here: the name is refused before the store would connect.
        var ex = Assert.Throws<IncidentOpsException>(() => new PostgresIncidentStore($"Host=127.0.0.1;Port={TestServers.FreePort()};Username=ops", schema, Paths.TempDir("io-pg-schema")));
        Assert.Equal(IncidentErrorIds.StoreConfigInvalid, ex.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.InvalidArgument, ex.Category);
        Assert.Contains($"store.schema '{schema.Trim()}' is not a plain PostgreSQL name", ex.Message);
        Assert.Contains("for example: schema: incidentops", ex.Message);
    }

    [Fact]
    public async Task A_call_blocked_by_a_lock_past_the_call_timeout_is_StoreTimeout()
    {
        var store = new PostgresIncidentStore(TestServers.PostgresConnectionString, _schema, Paths.TempDir("io-pg-timeout"));
        await store.InitializeAsync(CancellationToken.None);
        await store.ListAsync(CancellationToken.None);

        // Another session holds every store table exclusively (as a long migration or a stuck transaction would).
        await using var holder = new NpgsqlConnection(TestServers.PostgresConnectionString);
        await holder.OpenAsync();
        await using (var cmd = new NpgsqlCommand($"BEGIN; LOCK TABLE {_schema}.incidents IN ACCESS EXCLUSIVE MODE;", holder)) await cmd.ExecuteNonQueryAsync();

        var started = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => store.ListAsync(CancellationToken.None));
        Assert.Equal(IncidentErrorIds.StoreTimeout, ex.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.OperationTimeout, ex.Category);
        Assert.Contains($"did not answer within {PostgresIncidentStore.CallTimeout.TotalSeconds:0} s", ex.Message);
        Assert.Contains("Check the server's load and locks (Get-PgActivity)", ex.Message);
        Assert.True(started.Elapsed < PostgresIncidentStore.CallTimeout + TimeSpan.FromSeconds(15), $"returned after {started.Elapsed}");
    }
}
