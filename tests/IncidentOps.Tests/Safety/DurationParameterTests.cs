using System.Management.Automation;
using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Postgres;
using IncidentOps.Tests.Postgres;
using Xunit;

namespace IncidentOps.Tests.Safety;

/// <summary>
/// Issue 16 item 1: PowerShell parses an unquoted 30s as the [int16] 30 and 2d as the [decimal] 2; every duration
/// parameter must read them as 30 seconds and 2 days (not ticks, not 2 seconds). Issue 18 item 18: 99999999d.
/// </summary>
public sealed class DurationParameterTests(ModuleFixture fx, PgTestDatabase db) : IClassFixture<ModuleFixture>, IClassFixture<PgTestDatabase>
{
    // -WhatIf reads the session a typed pid names (it is named in the text and pinned in the statement): the server's
    // checkpointer is a backend that is always there, and -WhatIf never signals it.
    private PwshResult WhatIfEscalate(string argument) =>
        fx.Session.Run($"Stop-PgBackend -ConnectionString $cs -Pid {db.Scalar("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")} -Mode Cancel -EscalateAfter {argument} -WhatIf",
            new Dictionary<string, object?> { ["cs"] = db.ConnectionString("postgres") });

    // A configuration whose only duration is the timeout of a health check (on line 7), set to value.
    private static ConfigLoadResult ParseHealthTimeout(string value) => ConfigParser.Parse($$"""
        version: 1
        environments:
          production:
            services:
              api:
                health:
                  - { url: https://api.example.com/health, timeout: {{value}} }
        """, "/cfg/incidentops.yml");

    [Theory]
    [InlineData("30s", "after 30s if")]
    [InlineData("3600s", "after 3600s if")]
    [InlineData("2d", "after 172800s if")]
    [InlineData("1.5d", "after 129600s if")]
    [InlineData("90", "after 90s if")]
    [InlineData("2.5", "after 2.5s if")]
    [InlineData("10m", "after 600s if")]
    [InlineData("1h30m", "after 5400s if")]
    [InlineData("'00:10:00'", "after 600s if")]
    [InlineData("([timespan]::FromMinutes(2))", "after 120s if")]
    [InlineData("'45'", "after 45s if")]
    public void Numeric_literals_and_duration_strings_mean_what_they_say(string argument, string expected)
    {
        var r = WhatIfEscalate(argument).AssertNoErrors();
        Assert.Contains(expected, r.HostText);
    }

    [Theory]
    [InlineData("99999999d", "DurationOutOfRange")]
    [InlineData("'99999999d'", "DurationOutOfRange")]
    [InlineData("([timespan]30)", "DurationTooSmall")]
    [InlineData("'-5m'", "DurationNegative")]
    [InlineData("-5", "DurationNegative")]
    [InlineData("soon", "DurationInvalid")]
    [InlineData("$two", "DurationAmbiguous")]
    public void Values_that_can_only_be_a_mistake_are_errors_with_a_stable_id(string argument, string errorId)
    {
        fx.Session.Run("$two = 2d");
        var r = WhatIfEscalate(argument);
        var error = r.Terminating ?? Assert.Single(r.Errors);
        Assert.Equal("ParameterArgumentTransformationError,IncidentOps.Commands.StopPgBackendCommand", error.FullyQualifiedErrorId);
        var inner = error.Exception.InnerException;
        while (inner is not null and not IncidentOpsException) inner = inner.InnerException;
        Assert.Equal(errorId, Assert.IsType<IncidentOpsException>(inner).ErrorId);
        Assert.Contains(errorId, error.ToString());
        Assert.DoesNotContain("OverflowException", r.AllText());
        Assert.DoesNotContain("What if:", r.HostText);
    }

    [Fact]
    public async Task StopIdleConnections_IdleFor_30s_spares_a_session_idle_for_a_moment()
    {
        var app = "io-dur-" + Guid.NewGuid().ToString("N")[..6];
        var session = await db.OpenAsync(db.AppRole, app);
        await Task.Delay(300);
        var r = fx.Session.Run($"Stop-IdleConnections -ConnectionString $cs -ApplicationName '{app}' -IdleFor 30s -Force",
            new Dictionary<string, object?> { ["cs"] = db.ConnectionString("postgres") }).AssertNoErrors();
        var report = r.Single<PgIdleConnectionReport>();
        Assert.Equal(0, report.Matched);
        Assert.True(db.Exists(session.ProcessID));
    }

    [Fact]
    public void Every_TimeSpan_parameter_of_every_cmdlet_takes_the_duration_rule()
    {
        var r = fx.Session.Run("""
            Get-Command -Module IncidentOps -CommandType Cmdlet | ForEach-Object {
                $c = $_
                $c.Parameters.Values | Where-Object { $_.ParameterType -in [timespan], [Nullable[timespan]] } | ForEach-Object {
                    $has = @($_.Attributes | Where-Object { $_.GetType().Name -eq 'DurationTransformationAttribute' }).Count -eq 1
                    "$($c.Name) -$($_.Name) $has"
                }
            }
            """).AssertNoErrors();
        var lines = r.Output.Select(o => o.ToString()).ToList();
        Assert.Contains("Stop-IdleConnection -IdleFor True", lines);
        Assert.Contains("Get-AppLog -Since True", lines);
        Assert.All(lines, l => Assert.EndsWith(" True", l));
    }

    [Theory]
    [InlineData("2", 2)]
    [InlineData("1.5", 1.5)]
    [InlineData("90s", 90)]
    [InlineData("00:00:05", 5)]
    public void Config_durations_accept_a_bare_number_as_seconds(string value, double seconds)
    {
        var r = ParseHealthTimeout(value);
        Assert.Empty(r.Findings.Where(f => f.Severity == FindingSeverity.Error));
        Assert.Equal(seconds, r.Config!.Environments.Single().Services.Single().Health.Single().Timeout!.Value.TotalSeconds);
    }

    [Theory]
    [InlineData("99999999d", "longest duration")]
    [InlineData("soon", "not a duration")]
    public void Config_durations_that_cannot_be_used_are_located_errors(string value, string says)
    {
        var r = ParseHealthTimeout(value);
        var error = Assert.Single(r.Findings.Where(f => f.Severity == FindingSeverity.Error));
        Assert.Equal("ConfigInvalidDuration", error.Code);
        Assert.Contains(says, error.Message);
        Assert.Equal(7, error.Line);
    }
}
