using IncidentOps.Config;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>DigitalOcean managed databases through the fake doctl: status, backups, fork-restore, and what DigitalOcean cannot do.</summary>
[Collection(nameof(DoctlEnvironment))]
public class DigitalOceanDatabaseCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    /// <summary>This test's own doctl config folder and environment (no machine doctl config or DIGITALOCEAN_CONTEXT applies).</summary>
    private readonly DoctlHome _home = new();
    public void Dispose() => _home.Dispose();
    private const string Id = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30";
    private const string Fork = "databases fork portfolio-db-restored --restore-from-cluster-id " + Id + " --restore-from-timestamp 2026-11-23 02:00:41 +0000 UTC -o json";

    private static (FakeCli Cli, string Path, string Target) Do(params Reply[] replies)
    {
        var cli = new FakeCli();
        var all = new[]
        {
            new Reply($"databases get {Id} -o json", "do-database.json"),
            new Reply($"databases backups {Id} -o json", "do-database-backups.json"),
        }.Concat(replies).ToArray();
        var path = cli.Tool("doctl", all);
        return (cli, path, $"-Platform DigitalOcean -DatabaseId {Id} -DoctlPath '{path}'");
    }

    [Fact]
    public void GetAppDatabase_reads_doctl_databases_get_and_never_shows_the_passwords()
    {
        var (cli, _, t) = Do();
        var r = fx.Run($"Get-AppDatabase {t} -Verbose");
        var db = r.AssertNoErrors().Single<AppDatabase>();
        Assert.Equal([$"doctl databases get {Id} -o json{_home.Pins}"], cli.Calls);
        Assert.Equal((AppState.Healthy, "online", "pg", "16"), (db.State, db.Status, db.Engine, db.Version));
        Assert.Equal(("portfolio-db", Id, 2, "db-s-1vcpu-2gb", "nyc3"), (db.Name, db.DatabaseId, db.NodeCount, db.Size, db.Region));
        Assert.DoesNotContain("AVNS_canaryDbPass9931", r.AllText());
        Assert.DoesNotContain("AVNS_canaryAppPass4417", r.AllText());
    }

    [Fact]
    public void GetAppDatabase_maps_a_resizing_cluster_to_Degraded()
    {
        var cli = new FakeCli();
        var path = cli.Tool("doctl", new Reply("databases get", Text: File.ReadAllText(Fixture("do-database.json")).Replace("\"online\"", "\"resizing\"", StringComparison.Ordinal)));
        var db = fx.Run($"Get-AppDatabase -Platform DigitalOcean -DatabaseId {Id} -DoctlPath '{path}'").AssertNoErrors().Single<AppDatabase>();
        Assert.Equal(AppState.Degraded, db.State);
        Assert.Contains("resizing", db.Reason);
    }

    [Fact]
    public void GetAppDatabaseBackup_lists_backups_identified_by_their_creation_time()
    {
        var (cli, _, t) = Do();
        var list = fx.Run($"Get-AppDatabaseBackup {t}").AssertNoErrors().Objects<AppDatabaseBackup>().ToList();
        Assert.Equal([$"doctl databases backups {Id} -o json{_home.Pins}"], cli.Calls);
        Assert.Equal(["2026-11-23T02:00:41Z", "2026-11-22T02:00:39Z", "2026-11-21T02:00:40Z"], list.Select(b => b.BackupId));
        Assert.Equal(0.0421, list[0].SizeGigabytes);
        Assert.All(list, b => Assert.Equal((PlatformKind.DigitalOcean, Id, true), (b.Platform, b.DatabaseId, b.Restorable)));
    }

    [Fact]
    public void A_piped_backup_is_restored_by_forking_a_new_cluster_and_its_password_never_shows()
    {
        var (cli, path, t) = Do(new Reply(Fork, "do-database-fork.json"));
        var r = fx.Run($"@(Get-AppDatabaseBackup {t})[0] | Restore-AppDatabaseBackup -NewName portfolio-db-restored -DoctlPath '{path}' -Force -Verbose");
        var result = r.AssertNoErrors().Single<AppDatabaseRestoreResult>();
        Assert.Equal([$"doctl databases backups {Id} -o json{_home.Pins}", "doctl " + Fork + _home.Pins], cli.Calls);
        Assert.Equal((Id, "2026-11-23T02:00:41Z", "portfolio-db-restored", "4d2b7f10-3c1e-4b9a-9e55-1f0a2b3c4d5e", "forking"),
            (result.Source, result.BackupId, result.NewName, result.DatabaseId, result.Status));
        Assert.Contains("--restore-from-timestamp '2026-11-23 02:00:41 +0000 UTC'", result.Commands.Single());
        Assert.Contains(r.Warnings, w => w.Contains("NEW cluster", StringComparison.Ordinal));
        Assert.DoesNotContain("AVNS_canaryForkPass5520", r.AllText());
    }

    [Fact]
    public void RestoreAppDatabaseBackup_WhatIf_prints_the_doctl_fork_command_and_runs_nothing()
    {
        var (cli, _, t) = Do(new Reply("databases fork", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Restore-AppDatabaseBackup {t} -BackupId 2026-11-22T02:00:39Z -Wait -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        Assert.Contains($"doctl databases fork db-9cc10173-restore-20261122-020039 --restore-from-cluster-id {Id} --restore-from-timestamp '2026-11-22 02:00:39 +0000 UTC' --wait -o json", r.HostText);
    }

    [Fact]
    public void RestoreAppDatabaseBackup_refuses_a_backup_id_that_is_not_a_time()
    {
        var (cli, _, t) = Do();
        var e = Assert.Single(fx.Run($"Restore-AppDatabaseBackup {t} -BackupId yesterday -Force").Errors);
        Assert.Equal("BackupIdInvalid,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Contains("Get-AppDatabaseBackup", e.ToString());
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void Restart_and_on_demand_backup_are_not_supported_and_say_what_to_do_instead()
    {
        var (cli, _, t) = Do();
        var restart = Assert.Single(fx.Run($"Restart-AppDatabase {t} -Force").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.RestartAppDatabaseCommand", restart.FullyQualifiedErrorId);
        Assert.Contains("doctl databases resize", restart.ToString());
        var backup = Assert.Single(fx.Run($"New-AppDatabaseBackup {t} -WhatIf").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.NewAppDatabaseBackupCommand", backup.FullyQualifiedErrorId);
        Assert.Contains("daily", backup.ToString());
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void Configured_services_give_the_fly_app_and_the_digitalocean_cluster()
    {
        var (doCli, doPath, _) = Do();
        var flyCli = new FakeCli();
        var flyPath = flyCli.Tool("flyctl", new Reply("status -a ai-affiliate-empire-db --json", "fly-pg-status.json"));
        var dir = Paths.TempDir();
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $$"""
            environments:
              production:
                services:
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                    postgres:
                      fly: ai-affiliate-empire-db
                  portfolio:
                    platform: digitalocean
                    appId: f1e2d3c4
                    postgres:
                      digitalOcean: {{Id}}
                  marketing:
                    platform: kubernetes
                    deployment: marketing
            tools:
              flyctl: {{flyPath}}
              doctl: {{doPath}}
            store: { path: {{dir}} }
            """);
        var r = fx.Run($"Get-IncidentOpsService -Path '{config}' | Get-AppDatabase -ConfigPath '{config}'");
        var dbs = r.Objects<AppDatabase>().ToList();
        Assert.Equal(["production/api", "production/portfolio"], dbs.Select(d => d.Service));
        Assert.Equal([PlatformKind.Fly, PlatformKind.DigitalOcean], dbs.Select(d => d.Platform));
        Assert.Equal(["flyctl status -a ai-affiliate-empire-db --json"], flyCli.Calls);
        Assert.Equal([$"doctl databases get {Id} -o json{_home.Pins}"], doCli.Calls);
        var e = Assert.Single(r.Errors);
        Assert.Equal("DatabaseTargetMissing,IncidentOps.Commands.GetAppDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains("production/marketing", e.ToString());
    }

    [Fact]
    public void RestoreAppDatabaseBackup_to_a_point_in_time_is_refused_and_says_to_restore_a_backup()
    {
        var (cli, _, t) = Do();
        var e = Assert.Single(fx.Run($"Restore-AppDatabaseBackup {t} -RestoreTime '2026-11-23T01:55:00Z' -Force").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Contains("Restore-AppDatabaseBackup", e.ToString());
        Assert.Empty(cli.Calls);
    }
}
