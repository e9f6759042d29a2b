using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// A claim of the team store (the outbox lock a sender holds for a whole delivery, the alerting round's lease on a
/// service) lives as long as its holder, whatever idle timeouts the server's administrator set: managed PostgreSQL
/// services and careful DBAs set idle_in_transaction_session_timeout / idle_session_timeout for the store's role. Before,
/// the server ended the claim's session while the holder waited on a slow provider call, the claim was gone without a
/// word, and a concurrent Send-IncidentUpdate -Pending or alerting round took it and posted the same update again (on
/// Statuspage: the first POST not there yet, so its check found nothing). On the real PostgreSQL, with a role of the
/// test's own whose sessions time out after 300 ms idle.
/// </summary>
public sealed class PostgresClaimLifetimeTests : IDisposable
{
    private readonly string _role = $"io_idle_{Guid.NewGuid():N}"[..16];
    private readonly PostgresIncidentStore _setup = PgStores.NewSchema(Paths.TempDir("io-pg-claim"), "claims");

    public PostgresClaimLifetimeTests() => Exec($"CREATE ROLE {_role} LOGIN SUPERUSER");

    public void Dispose()
    {
        PgStores.Drop(_setup.Schema);
        NpgsqlConnection.ClearAllPools();
        Exec($"DROP ROLE IF EXISTS {_role}");
    }

    private static void Exec(string sql)
    {
        using var c = new NpgsqlConnection(TestServers.PostgresConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The same store, reached as the role whose idle sessions the server ends (another process: its own pool).</summary>
    private PostgresIncidentStore AsIdleRole(string setting)
    {
        Exec($"ALTER ROLE {_role} SET {setting} = '300ms'");
        var b = new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Username = _role, ApplicationName = "io-claim-" + Guid.NewGuid().ToString("N")[..6] };
        return new PostgresIncidentStore(b.ConnectionString, _setup.Schema, Paths.TempDir("io-pg-claim-idle"));
    }

    /// <summary>Longer than the server's idle timeout, as a slow provider call (or its retries) keeps a holder idle.</summary>
    private static Task ASlowProviderCallAsync() => Task.Delay(TimeSpan.FromSeconds(1.5));

    [Fact]
    public async Task An_outbox_claim_outlives_the_servers_idle_in_transaction_timeout_so_no_second_sender_takes_it()
    {
        var incident = await _setup.CreateAsync(id => new Incident { Id = id, Title = "Checkout returns 502", Severity = "P1" }, CancellationToken.None);
        var holder = AsIdleRole("idle_in_transaction_session_timeout");
        var channel = IncidentStores.ChannelLockName("status");

        await using var claim = await holder.ClaimOutboxAsync(incident.Id, channel, TimeSpan.FromSeconds(5), CancellationToken.None);
        await ASlowProviderCallAsync();

        var other = new PostgresIncidentStore(TestServers.PostgresConnectionString, _setup.Schema, Paths.TempDir("io-pg-claim-other"));
        var busy = await Assert.ThrowsAsync<IncidentOpsException>(() => other.ClaimOutboxAsync(incident.Id, channel, TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal(IncidentErrorIds.StoreLockTimeout, busy.ErrorId);
    }

    [Fact]
    public async Task An_alerting_lease_outlives_the_servers_idle_session_timeout_so_no_second_round_takes_the_service()
    {
        var holder = new PostgresAlertStateStore(AsIdleRole("idle_session_timeout"));

        await using var lease = await holder.LockAsync("production/api", TimeSpan.FromSeconds(5), CancellationToken.None);
        await ASlowProviderCallAsync();

        var other = new PostgresAlertStateStore(new PostgresIncidentStore(TestServers.PostgresConnectionString, _setup.Schema, Paths.TempDir("io-pg-claim-other")));
        var busy = await Assert.ThrowsAsync<IncidentOpsException>(() => other.LockAsync("production/api", TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal(AlertingErrorIds.StateBusy, busy.ErrorId);
        lease.State.ConsecutiveFailures = 4;
        await lease.SaveAsync(lease.State, CancellationToken.None);
    }
}
