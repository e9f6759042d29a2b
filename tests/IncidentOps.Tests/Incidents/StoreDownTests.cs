using System.Diagnostics;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// Issue 13, "when the store is down": a PostgreSQL of this test's own, stopped and started again in the middle of a
/// session. A change that already happened keeps its timeline entry in the local spool (with a warning naming it),
/// reads fail with StoreUnavailable naming host and port, and the next call that reaches the store writes the spool
/// once, in order.
/// </summary>
public sealed class StoreDownTests : IDisposable
{
    private readonly PrivatePostgres _pg = new();

    public void Dispose() => _pg.Dispose();

    [Fact]
    public async Task A_change_recorded_while_the_store_is_down_is_spooled_then_written_once_in_order_when_it_is_back()
    {
        var sink = new CollectingSink();
        var local = Paths.TempDir("io-store-down");
        Environment.SetEnvironmentVariable("IO_STORE_DOWN_TEST", _pg.ConnectionString + ";Password=CANARYd0wnP4ss;Timeout=2");
        var config = new IncidentOpsConfig
        {
            Severities = DefaultSeverities.Levels,
            Store = new StoreConfig { Kind = StoreKind.Postgres, Path = local, Schema = "team", ConnectionString = new ConfigValue("env:IO_STORE_DOWN_TEST", true, null, isConnection: true) },
        };
        var engine = new IncidentOpsEngine(sink, NoSecretProvider.Instance);
        await engine.Incidents.InitializeStoreAsync(config, CancellationToken.None);
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "db down", Severity = "P1" }, ChangeContext.Engine, CancellationToken.None);

        _pg.Stop();
        foreach (var n in Enumerable.Range(1, 3))
            Assert.Equal(incident.Id, await engine.Timeline.RecordAsync(new TimelineEntry { Kind = "action", Action = "Restart app", Target = $"api-{n}", Outcome = TimelineOutcome.Succeeded }, null, config, CancellationToken.None));
        var store = (PostgresIncidentStore)engine.OpenStore(config);
        Assert.Equal(3, store.SpooledCount());
        Assert.Contains(sink.Warnings, w => w.Contains(store.SpoolPath) && w.Contains($"127.0.0.1:{_pg.Port}") && w.Contains("Restart app api-1"));
        var down = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Incidents.GetAsync(config, incident.Id, CancellationToken.None));
        Assert.Equal(IncidentErrorIds.StoreUnavailable, down.ErrorId);
        Assert.Contains($"127.0.0.1:{_pg.Port}", down.Message);
        Assert.DoesNotContain("CANARY", down.Message + string.Join("\n", sink.Warnings));

        _pg.Start();
        var timeline = await engine.Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
        Assert.Equal(["api-1", "api-2", "api-3"], timeline.Where(e => e.Action == "Restart app").Select(e => e.Target));
        Assert.Equal(0, store.SpooledCount());
        // Another call, and another client: nothing is written twice.
        await engine.Incidents.AddNoteAsync(config, incident.Id, "back", ChangeContext.Engine, CancellationToken.None);
        var again = await new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance).Incidents.GetTimelineAsync(config, incident.Id, CancellationToken.None);
        Assert.Equal(3, again.Count(e => e.Action == "Restart app"));
        Assert.Equal(again.Select(e => e.Sequence).Distinct().Count(), again.Count);
    }
}

/// <summary>A PostgreSQL 15 cluster of one test (initdb as the postgres user), which the test may stop and start.</summary>
public sealed class PrivatePostgres : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _root;

    public PrivatePostgres()
    {
        _root = Path.Combine(Path.GetTempPath(), "io-pgpriv-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_root);
        TestServers.Shell($"chown postgres:postgres {_root}");
        TestServers.Shell($"runuser -u postgres -- {Bin}/initdb -D {_root}/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync");
        // A free port, tried again on a fresh one when another process took it before the server bound it.
        Port = TestServers.StartOnFreePort(p => { Port = p; File.Delete(Log); Start(); }, _ => TestServers.PgLogSaysPortTaken(Log));
    }

    private string Log => Path.Combine(_root, "server.log");

    public int Port { get; private set; }
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    public void Start() => TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -l {_root}/server.log -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p {Port} -k {_root} -c fsync=off\" start");
    public void Stop() => TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -m fast -w -t 60 stop");

    public void Dispose()
    {
        try { TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -m immediate -w stop"); } catch (InvalidOperationException) { /* already stopped */ }
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
