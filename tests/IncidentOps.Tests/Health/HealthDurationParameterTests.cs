using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

/// <summary>
/// Health's waits are TimeSpans with the module's duration forms (-Interval 5s, -Duration 30m); the old
/// -IntervalSec, -DurationSec and -IntervalMs keep working with the unit they always had.
/// </summary>
public sealed class HealthDurationParameterTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly HealthTestServer _http = new();

    public void Dispose() => _http.Dispose();

    [Theory]
    [InlineData("-Interval 50ms -Duration 350ms")]
    [InlineData("-Interval 0.05 -Duration 0.35")]
    [InlineData("-IntervalSec 0.05 -DurationSec 0.35")]
    [InlineData("-Interval '00:00:00.05' -DurationSec '350ms'")]
    public void Watch_takes_durations_and_the_old_second_names(string args)
    {
        var r = fx.Run($"Watch-ServiceHealth '{_http.Url("/ok")}' {args}").AssertNoErrors();
        var summary = r.Single<HealthWatchSummary>();
        Assert.Equal("Duration", summary.StopReason);
        // 350 ms at 50 ms a round: several rounds, never the single round a 5 s interval (the default) would give.
        Assert.InRange(summary.Rounds, 2, 8);
    }

    [Fact]
    public void Watch_parameters_are_TimeSpans_with_the_old_names_as_aliases()
    {
        var r = fx.Run("""
            $p = (Get-Command Watch-ServiceHealth).Parameters
            '{0}|{1}|{2}|{3}' -f $p.Interval.ParameterType.Name, $p.Duration.ParameterType.Name, ($p.Interval.Aliases -join ','), ($p.Duration.Aliases -join ',')
            """).AssertNoErrors();
        Assert.Equal("TimeSpan|Nullable`1|IntervalSec|DurationSec", r.Output.Single().ToString());
    }

    [Fact]
    public void Watch_Interval_under_10ms_is_HealthWatchIntervalTooShort()
    {
        var r = fx.Run($"Watch-ServiceHealth '{_http.Url("/ok")}' -Interval 1ms -Duration 1s");
        var e = Assert.Single(r.Errors);
        Assert.Equal("HealthWatchIntervalTooShort,IncidentOps.Commands.WatchServiceHealthCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-Interval 5s", e.Exception.Message);
        Assert.Empty(r.Objects<HealthResult>());
    }

    [Fact]
    public void Watch_Duration_zero_is_HealthWatchDurationNotPositive()
    {
        var r = fx.Run($"Watch-ServiceHealth '{_http.Url("/ok")}' -DurationSec 0");
        var e = Assert.Single(r.Errors);
        Assert.Equal("HealthWatchDurationNotPositive,IncidentOps.Commands.WatchServiceHealthCommand", e.FullyQualifiedErrorId);
        Assert.Empty(r.Objects<HealthResult>());
    }

    [Fact]
    public void Watch_rejects_a_duration_it_cannot_read_with_the_duration_rule()
    {
        var r = fx.Run($"Watch-ServiceHealth '{_http.Url("/ok")}' -Interval soon -Duration 1s");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("ParameterArgumentTransformationError", e.FullyQualifiedErrorId);
        Assert.Contains("DurationInvalid", e.Exception.Message);
    }

    [Theory]
    [InlineData("-Interval 10ms")]
    [InlineData("-Interval 0.01")]
    [InlineData("-IntervalMs 10")]
    public void Test_Count_waits_the_Interval_between_probes(string args)
    {
        var r = fx.Run($"Test-ServiceHealth '{_http.Url("/flaky?fail=1")}' -Count 3 {args}").AssertNoErrors();
        var result = r.Single<HealthResult>();
        Assert.Equal(3, result.Samples);
        Assert.Equal(2.0 / 3, result.SuccessRatio, 3);
    }

    [Fact]
    public void Test_IntervalMs_keeps_its_milliseconds_so_it_is_not_an_alias_of_Interval()
    {
        // -IntervalMs 10 as an alias of -Interval would mean 10 seconds; three probes then take 20 s.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        fx.Run($"Test-ServiceHealth '{_http.Url("/ok")}' -Count 3 -IntervalMs 10").AssertNoErrors();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Test_Interval_and_IntervalMs_together_are_HealthIntervalConflict()
    {
        var r = fx.Run($"Test-ServiceHealth '{_http.Url("/ok")}' -Count 2 -Interval 1s -IntervalMs 10");
        var e = Assert.Single(r.Errors);
        Assert.Equal("HealthIntervalConflict,IncidentOps.Commands.TestServiceHealthCommand", e.FullyQualifiedErrorId);
        Assert.Empty(r.Objects<HealthResult>());
    }

    [Fact]
    public void Every_TimeoutSec_is_a_double_and_no_other_parameter_counts_seconds_or_milliseconds()
    {
        var r = fx.Run("""
            Get-Command -Module IncidentOps -CommandType Cmdlet | ForEach-Object {
                $c = $_.Name
                $_.Parameters.Values | Where-Object { $_.Name -match '(Sec|Ms)$' } | ForEach-Object { '{0} -{1} {2}' -f $c, $_.Name, $_.ParameterType.Name }
            }
            """).AssertNoErrors();
        var found = r.Output.Select(o => o.ToString()!).ToList();
        Assert.Contains(found, f => f.StartsWith("Get-PgActivity -TimeoutSec "));
        Assert.All(found.Where(f => !f.StartsWith("Test-ServiceHealth -IntervalMs ")), f => Assert.EndsWith(" -TimeoutSec Double", f.Substring(f.IndexOf(' '))));
    }

    [Theory]
    [InlineData("Get-PgActivity -ConnectionString 'Host=127.0.0.1;Port={0};Username=x' -TimeoutSec 1.5", "PgHostUnreachable,IncidentOps.Commands.GetPgActivityCommand")]
    [InlineData("Get-RedisInfo -ConnectionString '127.0.0.1:{0}' -TimeoutSec 1.5", "RedisConnectionFailed,IncidentOps.Commands.GetRedisInfoCommand")]
    public void A_fractional_TimeoutSec_binds_and_a_closed_port_gives_the_connection_error(string command, string fullyQualifiedErrorId)
    {
        var r = fx.Run(string.Format(command, ClosedPort()));
        // Nothing listens on the port: the command bound -TimeoutSec 1.5, ran and failed on the connection.
        Assert.Equal(fullyQualifiedErrorId, Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    private static int ClosedPort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}

public sealed class HealthEndpointErrorTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void A_service_without_health_endpoints_is_HealthEndpointNotConfigured()
    {
        var path = Path.Combine(Paths.TempDir("io-healthid"), "incidentops.yml");
        File.WriteAllText(path, "version: 1\nenvironments:\n  production:\n    services:\n      cache:\n        redis: 127.0.0.1:1\n");
        var r = fx.Run($"Test-ServiceHealth -Service production/cache -ConfigPath '{path}'");
        var e = Assert.Single(r.Errors);
        Assert.Equal("HealthEndpointNotConfigured,IncidentOps.Commands.TestServiceHealthCommand", e.FullyQualifiedErrorId);
        Assert.Contains("health:", e.ToString());
    }
}
