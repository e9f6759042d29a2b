using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

[Collection(nameof(DoctlEnvironment))]
public class DigitalOceanCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    /// <summary>This test's own doctl config folder and environment (no machine doctl config or DIGITALOCEAN_CONTEXT applies).</summary>
    private readonly DoctlHome _home = new();
    public void Dispose() => _home.Dispose();
    private const string Id = "f1e2d3c4-0000-4000-8000-00000000a001";

    private static (FakeCli Cli, string Target) Do(params Reply[] replies)
    {
        var cli = new FakeCli();
        var all = new[]
        {
            new Reply($"apps get {Id} -o json", "do-app.json"),
            new Reply($"apps list-deployments {Id} -o json", "do-deployments.json"),
        }.Concat(replies).ToArray();
        return (cli, $"-Platform DigitalOcean -AppId {Id} -DoctlPath '{cli.Tool("doctl", all)}'");
    }

    [Fact]
    public void SetAppScale_of_a_DigitalOcean_component_the_app_does_not_have_is_ComponentNotFound_and_updates_nothing()
    {
        var cli = new FakeCli();
        var spec = File.ReadAllText(Fixture("do-app.json"));
        var specOnly = System.Text.Json.Nodes.JsonNode.Parse(spec)![0]!["spec"]!.ToJsonString();
        var path = cli.Tool("doctl", new Reply($"apps get {Id} -o json", "do-app.json"), new Reply($"apps spec get {Id} --format json", Text: specOnly),
            new Reply($"apps update {Id} --spec - -o json", Text: "[]", CaptureStdin: true));
        var r = fx.Run($"Set-AppScale -Platform DigitalOcean -AppId {Id} -Component no-such-web -DoctlPath '{path}' -Count 3 -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ComponentNotFound,IncidentOps.Commands.SetAppScaleCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"App {Id} has no service or worker 'no-such-web'", e.ToString());
        // The count it would scale from is read first (and cannot be, for a component the app lacks); nothing is updated.
        Assert.Equal([$"doctl apps get {Id} -o json{_home.Pins}", $"doctl apps spec get {Id} --format json{_home.Pins}"], cli.Calls);
    }

    [Fact]
    public void GetAppStatus_reads_the_app_and_its_deployment_phases()
    {
        var (cli, t) = Do();
        var s = fx.Run($"Get-AppStatus {t}").AssertNoErrors().Single<AppStatus>();
        Assert.Equal([$"doctl apps get {Id} -o json{_home.Pins}"], cli.Calls);
        Assert.Equal((AppState.Degraded, 3, "portfolio"), (s.State, s.DesiredInstances, s.Name));
        Assert.Equal("latest deploy (11-23 08:55Z) failed", s.Reason);
        Assert.Equal(["portfolio-web", "image-worker"], s.Instances.Select(i => i.Id));
        Assert.Equal("9f8e7d6c5b4a", s.Image);
    }

    [Fact]
    public void GetAppDeployment_marks_the_active_one_current_and_skips_errors_for_last_good()
    {
        var (_, t) = Do();
        var list = fx.Run($"Get-AppDeployment {t}").AssertNoErrors().Objects<AppDeployment>().ToList();
        Assert.Equal(["ERROR", "ACTIVE", "ERROR", "SUPERSEDED"], list.Select(d => d.Status));
        Assert.True(list[1].IsCurrent);
        Assert.True(list[3].IsLastGood);
        Assert.Equal("0d1e2f3a4b5c", list[3].Image);
    }

    [Fact]
    public void InvokeRollback_WhatIf_shows_validate_and_rollback_requests_to_the_last_good_deployment()
    {
        var (cli, t) = Do();
        var r = fx.Run($"Invoke-Rollback {t} -WhatIf").AssertNoErrors();
        Assert.Contains("d4d4d4d4-0000-4000-8000-000000000004 -> d2d2d2d2-0000-4000-8000-000000000002", r.HostText);
        Assert.Contains($"v2/apps/{Id}/rollback/validate", r.HostText);
        Assert.Equal([$"doctl apps list-deployments {Id} -o json{_home.Pins}"], cli.Calls);
    }

    [Fact]
    public void RestartApp_forces_a_rebuild_and_GetAppLog_passes_type_and_component()
    {
        var (cli, t) = Do(new Reply($"apps create-deployment {Id} --force-rebuild", Text: "[{\"id\":\"d6\",\"phase\":\"PENDING_BUILD\"}]"),
            new Reply($"apps logs {Id} portfolio-web --type build", "do-logs.txt"));
        fx.Run($"Restart-App {t} -Force").AssertNoErrors();
        var logs = fx.Run($"Get-AppLog {t} -Component portfolio-web -Type build -Tail 20").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal([$"doctl apps create-deployment {Id} --force-rebuild -o json{_home.Pins}", $"doctl apps logs {Id} portfolio-web --type build --tail 20{_home.Pins}"], cli.Calls);
        Assert.Equal(2, logs.Count);
        Assert.Equal("portfolio-web", logs[1].Instance);
        Assert.StartsWith("Error: Redis", logs[1].Message);
    }

    [Fact]
    public void SetAppScale_updates_instance_count_through_the_app_spec()
    {
        var cli = new FakeCli();
        var spec = File.ReadAllText(Fixture("do-app.json"));
        var specOnly = System.Text.Json.Nodes.JsonNode.Parse(spec)![0]!["spec"]!.ToJsonString();
        var path = cli.Tool("doctl", new Reply($"apps get {Id} -o json", "do-app.json"), new Reply($"apps spec get {Id} --format json", Text: specOnly),
            new Reply($"apps update {Id} --spec - -o json", Text: "[]", CaptureStdin: true));
        var t = $"-Platform DigitalOcean -AppId {Id} -Component portfolio-web -DoctlPath '{path}'";
        var read = $"doctl apps get {Id} -o json{_home.Pins}";
        Assert.Contains("from 2 to 4 instances: doctl apps spec get", fx.Run($"Set-AppScale {t} -Count 4 -WhatIf").AssertNoErrors().HostText);
        Assert.Equal([read], cli.Calls);
        fx.Run($"Set-AppScale {t} -Count 4 -Force").AssertNoErrors();
        Assert.Equal([read, read, $"doctl apps spec get {Id} --format json{_home.Pins}", $"doctl apps update {Id} --spec - -o json{_home.Pins}"], cli.Calls);
        var sent = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(cli.Dir, "doctl.stdin")))!;
        Assert.Equal(4, (int)sent["services"]![0]!["instance_count"]!);
        Assert.Equal(1, (int)sent["workers"]![0]!["instance_count"]!);
    }

    [Fact]
    public void GetAppSetting_hides_SECRET_values()
    {
        var (_, t) = Do();
        var s = fx.Run($"Get-AppSetting {t}").AssertNoErrors().Objects<AppSetting>().ToList();
        Assert.Equal(("NODE_ENV", "production"), (s[0].Key, s[0].Value));
        Assert.Equal(("REDIS_URL", true, null), (s[1].Key, s[1].IsSecret, s[1].Value));
    }

    [Fact]
    public void SetAppSetting_adds_a_SECRET_env_to_the_app_spec_and_WhatIf_masks_it_and_runs_nothing()
    {
        // Found by the provider contract: Set-AppSetting had no test against DigitalOcean.
        var cli = new FakeCli();
        var specOnly = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixture("do-app.json")))![0]!["spec"]!.ToJsonString();
        var path = cli.Tool("doctl", new Reply($"apps spec get {Id} --format json", Text: specOnly),
            new Reply($"apps update {Id} --spec - -o json", Text: "[]", CaptureStdin: true));
        var t = $"-Platform DigitalOcean -AppId {Id} -DoctlPath '{path}'";
        var w = fx.Run($"Set-AppSetting {t} -Setting @{{ API_TOKEN = 'CANARYdoSettingValue' }} -Secret -WhatIf").AssertNoErrors();
        Assert.Empty(cli.Calls);
        Assert.Contains($"doctl apps update {Id} --spec - -o json{_home.Pins}", w.HostText);
        Assert.DoesNotContain("CANARYdoSettingValue", w.HostText);
        var r = fx.Run($"Set-AppSetting {t} -Setting @{{ API_TOKEN = 'CANARYdoSettingValue' }} -Secret -Force").AssertNoErrors();
        Assert.Equal([$"doctl apps spec get {Id} --format json{_home.Pins}", $"doctl apps update {Id} --spec - -o json{_home.Pins}"], cli.Calls);
        var sent = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(cli.Dir, "doctl.stdin")))!;
        var env = sent["envs"]!.AsArray().Single(e => (string?)e!["key"] == "API_TOKEN")!;
        Assert.Equal(("CANARYdoSettingValue", "SECRET"), ((string?)env["value"], (string?)env["type"]));
        Assert.DoesNotContain("CANARYdoSettingValue", string.Join("\n", r.Output.Select(o => o.ToString())));
    }
}
