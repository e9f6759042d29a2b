using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Xunit;

namespace IncidentOps.Tests.Tunnels;

/// <summary>
/// A record read through a kubectl tunnel whose configuration names no context named only the far end
/// (postgres:5432/app), the same in every cluster that has the service: '$a = Get-PgActivity' in context blue, then
/// 'kubectl config use-context green', then '$a | Stop-PgBackend' connected to green's database and only the pid +
/// backend_start pin kept it from stopping a session there. The record now carries the context it was read through
/// (Route), and a piped record read through another context is PipelineTargetMismatch. The stand-in kubectl routes every
/// context to the same test server, so without the check the stop would succeed and the session would be gone.
/// </summary>
public sealed class TunnelRouteTests : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>
{
    private readonly ModuleFixture _fx;
    private readonly PgTestDatabase _db;
    private readonly TunnelStandIns _cli = new();
    private readonly string _config;
    private readonly string _kubeconfig;

    public TunnelRouteTests(ModuleFixture fx, PgTestDatabase db)
    {
        _fx = fx;
        _db = db;
        var dir = Paths.TempDir("tunnel-route");
        _config = Path.Combine(dir, "incidentops.yml");
        _kubeconfig = Path.Combine(dir, "kubeconfig");
        File.WriteAllText(_kubeconfig, Kubeconfig("blue"));
        var pg = $"postgres://{db.AppRole}@postgres.akaind-platform.svc:5432/{db.Database}";
        File.WriteAllText(_config, $$"""
            version: 1
            {{_cli.ToolsYaml}}
            store: { path: {{Path.Combine(dir, "store")}} }
            environments:
              production:
                services:
                  marketing:
                    postgres: { connectionString: '{{pg}}', tunnel: { kubectl: svc/postgres, kubeconfig: {{_kubeconfig}} } }
            """);
    }

    private static string Kubeconfig(string current) => TunnelKubePinTests.Kubeconfig(current, "akaind-platform", "akaind-platform");

    private static string App() => "io-route-" + Guid.NewGuid().ToString("N")[..6];

    /// <summary>Reads with $read, switches the kubeconfig's current context to $switchTo ('kubectl config use-context'), then runs $act on $a.</summary>
    private PwshResult ReadSwitchAct(string read, string switchTo, string act) => _fx.Session.Run(
        $"$a = @({read}); [System.IO.File]::WriteAllText($kc, $next); $a | {act}",
        new Dictionary<string, object?> { ["cfg"] = _config, ["kc"] = _kubeconfig, ["next"] = Kubeconfig(switchTo) });

    [Fact]
    public async Task A_backend_read_in_one_kubectl_context_is_not_stopped_through_another_context()
    {
        File.WriteAllText(_kubeconfig, Kubeconfig("blue"));
        var app = App();
        var s = await _db.OpenAsync(_db.AppRole, app);

        var r = ReadSwitchAct($"Get-PgActivity -Service production/marketing -ApplicationName '{app}' -ConfigPath $cfg", "green",
            "Stop-PgBackend -Service production/marketing -Force -ConfigPath $cfg");

        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand", e.FullyQualifiedErrorId);
        Assert.Contains("kubectl context 'blue'", e.ToString());
        Assert.Contains("kubectl context 'green'", e.ToString());
        Assert.Contains("Get-PgActivity -Service production/marketing", e.ToString());
        Assert.Contains("context: <name>", e.ToString());
        Assert.Empty(r.Objects<PgTerminationResult>());
        Assert.True(_db.Exists(s.ProcessID), "the session read in blue was stopped through green");
    }

    [Fact]
    public async Task A_backend_read_and_stopped_in_the_same_kubectl_context_is_stopped_and_names_its_route()
    {
        File.WriteAllText(_kubeconfig, Kubeconfig("blue"));
        var app = App();
        var s = await _db.OpenAsync(_db.AppRole, app);

        var r = ReadSwitchAct($"Get-PgActivity -Service production/marketing -ApplicationName '{app}' -ConfigPath $cfg", "blue",
            "Stop-PgBackend -Service production/marketing -Force -ConfigPath $cfg").AssertNoErrors();

        Assert.True(r.Single<PgTerminationResult>().Succeeded);
        await _db.WaitGoneAsync(s.ProcessID);
        var listed = Assert.Single(_fx.Session.Run("$a").Objects<PgActivity>());
        Assert.Equal($"postgres.akaind-platform.svc:5432/{_db.Database}", listed.Server);
        Assert.Equal($"kubectl context 'blue' (kubeconfig '{_kubeconfig}', namespace 'akaind-platform')", listed.Route);
    }

    [Fact]
    public async Task A_backend_read_through_one_kubeconfig_is_not_stopped_through_another_kubeconfig_with_the_same_context_name()
    {
        // Two kubeconfig files, each with a context 'blue' (on another machine they would point at different clusters):
        // the context name alone matched, so a pid read through one file was stopped through the other.
        var dir = Paths.TempDir("tunnel-route-files");
        var other = Path.Combine(dir, "kubeconfig-other");
        File.WriteAllText(_kubeconfig, Kubeconfig("blue"));
        File.WriteAllText(other, Kubeconfig("blue").Replace("https://127.0.0.1:1", "https://127.0.0.1:3", StringComparison.Ordinal));
        var otherConfig = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(otherConfig, File.ReadAllText(_config).Replace($"kubeconfig: {_kubeconfig}", $"kubeconfig: {other}", StringComparison.Ordinal));
        var app = App();
        var s = await _db.OpenAsync(_db.AppRole, app);

        var r = _fx.Session.Run(
            $"$a = @(Get-PgActivity -Service production/marketing -ApplicationName '{app}' -ConfigPath $cfg); $a | Stop-PgBackend -Service production/marketing -Force -ConfigPath $other",
            new Dictionary<string, object?> { ["cfg"] = _config, ["other"] = otherConfig });

        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"kubeconfig '{_kubeconfig}'", e.ToString());
        Assert.Contains($"kubeconfig '{other}'", e.ToString());
        Assert.Empty(r.Objects<PgTerminationResult>());
        Assert.True(_db.Exists(s.ProcessID), "the session read through one kubeconfig was stopped through another");
    }

    [Fact]
    public void A_table_read_in_one_kubectl_context_gets_no_maintenance_through_another_context()
    {
        File.WriteAllText(_kubeconfig, Kubeconfig("blue"));
        var table = "route_" + Guid.NewGuid().ToString("N")[..8];
        _db.ExecAs(_db.SuperRole, $"CREATE TABLE {table} (id int PRIMARY KEY); ALTER TABLE {table} OWNER TO \"{_db.AppRole}\"");
        var read = $"Get-PgIndex -Service production/marketing -ConfigPath $cfg | Where-Object Table -eq '{table}'";
        const string act = "Invoke-PgMaintenance -Service production/marketing -Operation Analyze -Force -ConfigPath $cfg";

        var r = ReadSwitchAct(read, "green", act);

        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.InvokePgMaintenanceCommand", e.FullyQualifiedErrorId);
        Assert.Contains("kubectl context 'blue'", e.ToString());
        Assert.Contains("kubectl context 'green'", e.ToString());
        Assert.Contains("Get-PgIndex -Service production/marketing", e.ToString());
        Assert.Empty(r.Objects<PgMaintenanceResult>());

        // The same context on both sides still runs.
        File.WriteAllText(_kubeconfig, Kubeconfig("green"));
        r = ReadSwitchAct(read, "green", act).AssertNoErrors();
        Assert.Contains($"{table}", Assert.Single(r.Objects<PgMaintenanceResult>()).Sql);
    }

    [Fact]
    public async Task A_record_without_a_route_keeps_the_server_comparison()
    {
        // An older object (or one exported before Route existed) carries Server and Service only: it is not refused for its route.
        File.WriteAllText(_kubeconfig, Kubeconfig("blue"));
        var app = App();
        var s = await _db.OpenAsync(_db.AppRole, app);

        var r = ReadSwitchAct($"Get-PgActivity -Service production/marketing -ApplicationName '{app}' -ConfigPath $cfg | ForEach-Object {{ [pscustomobject]@{{ Pid = $_.Pid; Service = $_.Service; Server = $_.Server; BackendStart = $_.BackendStart }} }}", "green",
            "Stop-PgBackend -Force -ConfigPath $cfg").AssertNoErrors();

        Assert.True(r.Single<PgTerminationResult>().Succeeded);
        await _db.WaitGoneAsync(s.ProcessID);
    }
}
