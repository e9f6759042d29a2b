using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Issue 16 item 2: a pid piped from Get-PgActivity is stopped on the server it was read from, never on the one
/// PGHOST/PGPORT (or another -Service/-ConnectionString) names. Two real clusters: the main test server (A) and
/// <see cref="SecondPgServer"/> (B), which the libpq environment points at during these tests.
/// </summary>
[Collection(nameof(LibpqEnvironment))]
public sealed class PipelineIdentityTests : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>, IClassFixture<SecondPgServer>, IDisposable
{
    private readonly ModuleFixture _fx;
    private readonly PgTestDatabase _a;
    private readonly SecondPgServer _b;
    private readonly string _dir;
    private readonly Dictionary<string, string?> _savedEnv = [];

    public PipelineIdentityTests(ModuleFixture fx, PgTestDatabase a, SecondPgServer b)
    {
        (_fx, _a, _b) = (fx, a, b);
        _dir = Paths.TempDir("io-ident");
        File.WriteAllText(Config, $"""
            version: 1
            environments:
              production:
                services:
                  marketing:
                    postgres: '{a.ConnectionString(a.AppRole)}'
                  billing:
                    postgres: '{b.ConnectionString()}'
            store:
              path: {Path.Combine(_dir, "store")}
            """);
        // The libpq environment names server B, as PGHOST/PGPORT did in the report.
        foreach (var (k, v) in new Dictionary<string, string> { ["PGHOST"] = SecondPgServer.Host, ["PGPORT"] = b.Port.ToString(), ["PGDATABASE"] = "postgres", ["PGUSER"] = "postgres" })
        {
            _savedEnv[k] = Environment.GetEnvironmentVariable(k);
            Environment.SetEnvironmentVariable(k, v);
        }
    }

    private string Config => Path.Combine(_dir, "incidentops.yml");

    private PwshResult Run(string script) => _fx.Session.Run(script, new Dictionary<string, object?> { ["cfg"] = Config, ["csA"] = _a.ConnectionString(_a.AppRole), ["csB"] = _b.ConnectionString() });

    private static string App() => "io-ident-" + Guid.NewGuid().ToString("N")[..6];

    [Fact]
    public async Task A_pid_piped_from_a_service_is_stopped_on_that_service_not_on_PGHOST()
    {
        var app = App();
        var onA = await _a.OpenAsync(_a.AppRole, app);
        var r = Run($"Get-PgActivity -Service production/marketing -ConfigPath $cfg -ApplicationName '{app}' | Stop-PgBackend -ConfigPath $cfg -Force").AssertNoErrors();
        var result = r.Single<PgTerminationResult>();
        Assert.Equal(onA.ProcessID, result.Pid);
        Assert.True(result.Succeeded, result.Reason);
        await _a.WaitGoneAsync(onA.ProcessID);
    }

    [Fact]
    public async Task PgActivity_carries_the_service_and_server_it_was_read_from()
    {
        var app = App();
        await _a.OpenAsync(_a.AppRole, app);
        var r = Run($"Get-PgActivity -Service production/marketing -ConfigPath $cfg -ApplicationName '{app}'").AssertNoErrors();
        var a = r.Single<PgActivity>();
        Assert.Equal("production/marketing", a.Service);
        Assert.Equal($"{_a.Host}:{_a.Port}/{_a.Database}", a.Server);
        Assert.DoesNotContain("Password", a.Server);
    }

    [Fact]
    public async Task A_pid_read_through_ConnectionString_is_refused_on_the_libpq_environment_server()
    {
        var app = App();
        var onA = await _a.OpenAsync(_a.AppRole, app);
        var r = Run($"Get-PgActivity -ConnectionString $csA -ApplicationName '{app}' | Stop-PgBackend -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"{_a.Host}:{_a.Port}/{_a.Database}", e.ToString());
        Assert.Contains($"127.0.0.1:{_b.Port}/postgres", e.ToString());
        Assert.Empty(r.Output);
        Assert.True(_a.Exists(onA.ProcessID));

        // The same -ConnectionString on both sides is the way to act on it.
        r = Run($"Get-PgActivity -ConnectionString $csA -ApplicationName '{app}' | Stop-PgBackend -ConnectionString $csA -Force").AssertNoErrors();
        Assert.True(r.Single<PgTerminationResult>().Succeeded);
        await _a.WaitGoneAsync(onA.ProcessID);
    }

    [Theory]
    [InlineData("-Service production/billing -ConfigPath $cfg")]
    [InlineData("-ConnectionString $csB")]
    [InlineData("-Service billing -ConfigPath $cfg")]
    public async Task A_piped_backend_from_another_origin_than_the_explicit_target_is_an_error(string explicitTarget)
    {
        var app = App();
        var onA = await _a.OpenAsync(_a.AppRole, app);
        var onB = await _b.OpenAsync("io_plain", app);
        var r = Run($"Get-PgActivity -Service production/marketing -ConfigPath $cfg -ApplicationName '{app}' | Stop-PgBackend {explicitTarget} -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("PipelineTargetMismatch,IncidentOps.Commands.StopPgBackendCommand", e.FullyQualifiedErrorId);
        Assert.Empty(r.Output);
        Assert.True(_a.Exists(onA.ProcessID));
        Assert.True(_b.Exists(onB.ProcessID));
        _b.CloseSessions();
    }

    public void Dispose()
    {
        foreach (var (k, v) in _savedEnv) Environment.SetEnvironmentVariable(k, v);
        Paths.DeleteTree(_dir);
    }
}

/// <summary>Test classes that set the process-wide libpq environment (PGHOST ...) run one at a time.</summary>
[CollectionDefinition(nameof(LibpqEnvironment), DisableParallelization = true)]
public sealed class LibpqEnvironment;
