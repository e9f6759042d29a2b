using IncidentOps.Config;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>AWS RDS through a stand-in aws CLI replaying the documented output shapes (AwsRds/Fixtures/SOURCES.md): every AppDatabase cmdlet.</summary>
public class AwsRdsCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Db = "fastapi-db";
    private const string Tail = " --output json --no-cli-pager";
    private const string Describe = "rds describe-db-instances --db-instance-identifier " + Db + Tail;
    private const string Maintenance = "rds describe-pending-maintenance-actions --filters Name=db-instance-id,Values=" + Db + Tail;
    private const string Snapshots = "rds describe-db-snapshots --db-instance-identifier " + Db + Tail;

    private static (FakeCli Cli, string Target) Aws(params Reply[] replies)
    {
        var cli = new FakeCli();
        var all = replies.Concat(new[]
        {
            new Reply(Describe, "aws-rds-describe-db-instances.json"),
            new Reply(Maintenance, "aws-rds-pending-maintenance.json"),
            new Reply(Snapshots, "aws-rds-describe-db-snapshots.json"),
        }).ToArray();
        return (cli, $"-Platform Aws -DatabaseId {Db} -AwsPath '{cli.Tool("aws", all)}'");
    }

    [Fact]
    public void GetAppDatabase_reads_the_instance_state_engine_MultiAz_and_pending_maintenance()
    {
        var (cli, t) = Aws();
        var db = fx.Run($"Get-AppDatabase {t}").AssertNoErrors().Single<AppDatabase>();
        Assert.Equal(["aws " + Describe, "aws " + Maintenance], cli.Calls);
        Assert.Equal((PlatformKind.Aws, Db, Db, AppState.Healthy, "available"), (db.Platform, db.Name, db.DatabaseId, db.State, db.Status));
        Assert.Equal(("postgres", "16.4", "db.m6g.large"), (db.Engine, db.Version, db.Size));
        Assert.True(db.MultiAz);
        Assert.Equal(["primary", "standby"], db.Nodes.Select(n => n.Role));
        Assert.Equal(["us-east-1a", "us-east-1b"], db.Nodes.Select(n => n.Region));
        var pending = Assert.Single(db.PendingMaintenance);
        Assert.Contains("system-update", pending);
        Assert.Contains("2026-12-06T05:00:00", pending);
    }

    [Fact]
    public void GetAppDatabase_maps_a_stopped_or_rebooting_instance_and_unreadable_output_names_the_command()
    {
        var stopped = File.ReadAllText(Fixture("aws-rds-describe-db-instances.json")).Replace("\"available\"", "\"stopped\"", StringComparison.Ordinal);
        var (_, t) = Aws(new Reply(Describe, Text: stopped));
        var db = fx.Run($"Get-AppDatabase {t}").AssertNoErrors().Single<AppDatabase>();
        Assert.Equal((AppState.Down, "status stopped"), (db.State, db.Reason));
        var (_, bad) = Aws(new Reply(Describe, Text: "{\"Something\": []}"));
        var e = Assert.Single(fx.Run($"Get-AppDatabase {bad}").Errors);
        Assert.Equal("PlatformOutputInvalid,IncidentOps.Commands.GetAppDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains("aws rds describe-db-instances", e.ToString());
    }

    [Fact]
    public void GetAppDatabaseBackup_lists_snapshots_newest_first_and_only_available_ones_are_restorable()
    {
        var (cli, t) = Aws();
        var list = fx.Run($"Get-AppDatabaseBackup {t}").AssertNoErrors().Objects<AppDatabaseBackup>().ToList();
        Assert.Equal(["aws " + Snapshots], cli.Calls);
        Assert.Equal(["before-v12", "rds:fastapi-db-2026-11-23-02-10", "rds:fastapi-db-2026-11-22-02-10"], list.Select(b => b.BackupId));
        Assert.Equal([false, true, true], list.Select(b => b.Restorable));
        Assert.Equal(["manual", "automated", "automated"], list.Select(b => b.Alias));
        Assert.All(list, b => Assert.Equal((PlatformKind.Aws, Db, (double?)100), (b.Platform, b.DatabaseId, b.SizeGigabytes)));
    }

    [Fact]
    public void NewAppDatabaseBackup_creates_a_named_snapshot_and_WhatIf_runs_nothing()
    {
        const string create = "rds create-db-snapshot --db-instance-identifier fastapi-db --db-snapshot-identifier before-v13" + Tail;
        var (cli, t) = Aws(new Reply(create, "aws-rds-create-db-snapshot.json"));
        var w = fx.Run($"New-AppDatabaseBackup {t} -Name before-v13 -WhatIf").AssertNoErrors();
        Assert.Empty(w.Output);
        Assert.Empty(cli.Calls);
        Assert.Contains("aws " + create, w.HostText);
        var b = fx.Run($"New-AppDatabaseBackup {t} -Name before-v13 -Force").AssertNoErrors().Single<AppDatabaseBackup>();
        Assert.Equal(["aws " + create], cli.Calls);
        Assert.Equal(("before-v13", "creating", false), (b.BackupId, b.Status, b.Restorable));
    }

    [Fact]
    public void RestartAppDatabase_reboots_with_or_without_failover_and_Wait_polls_until_available()
    {
        const string reboot = "rds reboot-db-instance --db-instance-identifier fastapi-db";
        var (cli, t) = Aws(new Reply(reboot + " --force-failover" + Tail, "aws-rds-reboot-db-instance.json"), new Reply(reboot + Tail, "aws-rds-reboot-db-instance.json"));
        var w = fx.Run($"Restart-AppDatabase {t} -Failover -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        Assert.Contains($"aws {reboot} --force-failover{Tail}", w.HostText);
        var r = fx.Run($"Restart-AppDatabase {t} -Failover -Wait -TimeoutSec 30 -Force").AssertNoErrors().Single<AppActionResult>();
        Assert.Equal([$"aws {reboot} --force-failover{Tail}", "aws " + Describe, "aws " + Maintenance], cli.Calls);
        Assert.Equal((true, (AppState?)AppState.Healthy, "Reboot database with failover"), (r.Succeeded, r.StateAfter, r.Action));
        Assert.Contains("rebooting", r.Output);
        fx.Run($"Restart-AppDatabase {t} -Force").AssertNoErrors();
        Assert.Equal($"aws {reboot}{Tail}", cli.Calls.Last());
    }

    [Fact]
    public void Failover_is_refused_where_the_platform_has_none()
    {
        var cli = new FakeCli();
        var fly = cli.Tool("flyctl", new Reply("postgres restart", Text: "SHOULD NOT RUN"));
        var e = Assert.Single(fx.Run($"Restart-AppDatabase -Platform Fly -DatabaseApp pg1 -FlyctlPath '{fly}' -Failover -Force").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.RestartAppDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-Failover", e.ToString());
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void RestoreAppDatabaseBackup_from_a_snapshot_checks_it_then_creates_a_new_instance()
    {
        const string restore = "rds restore-db-instance-from-db-snapshot --db-instance-identifier fastapi-db-restore-2026-11-23-02-10 --db-snapshot-identifier rds:fastapi-db-2026-11-23-02-10" + Tail;
        var (cli, t) = Aws(new Reply(restore, "aws-rds-restore-from-snapshot.json"));
        var w = fx.Run($"Restore-AppDatabaseBackup {t} -BackupId rds:fastapi-db-2026-11-23-02-10 -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        Assert.Contains("aws " + restore, w.HostText);
        var r = fx.Run($"Restore-AppDatabaseBackup {t} -BackupId rds:fastapi-db-2026-11-23-02-10 -Force");
        var result = r.AssertNoErrors().Single<AppDatabaseRestoreResult>();
        Assert.Equal(["aws " + Snapshots, "aws " + restore], cli.Calls);
        Assert.Equal((Db, "fastapi-db-restore-2026-11-23-02-10", "fastapi-db-restore-2026-11-23-02-10", "creating"), (result.Source, result.NewName, result.DatabaseId, result.Status));
        Assert.Contains(r.Warnings, x => x.Contains("NEW DB instance", StringComparison.Ordinal));
        var e = Assert.Single(fx.Run($"Restore-AppDatabaseBackup {t} -BackupId before-v12 -Force").Errors);
        Assert.Equal("DatabaseBackupNotRestorable,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Equal(1, cli.Calls.Count(c => c.Contains("restore-db-instance", StringComparison.Ordinal)));
    }

    [Fact]
    public void RestoreAppDatabaseBackup_to_a_point_in_time_creates_a_new_instance_and_Wait_waits_for_it()
    {
        const string pitr = "rds restore-db-instance-to-point-in-time --source-db-instance-identifier fastapi-db --target-db-instance-identifier fastapi-db-before-migration --restore-time 2026-11-23T01:55:00Z" + Tail;
        const string wait = "rds wait db-instance-available --db-instance-identifier fastapi-db-before-migration --no-cli-pager";
        var (cli, t) = Aws(new Reply(pitr, "aws-rds-restore-to-point-in-time.json"), new Reply(wait, Text: ""));
        var w = fx.Run($"Restore-AppDatabaseBackup {t} -RestoreTime '2026-11-23T01:55:00Z' -NewName fastapi-db-before-migration -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        Assert.Contains("aws " + pitr, w.HostText);
        var result = fx.Run($"Restore-AppDatabaseBackup {t} -RestoreTime '2026-11-23T01:55:00Z' -NewName fastapi-db-before-migration -Wait -Force").AssertNoErrors().Single<AppDatabaseRestoreResult>();
        Assert.Equal(["aws " + pitr, "aws " + wait], cli.Calls);
        Assert.Equal(("2026-11-23T01:55:00Z", "fastapi-db-before-migration", "available"), (result.BackupId, result.NewName, result.Status));
    }

    [Fact]
    public void RestoreAppDatabaseBackup_to_the_latest_restorable_time_and_other_platforms_refuse_a_point_in_time()
    {
        const string latest = "rds restore-db-instance-to-point-in-time --source-db-instance-identifier fastapi-db --target-db-instance-identifier fastapi-db-restore-latest --use-latest-restorable-time" + Tail;
        var (cli, t) = Aws(new Reply(latest, "aws-rds-restore-to-point-in-time.json"));
        fx.Run($"Restore-AppDatabaseBackup {t} -LatestRestorableTime -Force").AssertNoErrors();
        Assert.Equal(["aws " + latest], cli.Calls);
        var fly = new FakeCli();
        var path = fly.Tool("flyctl", new Reply("postgres", Text: "SHOULD NOT RUN"));
        var e = Assert.Single(fx.Run($"Restore-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -FlyctlPath '{path}' -RestoreTime '2026-11-23T01:55:00Z' -Force").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Empty(fly.Calls);
    }

    [Fact]
    public void Names_that_are_not_RDS_identifiers_are_refused_before_the_cli_runs()
    {
        var (cli, _) = Aws();
        var path = cli.Tool("aws", new Reply("rds", Text: "SHOULD NOT RUN"));
        var e = Assert.Single(fx.Run($"Get-AppDatabase -Platform Aws -DatabaseId '--query=x' -AwsPath '{path}'").Errors);
        Assert.Equal("AppTargetInvalidName,IncidentOps.Commands.GetAppDatabaseCommand", e.FullyQualifiedErrorId);
        var s = Assert.Single(fx.Run($"Restore-AppDatabaseBackup -Platform Aws -DatabaseId fastapi-db -AwsPath '{path}' -BackupId '-x' -Force").Errors);
        Assert.Equal("AppTargetInvalidName,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", s.FullyQualifiedErrorId);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public async Task A_service_with_postgres_rds_is_found_and_its_restart_is_on_the_incident_timeline()
    {
        var dir = Paths.TempDir();
        var store = new IncidentOps.Engine.Incidents.FileIncidentStore(dir);
        var incident = await store.CreateAsync(id => new IncidentOps.Incidents.Incident { Id = id, Title = "fastapi down", Severity = "P1" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        var (cli, _) = Aws(new Reply("rds reboot-db-instance", "aws-rds-reboot-db-instance.json"));
        var aws = Path.Combine(cli.Dir, "aws");
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"store: {{ path: {dir} }}\ntools: {{ aws: '{aws}' }}\nenvironments:\n  production:\n    services:\n      fastapi:\n        postgres:\n          rds: fastapi-db\n");
        var db = fx.Run($"Get-AppDatabase -Service production/fastapi -ConfigPath '{config}'").AssertNoErrors().Single<AppDatabase>();
        Assert.Equal(("production/fastapi", PlatformKind.Aws, Db), (db.Service, db.Platform, db.DatabaseId));
        fx.Run($"Restart-AppDatabase -Service production/fastapi -ConfigPath '{config}' -Force").AssertNoErrors();
        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        var restart = Assert.Single(timeline, e => e.Action == "Restart");
        Assert.Equal((IncidentOps.Incidents.TimelineOutcome.Succeeded, "AWS RDS instance fastapi-db"), (restart.Outcome, restart.Target));
        Assert.Contains("aws rds reboot-db-instance --db-instance-identifier fastapi-db", restart.Result);
    }
}
