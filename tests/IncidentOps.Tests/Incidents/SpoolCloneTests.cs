using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Incidents;

/// <summary>
/// This user's local folder of the team store is named after the cluster's system identifier, database and schema, which a
/// copy made from a base backup (pg_basebackup, a restored backup: a staging clone of production) shares with the original.
/// Before, a spool written while the original was down was written into the clone by the first command whose configuration
/// reached it (when the clone held the same incident id), and removed: the original never got those entries. The active
/// incident set on the original was the active incident on the clone too. Now each spooled entry and the pointer record the
/// server they were written for, and are only written to / applied on that server (or its promoted standby). Real
/// PostgreSQL 15 clusters of the test's own on loopback; the clone and the standby are made with pg_basebackup.
/// </summary>
public sealed class SpoolCloneTests : IDisposable
{
    private readonly PrivatePostgres _original = new();
    private readonly string _dir = Paths.TempDir("io-spool-clone");

    public void Dispose()
    {
        _original.Dispose();
        Paths.DeleteTree(_dir);
    }

    private (IncidentOpsEngine Engine, IncidentOpsConfig Config, CollectingSink Sink) Open(int port)
    {
        var variable = "IO_CLONE_" + Guid.NewGuid().ToString("N")[..10];
        Environment.SetEnvironmentVariable(variable, $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=2");
        var sink = new CollectingSink();
        var config = new IncidentOpsConfig
        {
            Severities = DefaultSeverities.Levels,
            Store = new StoreConfig { Kind = StoreKind.Postgres, Path = Path.Combine(_dir, "me"), Schema = "team", ConnectionString = new ConfigValue($"env:{variable}", true, null, isConnection: true) },
        };
        return (new IncidentOpsEngine(sink, NoSecretProvider.Instance), config, sink);
    }

    private static TimelineEntry Restart(string target) => new() { Kind = "action", Action = "Restart app", Target = target, Outcome = TimelineOutcome.Succeeded };

    [Fact]
    public async Task A_spool_written_while_the_original_was_down_is_not_written_into_its_clone_and_reaches_the_original_later()
    {
        var (prod, prodConfig, _) = Open(_original.Port);
        await prod.Incidents.InitializeStoreAsync(prodConfig, CancellationToken.None);
        var incident = await prod.Incidents.CreateAsync(prodConfig, new NewIncidentRequest { Title = "checkout errors", Severity = "P1" }, ChangeContext.Engine, CancellationToken.None);
        using var clone = new ClonedPostgres(_original.Port, standby: false);

        _original.Stop();
        Assert.Equal(incident.Id, await prod.Timeline.RecordAsync(Restart("api-1"), null, prodConfig, CancellationToken.None));
        var prodStore = (PostgresIncidentStore)prod.OpenStore(prodConfig);
        Assert.Equal(1, prodStore.SpooledCount());

        // The configuration now points at the clone (a staging copy): same system identifier, database, schema and incident id.
        var (staging, stagingConfig, sink) = Open(clone.Port);
        var onClone = await staging.Incidents.GetTimelineAsync(stagingConfig, incident.Id, CancellationToken.None);
        Assert.DoesNotContain(onClone, e => e.Action == "Restart app");
        Assert.Equal(1, prodStore.SpooledCount());
        Assert.Contains(sink.Warnings, w => w.Contains($"127.0.0.1:{_original.Port}") && w.Contains(prodStore.SpoolPath) && w.Contains("not written"));
        // The active incident set on the original is not the clone's.
        Assert.Null(await staging.OpenStore(stagingConfig).GetActiveIdAsync(CancellationToken.None));
        Assert.Contains(sink.Warnings, w => w.Contains(incident.Id) && w.Contains("Set-Incident -Activate"));

        _original.Start();
        var onOriginal = await prod.Incidents.GetTimelineAsync(prodConfig, incident.Id, CancellationToken.None);
        Assert.Single(onOriginal, e => e.Action == "Restart app" && e.Target == "api-1");
        Assert.Equal(0, prodStore.SpooledCount());
        Assert.Equal(incident.Id, await prod.OpenStore(prodConfig).GetActiveIdAsync(CancellationToken.None));
        Assert.DoesNotContain(await staging.Incidents.GetTimelineAsync(stagingConfig, incident.Id, CancellationToken.None), e => e.Action == "Restart app");
    }

    /// <summary>
    /// A copy the rule cannot confirm (here a clone, taken for a standby promoted before the entries were spooled): the
    /// warning's way to write them there on purpose (move them to that address's spool) does, once.
    /// </summary>
    [Fact]
    public async Task Entries_kept_for_another_server_are_written_to_this_one_once_they_are_moved_to_its_address_spool_on_purpose()
    {
        var (prod, prodConfig, _) = Open(_original.Port);
        await prod.Incidents.InitializeStoreAsync(prodConfig, CancellationToken.None);
        var incident = await prod.Incidents.CreateAsync(prodConfig, new NewIncidentRequest { Title = "checkout errors", Severity = "P1" }, ChangeContext.Engine, CancellationToken.None);
        using var clone = new ClonedPostgres(_original.Port, standby: false);
        _original.Stop();
        await prod.Timeline.RecordAsync(Restart("api-3"), null, prodConfig, CancellationToken.None);
        var spool = ((PostgresIncidentStore)prod.OpenStore(prodConfig)).SpoolPath;

        var (other, otherConfig, sink) = Open(clone.Port);
        var otherStore = (PostgresIncidentStore)other.OpenStore(otherConfig);
        Assert.DoesNotContain(await other.Incidents.GetTimelineAsync(otherConfig, incident.Id, CancellationToken.None), e => e.Action == "Restart app");
        var mine = Path.Combine(otherStore.AddressFolder, "spool.jsonl");
        Assert.Contains(sink.Warnings, w => w.Contains($"Get-Content -LiteralPath '{spool}' | Add-Content -LiteralPath '{mine}'"));

        // What the warning says: Get-Content ... | Add-Content ...; Remove-Item ...
        File.AppendAllLines(mine, File.ReadAllLines(spool));
        File.Delete(spool);
        await other.Incidents.AddNoteAsync(otherConfig, incident.Id, "moved on purpose", ChangeContext.Engine, CancellationToken.None);
        await other.Incidents.AddNoteAsync(otherConfig, incident.Id, "again", ChangeContext.Engine, CancellationToken.None);
        Assert.Single(await other.Incidents.GetTimelineAsync(otherConfig, incident.Id, CancellationToken.None), e => e.Action == "Restart app" && e.Target == "api-3");
        Assert.False(File.Exists(mine));
    }

    [Fact]
    public async Task A_spool_written_while_the_primary_was_down_is_written_to_its_promoted_standby_reached_through_another_address()
    {
        var (primary, primaryConfig, _) = Open(_original.Port);
        await primary.Incidents.InitializeStoreAsync(primaryConfig, CancellationToken.None);
        var incident = await primary.Incidents.CreateAsync(primaryConfig, new NewIncidentRequest { Title = "checkout errors", Severity = "P1" }, ChangeContext.Engine, CancellationToken.None);
        using var standby = new ClonedPostgres(_original.Port, standby: true);

        _original.Stop();
        Assert.Equal(incident.Id, await primary.Timeline.RecordAsync(Restart("api-2"), null, primaryConfig, CancellationToken.None));
        Assert.Equal(1, ((PostgresIncidentStore)primary.OpenStore(primaryConfig)).SpooledCount());
        standby.Promote();

        // Failover: the configuration now names the promoted standby's address.
        var (after, afterConfig, _) = Open(standby.Port);
        Assert.Equal(incident.Id, await after.OpenStore(afterConfig).GetActiveIdAsync(CancellationToken.None));
        var timeline = await after.Incidents.GetTimelineAsync(afterConfig, incident.Id, CancellationToken.None);
        Assert.Single(timeline, e => e.Action == "Restart app" && e.Target == "api-2");
        Assert.Equal(0, ((PostgresIncidentStore)after.OpenStore(afterConfig)).SpooledCount());
    }
}

/// <summary>
/// A copy of a running cluster made with pg_basebackup (WAL streamed), started on another free loopback port: a clone (a
/// primary of its own from the start, on the same timeline) or, with <c>standby</c>, a streaming standby that can be promoted.
/// </summary>
public sealed class ClonedPostgres : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _root;

    public ClonedPostgres(int sourcePort, bool standby)
    {
        _root = Path.Combine(Path.GetTempPath(), "io-pgclone-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_root);
        Port = TestServers.FreePort();
        TestServers.Shell($"chown postgres:postgres {_root}");
        TestServers.Shell($"runuser -u postgres -- {Bin}/pg_basebackup -h 127.0.0.1 -p {sourcePort} -U postgres -D {_root}/data -X stream --no-sync{(standby ? " -R" : "")}");
        TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -l {_root}/server.log -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p {Port} -k {_root} -c fsync=off\" start");
    }

    public int Port { get; }

    public void Promote() => TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -w -t 60 promote");

    public void Dispose()
    {
        try { TestServers.Shell($"runuser -u postgres -- {Bin}/pg_ctl -D {_root}/data -m immediate -w stop"); } catch (InvalidOperationException) { /* already stopped */ }
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
