using System.Management.Automation;
using IncidentOps.Actions;
using IncidentOps.Incidents;
using IncidentOps.Tests.Platforms;
using Xunit;

namespace IncidentOps.Tests.Actions;

/// <summary>Get-ServiceAction and Invoke-ServiceAction in a hosted pwsh, against a loopback HTTP server and fake CLIs.</summary>
public class ServiceActionCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Id = ",IncidentOps.Commands.InvokeServiceActionCommand";

    /// <summary>A folder with incidentops.yml declaring the seed actions against the stub and fake CLIs, its own store, and a token variable.</summary>
    private sealed class Setup
    {
        public required string Dir { get; init; }
        public required string Config { get; init; }
        public required string Token { get; init; }
        public required FakeCli Cli { get; init; }
    }

    private static Setup Create(ActionHttpStub stub, params FakeCli.Reply[] kubectlReplies)
    {
        var dir = Paths.TempDir("actions-cmd");
        Directory.CreateDirectory(Path.Combine(dir, "k8s"));
        File.WriteAllText(Path.Combine(dir, "k8s", "rate-limit-strict.yaml"), "kind: ConfigMap\n");
        var variable = "IO_ACTION_TOKEN_" + Guid.NewGuid().ToString("N")[..8];
        var token = "canary-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, token);
        var cli = new FakeCli();
        var kubectl = cli.Tool("kubectl", kubectlReplies.Length > 0 ? kubectlReplies : [new FakeCli.Reply("--context production", Text: "configmap/rate-limit configured\n")]);
        var flyctl = cli.Tool("flyctl", new FakeCli.Reply("ips block", Text: "blocked\n"), new FakeCli.Reply("ips list", Exit: 2, Stderr: "Error: not authorized"));
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $$"""
            environments:
              production:
                services:
                  api:
                    platform: fly
                    app: ai-affiliate-empire
                    baseUrl: {{stub.BaseUrl}}
                    actions:
                      emergency-stop:
                        description: Stop all automated workflows
                        url: /api/workflows/emergency-stop
                        headers: { Authorization: 'env:{{variable}}' }
                        body: '{"reason":"incident"}'
                      block-ip:
                        command: [flyctl, ips, block, '{ip}', --app, ai-affiliate-empire]
                        parameters: [ip]
                        confirmImpact: Medium
                      list-ips:
                        command: [flyctl, ips, list]
                        confirmImpact: Low
                  marketing:
                    platform: kubernetes
                    context: production
                    namespace: akaind-platform
                    deployment: marketing
                    actions:
                      rate-limit-strict:
                        apply: k8s/rate-limit-strict.yaml
                        confirmImpact: Low
                        timeout: 20s
            tools:
              kubectl: {{kubectl}}
              flyctl: {{flyctl}}
            store: { path: {{dir}}/store }
            """);
        return new Setup { Dir = dir, Config = config, Token = token, Cli = cli };
    }

    [Fact]
    public void Get_ServiceAction_lists_the_declared_actions_as_objects_with_secrets_masked()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        var r = fx.Run($"Get-ServiceAction -ConfigPath '{s.Config}'").AssertNoErrors();
        var actions = r.Objects<ServiceAction>().ToList();
        Assert.Equal(["production/api:emergency-stop", "production/api:block-ip", "production/api:list-ips", "production/marketing:rate-limit-strict"], actions.Select(a => a.ToString()));
        Assert.Equal($"POST {stub.BaseUrl}/api/workflows/emergency-stop", actions[0].Definition);
        Assert.Equal($"kubectl apply -f {s.Dir}/k8s/rate-limit-strict.yaml", actions[3].Definition);
        var list = fx.Run($"Get-ServiceAction api emergency-stop -ConfigPath '{s.Config}'").AssertNoErrors();
        Assert.StartsWith("Authorization: env:IO_ACTION_TOKEN_", Assert.Single(list.Single<ServiceAction>().HeaderText));
        Assert.DoesNotContain(s.Token, list.AllText() + r.AllText());

        var missing = fx.Run($"Get-ServiceAction -Service production/api -Name emergency-stp -ConfigPath '{s.Config}'");
        Assert.Equal("ActionNotFound,IncidentOps.Commands.GetServiceActionCommand", Assert.Single(missing.Errors).FullyQualifiedErrorId);
        Assert.Empty(fx.Run($"Get-ServiceAction -Name 'nothing*' -ConfigPath '{s.Config}'").AssertNoErrors().Output);
    }

    [Fact]
    public void Invoke_sends_the_exact_request_and_returns_the_result()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        var r = fx.Run($"Invoke-ServiceAction -Service production/api -Name emergency-stop -Force -ConfigPath '{s.Config}'").AssertNoErrors();
        var result = r.Single<ServiceActionResult>();
        var request = Assert.Single(stub.Requests);
        Assert.Equal(("POST", "/api/workflows/emergency-stop", "{\"reason\":\"incident\"}", s.Token), (request.Method, request.PathAndQuery, request.Body, request.Headers["Authorization"]));
        Assert.Equal(("production/api", "emergency-stop", 200, true, "Succeeded"), (result.Service, result.Name, result.StatusCode, result.Succeeded, result.Outcome));
        Assert.Equal($"POST {stub.BaseUrl}/api/workflows/emergency-stop", result.Target);
    }

    [Fact]
    public void WhatIf_shows_the_exact_request_or_command_line_and_changes_nothing()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        var http = fx.Run($"Invoke-ServiceAction production/api emergency-stop -WhatIf -ConfigPath '{s.Config}'").AssertNoErrors();
        Assert.Empty(http.Output);
        Assert.Empty(stub.Requests);
        Assert.Contains($"POST {stub.BaseUrl}/api/workflows/emergency-stop", http.HostText);
        Assert.Contains("Authorization: ******** (env:IO_ACTION_TOKEN_", http.HostText);
        Assert.Contains("{\"reason\":\"incident\"}", http.HostText);
        Assert.DoesNotContain(s.Token, http.AllText());

        var manifest = fx.Run($"Get-ServiceAction production/marketing rate-limit-strict -ConfigPath '{s.Config}' | Invoke-ServiceAction -WhatIf -ConfigPath '{s.Config}'").AssertNoErrors();
        Assert.Empty(manifest.Output);
        Assert.Contains($"kubectl --context production --namespace akaind-platform apply -f {s.Dir}/k8s/rate-limit-strict.yaml", manifest.HostText);
        var command = fx.Run($"Invoke-ServiceAction production/api block-ip -Parameter @{{ ip = '203.0.113.7' }} -WhatIf -ConfigPath '{s.Config}'").AssertNoErrors();
        Assert.Contains("flyctl ips block 203.0.113.7 --app ai-affiliate-empire", command.HostText);
        Assert.Empty(s.Cli.Calls);
    }

    [Fact]
    public void Manifest_and_command_actions_run_the_exact_command_line_through_the_platform_cli()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        var r = fx.Run($"Get-ServiceAction -Service production/marketing -ConfigPath '{s.Config}' | Invoke-ServiceAction -Force -ConfigPath '{s.Config}'").AssertNoErrors();
        Assert.Equal((0, true), (r.Single<ServiceActionResult>().ExitCode, r.Single<ServiceActionResult>().Succeeded));
        var block = fx.Run($"Invoke-ServiceAction api block-ip -Parameter @{{ ip = '203.0.113.7' }} -Confirm:$false -ConfigPath '{s.Config}'").AssertNoErrors();
        Assert.Equal("blocked", block.Single<ServiceActionResult>().Output);
        Assert.Equal([$"kubectl --context production --namespace akaind-platform apply -f {s.Dir}/k8s/rate-limit-strict.yaml",
            "flyctl ips block 203.0.113.7 --app ai-affiliate-empire"], s.Cli.Calls);
    }

    [Fact]
    public void A_non_2xx_answer_or_a_non_zero_exit_is_an_error_with_a_stable_id_never_a_success()
    {
        using var stub = new ActionHttpStub(500, "{\"error\":\"boom\"}");
        var s = Create(stub);
        var http = fx.Run($"Invoke-ServiceAction api emergency-stop -Force -ConfigPath '{s.Config}'");
        Assert.Empty(http.Output);
        var e = Assert.Single(http.Errors);
        Assert.Equal("ActionHttpFailed" + Id, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidResult, e.CategoryInfo.Category);
        Assert.Equal(500, Assert.IsType<ServiceActionResult>(e.TargetObject).StatusCode);
        Assert.Contains("boom", e.ToString());

        var cli = fx.Run($"Invoke-ServiceAction api list-ips -ConfigPath '{s.Config}'");
        Assert.Empty(cli.Output);
        var c = Assert.Single(cli.Errors);
        Assert.Equal("ActionCommandFailed" + Id, c.FullyQualifiedErrorId);
        Assert.Contains("not authorized", c.ToString());
        Assert.Equal(2, Assert.IsType<ServiceActionResult>(c.TargetObject).ExitCode);
    }

    [Fact]
    public void Bad_input_gets_stable_error_ids()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        Assert.Equal("ActionNotFound" + Id, Assert.Single(fx.Run($"Invoke-ServiceAction api emergency-stp -Force -ConfigPath '{s.Config}'").Errors).FullyQualifiedErrorId);
        Assert.Equal("ActionParameterMissing" + Id, Assert.Single(fx.Run($"Invoke-ServiceAction api block-ip -Force -ConfigPath '{s.Config}'").Errors).FullyQualifiedErrorId);
        Assert.Equal("ActionParameterUnknown" + Id, Assert.Single(fx.Run($"Invoke-ServiceAction api emergency-stop -Parameter @{{ x = 1 }} -Force -ConfigPath '{s.Config}'").Errors).FullyQualifiedErrorId);
        Assert.Equal("ServiceNotFound" + Id, Assert.Single(fx.Run($"Invoke-ServiceAction web emergency-stop -Force -ConfigPath '{s.Config}'").Errors).FullyQualifiedErrorId);
        Assert.Empty(stub.Requests);
        Assert.Empty(s.Cli.Calls);
    }

    [Fact]
    public void A_missing_manifest_stops_only_its_own_action_with_ActionManifestNotFound()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        File.Delete(Path.Combine(s.Dir, "k8s", "rate-limit-strict.yaml"));
        var r = fx.Run($"Invoke-ServiceAction production/marketing rate-limit-strict -Force -ConfigPath '{s.Config}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("ActionManifestNotFound" + Id, e.FullyQualifiedErrorId);
        Assert.Contains(Path.Combine(s.Dir, "k8s", "rate-limit-strict.yaml"), e.ToString());
        Assert.Empty(s.Cli.Calls);
        var listed = fx.Run($"Get-ServiceAction -Service marketing -ConfigPath '{s.Config}'").AssertNoErrors();
        Assert.Contains(listed.Warnings, w => w.Contains("does not exist", StringComparison.Ordinal));
        // The rest of the configuration still loads: an incident can be declared and the other actions run.
        fx.Run($"Invoke-ServiceAction api emergency-stop -Force -ConfigPath '{s.Config}'").AssertNoErrors().Single<ServiceActionResult>();
    }

    [Fact]
    public void The_declared_ConfirmImpact_decides_whether_it_asks()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        // High (the default) asks under the default $ConfirmPreference: the test host cannot answer, so nothing is sent.
        var high = fx.Run($"Invoke-ServiceAction api emergency-stop -ConfigPath '{s.Config}'");
        Assert.Contains("Invoke the action 'emergency-stop' of production/api (confirmImpact High)", high.ErrorText);
        Assert.Empty(stub.Requests);
        // Low does not ask.
        fx.Run($"Invoke-ServiceAction production/marketing rate-limit-strict -ConfigPath '{s.Config}'").AssertNoErrors().Single<ServiceActionResult>();
        // Medium asks once $ConfirmPreference is Medium.
        var medium = fx.Run($"$ConfirmPreference = 'Medium'; try {{ Invoke-ServiceAction api block-ip -Parameter @{{ ip = '198.51.100.1' }} -ConfigPath '{s.Config}' }} finally {{ $ConfirmPreference = 'High' }}");
        Assert.Contains("confirmImpact Medium", medium.ErrorText);
        Assert.Equal([$"kubectl --context production --namespace akaind-platform apply -f {s.Dir}/k8s/rate-limit-strict.yaml"], s.Cli.Calls);
    }

    [Fact]
    public void TimeoutSec_is_one_deadline_for_the_run_and_ends_a_request_that_never_answers()
    {
        using var stub = new ActionHttpStub { Hang = true };
        var s = Create(stub);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = fx.Run($"Invoke-ServiceAction api emergency-stop -Force -TimeoutSec 1 -ConfigPath '{s.Config}'");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");   // "does not hang": the stub never answers
        Assert.Equal("OperationTimeout" + Id, Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Single(stub.Requests);
    }

    [Fact]
    public void CtrlC_stops_at_once_and_kills_the_cli()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub, new FakeCli.Reply("--context production", Sleep: true));
        var (_, result) = fx.Session.RunAndStopWhen($"Invoke-ServiceAction production/marketing rate-limit-strict -Force -TimeoutSec 300 -ConfigPath '{s.Config}'", () => s.Cli.Pid("kubectl.child") is not null);
        Assert.True(result.Stopped || result.Errors.Count == 0);
        Assert.True(ProcessRunnerTests.Gone(s.Cli.Pid("kubectl.pid")), "kubectl still running after Ctrl+C");
        Assert.True(ProcessRunnerTests.Gone(s.Cli.Pid("kubectl.child")), "kubectl's child still running after Ctrl+C");
    }

    [Fact]
    public void Runs_land_on_the_active_incidents_timeline_and_in_its_report_and_the_secret_appears_nowhere()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        stub.Body = "{\"echo\":\"" + s.Token + "\"}"; // a service that echoes the credential back
        fx.Run($"New-Incident -Title 'Workflows running wild' -Severity P1 -ConfigPath '{s.Config}'").AssertNoErrors();
        var run = fx.Run($"Invoke-ServiceAction api emergency-stop -Force -Verbose -ConfigPath '{s.Config}'").AssertNoErrors();
        var preview = fx.Run($"Invoke-ServiceAction production/marketing rate-limit-strict -WhatIf -ConfigPath '{s.Config}'").AssertNoErrors();
        stub.Status = 502;
        var failed = fx.Run($"Invoke-ServiceAction api emergency-stop -Force -ConfigPath '{s.Config}'");
        Assert.Equal("ActionHttpFailed" + Id, Assert.Single(failed.Errors).FullyQualifiedErrorId);

        var timeline = fx.Run($"Get-IncidentTimeline -ConfigPath '{s.Config}'").AssertNoErrors().Objects<TimelineEntry>().Where(e => e.Cmdlet == "Invoke-ServiceAction").ToList();
        Assert.Equal([("Invoke emergency-stop", TimelineOutcome.Succeeded), ("Invoke rate-limit-strict", TimelineOutcome.WhatIf), ("Invoke emergency-stop", TimelineOutcome.Failed)],
            timeline.Select(e => (e.Action!, e.Outcome)));
        Assert.All(timeline, e => Assert.StartsWith("production/", e.Target));
        Assert.StartsWith($"POST {stub.BaseUrl}/api/workflows/emergency-stop: HTTP 200 in ", timeline[0].Result);
        Assert.Contains("HTTP 502", timeline[2].Result);

        var report = fx.Run($"New-IncidentReport -ConfigPath '{s.Config}'").AssertNoErrors();
        var content = string.Join("\n", report.Output.Select(o => o.Properties["Content"]?.Value?.ToString() ?? o.ToString()));
        Assert.Contains("| Invoke emergency-stop (Invoke-ServiceAction) | production/api | Succeeded |", content);
        Assert.Contains("| Invoke emergency-stop (Invoke-ServiceAction) | production/api | Failed |", content);

        var stored = string.Concat(Directory.GetFiles(Path.Combine(s.Dir, "store"), "*", SearchOption.AllDirectories).Select(File.ReadAllText));
        foreach (var text in new[] { run.AllText(), preview.AllText(), failed.AllText(), report.AllText(), content, stored, string.Join("\n", timeline) })
            Assert.DoesNotContain(s.Token, text);
        Assert.Contains(run.Verbose, v => v.Contains("Recorded on", StringComparison.Ordinal));
    }

    [Fact]
    public void Name_completes_from_the_chosen_services_actions()
    {
        using var stub = new ActionHttpStub();
        var s = Create(stub);
        string[] Complete(string line)
        {
            var r = fx.Run($"(TabExpansion2 -inputScript \"{line}\" -cursorColumn {line.Length}).CompletionMatches.CompletionText").AssertNoErrors();
            return r.Output.Select(o => o.ToString()).ToArray();
        }
        Assert.Equal(["emergency-stop", "block-ip", "list-ips"], Complete($"Invoke-ServiceAction -ConfigPath '{s.Config}' -Service production/api -Name "));
        Assert.Equal(["rate-limit-strict"], Complete($"Invoke-ServiceAction -ConfigPath '{s.Config}' -Service marketing -Name r"));
        Assert.Equal(["block-ip"], Complete($"Get-ServiceAction -ConfigPath '{s.Config}' -Name b"));
        Assert.Contains("production/api", Complete($"Invoke-ServiceAction -ConfigPath '{s.Config}' -Service prod"));
    }
}
