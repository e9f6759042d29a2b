using IncidentOps.Alerting;
using IncidentOps.Engine;
using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// Two alerting hosts take turns on one team store (real PostgreSQL), and their clocks differ: each host is given its
/// own clock and the skew of the store's clock from it (what <see cref="AlertingService.MeasureStoreClockSkewAsync"/>
/// measures on a real machine). One host's clock running ahead must not make the other's results stale (a recovery
/// ignored for as long as the skew), and one running behind must not make the quiet time look longer than it was (an
/// early resolution: the next failure of the same outage would declare a second incident).
/// </summary>
public sealed class AlertingClockSkewTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(30);

    /// <summary>A host whose clock reads the store's time plus <paramref name="ahead"/>.</summary>
    private static (IncidentOpsEngine Engine, ManualClock Clock) Host(AlertingScenario s, TimeSpan ahead)
    {
        var (engine, _) = s.NewEngine();
        var clock = new ManualClock(s.Clock.Now + ahead);
        engine.Alerting.Clock = clock;
        engine.Alerting.StoreClockSkew = (_, _) => Task.FromResult(-ahead);
        return (engine, clock);
    }

    private static async Task<AlertDecision> RoundAsync((IncidentOpsEngine Engine, ManualClock Clock) host, IncidentOps.Config.IncidentOpsConfig config, params ManualClock[] all)
    {
        var d = await AlertingScenario.RoundAsync(host.Engine, config);
        foreach (var c in all) c.Advance(Minute);
        return d;
    }

    [Fact]
    public async Task A_host_whose_clock_runs_behind_another_still_sees_the_recovery_the_other_declared()
    {
        using var s = AlertingScenario.OnTeamStore();
        var config = s.NewEngine().Config;
        var ahead = Host(s, Skew);
        var right = Host(s, TimeSpan.Zero);
        s.Healthy = false;
        AlertDecision d = null!;
        for (var i = 0; i < 3; i++) d = await RoundAsync(ahead, config, ahead.Clock, right.Clock);
        Assert.Equal(AlertAction.Declared, d.Action);

        // The host that declared stops; the other carries on and sees the service recover.
        s.Healthy = true;
        var first = await RoundAsync(right, config, ahead.Clock, right.Clock);
        Assert.Equal(AlertAction.Waiting, first.Action);
        var second = await RoundAsync(right, config, ahead.Clock, right.Clock);
        Assert.Equal(AlertAction.Recovered, second.Action);
        var (engine, cfg) = s.NewEngine();
        Assert.Equal(IncidentStatus.Monitoring, (await engine.Incidents.GetAsync(cfg, d.IncidentId!, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task A_host_whose_clock_runs_behind_never_makes_another_resolve_before_the_quiet_time_has_passed()
    {
        using var s = AlertingScenario.OnTeamStore(alerting: "failureThreshold: 3\n  successThreshold: 2\n  autoResolveAfter: 10m\n  severity: P1");
        var config = s.NewEngine().Config;
        var behind = Host(s, -Skew);
        var right = Host(s, TimeSpan.Zero);
        s.Healthy = false;
        AlertDecision d = null!;
        for (var i = 0; i < 3; i++) d = await RoundAsync(behind, config, behind.Clock, right.Clock);
        Assert.Equal(AlertAction.Declared, d.Action);
        s.Healthy = true;
        await RoundAsync(behind, config, behind.Clock, right.Clock);
        Assert.Equal(AlertAction.Recovered, (await RoundAsync(behind, config, behind.Clock, right.Clock)).Action);

        // Two minutes after the recovery, the other host's round: quiet for 2 of 10 minutes, not 32.
        var next = await RoundAsync(right, config, behind.Clock, right.Clock);
        Assert.Equal(AlertAction.Monitoring, next.Action);
        var (engine, cfg) = s.NewEngine();
        Assert.Equal(IncidentStatus.Monitoring, (await engine.Incidents.GetAsync(cfg, d.IncidentId!, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task The_skew_measured_against_a_store_on_this_machine_is_none_and_the_file_store_has_no_clock()
    {
        using var s = AlertingScenario.OnTeamStore();
        var (engine, config) = s.NewEngine();
        Assert.IsType<PostgresIncidentStore>(engine.OpenStore(config));
        Assert.Equal(TimeSpan.Zero, await AlertingService.MeasureStoreClockSkewAsync(engine.OpenStore(config), CancellationToken.None));
        Assert.Equal(TimeSpan.Zero, await AlertingService.MeasureStoreClockSkewAsync(new FileIncidentStore(Path.Combine(s.Dir, "files")), CancellationToken.None));
    }
}
