using IncidentOps.Config;
using System.Net;
using System.Net.Sockets;
using System.Text;
using IncidentOps.Engine;
using IncidentOps.Engine.Platforms;
using IncidentOps.Incidents;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// After a rollback DigitalOcean keeps the app pinned until POST /v2/apps/{id}/rollback/commit (keep it; 200, no body)
/// or /rollback/revert (a new deployment from the spec before the rollback). The API runs on a loopback stub.
/// </summary>
public class DigitalOceanPinTests
{
    private const string Id = "f1e2d3c4-0000-4000-8000-00000000a001";

    private static (DigitalOceanAdapter Adapter, HttpListener Listener) Setup(string token)
    {
        var (listener, port) = TestServers.StartHttpListener();
        var runner = new ProcessRunner(NullSink.Instance, new ToolResolver(new ToolPaths(), null));
        var adapter = new DigitalOceanAdapter(new AppTarget { Platform = IncidentOps.Config.PlatformKind.DigitalOcean, Options = new Dictionary<string, string> { ["AppId"] = Id } }, runner, TimeSpan.FromSeconds(30),
            NullSink.Instance, new Uri($"http://127.0.0.1:{port}/"), token);
        return (adapter, listener);
    }

    private static async Task<string> ServeOnceAsync(HttpListener listener, int status, string reply, CancellationToken ct)
    {
        var ctx = await listener.GetContextAsync().WaitAsync(ct);
        using var reader = new StreamReader(ctx.Request.InputStream);
        var body = await reader.ReadToEndAsync(ct);
        var seen = $"{ctx.Request.HttpMethod} {ctx.Request.Url!.AbsolutePath} {ctx.Request.Headers["Authorization"]} [{body}]";
        ctx.Response.StatusCode = status;
        var bytes = Encoding.UTF8.GetBytes(reply);
        if (bytes.Length > 0) { ctx.Response.ContentType = "application/json"; await ctx.Response.OutputStream.WriteAsync(bytes, ct); }
        ctx.Response.Close();
        return seen;
    }

    [Fact]
    public async Task Commit_posts_rollback_commit_with_no_body_and_accepts_an_empty_answer()
    {
        var (adapter, listener) = Setup("canary-do-token-7731");
        using var _ = listener;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = ServeOnceAsync(listener, 200, "", cts.Token);
        var change = adapter.PlanFinishRollback(commit: true);
        Assert.Equal([$"POST {listener.Prefixes.Single()}v2/apps/{Id}/rollback/commit"], change.Commands);
        var result = await new PlatformsService(NullSink.Instance).RunChangeAsync(adapter, "Commit rollback", change, false, TimeSpan.FromSeconds(30), cts.Token);
        Assert.Equal($"POST /v2/apps/{Id}/rollback/commit Bearer canary-do-token-7731 []", await server);
        Assert.True(result.Succeeded);
        Assert.Contains("unpinned", result.Output);
        Assert.DoesNotContain("canary-do-token-7731", result.Output + string.Join(" ", result.Commands));
    }

    [Fact]
    public async Task Revert_posts_rollback_revert_and_reports_the_new_deployment()
    {
        var (adapter, listener) = Setup("canary-do-token-7732");
        using var _ = listener;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = ServeOnceAsync(listener, 200, "{\"deployment\":{\"id\":\"d8d8d8d8-0000-4000-8000-000000000008\",\"phase\":\"PENDING_BUILD\"}}", cts.Token);
        var result = await new PlatformsService(NullSink.Instance).RunChangeAsync(adapter, "Revert rollback", adapter.PlanFinishRollback(commit: false), false, TimeSpan.FromSeconds(30), cts.Token);
        Assert.Equal($"POST /v2/apps/{Id}/rollback/revert Bearer canary-do-token-7732 []", await server);
        Assert.Contains("deployment d8d8d8d8-0000-4000-8000-000000000008 PENDING_BUILD", result.Output);
    }

    [Fact]
    public async Task A_commit_with_no_pinned_rollback_is_PlatformRequestFailed_with_the_api_message()
    {
        var (adapter, listener) = Setup("canary-do-token-7733");
        using var _ = listener;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = ServeOnceAsync(listener, 400, "{\"id\":\"bad_request\",\"message\":\"app has no pending rollback\"}", cts.Token);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => adapter.PlanFinishRollback(commit: true).Execute(cts.Token));
        await server;
        Assert.Equal("PlatformRequestFailed", ex.ErrorId);
        Assert.Contains("no pending rollback", ex.Message);
        Assert.DoesNotContain("canary-do-token-7733", ex.Message);
    }
}

[Collection(nameof(DoctlEnvironment))]
public class DigitalOceanPinCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    /// <summary>This test's own doctl config folder and environment (no machine doctl config or DIGITALOCEAN_CONTEXT applies).</summary>
    private readonly DoctlHome _home = new();
    public void Dispose() => _home.Dispose();
    private const string Id = "f1e2d3c4-0000-4000-8000-00000000a001";

    [Fact]
    public async Task Commit_and_Revert_WhatIf_send_nothing_and_are_recorded_on_the_active_incident()
    {
        var dir = Paths.TempDir();
        var store = new IncidentOps.Engine.Incidents.FileIncidentStore(dir);
        var incident = await store.CreateAsync(id => new Incident { Id = id, Title = "bad deploy", Severity = "P0" }, CancellationToken.None);
        await store.SetActiveIdAsync(incident.Id, CancellationToken.None);
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $"store: {{ path: {dir} }}\n");
        var cli = new FakeCli();
        var doctl = cli.Tool("doctl");
        var t = $"-Platform DigitalOcean -AppId {Id} -DoctlPath '{doctl}' -ConfigPath '{config}'";

        var c = fx.Run($"Invoke-Rollback {t} -Commit -WhatIf").AssertNoErrors();
        Assert.Contains($"v2/apps/{Id}/rollback/commit", c.HostText);
        Assert.Empty(c.Output);
        var r = fx.Run($"Invoke-Rollback {t} -Revert -WhatIf").AssertNoErrors();
        Assert.Contains($"v2/apps/{Id}/rollback/revert", r.HostText);
        Assert.Empty(cli.Calls);

        var timeline = await store.ReadTimelineAsync(incident.Id, CancellationToken.None);
        Assert.Equal(TimelineOutcome.WhatIf, Assert.Single(timeline, e => e.Action == "Commit rollback").Outcome);
        Assert.Contains("rollback/revert", Assert.Single(timeline, e => e.Action == "Revert rollback").Result);
    }

    [Fact]
    public void Commit_is_not_supported_where_a_rollback_is_not_pinned()
    {
        var e = Assert.Single(fx.Run("Invoke-Rollback -Platform Kubernetes -Deployment marketing -Commit -Force").Errors);
        Assert.Equal("PlatformOperationNotSupported,IncidentOps.Commands.InvokeRollbackCommand", e.FullyQualifiedErrorId);
        Assert.Contains("only for DigitalOcean", e.ToString());
    }

    [Fact]
    public void Commit_and_ToVersion_cannot_be_combined()
    {
        var r = fx.Run("Invoke-Rollback -Platform DigitalOcean -AppId x -Commit -ToVersion d2 -WhatIf");
        var error = r.Terminating ?? Assert.Single(r.Errors);
        Assert.StartsWith("AmbiguousParameterSet", error.FullyQualifiedErrorId);
        Assert.DoesNotContain("rollback/commit", r.HostText);
    }

    [Fact]
    public void GetAppStatus_says_when_the_app_is_pinned_to_a_rollback()
    {
        var cli = new FakeCli();
        var pinned = File.ReadAllText(Fixture("do-app.json")).Replace("\"last_deployment_active_at\"", "\"pinned_deployment\": { \"id\": \"d7d7d7d7-0000-4000-8000-000000000007\" },\n    \"last_deployment_active_at\"");
        var doctl = cli.Tool("doctl", new Reply($"apps get {Id} -o json", Text: pinned));
        var s = fx.Run($"Get-AppStatus -Platform DigitalOcean -AppId {Id} -DoctlPath '{doctl}'").AssertNoErrors().Single<AppStatus>();
        Assert.Contains("pinned to rollback deployment d7d7d7d7-0000-4000-8000-000000000007: run Invoke-Rollback -Commit or -Revert", s.Reason);
    }
}
