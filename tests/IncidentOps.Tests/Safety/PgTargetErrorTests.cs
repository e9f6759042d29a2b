using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Issue 16 item 4: a PostgreSQL target that cannot be reached is a non-terminating error for that target, so the
/// next one in the pipeline is still read; exhausted connection slots (SQLSTATE 53300) say what to do.
/// </summary>
public sealed class PgTargetErrorTests(ModuleFixture fx, PgTestDatabase db, SecondPgServer small)
    : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>, IClassFixture<SecondPgServer>
{
    private string Config(string yamlServices)
    {
        var dir = Paths.TempDir("io-pgerr");
        var path = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(path, $"version: 1\nenvironments:\n  production:\n    services:\n{yamlServices}store:\n  path: {Path.Combine(dir, "store")}\n");
        return path;
    }

    [Theory]
    [InlineData("Get-PgConnectionSummary")]
    [InlineData("Get-PgActivity -State active")]
    [InlineData("Stop-IdleConnection -ApplicationName 'io-none-*' -WhatIf")]
    public void An_unreachable_database_does_not_stop_the_next_service(string cmdlet)
    {
        var cfg = Config($"      down:\n        postgres: 'Host=127.0.0.1;Port={TestServers.FreePort()};Database=x;Username=postgres;Timeout=2'\n      up:\n        postgres: '{db.ConnectionString(db.SuperRole)}'\n");
        var r = fx.Run($"Get-IncidentOpsService -Path '{cfg}' | {cmdlet} -ConfigPath '{cfg}' -TimeoutSec 3 -ErrorAction SilentlyContinue -ErrorVariable failures; $failures.Count");
        Assert.Null(r.Terminating);
        var count = r.Output.Last();
        Assert.Equal("1", count.ToString());
        // Output for the reachable service came after the unreachable one failed (under -WhatIf with nothing to
        // terminate, its What if: line saying that nothing on that server matched).
        if (cmdlet.Contains("-WhatIf", StringComparison.Ordinal))
            Assert.Contains($"What if: No session on {db.Host}:{db.Port}/{db.Database} matched", r.HostText);
        else
            Assert.True(r.Output.Count > 1, string.Join(" | ", r.Output));
    }

    [Fact]
    public void An_unknown_service_is_a_non_terminating_error_for_that_record()
    {
        var cfg = Config($"      up:\n        postgres: '{db.ConnectionString(db.SuperRole)}'\n");
        var r = fx.Run($"[pscustomobject]@{{ Service = 'production/nope' }}, [pscustomobject]@{{ Service = 'production/up' }} | Get-PgConnectionSummary -ConfigPath '{cfg}'");
        Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("ServiceNotFound,"));
        Assert.Single(r.Objects<PgConnectionSummary>());
    }

    [Fact]
    public async Task Exhausted_connection_slots_say_to_use_a_reserved_role_or_the_console()
    {
        // max_connections 6 with 3 reserved for superusers: three ordinary sessions take every slot a plain role may use.
        for (var i = 0; i < 3; i++) await small.OpenAsync("io_plain", "io-fill");
        try
        {
            var r = fx.Run($"Get-PgConnectionSummary -ConnectionString '{small.ConnectionString("io_plain")}' -TimeoutSec 5");
            var e = Assert.Single(r.Errors);
            Assert.Equal("PgTooManyConnections,IncidentOps.Commands.GetPgConnectionSummaryCommand", e.FullyQualifiedErrorId);
            Assert.Contains("superuser", e.ErrorDetails.Message);
            Assert.Contains("console", e.ErrorDetails.Message);
            Assert.Contains("53300", e.ErrorDetails.Message);
            Assert.NotNull(e.ErrorDetails.RecommendedAction);

            // The advice works: a superuser still gets in through the reserved slots.
            r = fx.Run($"Get-PgConnectionSummary -ConnectionString '{small.ConnectionString("postgres")}' -TimeoutSec 5").AssertNoErrors();
            Assert.True(r.Single<PgConnectionSummary>().Total >= 3);
        }
        finally { small.CloseSessions(); }
    }
}
