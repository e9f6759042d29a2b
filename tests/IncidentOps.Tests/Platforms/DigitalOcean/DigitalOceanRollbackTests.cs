using IncidentOps.Config;
using System.Net;
using System.Net.Sockets;
using System.Text;
using IncidentOps.Engine;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>The App Platform rollback API on a loopback server: validate first, then roll back to the last good deployment.</summary>
public class DigitalOceanRollbackTests
{
    private const string Id = "f1e2d3c4-0000-4000-8000-00000000a001";

    private static async Task<List<string>> ServeAsync(HttpListener listener, bool valid, CancellationToken ct)
    {
        var seen = new List<string>();
        while (!ct.IsCancellationRequested)
        {
            var ctx = await listener.GetContextAsync().WaitAsync(ct);
            using var reader = new StreamReader(ctx.Request.InputStream);
            var body = await reader.ReadToEndAsync(ct);
            seen.Add($"{ctx.Request.HttpMethod} {ctx.Request.Url!.AbsolutePath} {ctx.Request.Headers["Authorization"]} {body}");
            var reply = ctx.Request.Url.AbsolutePath.EndsWith("/validate", StringComparison.Ordinal)
                ? (valid ? "{\"valid\":true,\"warnings\":[]}" : "{\"valid\":false,\"error\":{\"message\":\"deployment is too old\"}}")
                : "{\"deployment\":{\"id\":\"d7\",\"phase\":\"PENDING_DEPLOY\"}}";
            var bytes = Encoding.UTF8.GetBytes(reply);
            ctx.Response.ContentType = "application/json";
            await ctx.Response.OutputStream.WriteAsync(bytes, ct);
            ctx.Response.Close();
            if (!reply.Contains("valid") || !valid) break;
        }
        return seen;
    }

    private static (DigitalOceanAdapter Adapter, HttpListener Listener) Setup(string token)
    {
        var (listener, port) = TestServers.StartHttpListener();
        var cli = new FakeCli();
        var path = cli.Tool("doctl", new Reply($"apps list-deployments {Id} -o json", "do-deployments.json"));
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(new ToolPaths { Doctl = path }, null));
        var adapter = new DigitalOceanAdapter(new AppTarget { Platform = IncidentOps.Config.PlatformKind.DigitalOcean, Options = new Dictionary<string, string> { ["AppId"] = Id } }, runner, TimeSpan.FromSeconds(30),
            NullSink.Instance, new Uri($"http://127.0.0.1:{port}/"), token);
        return (adapter, listener);
    }

    [Fact]
    public async Task Rollback_validates_then_posts_the_last_good_deployment()
    {
        var (adapter, listener) = Setup("canary-do-token-5521");
        using var _ = listener;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = ServeAsync(listener, valid: true, cts.Token);
        var prepared = await new PlatformsService(NullSink.Instance).PrepareRollbackAsync(adapter, null, cts.Token);
        Assert.Equal(("d4d4d4d4-0000-4000-8000-000000000004", "d2d2d2d2-0000-4000-8000-000000000002"), (prepared.Plan.From, prepared.Plan.To));
        var result = await new PlatformsService(NullSink.Instance).RollbackAsync(adapter, prepared, false, TimeSpan.FromSeconds(30), cts.Token);
        var seen = await server;
        Assert.True(result.Succeeded);
        Assert.Equal(2, seen.Count);
        Assert.Equal($"POST /v2/apps/{Id}/rollback/validate Bearer canary-do-token-5521 {{\"deployment_id\":\"d2d2d2d2-0000-4000-8000-000000000002\",\"skip_pin\":false}}", seen[0]);
        Assert.StartsWith($"POST /v2/apps/{Id}/rollback Bearer", seen[1]);
        Assert.DoesNotContain("canary-do-token-5521", string.Join("\n", result.Steps));
    }

    [Fact]
    public async Task A_rollback_the_api_refuses_is_RollbackInvalid_and_nothing_is_rolled_back()
    {
        var (adapter, listener) = Setup("canary-do-token-5522");
        using var _ = listener;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = ServeAsync(listener, valid: false, cts.Token);
        var prepared = await new PlatformsService(NullSink.Instance).PrepareRollbackAsync(adapter, null, cts.Token);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => new PlatformsService(NullSink.Instance).RollbackAsync(adapter, prepared, false, TimeSpan.FromSeconds(30), cts.Token));
        Assert.Equal("RollbackInvalid", ex.ErrorId);
        Assert.Contains("too old", ex.Message);
        Assert.Single(await server);
    }
    [Fact]
    public async Task A_deploy_landing_while_the_rollback_is_validated_is_never_replaced_the_recheck_runs_after_the_validation()
    {
        // The API has no precondition, so the re-check of the deployments must come after every other request but the
        // rollback itself. The stand-in doctl lists the fixture until the validate request arrives; from then on a new
        // ACTIVE deployment d9 (someone's deploy landing during validation). Before, the re-check ran before the
        // validation, saw d4 still current, and the rollback POST replaced d9.
        var dir = Paths.TempDir("do-rb-window");
        var before = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixture("do-deployments.json")))!.AsArray();
        var after = (System.Text.Json.Nodes.JsonArray)before.DeepClone();
        foreach (var d in after) if ((string?)d!["phase"] == "ACTIVE") d["phase"] = "SUPERSEDED";
        var landed = after[0]!.DeepClone();
        landed["id"] = "d9d9d9d9-0000-4000-8000-000000000009"; landed["phase"] = "ACTIVE"; landed["created_at"] = "2026-11-23T10:00:00Z";
        after.Insert(0, landed);
        var current = Path.Combine(dir, "current.json");
        File.WriteAllText(current, before.ToJsonString());
        var log = Path.Combine(dir, "argv.log");
        var doctl = Path.Combine(dir, "doctl");
        ExecutableFile.Write(doctl, $"#!/bin/bash\nprintf '%s\\n' \"doctl $*\" >> '{log}'\ncat '{current}'\n");
        var (started, port) = TestServers.StartHttpListener();
        using var listener = started;
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(new ToolPaths { Doctl = doctl }, null));
        var adapter = new DigitalOceanAdapter(new AppTarget { Platform = IncidentOps.Config.PlatformKind.DigitalOcean, Options = new Dictionary<string, string> { ["AppId"] = Id } }, runner, TimeSpan.FromSeconds(30),
            NullSink.Instance, new Uri($"http://127.0.0.1:{port}/"), "canary-do-token-5523");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        var server = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                var ctx = await listener.GetContextAsync().WaitAsync(cts.Token);
                seen.Add(ctx.Request.Url!.AbsolutePath);
                File.WriteAllText(current, after.ToJsonString()); // the deploy lands while the request is served
                var bytes = Encoding.UTF8.GetBytes(ctx.Request.Url.AbsolutePath.EndsWith("/validate", StringComparison.Ordinal) ? "{\"valid\":true,\"warnings\":[]}" : "{\"deployment\":{\"id\":\"d7\",\"phase\":\"PENDING_DEPLOY\"}}");
                ctx.Response.ContentType = "application/json";
                await ctx.Response.OutputStream.WriteAsync(bytes, cts.Token);
                ctx.Response.Close();
            }
        });
        var service = new PlatformsService(NullSink.Instance);
        var prepared = await service.PrepareRollbackAsync(adapter, null, cts.Token);
        Assert.Contains(prepared.Plan.Warnings, w => w.Contains("cannot make the rollback conditional on the current deployment", StringComparison.Ordinal));
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => service.RollbackAsync(adapter, prepared, false, TimeSpan.FromSeconds(30), cts.Token));
        Assert.Equal(PlatformErrorIds.RollbackCurrentChanged, ex.ErrorId);
        Assert.Contains("is now d9d9d9d9-0000-4000-8000-000000000009", ex.Message);
        Assert.Equal([$"/v2/apps/{Id}/rollback/validate"], seen);
        Assert.Equal(2, File.ReadAllLines(log).Length);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server);
    }
    [Fact]
    public void The_rollback_body_is_serialised_so_a_quote_in_a_deployment_id_from_doctl_cannot_change_other_fields()
    {
        // The id comes from doctl's output. Before, the body was interpolated: this id closed the string and turned
        // skip_pin on (the first of two skip_pin keys), and deployment_id became "d2".
        const string hostile = "d2\",\"skip_pin\":true,\"x\":\"";
        var (adapter, listener) = Setup("canary-do-token-5524");
        using var _ = listener;
        var plan = adapter.PlanRollback(null, new AppDeployment { Name = "portfolio", Version = hostile }).Plan;
        foreach (var command in plan.Commands)
        {
            using var body = System.Text.Json.JsonDocument.Parse(command[(command.IndexOf(' ', command.IndexOf(' ') + 1) + 1)..]);
            Assert.Equal(hostile, body.RootElement.GetProperty("deployment_id").GetString());
            Assert.Equal(["deployment_id", "skip_pin"], body.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.False(body.RootElement.GetProperty("skip_pin").GetBoolean());
        }
    }
}
