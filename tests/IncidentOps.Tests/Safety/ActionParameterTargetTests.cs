using System.Text.Json;
using IncidentOps.Actions;
using IncidentOps.Engine;
using IncidentOps.Engine.Actions;
using IncidentOps.Engine.Config;
using IncidentOps.Tests.Actions;
using IncidentOps.Tests.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// A -Parameter value of Invoke-ServiceAction never changes which server, cluster, account or app a declared action acts
/// on: a value that would begin a CLI argument with '-' (an option), one with a control character, and '.'/'..' in a URL
/// are ActionParameterInvalid with nothing run (the fake CLIs' argv logs are empty, the loopback server got nothing); a
/// value in a JSON body stays one JSON string.
/// </summary>
public sealed class ActionParameterTargetTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Id = "ActionParameterInvalid,IncidentOps.Commands.InvokeServiceActionCommand";

    private static (string Config, FakeCli Cli) Create(string? baseUrl = null)
    {
        var dir = Paths.TempDir("action-params");
        var cli = new FakeCli();
        string Fake(string tool) => cli.Tool(tool, new Reply("", Text: "SHOULD NOT RUN\n"));
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $$"""
            environments:
              production:
                services:
                  marketing:
                    platform: kubernetes
                    context: production
                    namespace: akaind-platform
                    deployment: marketing
                    actions:
                      restart: { command: [kubectl, rollout, restart, '{deployment}'], parameters: [deployment] }
                      restart-kind: { command: [kubectl, rollout, restart, 'deployment/{deployment}'], parameters: [deployment] }
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                    actions:
                      restart-machine: { command: [flyctl, machine, restart, '{machine}', --app, ai-affiliate-empire], parameters: [machine] }
                  portfolio:
                    platform: digitalocean
                    appId: 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30
                    actions:
                      redeploy: { command: [doctl, apps, create-deployment, '{id}'], parameters: [id] }
                  fastapi:
                    platform: systemd
                    unit: fastapi
                    host: deploy@api-1.example.com
                    actions:
                      restart-unit: { command: [systemctl, restart, '{unit}'], parameters: [unit] }
            tools:
              kubectl: {{Fake("kubectl")}}
              flyctl: {{Fake("flyctl")}}
              doctl: {{Fake("doctl")}}
              systemctl: {{Fake("systemctl")}}
              ssh: {{Fake("ssh")}}
            store: { path: {{dir}}/store }
            """);
        return (config, cli);
    }

    [Theory]
    [InlineData("production/marketing", "restart", "deployment", "'--context=prod-eu'")]
    [InlineData("production/marketing", "restart", "deployment", "'--kubeconfig=/home/me/.kube/other'")]
    [InlineData("production/marketing", "restart", "deployment", "'-n other'")]
    [InlineData("production/marketing", "restart", "deployment", "'--server=http://127.0.0.1:9'")]
    [InlineData("production/api", "restart-machine", "machine", "'--app=other-app'")]
    [InlineData("production/portfolio", "redeploy", "id", "'--context=other-account'")]
    [InlineData("production/fastapi", "restart-unit", "unit", "'-H other-host'")]
    [InlineData("production/fastapi", "restart-unit", "unit", "\"fastapi`nreboot\"")]
    [InlineData("production/marketing", "restart-kind", "deployment", "\"marketing`0\"")]
    public void A_value_that_would_choose_another_target_is_ActionParameterInvalid_and_nothing_runs(string service, string action, string parameter, string value)
    {
        var (config, cli) = Create();
        var r = fx.Run($"Invoke-ServiceAction -Service {service} -Name {action} -Parameter @{{ {parameter} = {value} }} -Force -ConfigPath '{config}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal(Id, e.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.Contains($"given for '{parameter}'", e.Exception.Message);
        Assert.Contains("Nothing was run.", e.Exception.Message);
        Assert.Empty(cli.Calls);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void A_value_inside_an_argument_is_still_one_argument_and_WhatIf_shows_the_exact_command()
    {
        var (config, cli) = Create();
        var r = fx.Run($"Invoke-ServiceAction production/marketing restart-kind -Parameter @{{ deployment = 'marketing' }} -WhatIf -ConfigPath '{config}'").AssertNoErrors();
        Assert.Contains("kubectl --context production --namespace akaind-platform rollout restart deployment/marketing", r.HostText);
        Assert.Empty(cli.Calls);
    }

    private static IncidentOps.Config.ServiceTarget Load(string yaml)
    {
        var dir = Paths.TempDir("action-params-http");
        var file = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(file, yaml);
        var parsed = ConfigParser.Parse(yaml, file);
        Assert.True(parsed.Config is not null && parsed.Findings.Count == 0, string.Join(" | ", parsed.Findings));
        return parsed.Config!.Services.Single();
    }

    private static ServiceActionService Engine() => new(new CollectingSink(), new ReferenceResolver(NoSecretProvider.Instance));

    [Fact]
    public async Task A_value_in_a_JSON_body_stays_one_JSON_string_and_headers_are_sent_as_written()
    {
        using var stub = new ActionHttpStub();
        var svc = Load($$"""
            environments:
              production:
                services:
                  api:
                    baseUrl: {{stub.BaseUrl}}
                    actions:
                      drain:
                        url: /api/drain
                        headers: { X-Service: '{svc}' }
                        body: '{"service":"{svc}","count":{n},"note":"by {who}"}'
                        parameters: [svc, n, who]
                      drain-typed:
                        url: /api/drain
                        headers: { Content-Type: application/json }
                        body: ' "{svc}"'
                        parameters: [svc]
                      drain-form:
                        url: /api/drain
                        headers: { Content-Type: application/x-www-form-urlencoded }
                        body: 'service={svc}&env=staging'
                        parameters: [svc]
            """);
        var engine = Engine();
        var hostile = "x\",\"env\":\"prod";
        var plan = engine.Plan(svc, ServiceActionService.Find(svc, "drain"), new Dictionary<string, string> { ["svc"] = hostile, ["n"] = "3, \"env\": \"prod\"", ["who"] = "a\\\"b" });
        var expected = "{\"service\":\"x\\\",\\\"env\\\":\\\"prod\",\"count\":\"3, \\\"env\\\": \\\"prod\\\"\",\"note\":\"by a\\\\\\\"b\"}";
        Assert.EndsWith("\n\n" + expected, plan.Preview);
        await engine.RunAsync(svc, plan, null, null, TimeSpan.FromSeconds(10), CancellationToken.None);

        var request = Assert.Single(stub.Requests);
        Assert.Equal(expected, request.Body);
        using (var doc = JsonDocument.Parse(request.Body))
        {
            Assert.Equal(["service", "count", "note"], doc.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal(hostile, doc.RootElement.GetProperty("service").GetString());
            Assert.Equal(JsonValueKind.String, doc.RootElement.GetProperty("count").ValueKind);
            Assert.Equal("by a\\\"b", doc.RootElement.GetProperty("note").GetString());
        }
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
        Assert.Equal("{svc}", request.Headers["X-Service"]);

        var number = engine.Plan(svc, ServiceActionService.Find(svc, "drain"), new Dictionary<string, string> { ["svc"] = "api", ["n"] = "3", ["who"] = "me" });
        Assert.Equal("{\"service\":\"api\",\"count\":3,\"note\":\"by me\"}", number.Body);

        var typed = engine.Plan(svc, ServiceActionService.Find(svc, "drain-typed"), new Dictionary<string, string> { ["svc"] = hostile });
        Assert.Equal(hostile, JsonDocument.Parse(typed.Body!).RootElement.GetString());

        var form = engine.Plan(svc, ServiceActionService.Find(svc, "drain-form"), new Dictionary<string, string> { ["svc"] = "api&env=production" });
        Assert.Equal("service=api%26env%3Dproduction&env=staging", form.Body);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("line\r\nX-Injected: 1")]
    public void A_value_that_would_move_the_request_or_add_a_line_is_ActionParameterInvalid_and_nothing_is_sent(string value)
    {
        using var stub = new ActionHttpStub();
        var svc = Load($$"""
            environments:
              production:
                services:
                  api:
                    baseUrl: {{stub.BaseUrl}}
                    actions:
                      stop: { url: '/api/services/{svc}/stop', body: 'reason={svc}', parameters: [svc] }
            """);
        var ex = Assert.Throws<IncidentOpsException>(() => Engine().Plan(svc, svc.Actions[0], new Dictionary<string, string> { ["svc"] = value }));
        Assert.Equal("ActionParameterInvalid", ex.ErrorId);
        Assert.Equal(IncidentOpsErrorCategory.InvalidArgument, ex.Category);
        Assert.Equal("svc", ex.TargetObject);
        Assert.Empty(stub.Requests);
    }
}
