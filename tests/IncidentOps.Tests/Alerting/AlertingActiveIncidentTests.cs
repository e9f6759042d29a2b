using System.Reflection;
using IncidentOps.Alerting;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Incidents;
using IncidentOps.Incidents;
using Xunit;

namespace IncidentOps.Tests.Alerting;

/// <summary>
/// The active incident is per person, and the unattended alerting round (the same user's cron job) shares it: a round
/// that declares an incident makes it the active one only when no open incident is, and never takes the pointer from a
/// person who declared an incident at the same moment (both react to the same outage), so the person's Restart-App and
/// notes are never recorded on the round's incident.
/// </summary>
public sealed class AlertingActiveIncidentTests
{
    private static async Task<string?> DeclareWhileAPersonDeclares(AlertingScenario s)
    {
        var (engine, config) = s.NewEngine();
        var person = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        string? personal = null;
        var raced = 0;
        // Right after the round's declaration is stored, and before it is activated, the person runs New-Incident.
        Func<IncidentOpsConfig?, IIncidentStore> racing = c => AfterCreate.Wrap(engine.OpenStore(c), async () =>
        {
            if (Interlocked.Exchange(ref raced, 1) == 1) return;
            personal = (await person.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "Checkout is down", Severity = "P2" },
                new ChangeContext("New-Incident"), CancellationToken.None)).Id;
        });
        var sink = new CollectingSink();
        var timeline = new TimelineWriter(racing, sink);
        var incidents = new IncidentService(racing, sink, timeline);
        var alerting = new AlertingService(engine.OpenStore, sink, engine.Health, incidents, engine.Notifications, engine.Evidence, timeline) { Clock = s.Clock };
        s.Healthy = false;
        string? declared = null;
        for (var i = 0; i < 6 && declared is null; i++)
        {
            var observation = (await alerting.ProbeAsync([config.Services.Single()], TimeSpan.FromSeconds(5), CancellationToken.None)).Single();
            var d = await alerting.ApplyAsync(config, observation, new ChangeContext("Invoke-ServiceAlert"), CancellationToken.None);
            if (d.Action == AlertAction.Declared) declared = d.IncidentId;
            s.Clock.Advance(TimeSpan.FromSeconds(10));
        }
        Assert.NotNull(declared);
        Assert.NotNull(personal);
        Assert.NotEqual(declared, personal);
        Assert.Equal(personal, await engine.Incidents.GetActiveIdAsync(config, CancellationToken.None));
        return personal;
    }

    [Fact]
    public async Task A_round_never_takes_the_active_incident_from_a_person_who_declared_one_at_the_same_moment()
    {
        using var s = new AlertingScenario();
        await DeclareWhileAPersonDeclares(s);
    }

    [Fact]
    public async Task A_round_never_takes_the_active_incident_from_a_person_on_the_team_store()
    {
        using var s = AlertingScenario.OnTeamStore();
        await DeclareWhileAPersonDeclares(s);
    }

    [Theory]
    [InlineData("recovery")]
    [InlineData("relapse")]
    public async Task A_person_who_closes_the_incident_as_a_round_moves_its_status_keeps_it_closed(string step)
    {
        using var s = new AlertingScenario();
        var (engine, config) = s.NewEngine();
        var person = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        string? id = null;
        Incident? closed = null;
        var armed = 0;
        // Just as the round moves the incident's status (Monitoring on recovery, Investigating on a relapse), the person
        // runs Close-Incident: the round had checked that the incident was open a moment before.
        Func<IncidentOpsConfig?, IIncidentStore> racing = c => BeforeUpdate.Wrap(engine.OpenStore(c), async () =>
        {
            if (Interlocked.Exchange(ref armed, 0) == 1)
                closed = await person.Incidents.CloseAsync(config, id!, "Fixed by hand", null, null, new ChangeContext("Close-Incident"), CancellationToken.None);
        });
        var sink = new CollectingSink();
        var timeline = new TimelineWriter(racing, sink);
        var incidents = new IncidentService(racing, sink, timeline);
        var alerting = new AlertingService(engine.OpenStore, sink, engine.Health, incidents, engine.Notifications, engine.Evidence, timeline) { Clock = s.Clock };
        async Task<AlertDecision> Round()
        {
            var observation = (await alerting.ProbeAsync([config.Services.Single()], TimeSpan.FromSeconds(5), CancellationToken.None)).Single();
            var d = await alerting.ApplyAsync(config, observation, new ChangeContext("Invoke-ServiceAlert"), CancellationToken.None);
            s.Clock.Advance(TimeSpan.FromSeconds(10));
            return d;
        }
        s.Healthy = false;
        for (var i = 0; i < 6 && id is null; i++) if (await Round() is { Action: AlertAction.Declared } d) id = d.IncidentId;
        Assert.NotNull(id);
        s.Healthy = true;
        if (step == "relapse")
        {
            for (var i = 0; i < 4; i++) if ((await Round()).Action == AlertAction.Recovered) break;
            Assert.Equal(IncidentStatus.Monitoring, (await engine.Incidents.GetAsync(config, id!, CancellationToken.None)).Status);
            s.Healthy = false;
        }
        armed = 1;
        for (var i = 0; i < 4 && closed is null; i++) await Round();
        Assert.NotNull(closed);

        var after = await engine.Incidents.GetAsync(config, id!, CancellationToken.None);
        Assert.Equal((IncidentStatus.Resolved, closed!.ResolvedAt), (after.Status, after.ResolvedAt));
        Assert.Equal("Fixed by hand", after.Resolution);
        Assert.DoesNotContain(await engine.Incidents.GetTimelineAsync(config, id!, CancellationToken.None), e => e.Result?.Contains("(reopened)", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_status_move_decided_while_open_fails_with_IncidentResolvedMeanwhile_on_a_resolved_incident_and_changes_nothing()
    {
        using var s = new AlertingScenario();
        var (engine, config) = s.NewEngine();
        var inc = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "t", Severity = "P1", Activate = false }, ChangeContext.Engine, CancellationToken.None);
        var closed = await engine.Incidents.CloseAsync(config, inc.Id, "fixed", null, null, ChangeContext.Engine, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => engine.Incidents.UpdateAsync(config, inc.Id,
            new IncidentChanges { Status = IncidentStatus.Monitoring }, ChangeContext.Engine, CancellationToken.None, keepResolved: true));
        Assert.Equal("IncidentResolvedMeanwhile", ex.ErrorId);
        var after = await engine.Incidents.GetAsync(config, inc.Id, CancellationToken.None);
        Assert.Equal((IncidentStatus.Resolved, closed.ResolvedAt), (after.Status, after.ResolvedAt));
        // Without it (Set-Incident -Status), a resolved incident is reopened, as documented.
        await engine.Incidents.UpdateAsync(config, inc.Id, new IncidentChanges { Status = IncidentStatus.Investigating }, ChangeContext.Engine, CancellationToken.None);
        Assert.Equal(IncidentStatus.Investigating, (await engine.Incidents.GetAsync(config, inc.Id, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Closing_an_incident_leaves_another_incident_made_active_meanwhile_active()
    {
        var store = new FileIncidentStore(Paths.TempDir("io-active"));
        var sink = new CollectingSink();
        var a = await store.CreateAsync(id => new Incident { Id = id, Title = "a", Severity = "P2", StartedAt = DateTimeOffset.UtcNow, DeclaredAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        var b = await store.CreateAsync(id => new Incident { Id = id, Title = "b", Severity = "P2", StartedAt = DateTimeOffset.UtcNow, DeclaredAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        await store.SetActiveIdAsync(a.Id, CancellationToken.None);
        // A is closed; just before its release, the person makes B active (the read of the pointer still saw A).
        var racing = AfterGetActive.Wrap(store, () => store.SetActiveIdAsync(b.Id, CancellationToken.None));
        await IncidentStateMachine.ReleaseActiveAsync(racing, a.Id, CancellationToken.None);
        Assert.Equal(b.Id, await store.GetActiveIdAsync(CancellationToken.None));
    }
}

/// <summary>A store that runs <c>race</c> after each incident it creates, before returning it.</summary>
public class AfterCreate : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private Func<Task> _race = null!;

    public static IIncidentStore Wrap(IIncidentStore inner, Func<Task> race)
    {
        var proxy = Create<IIncidentStore, AfterCreate>();
        ((AfterCreate)(object)proxy)._inner = inner;
        ((AfterCreate)(object)proxy)._race = race;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = targetMethod!.Invoke(_inner, args);
        return targetMethod.Name == nameof(IIncidentStore.CreateAsync) && result is Task<Incident> created ? Then(created) : result;
    }

    private async Task<Incident> Then(Task<Incident> created)
    {
        var incident = await created.ConfigureAwait(false);
        await _race().ConfigureAwait(false);
        return incident;
    }
}

/// <summary>A store that runs <c>race</c> once, after the first read of the active incident.</summary>
public class AfterGetActive : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private Func<Task>? _race;

    public static IIncidentStore Wrap(IIncidentStore inner, Func<Task> race)
    {
        var proxy = Create<IIncidentStore, AfterGetActive>();
        ((AfterGetActive)(object)proxy)._inner = inner;
        ((AfterGetActive)(object)proxy)._race = race;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = targetMethod!.Invoke(_inner, args);
        return targetMethod.Name == nameof(IIncidentStore.GetActiveIdAsync) && _race is not null && result is Task<string?> read ? Then(read) : result;
    }

    private async Task<string?> Then(Task<string?> read)
    {
        var id = await read.ConfigureAwait(false);
        var race = Interlocked.Exchange(ref _race, null);
        if (race is not null) await race().ConfigureAwait(false);
        return id;
    }
}

/// <summary>A store that runs <c>race</c> before each record change (UpdateAsync) it is asked for.</summary>
public class BeforeUpdate : DispatchProxy
{
    private IIncidentStore _inner = null!;
    private Func<Task> _race = null!;

    public static IIncidentStore Wrap(IIncidentStore inner, Func<Task> race)
    {
        var proxy = Create<IIncidentStore, BeforeUpdate>();
        ((BeforeUpdate)(object)proxy)._inner = inner;
        ((BeforeUpdate)(object)proxy)._race = race;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name != nameof(IIncidentStore.UpdateAsync)) return targetMethod.Invoke(_inner, args);
        return Then(args!);
    }

    private async Task<Incident> Then(object?[] args)
    {
        await _race().ConfigureAwait(false);
        return await ((Task<Incident>)typeof(IIncidentStore).GetMethod(nameof(IIncidentStore.UpdateAsync))!.Invoke(_inner, args)!).ConfigureAwait(false);
    }
}
