using System.Net;
using System.Net.Sockets;
using System.Text;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// A doctl config.yaml of a multi-account setup: the current context is team-prod, whose token is in auth-contexts;
/// the default context has its own access-token; another context (team-staging) has a third token. doctl's own
/// precedence decides which one a command uses (DoctlAuth).
/// </summary>
internal static class DoctlConfig
{
    public const string DefaultToken = "canary-do-default-4410";
    public const string ProdToken = "canary-do-teamprod-8812";
    public const string StagingToken = "canary-do-teamstaging-3307";
    public const string EnvToken = "canary-do-env-6650";

    public static string Write(string dir, string current = "team-prod")
    {
        var file = Path.Combine(dir, "config.yaml");
        File.WriteAllText(file, $"""
            access-token: {DefaultToken}
            auth-contexts:
              team-prod: {ProdToken}
              team-staging: {StagingToken}
            context: {current}
            output: text
            """);
        return file;
    }
}

/// <summary>Issue 16: the DigitalOcean token follows doctl's context precedence (engine only; the environment is a function).</summary>
public sealed class DoctlAuthTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void The_context_is_DIGITALOCEAN_CONTEXT_else_the_config_file_else_default()
    {
        var file = DoctlConfig.Write(Paths.TempDir("io-doctl-ctx"));
        Assert.Equal("team-prod", DoctlAuth.Context(Env(("DIGITALOCEAN_CONFIG", file))));
        Assert.Equal("team-staging", DoctlAuth.Context(Env(("DIGITALOCEAN_CONFIG", file), ("DIGITALOCEAN_CONTEXT", "Team-Staging"))));
        Assert.Equal("default", DoctlAuth.Context(Env(("DIGITALOCEAN_CONFIG", Path.Combine(Paths.TempDir("io-doctl-none"), "config.yaml")))));
    }

    [Fact]
    public void A_named_context_uses_its_auth_contexts_token_and_never_the_environment_token()
    {
        var file = DoctlConfig.Write(Paths.TempDir("io-doctl-token"));
        var env = Env(("DIGITALOCEAN_CONFIG", file), ("DIGITALOCEAN_ACCESS_TOKEN", DoctlConfig.EnvToken));
        Assert.Equal(DoctlConfig.ProdToken, DoctlAuth.Token("team-prod", env));
        Assert.Equal(DoctlConfig.StagingToken, DoctlAuth.Token("team-staging", env));
        // The default context: the environment token first, as doctl (viper) reads access-token; else the file's.
        Assert.Equal(DoctlConfig.EnvToken, DoctlAuth.Token("default", env));
        Assert.Equal(DoctlConfig.DefaultToken, DoctlAuth.Token("default", Env(("DIGITALOCEAN_CONFIG", file))));
        Assert.Null(DoctlAuth.Token("unknown", env));
        Assert.DoesNotContain("canary", DoctlAuth.NoTokenAdvice("unknown", env));
    }
}

[CollectionDefinition(nameof(DoctlEnvironment), DisableParallelization = true)]
public sealed class DoctlEnvironment;

/// <summary>
/// Issue 16 in a hosted pwsh: doctl and the App Platform API (a loopback stub) use one account, the doctl context the
/// command started with, even when DIGITALOCEAN_ACCESS_TOKEN names another account and the context is switched meanwhile.
/// Process-wide environment variables, so these run alone.
/// </summary>
[Collection(nameof(DoctlEnvironment))]
public sealed class DoctlContextCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string Id = "f1e2d3c4-0000-4000-8000-00000000a001";

    /// <summary>Runs with a test-own doctl home (DoctlHome: nothing of the machine's doctl setup applies) and <paramref name="vars"/> on top.</summary>
    private static T With<T>(IReadOnlyDictionary<string, string?> vars, Func<T> run)
    {
        using var home = new DoctlHome(vars);
        return run();
    }

    private static async Task<List<string>> ServeAsync(HttpListener listener, CancellationToken ct)
    {
        var seen = new List<string>();
        while (seen.Count < 2)
        {
            var ctx = await listener.GetContextAsync().WaitAsync(ct);
            seen.Add($"{ctx.Request.HttpMethod} {ctx.Request.Url!.AbsolutePath} {ctx.Request.Headers["Authorization"]}");
            var reply = ctx.Request.Url.AbsolutePath.EndsWith("/validate", StringComparison.Ordinal)
                ? "{\"valid\":true,\"warnings\":[]}" : "{\"deployment\":{\"id\":\"d7\",\"phase\":\"PENDING_DEPLOY\"}}";
            var bytes = Encoding.UTF8.GetBytes(reply);
            ctx.Response.ContentType = "application/json";
            await ctx.Response.OutputStream.WriteAsync(bytes, ct);
            ctx.Response.Close();
        }
        return seen;
    }

    [Fact]
    public async Task A_piped_rollback_uses_the_doctl_context_it_started_with_for_doctl_and_the_api_and_shows_no_token()
    {
        var dir = Paths.TempDir("io-doctl-rollback");
        var config = DoctlConfig.Write(dir);
        var cli = new FakeCli();
        var path = cli.Tool("doctl",
            new Reply($"apps get {Id} -o json --context team-prod --config {config}", "do-app.json"),
            new Reply($"apps list-deployments {Id} -o json --context team-prod --config {config}", "do-deployments.json"));
        var (started, port) = TestServers.StartHttpListener();
        using var listener = started;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = ServeAsync(listener, cts.Token);
        var vars = new Dictionary<string, string?>
        {
            ["DIGITALOCEAN_CONFIG"] = config, ["DIGITALOCEAN_API_URL"] = $"http://127.0.0.1:{port}/",
            // Another account's token in the environment: doctl ignores it for a named context, and so must the API call.
            ["DIGITALOCEAN_ACCESS_TOKEN"] = DoctlConfig.EnvToken, ["DIGITALOCEAN_CONTEXT"] = null,
        };
        var r = With(vars, () => fx.Run($$"""
            $s = Get-AppStatus -Platform DigitalOcean -AppId {{Id}} -DoctlPath '{{path}}'
            [IO.File]::WriteAllText('{{config}}', [IO.File]::ReadAllText('{{config}}').Replace('context: team-prod', 'context: team-staging'))   # doctl auth switch, elsewhere
            $s | Invoke-Rollback -DoctlPath '{{path}}' -Force -Verbose
            """)).AssertNoErrors();
        var seen = await server;
        Assert.Equal([$"POST /v2/apps/{Id}/rollback/validate Bearer {DoctlConfig.ProdToken}", $"POST /v2/apps/{Id}/rollback Bearer {DoctlConfig.ProdToken}"], seen);
        // The history is listed twice (the plan, then again after the confirmation: RollbackCurrentChanged), both times in the pinned context.
        Assert.Equal([$"doctl apps get {Id} -o json --context team-prod --config {config}", $"doctl apps list-deployments {Id} -o json --context team-prod --config {config}", $"doctl apps list-deployments {Id} -o json --context team-prod --config {config}"], cli.Calls);
        Assert.True(r.Single<RollbackResult>().Succeeded);
        foreach (var token in new[] { DoctlConfig.ProdToken, DoctlConfig.StagingToken, DoctlConfig.EnvToken, DoctlConfig.DefaultToken })
            Assert.DoesNotContain(token, r.AllText());
    }

    [Fact]
    public void A_piped_app_read_with_one_doctl_config_is_not_acted_on_with_another_config()
    {
        // Two doctl config files, each with a context team-prod (another company's account in the second). An object read
        // with the first and piped after DIGITALOCEAN_CONFIG switched to the second named only the context, so the
        // restart ran in the second file's team-prod account.
        var config = DoctlConfig.Write(Paths.TempDir("io-doctl-cfg-a"));
        var other = DoctlConfig.Write(Paths.TempDir("io-doctl-cfg-b"));
        var cli = new FakeCli();
        var path = cli.Tool("doctl", new Reply($"apps get {Id} -o json", "do-app.json"), new Reply($"apps create-deployment {Id}", Text: "[]\n"));
        var vars = new Dictionary<string, string?> { ["DIGITALOCEAN_CONFIG"] = config };
        var r = With(vars, () => fx.Run($$"""
            $s = Get-AppStatus -Platform DigitalOcean -AppId {{Id}} -DoctlPath '{{path}}'
            $env:DIGITALOCEAN_CONFIG = '{{other}}'
            $s | Restart-App -DoctlPath '{{path}}' -Force
            """));

        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.RestartAppCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"read with doctl's config file '{config}', but doctl now uses '{other}'", e.ToString());
        Assert.Empty(r.Objects<AppActionResult>());
        // Only the read ran, with the config file it was pinned to; nothing was redeployed.
        Assert.Equal([$"doctl apps get {Id} -o json --context team-prod --config {config}"], cli.Calls);
        Assert.DoesNotContain("canary", r.AllText());
    }

    [Fact]
    public void A_piped_app_is_acted_on_with_the_config_file_it_was_read_with_when_it_is_still_doctls()
    {
        var config = DoctlConfig.Write(Paths.TempDir("io-doctl-cfg-same"));
        var cli = new FakeCli();
        var path = cli.Tool("doctl", new Reply($"apps get {Id} -o json", "do-app.json"), new Reply($"apps create-deployment {Id}", Text: "[]\n"));
        var r = With(new Dictionary<string, string?> { ["DIGITALOCEAN_CONFIG"] = config }, () => fx.Run(
            $"Get-AppStatus -Platform DigitalOcean -AppId {Id} -DoctlPath '{path}' | Restart-App -DoctlPath '{path}' -Force")).AssertNoErrors();
        Assert.True(r.Single<AppActionResult>().Succeeded);
        Assert.Equal([$"doctl apps get {Id} -o json --context team-prod --config {config}", $"doctl apps create-deployment {Id} --force-rebuild -o json --context team-prod --config {config}"], cli.Calls);
    }

    [Fact]
    public void WhatIf_names_the_doctl_context_and_runs_and_sends_nothing_that_changes()
    {
        var dir = Paths.TempDir("io-doctl-whatif");
        var config = DoctlConfig.Write(dir);
        var cli = new FakeCli();
        var path = cli.Tool("doctl", new Reply($"apps list-deployments {Id} -o json --context team-staging --config {config}", "do-deployments.json"));
        var vars = new Dictionary<string, string?> { ["DIGITALOCEAN_CONFIG"] = config, ["DIGITALOCEAN_CONTEXT"] = "team-staging", ["DIGITALOCEAN_API_URL"] = "http://127.0.0.1:9/" };
        var r = With(vars, () => fx.Run($"""
            Invoke-Rollback -Platform DigitalOcean -AppId {Id} -DoctlPath '{path}' -WhatIf
            Restart-App -Platform DigitalOcean -AppId {Id} -DoctlPath '{path}' -WhatIf
            """)).AssertNoErrors();
        Assert.Contains($"DigitalOcean app {Id} (doctl context team-staging)", r.HostText);
        Assert.Contains($"doctl apps create-deployment {Id} --force-rebuild -o json --context team-staging --config {config}", r.HostText);
        // Only the read that picks the release ran.
        Assert.Equal([$"doctl apps list-deployments {Id} -o json --context team-staging --config {config}"], cli.Calls);
        Assert.DoesNotContain("canary", r.AllText());
    }

    [Fact]
    public void Invoke_ServiceAction_runs_doctl_in_the_context_it_planned_with_and_WhatIf_names_it()
    {
        var dir = Paths.TempDir("io-doctl-action");
        var doctlConfig = DoctlConfig.Write(dir);
        var cli = new FakeCli();
        var doctl = cli.Tool("doctl", new Reply("apps create-deployment", Text: "[]\n"));
        var config = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(config, $$"""
            environments:
              production:
                services:
                  portfolio:
                    platform: digitalocean
                    appId: {{Id}}
                    actions:
                      redeploy:
                        command: [doctl, apps, create-deployment, {{Id}}]
                        confirmImpact: Low
                      redeploy-staging:
                        command: [doctl, apps, create-deployment, {{Id}}, --context, team-staging]
                        confirmImpact: Low
            tools:
              doctl: {{doctl}}
            store: { path: {{dir}}/store }
            """);
        var vars = new Dictionary<string, string?> { ["DIGITALOCEAN_CONFIG"] = doctlConfig, ["DIGITALOCEAN_CONTEXT"] = null };
        var w = With(vars, () => fx.Run($"Invoke-ServiceAction production/portfolio redeploy -WhatIf -ConfigPath '{config}'")).AssertNoErrors();
        Assert.Contains($"doctl apps create-deployment {Id} --context team-prod --config {doctlConfig}", w.HostText);
        Assert.Empty(cli.Calls);
        var r = With(vars, () => fx.Run($"""
            Invoke-ServiceAction production/portfolio redeploy -Force -ConfigPath '{config}'
            Invoke-ServiceAction production/portfolio redeploy-staging -Force -ConfigPath '{config}'
            """)).AssertNoErrors();
        Assert.All(r.Objects<IncidentOps.Actions.ServiceActionResult>(), a => Assert.True(a.Succeeded, a.Outcome));
        Assert.Equal([$"doctl apps create-deployment {Id} --context team-prod --config {doctlConfig}", $"doctl apps create-deployment {Id} --context team-staging"], cli.Calls);
        Assert.DoesNotContain("canary", w.AllText() + r.AllText());
    }

    [Fact]
    public void A_DigitalOcean_database_command_runs_every_doctl_call_in_the_context_it_started_with()
    {
        const string Db = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30";
        var config = DoctlConfig.Write(Paths.TempDir("io-doctl-db"));
        var cli = new FakeCli();
        var path = cli.Tool("doctl", new Reply($"databases backups {Db} -o json --context team-staging --config {config}", "do-database-backups.json"));
        var vars = new Dictionary<string, string?> { ["DIGITALOCEAN_CONFIG"] = config, ["DIGITALOCEAN_CONTEXT"] = "team-staging" };
        var r = With(vars, () => fx.Run($"Restore-AppDatabaseBackup -Platform DigitalOcean -DatabaseId {Db} -BackupId 2026-11-23T02:00:41Z -DoctlPath '{path}' -WhatIf; Get-AppDatabaseBackup -Platform DigitalOcean -DatabaseId {Db} -DoctlPath '{path}'")).AssertNoErrors();
        Assert.Contains($"--restore-from-cluster-id {Db} --restore-from-timestamp '2026-11-23 02:00:41 +0000 UTC' -o json --context team-staging --config {config}", r.HostText);
        Assert.All(cli.Calls, c => Assert.EndsWith($" --context team-staging --config {config}", c));
        Assert.NotEmpty(r.Objects<AppDatabaseBackup>());
    }
}
