using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// The README's least privilege for the team store: an owner role runs Initialize-IncidentStore in a schema it owns;
/// the responders' role has only the default privileges the README grants there, and everything a responder does
/// works with them (declare, change, append, action items, outbox claims and entries, evidence, following).
/// </summary>
public sealed class StoreRoleTests : IDisposable
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private string Schema => $"roles_{_suffix}";
    private string Owner => $"io_owner_{_suffix}";
    private string Responder => $"io_resp_{_suffix}";

    private static void Exec(string sql)
    {
        using var c = new NpgsqlConnection(TestServers.PostgresConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    private string As(string role) =>
        new NpgsqlConnectionStringBuilder(TestServers.PostgresConnectionString) { Username = role, Password = "CANARYr0leP4ss" }.ConnectionString;

    public StoreRoleTests()
    {
        // Exactly the README's statements, with this test's names.
        Exec($"""
            CREATE ROLE {Owner} LOGIN PASSWORD 'CANARYr0leP4ss';
            CREATE SCHEMA {Schema} AUTHORIZATION {Owner};
            CREATE ROLE {Responder} LOGIN PASSWORD 'CANARYr0leP4ss';
            GRANT USAGE ON SCHEMA {Schema} TO {Responder};
            ALTER DEFAULT PRIVILEGES FOR ROLE {Owner} IN SCHEMA {Schema} GRANT SELECT, INSERT, UPDATE ON TABLES TO {Responder};
            ALTER DEFAULT PRIVILEGES FOR ROLE {Owner} IN SCHEMA {Schema} GRANT USAGE ON SEQUENCES TO {Responder};
            """);
    }

    public void Dispose()
    {
        try { Exec($"DROP SCHEMA IF EXISTS {Schema} CASCADE; DROP OWNED BY {Responder}; DROP ROLE IF EXISTS {Responder}; DROP ROLE IF EXISTS {Owner}"); }
        catch (NpgsqlException) { /* best effort */ }
    }

    [Fact]
    public async Task A_responder_role_with_only_the_READMEs_grants_on_its_own_schema_can_do_everything_a_responder_does()
    {
        var owner = new PostgresIncidentStore(As(Owner), Schema, Paths.TempDir("io-roles-owner"));
        await owner.InitializeAsync(CancellationToken.None);
        var store = new PostgresIncidentStore(As(Responder), Schema, Paths.TempDir("io-roles-resp"));
        var ct = CancellationToken.None;
        var incident = await store.CreateAsync(id => new Incident
        {
            Id = id, Title = "roles", Severity = "P2", SeverityName = "Medium",
            StartedAt = DateTimeOffset.UtcNow, DeclaredAt = DateTimeOffset.UtcNow, DetectedAt = DateTimeOffset.UtcNow,
        }, ct);
        await store.UpdateAsync(incident.Id, i => i.Commander = "alice", ct);
        await store.AppendTimelineAsync(incident.Id, new TimelineEntry { Kind = "note", Result = "as responder" }, ct);
        await store.ChangeActionItemsAsync(incident.Id, l => l.Add(new ActionItem { Id = $"{incident.Id}-A01", IncidentId = incident.Id, Action = "x" }), ct);
        await store.WriteOutboxEntryAsync(new IncidentUpdate { UpdateId = "UPD-20261130000000000-0001", IncidentId = incident.Id }, ct);
        await using (await store.ClaimOutboxAsync(incident.Id, "UPD-20261130000000000-0001", TimeSpan.FromSeconds(5), ct)) { }
        await store.PutEvidenceAsync(incident.Id, "e.txt", "evidence", DateTimeOffset.UtcNow, ct);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var follow = store.FollowTimelineAsync(incident.Id, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await follow.MoveNextAsync());
        Assert.Equal("alice", (await store.GetAsync(incident.Id, ct))!.Commander);
        Assert.Single(await store.ReadActionItemsAsync(incident.Id, ct));
        // The alerting state too (scheduled rounds run as this role): lock, save twice (insert, then update), read.
        var alerting = new IncidentOps.Engine.Alerting.PostgresAlertStateStore(store);
        await using (var lease = await alerting.LockAsync("production/api", TimeSpan.FromSeconds(5), ct))
        {
            lease.State.ConsecutiveFailures = 1;
            await lease.SaveAsync(lease.State, ct);
            lease.State.ConsecutiveFailures = 2;
            await lease.SaveAsync(lease.State, ct);
        }
        Assert.Equal(2, (await alerting.GetAsync("production/api", ct))!.ConsecutiveFailures);
        // And nothing more: the responder cannot delete from the timeline.
        await using var c = new NpgsqlConnection(As(Responder));
        await c.OpenAsync(ct);
        await using var delete = new NpgsqlCommand($"DELETE FROM {Schema}.timeline", c);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => delete.ExecuteNonQueryAsync(ct));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
    }
}
