using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using IncidentOps.Tests.Tunnels;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// A database on the bastion itself is configured as localhost:5432 behind an ssh/kubectl tunnel, and an engineer's own
/// laptop often runs a PostgreSQL on localhost:5432 too. Both describe themselves as localhost:5432/db, so the Server a
/// PgActivity carries cannot tell them apart: the route (tunnel or direct) must match as well. The tunnel is the kubectl
/// stand-in, forwarding to the real test server; nothing listens on localhost:5432 here.
/// </summary>
public sealed class PgTunnelRouteTests : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>, IDisposable
{
    private readonly ModuleFixture _fx;
    private readonly PgTestDatabase _db;
    private readonly TunnelStandIns _cli = new();
    private readonly string _dir = Paths.TempDir("io-route");

    public PgTunnelRouteTests(ModuleFixture fx, PgTestDatabase db)
    {
        (_fx, _db) = (fx, db);
        File.WriteAllText(Config, $$"""
            version: 1
            {{_cli.ToolsYaml}}
            store: { path: {{Path.Combine(_dir, "store")}} }
            environments:
              production:
                services:
                  bastiondb:
                    postgres: { connectionString: 'Host=localhost;Port=5432;Database={{db.Database}};Username=postgres', tunnel: { kubectl: svc/postgres, namespace: db } }
                  otherdb:
                    postgres: { connectionString: 'Host=localhost;Port=5432;Database={{db.Database}};Username=postgres', tunnel: { kubectl: svc/postgres, namespace: other } }
            """);
    }

    private string Config => Path.Combine(_dir, "incidentops.yml");
    private string Server => $"localhost:5432/{_db.Database}";
    private static string App() => "io-route-" + Guid.NewGuid().ToString("N")[..6];

    private PwshResult Run(string script) => _fx.Session.Run(script, new Dictionary<string, object?>
    {
        ["cfg"] = Config,
        ["direct"] = $"Host=localhost;Port=5432;Database={_db.Database};Username=postgres",
    });

    [Fact]
    public async Task A_backend_read_directly_is_not_stopped_through_a_tunnel_that_names_the_same_host_port()
    {
        var session = await _db.OpenAsync(_db.AppRole, App());
        // As Get-PgActivity -ConnectionString 'Host=localhost;Port=5432;...' lists it from the laptop's own server (no
        // Service, since it was read directly), with a pid that the database behind the tunnel also has.
        var r = Run($"[pscustomobject]@{{ Pid = {session.ProcessID}; Server = '{Server}'; Service = $null }} | Stop-PgBackend -Service production/bastiondb -ConfigPath $cfg -Force -TimeoutSec 20");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand", e.FullyQualifiedErrorId);
        Assert.Contains("tunnel", e.ToString());
        Assert.Empty(r.Output);
        Assert.True(_db.Exists(session.ProcessID));
    }

    [Fact]
    public async Task A_backend_read_through_the_tunnel_is_not_stopped_on_a_direct_connection_to_the_same_host_port()
    {
        var app = App();
        var session = await _db.OpenAsync(_db.AppRole, app);
        var r = Run($"Get-PgActivity -Service production/bastiondb -ConfigPath $cfg -ApplicationName '{app}' -TimeoutSec 20 | Stop-PgBackend -ConnectionString $direct -ConfigPath $cfg -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand", e.FullyQualifiedErrorId);
        Assert.Empty(r.Output);
        Assert.True(_db.Exists(session.ProcessID));

        // The same service on both sides goes through the same tunnel and stops it.
        r = Run($"Get-PgActivity -Service production/bastiondb -ConfigPath $cfg -ApplicationName '{app}' -TimeoutSec 20 | Stop-PgBackend -ConfigPath $cfg -Force -TimeoutSec 20").AssertNoErrors();
        Assert.True(r.Single<PgTerminationResult>().Succeeded);
        await _db.WaitGoneAsync(session.ProcessID);
    }

    [Fact]
    public async Task Each_prompt_names_the_tunnel_of_its_own_record_when_services_interleave()
    {
        // A pid without its backend_start is read (through the record's tunnel) before the prompt names it: a live one.
        var session = await _db.OpenAsync(_db.AppRole, App());
        // Sorted across services (by duration, say): bastiondb, otherdb, bastiondb again.
        var r = Run($$"""
            @('production/bastiondb', 'production/otherdb', 'production/bastiondb') | ForEach-Object { [pscustomobject]@{ Pid = {{session.ProcessID}}; Service = $_; Server = '{{Server}}' } } |
                Stop-PgBackend -ConfigPath $cfg -WhatIf
            """).AssertNoErrors();
        var prompts = r.HostText.Split("What if:", StringSplitOptions.RemoveEmptyEntries).Where(t => t.Contains("pg_terminate_backend")).ToList();
        Assert.Equal(3, prompts.Count);
        Assert.Contains("--namespace db ", prompts[0]);
        Assert.Contains("--namespace other ", prompts[1]);
        Assert.Contains("--namespace db ", prompts[2]);
        Assert.True(_db.Exists(session.ProcessID));
    }

    public void Dispose() => Paths.DeleteTree(_dir);
}
