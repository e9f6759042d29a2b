using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Tests.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Issue 16 item 10 and issue 18 item 14: every user value that reaches a platform CLI is checked for its kind
/// before any CLI runs (AppTargetInvalidName), in parameters and in incidentops.yml (ConfigInvalidName), and the
/// ssh destination follows "--". The fake CLIs' argv logs and the real kubectl against two stub API servers prove
/// that nothing ran and no other server was contacted.
/// </summary>
public sealed class CliNameValidationTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static string Fake(FakeCli cli, string tool) => cli.Tool(tool, new Reply("", Text: "SHOULD NOT RUN"));

    [Theory]
    [InlineData("Restart-App -Platform Kubernetes -Deployment statefulset/postgres -Force", "-Deployment")]
    [InlineData("Restart-App -Platform Kubernetes -Deployment '--server=http://127.0.0.1:9' -Force", "-Deployment")]
    [InlineData("Restart-App -Platform Kubernetes -Deployment web -Namespace '--all-namespaces' -Force", "-Namespace")]
    [InlineData("Restart-App -Platform Kubernetes -Deployment web -Context '--server=http://x' -Force", "-Context")]
    [InlineData("Restart-App -Platform Kubernetes -Deployment web -Pod '--all' -Force", "-Pod")]
    [InlineData("Restart-App -Platform Fly -App '--access-token=x' -Force", "-App")]
    [InlineData("Set-AppScale -Platform Fly -App web -Size '--yes' -Force", "-Size")]
    [InlineData("Restart-App -Platform DigitalOcean -AppId '--access-token=x' -Force", "-AppId")]
    [InlineData("Restart-App -Platform Systemd -Unit '--user' -Force", "-Unit")]
    [InlineData("Restart-App -Platform Systemd -Unit fastapi -ComputerName '-oProxyCommand=touch /tmp/pwned' -Force", "-ComputerName")]
    [InlineData("Restart-AppDatabase -Platform Fly -DatabaseApp '--app=other' -Force", "-DatabaseApp")]
    [InlineData("Get-AppStatus -Platform Kubernetes -Deployment 'web;rm -rf /'", "-Deployment")]
    [InlineData("Restart-App -Platform Kubernetes -StatefulSet statefulset/postgres -Force", "-StatefulSet")]
    [InlineData("Set-AppScale -Platform Kubernetes -StatefulSet '--server=http://127.0.0.1:9' -Count 2 -Force", "-StatefulSet")]
    [InlineData("Restart-App -Platform Kubernetes -DaemonSet 'daemonset/node-exporter' -Force", "-DaemonSet")]
    [InlineData("Get-AppEvent -Platform Kubernetes -DaemonSet '-A'", "-DaemonSet")]
    [InlineData("Restart-App -Platform Kubernetes -StatefulSet postgres -Pod 'postgres-0 --all' -Force", "-Pod")]
    [InlineData("Get-AppLog -Platform DigitalOcean -AppId 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30 -Component '--context=other'", "-Component")]
    [InlineData("Get-AppLog -Platform Fly -App web -Component '--app=other'", "-Component")]
    [InlineData("Restart-App -Platform Kubernetes -Deployment \"web`n\" -Force", "-Deployment")]
    [InlineData("Restart-App -Platform Kubernetes -Deployment web -Namespace \"prod`n\" -Force", "-Namespace")]
    [InlineData("Restart-App -Platform Kubernetes -Deployment web -Context \"prod`n\" -Force", "-Context")]
    [InlineData("Restart-App -Platform Systemd -Unit \"fastapi`n\" -Force", "-Unit")]
    [InlineData("Restart-App -Platform Systemd -Unit fastapi -ComputerName \"deploy@api-1`n\" -Force", "-ComputerName")]
    [InlineData("Restart-App -Platform Fly -App \"web`n\" -Force", "-App")]
    [InlineData("Restart-App -Platform Fly -App web -Pod \"148ed726c`n\" -Force", "-Pod")]
    [InlineData("Get-AppLog -Platform Fly -App web -Instance \"148ed726c`n\"", "-Instance")]
    public void A_value_that_is_not_a_name_of_its_kind_never_reaches_the_cli(string command, string parameter)
    {
        var cli = new FakeCli();
        var paths = $"-KubectlPath '{Fake(cli, "kubectl")}' -FlyctlPath '{Fake(cli, "flyctl")}' -DoctlPath '{Fake(cli, "doctl")}' -SystemctlPath '{Fake(cli, "systemctl")}' -SshPath '{Fake(cli, "ssh")}'";
        if (command.StartsWith("Restart-AppDatabase", StringComparison.Ordinal)) paths = $"-FlyctlPath '{Fake(cli, "flyctl")}'";
        var r = fx.Run($"{command} {paths}");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("AppTargetInvalidName,", e.FullyQualifiedErrorId);
        Assert.Contains(parameter, e.ToString());
        Assert.Empty(cli.Calls);
        Assert.False(File.Exists("/tmp/pwned"));
    }

    [Theory]
    [InlineData("Set-AppSetting -Platform Kubernetes -Deployment web -Namespace shop -Context production -Setting @{ '--context' = 'prod-eu' } -Force", "'--context'")]
    [InlineData("Set-AppSetting -Platform Kubernetes -Deployment web -Setting @{ '--namespace' = 'kube-system' } -Force", "'--namespace'")]
    [InlineData("Set-AppSetting -Platform Kubernetes -Deployment web -Setting @{ 'A=B' = 'c' } -Force", "'A=B'")]
    [InlineData("Set-AppSetting -Platform Fly -App web -Setting @{ \"FOO`nDATABASE_URL\" = 'postgres://evil' } -Force", "not an environment variable name")]
    [InlineData("Set-AppSetting -Platform Fly -App web -Setting @{ FOO = \"x`nDATABASE_URL=postgres://evil\" } -Force", "'FOO' holds a line break")]
    [InlineData("Set-AppSetting -Platform DigitalOcean -AppId 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30 -Setting @{ '-x' = 'y' } -Force", "'-x'")]
    public void A_setting_name_or_value_that_would_change_the_target_or_another_setting_is_AppSettingInvalid_and_nothing_runs(string command, string message)
    {
        var cli = new FakeCli();
        var paths = $"-KubectlPath '{Fake(cli, "kubectl")}' -FlyctlPath '{Fake(cli, "flyctl")}' -DoctlPath '{Fake(cli, "doctl")}'";
        var r = fx.Run($"{command} {paths}");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("AppSettingInvalid,", e.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.Contains(message, e.Exception.Message);
        Assert.Contains("Nothing was changed", e.Exception.Message);
        Assert.Empty(cli.Calls);
    }

    [Fact]
    public void Real_kubectl_never_contacts_a_server_smuggled_in_as_a_deployment_name()
    {
        var kubectl = KubeApiStub.FindRealKubectl();
        using var api = new KubeApiStub(kubectl);
        using var attacker = new KubeApiStub(kubectl);
        var r = fx.Session.Run($"Restart-App -Platform Kubernetes -Context {KubeApiStub.Context} -Namespace {KubeApiStub.Namespace} -Deployment '--server={attacker.Server}' -KubectlPath '{api.KubectlPath}' -Force",
            timeout: TimeSpan.FromSeconds(90));
        Assert.StartsWith("AppTargetInvalidName,", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Empty(attacker.Requests);
        Assert.Empty(api.Mutations);
    }

    [Fact]
    public void The_ssh_destination_follows_a_double_dash()
    {
        var cli = new FakeCli();
        var ssh = cli.Ssh();
        cli.Tool("systemctl", new Reply("show fastapi", FixtureName: "systemctl-show.txt"));
        fx.Run($"Get-AppStatus -Platform Systemd -Unit fastapi -ComputerName deploy@api-1.example.com -SshPath '{ssh}'");
        Assert.StartsWith("<-o><BatchMode=yes><--><deploy@api-1.example.com>", Assert.Single(cli.ArgvCalls));
    }

    [Theory]
    [InlineData("platform: kubernetes\n        deployment: statefulset/postgres", "deployment")]
    [InlineData("platform: kubernetes\n        deployment: web\n        namespace: Kube_System", "namespace")]
    [InlineData("platform: systemd\n        unit: fastapi\n        host: '-oProxyCommand=sh'", "host")]
    [InlineData("platform: fly\n        app: 'My App'", "app")]
    [InlineData("platform: kubernetes\n        statefulSet: statefulset/postgres", "statefulSet")]
    [InlineData("platform: kubernetes\n        daemonSet: '--all'", "daemonSet")]
    [InlineData("platform: kubernetes\n        deployment: \"web\\n\"", "deployment")]
    [InlineData("platform: kubernetes\n        deployment: web\n        namespace: \"prod\\n\"", "namespace")]
    [InlineData("platform: systemd\n        unit: \"fastapi\\n\"", "unit")]
    public void Config_names_are_checked_where_they_are_written(string fields, string key)
    {
        var r = ConfigParser.Parse($"version: 1\nenvironments:\n  production:\n    services:\n      api:\n        {fields}\n", "/cfg/incidentops.yml");
        var error = Assert.Single(r.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal("ConfigInvalidName", error.Code);
        Assert.Contains($"services.api.{key}", error.Message);
        Assert.True(error.Line > 5);
    }

    [Theory]
    [InlineData("production", "'-n'", "service name '-n' under environments.production.services starts with '-'")]
    [InlineData("production", "'--context=prod-eu'", "service name '--context=prod-eu' under environments.production.services starts with '-'")]
    [InlineData("'-production'", "api", "environment name '-production' under environments starts with '-'")]
    [InlineData("production", "\"api\\n\"", "service name 'api\\u000a' under environments.production.services holds a control character")]
    public void Environment_and_service_names_that_start_with_a_dash_are_ConfigInvalidName_with_the_line(string environment, string service, string message)
    {
        var r = ConfigParser.Parse($"version: 1\nenvironments:\n  {environment}:\n    services:\n      {service}:\n        platform: fly\n        app: web\n", "/cfg/incidentops.yml");
        var error = Assert.Single(r.Findings.Where(f => f.Severity == FindingSeverity.Error));
        Assert.Equal("ConfigInvalidName", error.Code);
        Assert.Contains(message, error.Message);
        Assert.Equal("/cfg/incidentops.yml", error.File);
        Assert.Equal(environment.StartsWith('\'') ? 3 : 5, error.Line);
    }

    [Theory]
    [InlineData("platform: kubernetes\n        namespace: db", "needs one of 'deployment', 'statefulSet' or 'daemonSet' (for example: deployment: api)", "ConfigMissingField")]
    [InlineData("platform: kubernetes\n        deployment: web\n        statefulSet: postgres", "has 'deployment' and 'statefulSet'; give only one of 'deployment', 'statefulSet' or 'daemonSet': a service is one workload.", "ConfigInvalidValue")]
    public void A_Kubernetes_service_names_exactly_one_workload(string fields, string message, string code)
    {
        var r = ConfigParser.Parse($"version: 1\nenvironments:\n  production:\n    services:\n      api:\n        {fields}\n", "/cfg/incidentops.yml");
        var error = Assert.Single(r.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal(code, error.Code);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Two_workloads_on_the_command_line_are_AppTargetConflict_and_nothing_runs()
    {
        var cli = new FakeCli();
        var r = fx.Run($"Restart-App -Platform Kubernetes -Deployment marketing -StatefulSet postgres -KubectlPath '{Fake(cli, "kubectl")}' -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("AppTargetConflict,IncidentOps.Commands.RestartAppCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-Deployment marketing and -StatefulSet postgres were both given", e.Exception.Message);
        Assert.Empty(cli.Calls);
    }

    [Theory]
    [InlineData("Kubernetes", "-StatefulSet postgres -Namespace akaind-platform")]
    [InlineData("Kubernetes", "-DaemonSet node-exporter.v2")]
    [InlineData("Kubernetes", "-Deployment marketing -Namespace akaind-platform -Context arn:aws:eks:us-east-1:1234:cluster/prod")]
    [InlineData("Systemd", "-Unit worker@2.service -ComputerName deploy@10.0.0.7")]
    [InlineData("Fly", "-App ai-affiliate-empire")]
    public void Real_names_pass(string platform, string names)
    {
        var cli = new FakeCli();
        var paths = $"-KubectlPath '{cli.Tool("kubectl", new Reply("", Text: "{}"))}' -FlyctlPath '{cli.Tool("flyctl", new Reply("", Text: "{}"))}' -SshPath '{cli.Tool("ssh", new Reply("", Text: ""))}'";
        var r = fx.Run($"Get-AppStatus -Platform {platform} {names} {paths}");
        Assert.DoesNotContain(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("AppTargetInvalidName"));
        Assert.NotEmpty(cli.Calls);
    }
}
