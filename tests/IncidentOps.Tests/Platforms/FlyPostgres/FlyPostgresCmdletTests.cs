using IncidentOps.Config;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>Fly Postgres through the fake flyctl: status, restart, backups list/create/restore.</summary>
public class FlyDatabaseCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Db = "ai-affiliate-empire-db";
    private static readonly string StatusCall = $"flyctl status -a {Db} --json";
    private static readonly string ListCall = $"flyctl postgres backup list -a {Db}";

    private static (FakeCli Cli, string Target) Fly(params Reply[] replies)
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", replies);
        return (cli, $"-Platform Fly -DatabaseApp {Db} -FlyctlPath '{path}'");
    }

    private static string HealthyStatus() => File.ReadAllText(Fixture("fly-pg-status.json")).Replace("\"critical\"", "\"passing\"", StringComparison.Ordinal);

    [Fact]
    public void GetAppDatabase_reads_flyctl_status_of_the_postgres_app_and_the_role_checks()
    {
        var (cli, t) = Fly(new Reply($"status -a {Db} --json", "fly-pg-status.json"));
        var db = fx.Run($"Get-AppDatabase {t}").AssertNoErrors().Single<AppDatabase>();
        Assert.Equal([StatusCall], cli.Calls);
        Assert.Equal((PlatformKind.Fly, Db, Db), (db.Platform, db.Name, db.DatabaseApp));
        Assert.Equal(AppState.Degraded, db.State);
        Assert.Contains("e784966ce39e18", db.Reason);
        Assert.Contains("pg: critical", db.Reason);
        Assert.Equal(("5683d427c1e98e", 2, "iad"), (db.Primary, db.NodeCount, db.Region));
        Assert.Equal(("postgres", "16.4-1.pgdg120+2"), (db.Engine, db.Version));
        Assert.Equal(["primary", "replica"], db.Nodes.Select(n => n.Role));
        Assert.Equal([true, false], db.Nodes.Select(n => n.Healthy));
        Assert.Contains("role: passing", db.Nodes[1].Checks);
    }

    [Fact]
    public void GetAppDatabase_without_a_passing_primary_is_Down_and_says_which_roles_it_saw()
    {
        var text = HealthyStatus().Replace("\"status\": \"passing\", \"output\": \"primary\"", "\"status\": \"critical\", \"output\": \"primary\"", StringComparison.Ordinal);
        var (_, t) = Fly(new Reply("status", Text: text));
        var db = fx.Run($"Get-AppDatabase {t}").AssertNoErrors().Single<AppDatabase>();
        Assert.Equal(AppState.Down, db.State);
        Assert.Null(db.Primary);
        Assert.Contains("no primary", db.Reason);
        Assert.Contains("5683d427c1e98e=error", db.Reason);
    }

    [Fact]
    public void GetAppDatabaseBackup_parses_the_flexctl_table_newest_first()
    {
        var (cli, t) = Fly(new Reply($"postgres backup list -a {Db}", "fly-pg-backups.txt"));
        var list = fx.Run($"Get-AppDatabaseBackup {t}").AssertNoErrors().Objects<AppDatabaseBackup>().ToList();
        Assert.Equal([ListCall], cli.Calls);
        Assert.Equal(["20261123T020012", "20261122T020009", "20261121T020011", "20261109T020008"], list.Select(b => b.BackupId));
        Assert.Equal([true, true, false, true], list.Select(b => b.Restorable));
        Assert.Equal(["DONE", "DONE", "FAILED", "DONE"], list.Select(b => b.Status));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 2, 0, 41, TimeSpan.Zero), list[0].CreatedAt);
        Assert.Equal(new DateTimeOffset(2026, 11, 9, 2, 0, 35, TimeSpan.Zero), list[3].CreatedAt);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 2, 0, 11, TimeSpan.Zero), list[2].CreatedAt);
        Assert.Equal("before-v12", list[3].Alias);
        Assert.Null(list[0].Alias);
        Assert.All(list, b => Assert.Equal((PlatformKind.Fly, Db), (b.Platform, b.DatabaseApp)));
    }

    [Fact]
    public void GetAppDatabaseBackup_with_no_backups_is_empty_and_a_remote_flexctl_failure_is_an_error()
    {
        var (_, t) = Fly(new Reply("postgres backup list", Text: "No backups found\n"));
        var r = fx.Run($"Get-AppDatabaseBackup {t}").AssertNoErrors();
        Assert.Empty(r.Output);
        var (_, t2) = Fly(new Reply("postgres backup list", Text: "Exit code: 1\nbackups are not enabled\n"));
        var e = Assert.Single(fx.Run($"Get-AppDatabaseBackup {t2}").Errors);
        Assert.Equal("PlatformCommandFailed,IncidentOps.Commands.GetAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Contains("backups are not enabled", e.ToString());
    }

    [Fact]
    public void GetAppDatabaseBackup_output_without_the_table_names_the_command_and_the_columns()
    {
        var (_, t) = Fly(new Reply("postgres backup list", Text: "something else entirely\n"));
        var e = Assert.Single(fx.Run($"Get-AppDatabaseBackup {t}").Errors);
        Assert.Equal("PlatformOutputInvalid,IncidentOps.Commands.GetAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Contains(ListCall, e.ToString());
        Assert.Contains("ID/Name", e.ToString());
    }

    [Fact]
    public void NewAppDatabaseBackup_creates_then_returns_the_named_backup_from_the_list()
    {
        var (cli, t) = Fly(new Reply($"postgres backup create -a {Db} --name before-v12", Text: "Performing backup...\nBackup completed successfully!\n"),
            new Reply("postgres backup list", "fly-pg-backups.txt"));
        var b = fx.Run($"New-AppDatabaseBackup {t} -Name before-v12 -Force").AssertNoErrors().Single<AppDatabaseBackup>();
        Assert.Equal([$"flyctl postgres backup create -a {Db} --name before-v12", ListCall], cli.Calls);
        Assert.Equal(("20261109T020008", "before-v12", true), (b.BackupId, b.Alias, b.Restorable));
    }

    [Fact]
    public void NewAppDatabaseBackup_WhatIf_prints_the_command_and_runs_nothing()
    {
        var (cli, t) = Fly(new Reply("postgres backup create", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"New-AppDatabaseBackup {t} -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Empty(cli.Calls);
        Assert.Contains($"flyctl postgres backup create -a {Db}", r.HostText);
    }

    [Fact]
    public void RestartAppDatabase_WhatIf_runs_nothing_and_Force_runs_postgres_restart()
    {
        var (cli, t) = Fly(new Reply($"postgres restart -a {Db}", Text: "Postgres cluster has been successfully restarted!\n"));
        var w = fx.Run($"Restart-AppDatabase {t} -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        Assert.Contains($"flyctl postgres restart -a {Db}", w.HostText);
        var r = fx.Run($"Restart-AppDatabase {t} -Force").AssertNoErrors().Single<AppActionResult>();
        Assert.Equal([$"flyctl postgres restart -a {Db}"], cli.Calls);
        Assert.True(r.Succeeded);
        Assert.Equal(("Restart database", Db), (r.Action, r.Name));
        Assert.Contains("successfully restarted", r.Output);
    }

    [Fact]
    public void RestartAppDatabase_Wait_polls_the_cluster_until_healthy()
    {
        var (cli, t) = Fly(new Reply("postgres restart", Text: "ok\n"), new Reply("status", Text: HealthyStatus()));
        var r = fx.Run($"Restart-AppDatabase {t} -Wait -TimeoutSec 30 -Force").AssertNoErrors().Single<AppActionResult>();
        Assert.Equal([$"flyctl postgres restart -a {Db}", StatusCall], cli.Calls);
        Assert.Equal((true, (AppState?)AppState.Healthy), (r.Succeeded, r.StateAfter));
    }

    [Fact]
    public void RestoreAppDatabaseBackup_checks_the_backup_then_restores_into_a_new_app()
    {
        var restore = $"postgres backup restore {Db}-restore-20261123t020012 -a {Db} --restore-target-name 20261123T020012 --detach";
        var (cli, t) = Fly(new Reply("postgres backup list", "fly-pg-backups.txt"), new Reply(restore, Text: "Launching...\n"));
        var r = fx.Run($"Restore-AppDatabaseBackup {t} -BackupId 20261123T020012 -Force");
        var result = r.AssertNoErrors().Single<AppDatabaseRestoreResult>();
        Assert.Equal([ListCall, "flyctl " + restore], cli.Calls);
        Assert.Equal((Db, $"{Db}-restore-20261123t020012", $"{Db}-restore-20261123t020012", "launching"), (result.Source, result.NewName, result.DatabaseApp, result.Status));
        Assert.Contains(r.Warnings, w => w.Contains("NEW Postgres app", StringComparison.Ordinal));
    }

    [Fact]
    public void RestoreAppDatabaseBackup_by_alias_with_Wait_and_NewName_does_not_detach()
    {
        var restore = $"postgres backup restore orders-restored -a {Db} --restore-target-name before-v12";
        var (cli, t) = Fly(new Reply("postgres backup list", "fly-pg-backups.txt"), new Reply(restore, Text: "Postgres cluster orders-restored created\n"));
        var result = fx.Run($"Restore-AppDatabaseBackup {t} -BackupId before-v12 -NewName orders-restored -Wait -Force").AssertNoErrors().Single<AppDatabaseRestoreResult>();
        Assert.Equal("flyctl " + restore, cli.Calls.Last());
        Assert.Equal(("20261109T020008", "restored"), (result.BackupId, result.Status));
    }

    [Fact]
    public void RestoreAppDatabaseBackup_WhatIf_prints_the_command_and_runs_nothing()
    {
        var (cli, t) = Fly(new Reply("postgres", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Restore-AppDatabaseBackup {t} -BackupId 20261123T020012 -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Empty(cli.Calls);
        Assert.Contains($"flyctl postgres backup restore {Db}-restore-20261123t020012 -a {Db} --restore-target-name 20261123T020012 --detach", r.HostText);
    }

    [Fact]
    public void RestoreAppDatabaseBackup_refuses_an_unknown_or_failed_backup_before_restoring()
    {
        var (cli, t) = Fly(new Reply("postgres backup list", "fly-pg-backups.txt"), new Reply("postgres backup restore", Text: "SHOULD NOT RUN"));
        var e = Assert.Single(fx.Run($"Restore-AppDatabaseBackup {t} -BackupId 20200101T000000 -Force").Errors);
        Assert.Equal("DatabaseBackupNotFound,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Contains("20261123T020012", e.ToString());
        var f = Assert.Single(fx.Run($"Restore-AppDatabaseBackup {t} -BackupId 20261121T020011 -Force").Errors);
        Assert.Equal("DatabaseBackupNotRestorable,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", f.FullyQualifiedErrorId);
        Assert.DoesNotContain(cli.Calls, c => c.Contains("restore", StringComparison.Ordinal));
    }

    [Fact]
    public void RestoreAppDatabaseBackup_without_a_backup_id_is_a_parameter_error_and_runs_nothing()
    {
        var (cli, t) = Fly(new Reply("postgres", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Restore-AppDatabaseBackup {t} -Force");
        var e = Assert.Single(r.Errors);
        Assert.Contains("BackupId", e.ToString());
        Assert.Equal("MissingMandatoryParameter,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Empty(r.Output);
        Assert.Empty(cli.Calls);
        var empty = Assert.Single(fx.Run($"Restore-AppDatabaseBackup {t} -BackupId '' -Force").Errors);
        Assert.StartsWith("ParameterArgumentValidationError", empty.FullyQualifiedErrorId);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void A_bad_new_name_is_refused_before_anything_runs()
    {
        var (cli, t) = Fly(new Reply("postgres", Text: "SHOULD NOT RUN"));
        var e = Assert.Single(fx.Run($"Restore-AppDatabaseBackup {t} -BackupId 20261123T020012 -NewName 'Bad Name' -Force").Errors);
        Assert.Equal("DatabaseNameInvalid,IncidentOps.Commands.RestoreAppDatabaseBackupCommand", e.FullyQualifiedErrorId);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void Non_zero_exit_names_the_cli_the_command_line_and_stderr()
    {
        var (_, t) = Fly(new Reply("postgres restart", Exit: 1, Stderr: "Error: no active leader found"));
        var e = Assert.Single(fx.Run($"Restart-AppDatabase {t} -Force").Errors);
        Assert.Equal("PlatformCommandFailed,IncidentOps.Commands.RestartAppDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"flyctl postgres restart -a {Db}", e.ToString());
        Assert.Contains("no active leader", e.ToString());
    }

    [Fact]
    public void A_missing_target_says_how_to_give_one()
    {
        var e = Assert.Single(fx.Run("Get-AppDatabase").Errors);
        Assert.Equal("DatabaseTargetMissing,IncidentOps.Commands.GetAppDatabaseCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-DatabaseApp", e.ToString());
        var k = Assert.Single(fx.Run("Get-AppDatabase -Platform Kubernetes -DatabaseId pg-0").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.GetAppDatabaseCommand", k.FullyQualifiedErrorId);
    }
}

public class AppDatabaseTimelineTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public async Task Restart_backup_and_restore_are_recorded_on_the_active_incident_with_their_command_lines()
    {
        var dir = Paths.TempDir();
        var store = new IncidentOps.Engine.Incidents.FileIncidentStore(dir);
        var incident = await store.CreateAsync(id => new IncidentOps.Incidents.Incident { Id = id, Title = "database down", Severity = "P0" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"store: {{ path: {dir} }}\n");
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("postgres restart", Text: "ok\n"), new Reply("postgres backup create", Text: "Backup completed successfully!\n"),
            new Reply("postgres backup list", "fly-pg-backups.txt"), new Reply("postgres backup restore", Text: "Launching...\n"));
        var t = $"-Platform Fly -DatabaseApp pg1 -FlyctlPath '{path}' -ConfigPath '{config}'";
        fx.Run($"Restart-AppDatabase {t} -Force").AssertNoErrors();
        fx.Run($"New-AppDatabaseBackup {t} -Force").AssertNoErrors();
        fx.Run($"Restore-AppDatabaseBackup {t} -BackupId 20261122T020009 -WhatIf").AssertNoErrors();
        fx.Run($"Restore-AppDatabaseBackup {t} -BackupId 20261122T020009 -Force").AssertNoErrors();
        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        var restart = Assert.Single(timeline, e => e.Action == "Restart");
        Assert.Equal((IncidentOps.Incidents.TimelineOutcome.Succeeded, "Fly Postgres app pg1"), (restart.Outcome, restart.Target));
        Assert.Contains("flyctl postgres restart -a pg1", restart.Result);
        var backup = Assert.Single(timeline, e => e.Action == "Create backup");
        Assert.Contains("backup 20261123T020012", backup.Result);
        Assert.Contains(timeline, e => e.Action == "Restore backup" && e.Outcome == IncidentOps.Incidents.TimelineOutcome.WhatIf);
        var restore = Assert.Single(timeline, e => e.Action == "Restore backup" && e.Outcome == IncidentOps.Incidents.TimelineOutcome.Succeeded);
        Assert.Contains("flyctl postgres backup restore pg1-restore-20261122t020009 -a pg1 --restore-target-name 20261122T020009 --detach", restore.Result);
    }
}

public class AppDatabaseStopTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void CtrlC_stops_a_database_call_at_once_and_kills_flyctl()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("postgres backup list", Sleep: true));
        var (_, result) = fx.Session.RunAndStopWhen($"Get-AppDatabaseBackup -Platform Fly -DatabaseApp pg1 -FlyctlPath '{path}' -TimeoutSec 300", () => cli.Pid("flyctl.child") is not null);
        Assert.Empty(result.Output);
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.pid")), "flyctl still running after Ctrl+C");
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.child")), "flyctl's child still running after Ctrl+C");
    }
}
