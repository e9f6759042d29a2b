using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

public class FlyCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string App = "ai-affiliate-empire";

    private static (FakeCli Cli, string Target) Fly(params Reply[] replies)
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", replies);
        return (cli, $"-Platform Fly -App {App} -FlyctlPath '{path}'");
    }

    [Fact]
    public void GetAppStatus_reads_flyctl_status_json_with_pascal_top_and_snake_machines()
    {
        var (cli, t) = Fly(new Reply($"status -a {App} --json", "fly-status.json"));
        var s = fx.Run($"Get-AppStatus {t}").AssertNoErrors().Single<AppStatus>();
        Assert.Equal([$"flyctl status -a {App} --json"], cli.Calls);
        Assert.Equal(AppState.Degraded, s.State);
        Assert.Equal("v13", s.Version);
        Assert.Equal((2, 1), (s.DesiredInstances, s.ReadyInstances));
        Assert.Equal("registry.fly.io/ai-affiliate-empire:deployment-01HQ13", s.Image);
        var stopped = Assert.Single(s.Instances, i => i.State == "stopped");
        Assert.Equal(("3d8d9e1a2b3c47", "OOMKilled", "iad"), (stopped.Id, stopped.LastExitReason, stopped.Region));
        Assert.Contains("servicecheck-00-http-3000: critical", stopped.Checks);
    }

    [Fact]
    public void GetAppDeployment_lists_releases_newest_first_marking_current_and_last_good()
    {
        var (cli, t) = Fly(new Reply($"releases -a {App} --json --image", "fly-releases.json"));
        var list = fx.Run($"Get-AppDeployment {t}").AssertNoErrors().Objects<AppDeployment>().ToList();
        Assert.Equal([$"flyctl releases -a {App} --json --image"], cli.Calls);
        Assert.Equal(["v14", "v13", "v12", "v11"], list.Select(d => d.Version));
        Assert.True(list[1].IsCurrent);
        Assert.True(list[3].IsLastGood);
        Assert.False(list[2].IsLastGood);
        Assert.Equal("registry.fly.io/ai-affiliate-empire:deployment-01HQ11", list[3].Image);
    }

    [Fact]
    public void GetAppLog_reads_the_pretty_printed_entry_stream_and_filters_by_pattern()
    {
        var (cli, t) = Fly(new Reply($"logs -a {App} --no-tail --json", "fly-logs.json"));
        var logs = fx.Run($"Get-AppLog {t} -Pattern 'memory|cpu'").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal([$"flyctl logs -a {App} --no-tail --json"], cli.Calls);
        Assert.Equal(2, logs.Count);
        Assert.All(logs, l => Assert.Equal("3d8d9e1a2b3c47", l.Instance));
        Assert.Equal("error", logs[0].Level);
    }

    [Fact]
    public void InvokeRollback_redeploys_the_previous_successful_image_skipping_failed_releases()
    {
        var (cli, t) = Fly(new Reply($"releases -a {App} --json --image", "fly-releases.json"),
            new Reply($"deploy -a {App} --image registry.fly.io/ai-affiliate-empire:deployment-01HQ11 --yes", Text: "deployed\n"));
        var r = fx.Run($"Invoke-Rollback {t} -Force");
        var result = r.AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(("v13", "v11", true), (result.From, result.To, result.Succeeded));
        Assert.Null(result.HealthyAfter);
        Assert.Equal($"flyctl deploy -a {App} --image registry.fly.io/ai-affiliate-empire:deployment-01HQ11 --yes", cli.Calls.Last());
        Assert.Contains(r.Warnings, w => w.Contains("migrations", StringComparison.Ordinal));
    }

    [Fact]
    public void InvokeRollback_runs_flyctl_deploy_in_an_empty_directory_so_no_local_fly_toml_of_another_app_is_deployed()
    {
        // flyctl deploy takes its configuration from a fly.toml in its working directory (only the name from -a): run
        // where pwsh stood, in the checkout of another app, it deployed this app with that app's services, env and mounts.
        // The stand-in records where it ran and what was there; the process's own directory holds files (the test binaries).
        var cli = new FakeCli();
        var seen = Path.Combine(cli.Dir, "deploy-dir.log");
        var releases = FakeCli.Fixture("fly-releases.json");
        var path = Path.Combine(cli.Dir, "flyctl");
        ExecutableFile.Write(path, "#!/bin/bash\n" +
            $"printf '%s\\n' \"flyctl $*\" >> '{cli.Log}'\n" +
            "case \"$*\" in\n" +
            $"  'releases '*) cat '{releases}';;\n" +
            $"  'deploy '*) {{ pwd; ls -A; }} > '{seen}'; echo deployed;;\n" +
            "esac\n");
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Directory.GetCurrentDirectory()));
        var r = fx.Run($"Invoke-Rollback -Platform Fly -App {App} -FlyctlPath '{path}' -Force");
        var result = r.AssertNoErrors().Single<RollbackResult>();
        Assert.Equal(("v13", "v11"), (result.From, result.To));
        var lines = File.ReadAllLines(seen);
        var dir = Assert.Single(lines); // pwd, and nothing in it
        Assert.NotEqual(Directory.GetCurrentDirectory(), dir);
        Assert.False(Directory.Exists(dir), "the empty directory is removed after the deploy");
        Assert.Contains(result.Warnings, w => w.Contains("never a fly.toml of the current directory", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("flyctl cannot make the deploy conditional on the current release", StringComparison.Ordinal));
    }

    [Fact]
    public void InvokeRollback_WhatIf_prints_from_to_and_the_command_and_deploys_nothing()
    {
        var (cli, t) = Fly(new Reply($"releases -a {App} --json --image", "fly-releases.json"), new Reply("deploy", Text: "SHOULD NOT RUN"));
        var r = fx.Run($"Invoke-Rollback {t} -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Equal([$"flyctl releases -a {App} --json --image"], cli.Calls);
        Assert.Contains("v13 -> v11", r.HostText);
        Assert.Contains($"flyctl deploy -a {App} --image registry.fly.io/ai-affiliate-empire:deployment-01HQ11 --yes", r.HostText);
    }

    [Fact]
    public void RestartApp_WhatIf_runs_nothing_and_Force_runs_apps_restart()
    {
        var (cli, t) = Fly(new Reply($"apps restart {App}", Text: "restarted\n"));
        var w = fx.Run($"Restart-App {t} -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        Assert.Contains($"flyctl apps restart {App}", w.HostText);
        var r = fx.Run($"Restart-App {t} -Force").AssertNoErrors().Single<AppActionResult>();
        Assert.Equal([$"flyctl apps restart {App}"], cli.Calls);
        Assert.True(r.Succeeded);
    }

    [Fact]
    public void SetAppScale_runs_scale_vm_and_scale_count()
    {
        var (cli, t) = Fly(new Reply($"status -a {App} --json", "fly-status.json"), new Reply("scale vm", Text: "ok\n"), new Reply("scale count", Text: "ok\n"));
        fx.Run($"Set-AppScale {t} -Count 3 -Size shared-cpu-2x -Force").AssertNoErrors().Single<AppActionResult>();
        // The count it scales from is read first (the recorded app has two machines, one stopped).
        Assert.Equal([$"flyctl status -a {App} --json", $"flyctl scale vm shared-cpu-2x -a {App}", $"flyctl scale count 3 -a {App} --yes"], cli.Calls);
    }

    [Fact]
    public void SetAppSetting_sends_values_through_stdin_and_never_echoes_them()
    {
        const string canary = "canary-Fly-s3cret-7731";
        var (cli, t) = Fly(new Reply($"secrets import -a {App}", Text: "Secrets are staged\n", CaptureStdin: true));
        var r = fx.Run($"Set-AppSetting {t} -Setting @{{ ENABLE_MOCK_MODE = '{canary}' }} -Force -Verbose").AssertNoErrors();
        Assert.Equal([$"flyctl secrets import -a {App}"], cli.Calls);
        Assert.Equal($"ENABLE_MOCK_MODE={canary}\n", File.ReadAllText(Path.Combine(cli.Dir, "flyctl.stdin")));
        Assert.DoesNotContain(canary, r.AllText());
        Assert.Contains("ENABLE_MOCK_MODE=********", string.Join("\n", r.Single<AppActionResult>().Commands));
    }

    [Fact]
    public void GetAppSetting_lists_secret_names_without_values()
    {
        var (_, t) = Fly(new Reply($"secrets list -a {App} --json", "fly-secrets.json"));
        var s = fx.Run($"Get-AppSetting {t}").AssertNoErrors().Objects<AppSetting>().ToList();
        Assert.Equal(["DATABASE_URL", "ENABLE_MOCK_MODE"], s.Select(x => x.Key));
        Assert.All(s, x => { Assert.True(x.IsSecret); Assert.Null(x.Value); });
    }

    [Fact]
    public void A_cli_that_is_there_but_not_executable_says_so_instead_of_not_found()
    {
        var dir = Paths.TempDir("io-flynox");
        var file = Path.Combine(dir, "flyctl");
        File.WriteAllText(file, "#!/bin/sh\necho should-not-run > \"$0.ran\"\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var r = fx.Run($"Get-AppStatus -Platform Fly -App {App} -FlyctlPath '{file}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PlatformCliNotStarted,IncidentOps.Commands.GetAppStatusCommand", e.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.ResourceUnavailable, e.CategoryInfo.Category);
        Assert.Contains($"flyctl at '{file}' could not be started: Permission denied. Nothing was run. Make it executable (chmod +x '{file}')", e.ToString());
        Assert.DoesNotContain("was not found", e.ToString());
        Assert.False(File.Exists(file + ".ran"));
        Assert.Empty(r.Output);
    }

    [Fact]
    public void Missing_cli_says_what_to_install_and_which_parameter_overrides_it()
    {
        var r = fx.Run($"Get-AppStatus -Platform Fly -App {App} -FlyctlPath /nonexistent/flyctl");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PlatformCliNotFound,IncidentOps.Commands.GetAppStatusCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-FlyctlPath", e.ToString());
        Assert.Contains("tools.flyctl", e.ToString());
    }

    [Fact]
    public void Non_zero_exit_names_the_cli_the_command_line_and_stderr()
    {
        var (_, t) = Fly(new Reply("status", Exit: 1, Stderr: "Error: Could not find App \"ai-affiliate-empire\""));
        var e = Assert.Single(fx.Run($"Get-AppStatus {t}").Errors);
        Assert.Equal("PlatformCommandFailed,IncidentOps.Commands.GetAppStatusCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"flyctl status -a {App} --json", e.ToString());
        Assert.Contains("Could not find App", e.ToString());
    }

    [Fact]
    public void Unparseable_output_names_the_command_and_the_field()
    {
        var (_, t) = Fly(new Reply("releases", Text: "[{\"Status\":\"complete\"}]"));
        var e = Assert.Single(fx.Run($"Get-AppDeployment {t}").Errors);
        Assert.Equal("PlatformOutputInvalid,IncidentOps.Commands.GetAppDeploymentCommand", e.FullyQualifiedErrorId);
        Assert.Contains("Version", e.ToString());
        Assert.Contains("flyctl releases", e.ToString());
    }

    [Fact]
    public void A_log_entry_without_a_message_names_the_field_and_the_command()
    {
        var (_, t) = Fly(new Reply("logs", Text: "{\n    \"level\": \"info\",\n    \"instance\": \"148ed726c03918\"\n}\n"));
        var e = Assert.Single(fx.Run($"Get-AppLog {t}").Errors);
        Assert.Equal("PlatformOutputInvalid,IncidentOps.Commands.GetAppLogCommand", e.FullyQualifiedErrorId);
        Assert.Contains("field 'message'", e.ToString());
        Assert.Contains($"flyctl logs -a {App} --no-tail --json", e.ToString());
    }

    [Fact]
    public void Machines_report_the_release_version_from_their_metadata()
    {
        var (_, t) = Fly(new Reply($"status -a {App} --json", "fly-status.json"));
        var s = fx.Run($"Get-AppStatus {t}").AssertNoErrors().Single<AppStatus>();
        Assert.All(s.Instances, i => Assert.Equal("v13", i.Version));
    }

    [Fact]
    public void A_cli_that_hangs_is_killed_with_its_children_at_the_timeout()
    {
        var (cli, t) = Fly(new Reply("status", Sleep: true));
        var e = Assert.Single(fx.Run($"Get-AppStatus {t} -TimeoutSec 1").Errors);
        Assert.Equal("OperationTimeout,IncidentOps.Commands.GetAppStatusCommand", e.FullyQualifiedErrorId);
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.pid")), "the fake flyctl is still running");
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("flyctl.child")), "the fake flyctl's child is still running");
    }

    [Fact]
    public void Tool_paths_and_services_come_from_the_configuration()
    {
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new Reply("status -a ai-affiliate-empire-staging --json", "fly-status.json"));
        var dir = Paths.TempDir();
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"environments:\n  staging:\n    services:\n      api:\n        platform: fly\n        app: ai-affiliate-empire-staging\ntools:\n  flyctl: {path}\nstore: {{ path: {dir} }}\n");
        var s = fx.Run($"Get-IncidentOpsService -Path '{config}' | Get-AppStatus -ConfigPath '{config}'").AssertNoErrors().Single<AppStatus>();
        Assert.Equal(["flyctl status -a ai-affiliate-empire-staging --json"], cli.Calls);
        Assert.Equal("staging/api", s.Service);
    }
}

public class PlatformStopTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void CtrlC_stops_at_once_and_kills_the_cli()
    {
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new FakeCli.Reply("get", Sleep: true));
        var (_, result) = fx.Session.RunAndStopWhen($"Get-AppStatus -Platform Kubernetes -Deployment api -KubectlPath '{path}' -TimeoutSec 300", () => cli.Pid("kubectl.child") is not null);
        Assert.True(result.Stopped || result.Errors.Count == 0);
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("kubectl.pid")), "kubectl still running after Ctrl+C");
        Assert.True(ProcessRunnerTests.Gone(cli.Pid("kubectl.child")), "kubectl's child still running after Ctrl+C");
    }
}

public class PlatformTimelineTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public async Task State_changes_are_recorded_on_the_active_incident_with_the_command_line_and_no_secret()
    {
        var dir = Paths.TempDir();
        var store = new IncidentOps.Engine.Incidents.FileIncidentStore(dir);
        var incident = await store.CreateAsync(id => new IncidentOps.Incidents.Incident { Id = id, Title = "bad deploy", Severity = "P0" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"store: {{ path: {dir} }}\n");
        var cli = new FakeCli();
        var path = cli.Tool("flyctl", new FakeCli.Reply("apps restart", Text: "ok\n"), new FakeCli.Reply("secrets import", Text: "ok\n"));
        const string canary = "canary-timeline-8812";
        fx.Run($"Restart-App -Platform Fly -App api1 -FlyctlPath '{path}' -ConfigPath '{config}' -Force").AssertNoErrors();
        fx.Run($"Set-AppSetting -Platform Fly -App api1 -FlyctlPath '{path}' -ConfigPath '{config}' -Setting @{{ TOKEN_X = '{canary}' }} -Force").AssertNoErrors();
        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        var restart = Assert.Single(timeline, e => e.Action == "Restart");
        Assert.Equal(IncidentOps.Incidents.TimelineOutcome.Succeeded, restart.Outcome);
        Assert.Contains("flyctl apps restart api1", restart.Result);
        var set = Assert.Single(timeline, e => e.Action == "Set setting");
        Assert.Contains("flyctl secrets import -a api1", set.Result);
        var stored = string.Concat(Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".yml", StringComparison.Ordinal)).Select(File.ReadAllText));
        Assert.Contains("flyctl apps restart api1", stored);
        Assert.DoesNotContain(canary, stored);
    }
}
