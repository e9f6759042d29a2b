using IncidentOps.Actions;
using IncidentOps.Config;
using IncidentOps.Engine.Config;
using Xunit;

namespace IncidentOps.Tests.Actions;

/// <summary>The actions: key of a service, validated when the configuration loads.</summary>
public class ActionConfigTests
{
    private static (string Dir, string File) Folder()
    {
        var dir = Paths.TempDir("actions-cfg");
        Directory.CreateDirectory(Path.Combine(dir, "k8s"));
        File.WriteAllText(Path.Combine(dir, "k8s", "rate-limit-strict.yaml"), "apiVersion: v1\nkind: ConfigMap\n");
        return (dir, Path.Combine(dir, "incidentops.yml"));
    }

    private static ConfigLoadResult Parse(string services)
    {
        var (_, file) = Folder();
        return ConfigParser.Parse("environments:\n  production:\n    services:\n" + services, file);
    }

    private static ConfigFinding SingleError(ConfigLoadResult r)
    {
        var errors = r.Findings.Where(f => f.Severity == FindingSeverity.Error).ToList();
        Assert.True(errors.Count == 1, "expected one error, got: " + string.Join(" | ", errors));
        return errors[0];
    }

    private const string Fly = "      api:\n        platform: fly\n        app: ai-affiliate-empire\n";
    private const string Kube = "      marketing:\n        platform: kubernetes\n        deployment: marketing\n        namespace: akaind-platform\n";

    [Fact]
    public void The_three_kinds_parse_with_their_fields_impact_timeout_and_a_manifest_path_relative_to_the_file()
    {
        var (dir, file) = Folder();
        var r = ConfigParser.Parse($$"""
            environments:
              production:
                services:
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                    health: [https://ai-affiliate-empire.fly.dev/health]
                    actions:
                      emergency-stop:
                        description: Stop all workflows
                        url: /api/workflows/emergency-stop
                        headers: { Authorization: secret:AdminToken, Content-Type: application/json }
                        body: '{"reason":"incident"}'
                        timeout: 30s
                      block-ip:
                        command: [flyctl, ips, block, '{ip}', --app, ai-affiliate-empire]
                        parameters: [ip]
                        confirmImpact: medium
                  marketing:
                    platform: kubernetes
                    deployment: marketing
                    actions:
                      rate-limit-strict:
                        kind: manifest
                        apply: k8s/rate-limit-strict.yaml
                        confirmImpact: Low
            """, file);
        Assert.Empty(r.Findings);
        var api = r.Config!.Services.First();
        var stop = api.Actions[0];
        Assert.Equal(("production/api", "emergency-stop", ServiceActionKind.Http, ActionImpact.High), (stop.Service, stop.Name, stop.Kind, stop.ConfirmImpact));
        Assert.Equal(("POST", "https://ai-affiliate-empire.fly.dev/api/workflows/emergency-stop"), (stop.Method, stop.ResolvedUrl));
        Assert.Equal(TimeSpan.FromSeconds(30), stop.Timeout);
        Assert.Equal(["Authorization: secret:AdminToken", "Content-Type: application/json"], stop.HeaderText);
        var block = api.Actions[1];
        Assert.Equal((ServiceActionKind.Command, ActionImpact.Medium), (block.Kind, block.ConfirmImpact));
        Assert.Equal(["flyctl", "ips", "block", "{ip}", "--app", "ai-affiliate-empire"], block.Command);
        var rate = r.Config.Services.Last().Actions.Single();
        Assert.Equal(("apply", Path.Combine(dir, "k8s", "rate-limit-strict.yaml"), ActionImpact.Low), (rate.ManifestOperation, rate.ManifestPath, rate.ConfirmImpact));
    }

    [Fact]
    public void Unknown_kind_is_ActionUnknownKind_with_a_suggestion()
    {
        var e = SingleError(Parse(Fly + "        actions:\n          stop:\n            kind: htp\n            url: /x\n"));
        Assert.Equal(ActionErrorIds.UnknownKind, e.Code);
        Assert.Contains("Did you mean 'http'?", e.Message);
        Assert.Equal((9, 19), (e.Line, e.Column)); // the kind value itself
    }

    [Fact]
    public void An_action_that_runs_nothing_is_ActionKindMissing()
    {
        var e = SingleError(Parse(Fly + "        actions:\n          stop:\n            description: does what?\n"));
        Assert.Equal(ActionErrorIds.KindMissing, e.Code);
    }

    [Fact]
    public void Missing_fields_are_ActionMissingField()
    {
        var e = SingleError(Parse(Fly + "        actions:\n          stop:\n            kind: http\n            method: POST\n"));
        Assert.Equal(ActionErrorIds.MissingField, e.Code);
        Assert.Contains("needs a url", e.Message);
        var m = SingleError(Parse(Kube + "        actions:\n          strict:\n            kind: manifest\n"));
        Assert.Equal(ActionErrorIds.MissingField, m.Code);
    }

    [Fact]
    public void A_manifest_that_does_not_exist_is_an_ActionManifestNotFound_warning_naming_the_resolved_path_and_the_rest_still_loads()
    {
        var (dir, file) = Folder();
        var r = ConfigParser.Parse("environments:\n  production:\n    services:\n" + Kube + "        actions:\n          breaker:\n            apply: k8s/circuit-breaker.yaml\n", file);
        var w = Assert.Single(r.Findings);
        Assert.Equal((FindingSeverity.Warning, ActionErrorIds.ManifestNotFound, 10, 20), (w.Severity, w.Code, w.Line, w.Column));
        Assert.Contains(Path.Combine(dir, "k8s", "circuit-breaker.yaml"), w.Message);
        Assert.NotNull(r.Config);
    }

    [Fact]
    public void A_manifest_on_a_service_that_is_not_kubernetes_is_ActionManifestUnsupported()
    {
        var e = SingleError(Parse(Fly + "        actions:\n          strict:\n            apply: k8s/rate-limit-strict.yaml\n"));
        Assert.Equal(ActionErrorIds.ManifestUnsupported, e.Code);
    }

    [Theory]
    [InlineData("[kubectl, apply, -f, x.yaml]")]
    [InlineData("[bash, -c, 'flyctl ips block 1.2.3.4']")]
    [InlineData("[/usr/local/bin/flyctl, ips, list]")]
    public void A_command_whose_cli_is_not_the_platform_cli_is_ActionCliMismatch(string command)
    {
        var e = SingleError(Parse(Fly + $"        actions:\n          x:\n            command: {command}\n"));
        Assert.Equal(ActionErrorIds.CliMismatch, e.Code);
        Assert.Contains("flyctl or fly", e.Message);
    }

    [Fact]
    public void A_command_written_as_a_shell_string_is_refused()
    {
        var e = SingleError(Parse(Fly + "        actions:\n          x:\n            command: flyctl ips block 1.2.3.4\n"));
        Assert.Equal(ActionErrorIds.InvalidField, e.Code);
        Assert.Contains("never a shell string", e.Message);
    }

    [Fact]
    public void A_placeholder_that_parameters_does_not_declare_is_ActionUndeclaredParameter()
    {
        var e = SingleError(Parse(Fly + "        actions:\n          block:\n            command: [flyctl, ips, block, '{ip}']\n"));
        Assert.Equal(ActionErrorIds.UndeclaredParameter, e.Code);
        Assert.Contains("{ip}", e.Message);
    }

    [Fact]
    public void A_relative_url_without_baseUrl_or_health_is_ActionBaseUrlMissing()
    {
        var e = SingleError(Parse(Fly + "        actions:\n          stop:\n            url: /api/stop\n"));
        Assert.Equal(ActionErrorIds.BaseUrlMissing, e.Code);
    }

    [Fact]
    public void A_credential_header_over_plain_http_to_another_host_is_ActionInvalidUrl_but_loopback_is_fine()
    {
        var e = SingleError(Parse(Fly + "        baseUrl: http://api.example.com\n        actions:\n          stop:\n            url: /api/stop\n            headers: { Authorization: env:TOKEN }\n"));
        Assert.Equal(ActionErrorIds.InvalidUrl, e.Code);
        Assert.Contains("plain http", e.Message);
        Assert.Empty(Parse(Fly + "        baseUrl: http://127.0.0.1:8080\n        actions:\n          stop:\n            url: /api/stop\n            headers: { Authorization: env:TOKEN }\n").Findings);
        Assert.Empty(Parse(Fly + "        baseUrl: http://api.example.com\n        actions:\n          stop: { url: /api/stop, headers: { Accept: application/json } }\n").Findings);
    }

    [Fact]
    public void Keys_of_another_kind_and_a_bad_confirmImpact_are_errors_not_ignored()
    {
        var r = Parse(Fly + "        baseUrl: https://api.example.com\n        actions:\n          stop:\n            url: /api/stop\n            command: [flyctl, status]\n            confirmImpact: Critical\n");
        var codes = r.Findings.Select(f => f.Code).ToList();
        Assert.Equal([ActionErrorIds.InvalidField, ActionErrorIds.InvalidField], codes);
        Assert.Contains(r.Findings, f => f.Message.Contains("belongs to command actions", StringComparison.Ordinal));
        Assert.Contains(r.Findings, f => f.Message.Contains("Low, Medium or High", StringComparison.Ordinal));
    }

    [Fact]
    public void The_configuration_with_action_errors_does_not_load_and_says_which()
    {
        var (dir, file) = Folder();
        File.WriteAllText(file, "environments:\n  production:\n    services:\n" + Fly + "        actions:\n          x:\n            kind: shell\n");
        var ex = Assert.Throws<IncidentOpsException>(() => new ConfigService().LoadOrThrow(file, dir));
        Assert.Equal("ConfigInvalid", ex.ErrorId);
        Assert.Contains(ActionErrorIds.UnknownKind, ex.Message);
    }
}
