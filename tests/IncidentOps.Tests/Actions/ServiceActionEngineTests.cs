using IncidentOps.Actions;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Actions;
using IncidentOps.Engine.Config;
using IncidentOps.Tests.Platforms;
using Xunit;

namespace IncidentOps.Tests.Actions;

/// <summary>ServiceActionService against a real loopback HTTP server and fake CLIs that record their argv.</summary>
public class ServiceActionEngineTests
{
    private static ServiceActionService Service(CollectingSink? sink = null) =>
        new(sink ?? new CollectingSink(), new ReferenceResolver(NoSecretProvider.Instance));

    private static IncidentOpsConfig Load(string yaml, string? dir = null)
    {
        dir ??= Paths.TempDir("actions-engine");
        var file = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(file, yaml);
        var r = ConfigParser.Parse(yaml, file);
        Assert.True(r.Config is not null && r.Findings.Count == 0, string.Join(" | ", r.Findings));
        return r.Config!;
    }

    [Fact]
    public async Task Http_action_sends_the_exact_method_url_headers_and_body_with_the_secret_resolved_only_on_the_wire()
    {
        using var stub = new ActionHttpStub();
        var variable = "IO_ACTION_TOKEN_" + Guid.NewGuid().ToString("N")[..8];
        var token = "canary-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "Bearer " + token);
        var config = Load($$"""
            environments:
              production:
                services:
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                    baseUrl: {{stub.BaseUrl}}/
                    actions:
                      emergency-stop:
                        url: /api/workflows/emergency-stop
                        headers: { Authorization: 'env:{{variable}}', X-Reason: incident }
                        body: '{"reason":"incident"}'
            """);
        var svc = config.Services.Single();
        var engine = Service();
        var plan = engine.Plan(svc, ServiceActionService.Find(svc, "EMERGENCY-STOP"), null);
        Assert.Equal($"POST {stub.BaseUrl}/api/workflows/emergency-stop\nAuthorization: ******** (env:{variable})\nX-Reason: incident\n\n{{\"reason\":\"incident\"}}", plan.Preview);
        var result = await engine.RunAsync(svc, plan, null, null, TimeSpan.FromSeconds(10), CancellationToken.None);

        var request = Assert.Single(stub.Requests);
        Assert.Equal(("POST", "/api/workflows/emergency-stop", "{\"reason\":\"incident\"}"), (request.Method, request.PathAndQuery, request.Body));
        Assert.Equal("Bearer " + token, request.Headers["Authorization"]);
        Assert.Equal("incident", request.Headers["X-Reason"]);
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
        Assert.Equal((200, true, "Succeeded"), (result.StatusCode, result.Succeeded, result.Outcome));
        Assert.Equal("{\"stopped\":true}", result.Output);
        Assert.DoesNotContain(token, plan.Preview + result + result.Target + ServiceActionService.Summary(result));
    }

    [Fact]
    public async Task Non_2xx_is_a_failed_result_whose_error_is_ActionHttpFailed_with_the_status_and_the_body()
    {
        using var stub = new ActionHttpStub(503, "{\"error\":\"maintenance\"}");
        var config = Load($"environments:\n  production:\n    services:\n      api:\n        baseUrl: {stub.BaseUrl}\n        actions:\n          stop: {{ method: delete, url: /api/x }}\n");
        var svc = config.Services.Single();
        var engine = Service();
        var result = await engine.RunAsync(svc, engine.Plan(svc, svc.Actions[0], null), null, null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal("DELETE", stub.Requests.Single().Method);
        Assert.False(result.Succeeded);
        Assert.Equal((503, "HTTP 503 Service Unavailable"), (result.StatusCode, result.Outcome));
        var error = ServiceActionService.Failure(result);
        Assert.Equal(ActionErrorIds.HttpFailed, error.ErrorId);
        Assert.Contains("maintenance", error.Message);
    }

    [Fact]
    public async Task Parameters_fill_placeholders_escaped_in_urls_and_as_single_arguments_in_commands()
    {
        using var stub = new ActionHttpStub();
        var cli = new FakeCli();
        var flyctl = cli.Tool("flyctl", new FakeCli.Reply("ips block", Text: "blocked\n"));
        var config = Load($$"""
            environments:
              production:
                services:
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                    baseUrl: {{stub.BaseUrl}}
                    actions:
                      block-ip:
                        command: [flyctl, ips, block, '{ip}', --app, ai-affiliate-empire]
                        parameters: [ip]
                      drain:
                        url: /api/drain/{region}?now=1
                        parameters: [region]
            tools:
              flyctl: {{flyctl}}
            """);
        var svc = config.Services.Single();
        var engine = Service();
        var block = engine.Plan(svc, svc.Actions[0], new Dictionary<string, string> { ["ip"] = "203.0.113.7; rm -rf /" });
        var r = await engine.RunAsync(svc, block, config.Tools, null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(["flyctl ips block 203.0.113.7; rm -rf / --app ai-affiliate-empire"], cli.Calls);
        Assert.Equal("flyctl ips block '203.0.113.7; rm -rf /' --app ai-affiliate-empire", block.Target);
        Assert.Equal((0, true, "blocked"), (r.ExitCode, r.Succeeded, r.Output));

        var drain = engine.Plan(svc, svc.Actions[1], new Dictionary<string, string> { ["REGION"] = "iad/../admin" });
        await engine.RunAsync(svc, drain, null, null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal("/api/drain/iad%2F..%2Fadmin?now=1", stub.Requests.Single().PathAndQuery);

        Assert.Equal(ActionErrorIds.ParameterMissing, Assert.Throws<IncidentOpsException>(() => engine.Plan(svc, svc.Actions[0], null)).ErrorId);
        Assert.Equal(ActionErrorIds.ParameterUnknown, Assert.Throws<IncidentOpsException>(() => engine.Plan(svc, svc.Actions[0], new Dictionary<string, string> { ["ip"] = "1.2.3.4", ["port"] = "22" })).ErrorId);
        Assert.Equal(ActionErrorIds.NotFound, Assert.Throws<IncidentOpsException>(() => ServiceActionService.Find(svc, "block-ips")).ErrorId);
    }

    [Fact]
    public async Task Manifest_action_runs_kubectl_apply_in_the_services_kubeconfig_context_and_namespace()
    {
        var dir = Paths.TempDir("actions-engine");
        Directory.CreateDirectory(Path.Combine(dir, "k8s"));
        File.WriteAllText(Path.Combine(dir, "k8s", "rate-limit-strict.yaml"), "kind: ConfigMap\n");
        var cli = new FakeCli();
        var kubectl = cli.Tool("kubectl", new FakeCli.Reply("--context production --namespace akaind-platform apply -f", Text: "configmap/rate-limit configured\n"),
            new FakeCli.Reply("--context production --namespace akaind-platform delete -f", Exit: 1, Stderr: "Error from server (NotFound): configmaps \"rate-limit\" not found"));
        var config = Load($"""
            environments:
              production:
                services:
                  marketing:
                    platform: kubernetes
                    context: production
                    namespace: akaind-platform
                    deployment: marketing
                    actions:
                      rate-limit-strict: {"{"} apply: k8s/rate-limit-strict.yaml {"}"}
                      rate-limit-off: {"{"} delete: k8s/rate-limit-strict.yaml {"}"}
            tools:
              kubectl: {kubectl}
            """, dir);
        var svc = config.Services.Single();
        var engine = Service();
        var ok = await engine.RunAsync(svc, engine.Plan(svc, svc.Actions[0], null), config.Tools, null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal($"kubectl --context production --namespace akaind-platform apply -f {dir}/k8s/rate-limit-strict.yaml", cli.Calls.Single());
        Assert.Equal((0, true), (ok.ExitCode, ok.Succeeded));
        var failed = await engine.RunAsync(svc, engine.Plan(svc, svc.Actions[1], null), config.Tools, null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal((1, false, "exit code 1"), (failed.ExitCode, failed.Succeeded, failed.Outcome));
        var error = ServiceActionService.Failure(failed);
        Assert.Equal(ActionErrorIds.CommandFailed, error.ErrorId);
        Assert.Contains("NotFound", error.Message);
    }

    [Fact]
    public async Task A_systemd_service_with_a_host_runs_its_command_over_ssh_with_each_argument_quoted()
    {
        var cli = new FakeCli();
        var ssh = cli.Ssh();
        cli.Tool("systemctl", new FakeCli.Reply("kill --signal=SIGUSR1 fastapi", Text: ""));
        var config = Load($"""
            environments:
              production:
                services:
                  fastapi:
                    platform: systemd
                    unit: fastapi
                    host: deploy@api-1.example.com
                    actions:
                      reopen-logs: {"{"} command: [systemctl, kill, --signal=SIGUSR1, fastapi], confirmImpact: Low {"}"}
            tools:
              ssh: {ssh}
            """);
        var svc = config.Services.Single();
        var engine = Service();
        var plan = engine.Plan(svc, svc.Actions[0], null);
        Assert.Equal("ssh -o BatchMode=yes -- deploy@api-1.example.com 'systemctl kill --signal=SIGUSR1 fastapi'", plan.Target);
        var r = await engine.RunAsync(svc, plan, config.Tools, null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.True(r.Succeeded, r.Output);
        Assert.Equal(["<-o><BatchMode=yes><--><deploy@api-1.example.com><systemctl kill --signal=SIGUSR1 fastapi>"], cli.ArgvCalls);
        Assert.Contains("systemctl kill --signal=SIGUSR1 fastapi", cli.Calls);
    }

    [Fact]
    public async Task A_server_that_never_answers_ends_at_the_timeout_and_Cancellation_ends_it_at_once()
    {
        using var stub = new ActionHttpStub { Hang = true };
        var config = Load($"environments:\n  production:\n    services:\n      api:\n        baseUrl: {stub.BaseUrl}\n        actions:\n          stop: {{ url: /api/x }}\n");
        var svc = config.Services.Single();
        var engine = Service();
        var plan = engine.Plan(svc, svc.Actions[0], null);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.RunAsync(svc, plan, null, null, TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal(DeadlineErrorIds.ConnectionTimeout, ex.ErrorId);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");   // "does not hang": the stub never answers
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        sw.Restart();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.RunAsync(svc, plan, null, null, TimeSpan.FromSeconds(60), cts.Token));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");   // "does not hang": the timeout is 60 s
    }
}
