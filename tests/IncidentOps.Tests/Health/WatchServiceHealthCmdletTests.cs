using IncidentOps.Health;
using Xunit;

namespace IncidentOps.Tests.Health;

public sealed class WatchServiceHealthCmdletTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly HealthTestServer _http = new();

    public void Dispose() => _http.Dispose();

    [Fact]
    public void UntilHealthy_with_Consecutive_waits_out_a_recovery_and_summarises_the_outage()
    {
        var r = fx.Run($"Watch-ServiceHealth '{_http.Url("/flaky?fail=2")}' -IntervalSec 0.05 -UntilHealthy -Consecutive 2").AssertNoErrors();
        var results = r.Objects<HealthResult>().ToList();
        Assert.Equal([503, 503, 200, 200], results.Select(x => x.StatusCode ?? 0));
        var summary = r.Single<HealthWatchSummary>();
        Assert.Equal("UntilHealthy", summary.StopReason);
        Assert.Equal(4, summary.Rounds);
        Assert.Equal(4, summary.Samples);
        Assert.Equal(2, summary.Failures);
        Assert.True(summary.Healthy);
        Assert.NotNull(summary.FirstFailure);
        Assert.True(summary.LastFailure >= summary.FirstFailure);
        Assert.True(summary.LongestOutage > TimeSpan.Zero);
        Assert.IsType<HealthWatchSummary>(r.Output[^1].BaseObject);
        Assert.Contains(r.Progress, p => p.Activity == "Watching service health" && p.StatusDescription.Contains("last: UNHEALTHY"));
    }

    [Fact]
    public void UntilUnhealthy_stops_at_the_first_failing_round()
    {
        var r = fx.Run($"Watch-ServiceHealth '{_http.Url("/ok")}', '{_http.Url("/503")}' -IntervalSec 0.05 -UntilUnhealthy").AssertNoErrors();
        var summary = r.Single<HealthWatchSummary>();
        Assert.Equal("UntilUnhealthy", summary.StopReason);
        Assert.Equal(1, summary.Rounds);
        Assert.Equal(2, r.Objects<HealthResult>().Count());
        Assert.False(summary.Healthy);
    }

    [Fact]
    public void DurationSec_bounds_the_watch()
    {
        var r = fx.Run($"Watch-ServiceHealth '{_http.Url("/ok")}' -IntervalSec 0.1 -DurationSec 0.35").AssertNoErrors();
        var summary = r.Single<HealthWatchSummary>();
        Assert.Equal("Duration", summary.StopReason);
        Assert.InRange(summary.Rounds, 1, 4);
        Assert.Equal(0, summary.Failures);
        Assert.Equal(TimeSpan.Zero, summary.LongestOutage);
        Assert.Null(summary.FirstFailure);
        Assert.True(summary.Healthy);
        Assert.Contains(r.Progress, p => p.Activity == "Watching service health" && p.StatusDescription.Contains("elapsed") && p.StatusDescription.Contains("left") && p.StatusDescription.Contains("last: healthy"));
    }

    [Fact]
    public void Conflicting_until_switches_are_HealthWatchConflictingStop()
    {
        var r = fx.Run($"Watch-ServiceHealth '{_http.Url("/ok")}' -UntilHealthy -UntilUnhealthy");
        Assert.Equal("HealthWatchConflictingStop,IncidentOps.Commands.WatchServiceHealthCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Equal(0, _http.Requests);
    }

    [Fact]
    public void Ctrl_C_stops_an_open_ended_watch()
    {
        using var session = new PwshSession();
        // Ctrl+C once the first round's result has reached the pipeline: the watch is then in its 60 s interval.
        using var firstResult = new ManualResetEventSlim();
        session.Runspace.SessionStateProxy.SetVariable("firstResult", firstResult);
        var (_, result) = session.RunAndStopWhen($"Watch-ServiceHealth '{_http.Url("/ok")}' -IntervalSec 60 | ForEach-Object {{ $global:seen = $_; $firstResult.Set() }}", () => firstResult.IsSet);
        Assert.True(result.Stopped);
        // The first round's result reached the pipeline before Ctrl+C: results are written as they arrive.
        Assert.Equal(200, (int)session.Run("$global:seen.StatusCode").Output.Single().BaseObject);
        Assert.Equal(1, _http.Requests);
    }
}
