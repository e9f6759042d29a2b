using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Npgsql;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// The active incident of the team store is per person and per database, whatever the address looks like. Before, it was
/// kept per address as written: a responder who made an incident active with Host=127.0.0.1 and ran a change through a
/// configuration that says localhost (a scheduled script with its own file, a postgres:// URL, another key order) found
/// no active incident there, or an old one, and the change was recorded on no incident or on the wrong one. Real
/// PostgreSQL; each test in a schema of its own.
/// </summary>
public sealed class StoreAddressTests : IDisposable
{
    private readonly string _dir = Paths.TempDir("io-store-address");
    private readonly string _schema = $"addr_{Guid.NewGuid():N}"[..17];
    private readonly List<string> _databases = [];
    private static NpgsqlConnectionStringBuilder Server => new(TestServers.PostgresConnectionString);

    public void Dispose()
    {
        PgStores.Drop(_schema);
        foreach (var db in _databases) Exec($"DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)");
        Paths.DeleteTree(_dir);
    }

    private static void Exec(string sql)
    {
        using var c = new NpgsqlConnection(TestServers.PostgresConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The same database, spelled as a person's interactive configuration spells it.</summary>
    private static string Interactive => $"Host=127.0.0.1;Port={Server.Port};Username={Server.Username};Database={Server.Database}";

    /// <summary>... and as a scheduled script's own configuration does: another host name, a URL, no key order in common.</summary>
    private static string Scripted => $"postgres://{Server.Username}@localhost:{Server.Port}/{Server.Database}";

    private (IncidentOpsEngine Engine, IncidentOpsConfig Config, CollectingSink Sink) Open(string connectionString, string? database = null)
    {
        var variable = "IO_ADDR_" + Guid.NewGuid().ToString("N")[..10];
        Environment.SetEnvironmentVariable(variable, connectionString);
        var sink = new CollectingSink();
        var config = new IncidentOpsConfig
        {
            Severities = DefaultSeverities.Levels,
            Store = new StoreConfig { Kind = StoreKind.Postgres, Path = Path.Combine(_dir, "me"), Schema = _schema, ConnectionString = new ConfigValue($"env:{variable}", true, null, isConnection: true) },
        };
        return (new IncidentOpsEngine(sink, NoSecretProvider.Instance), config, sink);
    }

    [Fact]
    public async Task A_change_run_through_another_spelling_of_the_store_address_is_recorded_on_the_active_incident()
    {
        var (me, mine, _) = Open(Interactive);
        await me.Incidents.InitializeStoreAsync(mine, CancellationToken.None);
        var incident = await me.Incidents.CreateAsync(mine, new NewIncidentRequest { Title = "checkout errors", Severity = "P1" }, ChangeContext.Engine, CancellationToken.None);

        var (script, its, _) = Open(Scripted);
        var recordedOn = await script.Timeline.RecordAsync(new TimelineEntry { Kind = "action", Action = "Restart app", Target = "api-1", Outcome = TimelineOutcome.Succeeded }, null, its, CancellationToken.None);

        Assert.Equal(incident.Id, recordedOn);
        var timeline = await me.Incidents.GetTimelineAsync(mine, incident.Id, CancellationToken.None);
        Assert.Single(timeline, e => e.Action == "Restart app" && e.Target == "api-1");
        // Either spelling clears it for both.
        await script.OpenStore(its).SetActiveIdAsync(null, CancellationToken.None);
        Assert.Null(await me.OpenStore(mine).GetActiveIdAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_pointer_set_by_an_earlier_version_under_the_address_folder_is_still_the_active_incident()
    {
        var (me, mine, _) = Open(Interactive);
        await me.Incidents.InitializeStoreAsync(mine, CancellationToken.None);
        var incident = await me.Incidents.CreateAsync(mine, new NewIncidentRequest { Title = "from before", Severity = "P2", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        // Where versions before this one kept it: one folder per address as written.
        var old = Path.Combine(_dir, "me", "stores", $"127.0.0.1_{Server.Port}_{Server.Database}_{_schema}", "active");
        Directory.CreateDirectory(Path.GetDirectoryName(old)!);
        File.WriteAllText(old, incident.Id);
        PostgresIncidentStore.ForgetResolvedDatabases(); // a new process, as after the upgrade

        Assert.Equal(incident.Id, await me.OpenStore(mine).GetActiveIdAsync(CancellationToken.None));
        var (script, its, _) = Open(Scripted);
        Assert.Equal(incident.Id, await script.OpenStore(its).GetActiveIdAsync(CancellationToken.None));
        Assert.False(File.Exists(old));
    }

    [Fact]
    public async Task Different_databases_and_schemas_on_one_server_never_share_an_active_incident()
    {
        var db = $"io_addr_{Guid.NewGuid():N}"[..16];
        _databases.Add(db);
        Exec($"CREATE DATABASE \"{db}\"");
        var (me, mine, _) = Open(Interactive);
        await me.Incidents.InitializeStoreAsync(mine, CancellationToken.None);
        var incident = await me.Incidents.CreateAsync(mine, new NewIncidentRequest { Title = "here", Severity = "P2" }, ChangeContext.Engine, CancellationToken.None);

        var other = new PostgresIncidentStore($"Host=127.0.0.1;Port={Server.Port};Username={Server.Username};Database={db}", _schema, Path.Combine(_dir, "me"));
        await other.InitializeAsync(CancellationToken.None);
        var otherSchema = new PostgresIncidentStore(Interactive, _schema + "_b", Path.Combine(_dir, "me"));
        try
        {
            await otherSchema.InitializeAsync(CancellationToken.None);
            Assert.Null(await other.GetActiveIdAsync(CancellationToken.None));
            Assert.Null(await otherSchema.GetActiveIdAsync(CancellationToken.None));
            Assert.NotEqual(other.LocalFolder, ((PostgresIncidentStore)me.OpenStore(mine)).LocalFolder);
            Assert.Equal(incident.Id, await me.OpenStore(mine).GetActiveIdAsync(CancellationToken.None));
        }
        finally { PgStores.Drop(_schema + "_b"); }
    }

    /// <summary>
    /// During an outage the script's process has never talked to the server: it still finds the database this address
    /// reached before (remembered on disk), so its change is spooled for the right incident, and any spelling that reaches
    /// the database later writes it.
    /// </summary>
    [Fact]
    public async Task While_the_store_is_down_a_change_through_another_spelling_is_spooled_for_the_active_incident_and_written_later()
    {
        using var pg = new PrivatePostgres();
        var a = $"Host=127.0.0.1;Port={pg.Port};Username=postgres;Database=postgres;Timeout=2";
        var b = $"Database=postgres; Username=postgres; Host=localhost; Timeout=2; Port={pg.Port}";
        var (me, mine, _) = Open(a);
        await me.Incidents.InitializeStoreAsync(mine, CancellationToken.None);
        var incident = await me.Incidents.CreateAsync(mine, new NewIncidentRequest { Title = "db down", Severity = "P1" }, ChangeContext.Engine, CancellationToken.None);
        var (script, its, sink) = Open(b);
        Assert.Equal(incident.Id, await script.OpenStore(its).GetActiveIdAsync(CancellationToken.None));

        pg.Stop();
        // The person's session finds the store down too (its first call drops the pool's dead connections).
        await Assert.ThrowsAsync<IncidentOpsException>(() => me.Incidents.GetAsync(mine, incident.Id, CancellationToken.None));
        PostgresIncidentStore.ForgetResolvedDatabases(); // the script's next run: a new process
        Assert.Equal(incident.Id, await script.Timeline.RecordAsync(new TimelineEntry { Kind = "action", Action = "Restart app", Target = "api-2", Outcome = TimelineOutcome.Succeeded }, null, its, CancellationToken.None));
        Assert.Contains(sink.Warnings, w => w.Contains("local spool"));

        pg.Start();
        var timeline = await me.Incidents.GetTimelineAsync(mine, incident.Id, CancellationToken.None);
        Assert.Single(timeline, e => e.Action == "Restart app" && e.Target == "api-2");
    }
}
