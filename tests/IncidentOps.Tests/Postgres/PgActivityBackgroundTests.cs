using IncidentOps.Engine.Postgres;
using IncidentOps.Postgres;
using Xunit;

namespace IncidentOps.Tests.Postgres;

/// <summary>
/// Get-PgActivity lists what an engineer acts on: the client sessions. The server's own processes (checkpointer, walwriter,
/// autovacuum launcher...) came with every list, six rows of noise above nothing at 3 a.m.; they now need -IncludeBackground,
/// except one that blocks a client session (an autovacuum worker holding a lock is the answer to "who blocks this?").
/// </summary>
public sealed class PgActivityBackgroundTests(PgTestDatabase db) : IClassFixture<PgTestDatabase>
{
    private PgConnectionSpec Spec() => new() { ConnectionString = db.ConnectionString("postgres"), TimeoutSec = 20 };

    [Fact]
    public async Task Without_IncludeBackground_only_client_sessions_are_listed_and_with_it_the_server_processes_too()
    {
        var app = "io-bg-" + Guid.NewGuid().ToString("N")[..6];
        var idle = await db.OpenAsync(db.AppRole, app);
        var service = PgTestDatabase.Service();

        var clients = await service.GetActivityAsync(Spec(), new PgActivityFilter { IncludeBackground = false }, CancellationToken.None);
        Assert.All(clients, a => Assert.Equal("client backend", a.BackendType));
        Assert.Contains(clients, a => a.Pid == idle.ProcessID);
        Assert.Single(clients, a => a.IsOwnSession);

        var all = await service.GetActivityAsync(Spec(), new PgActivityFilter { IncludeBackground = true }, CancellationToken.None);
        Assert.Contains(all, a => a.BackendType == "checkpointer");
        Assert.Contains(all, a => a.Pid == idle.ProcessID);
    }

    [Fact]
    public void A_background_process_that_blocks_a_client_session_is_listed_without_IncludeBackground()
    {
        var list = new[]
        {
            new PgActivity { Pid = 101, BackendType = "client backend", State = "active", BlockedBy = [202] },
            new PgActivity { Pid = 202, BackendType = "autovacuum worker", State = "active" },
            new PgActivity { Pid = 303, BackendType = "checkpointer" },
            new PgActivity { Pid = 404, BackendType = "client backend", State = "idle" },
        };
        var kept = PostgresService.Filter(list, new PgActivityFilter { IncludeBackground = false });
        Assert.Equal([101, 202, 404], kept.Select(a => a.Pid));
        Assert.Equal([202], PostgresService.Filter(list, new PgActivityFilter { IncludeBackground = false, Blocking = true }).Select(a => a.Pid));
        Assert.Equal(4, PostgresService.Filter(list, new PgActivityFilter()).Count);
    }
}
