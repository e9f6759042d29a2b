using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// Channels whose secret does not resolve (a file: reference whose file is missing, an env: variable not set). Send-IncidentUpdate
/// stopped at the first one: -WhatIf showed that one error and no other channel, so the next broken channel came to light only
/// after the first was fixed. Now -WhatIf shows every channel (a What if line each for those that would be sent, one
/// ConfigReferenceUnresolved each for those that would not), and a real send names them all and sends to no channel.
/// </summary>
public sealed class SendIncidentUpdateUnresolvedChannelTests : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly ModuleFixture _fx;
    private const string ErrorId = "ConfigReferenceUnresolved,IncidentOps.Commands.SendIncidentUpdateCommand";
    private readonly string _variable = "IO_NOTIFY_UNSET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private readonly NotificationScenario _s;

    public SendIncidentUpdateUnresolvedChannelTests(ModuleFixture fx)
    {
        _fx = fx;
        _s = new NotificationScenario($"  envhook: {{ type: webhook, url: 'env:{_variable}' }}");
        // Two secrets that were never written (a mount that is missing) and one env: variable that is not set.
        File.Delete(Path.Combine(_s.Dir, "slack.url"));
        File.Delete(Path.Combine(_s.Dir, "pd.key"));
    }

    private string Send(string extra) =>
        $"Send-IncidentUpdate -ConfigPath '{_s.ConfigPath}' -Message 'Checkout down' -Channel incidents,teams,pager,envhook,audit {extra}";

    private void AssertOneErrorPerBrokenChannel(PwshResult r)
    {
        Assert.Equal(["incidents", "pager", "envhook"], r.Errors.Select(e => e.TargetObject as string));
        Assert.All(r.Errors, e => Assert.Equal(ErrorId, e.FullyQualifiedErrorId));
        Assert.All(r.Errors, e => Assert.Equal(System.Management.Automation.ErrorCategory.ObjectNotFound, e.CategoryInfo.Category));
        var (slack, pager, env) = (r.Errors[0].ToString(), r.Errors[1].ToString(), r.Errors[2].ToString());
        Assert.Contains("Channel 'incidents' (Slack), channels.incidents.url", slack);
        Assert.Contains("'file:slack.url' does not resolve", slack);
        // Where it is written stays readable (a "routingKey: <location>" shape was masked as if it were the key's value).
        Assert.Matches($@"channels\.incidents\.url at {System.Text.RegularExpressions.Regex.Escape(_s.ConfigPath)}:\d+:\d+, the reference", slack);
        Assert.Matches($@"channels\.pager\.routingKey at {System.Text.RegularExpressions.Regex.Escape(_s.ConfigPath)}:\d+:\d+, the reference", pager);
        Assert.DoesNotContain("********", pager);
        Assert.Contains("Channel 'pager' (PagerDuty), channels.pager.routingKey", pager);
        Assert.Contains("'file:pd.key' does not resolve", pager);
        Assert.Contains($"Channel 'envhook' (Webhook), channels.envhook.url", env);
        Assert.Contains($"the environment variable {_variable} is not set", env);
        // Each error names every broken channel (so -ErrorAction Stop, which shows the first only, still tells them all) and the way out.
        Assert.All(r.Errors, e => Assert.Contains("3 of 5 selected channels do not resolve (incidents, pager, envhook)", e.ToString()));
        Assert.All(r.Errors, e => Assert.Contains("-Channel teams,audit", e.ToString()));
        Assert.Contains($"Set the environment variable {_variable}", r.Errors[2].ErrorDetails.RecommendedAction);
        Assert.Contains("Write the value into the file slack.url, or change channels.incidents.url", r.Errors[0].ErrorDetails.RecommendedAction);
        foreach (var canary in NotificationScenario.Canaries) Assert.DoesNotContain(canary, r.AllText());
    }

    private async Task AssertNothingSentOrRecordedAsync(Incident inc)
    {
        Assert.Empty(_s.Slack.Requests);
        Assert.Empty(_s.Teams.Requests);
        Assert.Empty(_s.PagerDuty.Requests);
        Assert.Empty(_s.Webhook.Requests);
        Assert.Empty(_s.OutboxFiles(inc.Id));
        var after = (await _s.Store.GetAsync(inc.Id, CancellationToken.None))!;
        Assert.Null(after.LastUpdateAt);
        Assert.DoesNotContain(await _s.Store.ReadTimelineAsync(inc.Id, CancellationToken.None), e => e.Kind == "update");
    }

    [Fact]
    public async Task WhatIf_shows_every_channel_a_What_if_line_for_each_that_resolves_and_an_error_for_each_that_does_not()
    {
        var inc = await _s.CreateIncidentAsync("P0");
        var r = _fx.Run(Send("-WhatIf"));
        Assert.Empty(r.Output);
        AssertOneErrorPerBrokenChannel(r);
        Assert.Contains($"What if: Send Initial alert to teams (Teams) for {inc.Id}: POST", r.HostText);
        Assert.Contains($"What if: Send Initial alert to audit (Webhook) for {inc.Id}: POST", r.HostText);
        Assert.DoesNotContain("to incidents (Slack)", r.HostText);
        Assert.DoesNotContain("to pager (PagerDuty)", r.HostText);
        Assert.DoesNotContain("to envhook (Webhook)", r.HostText);
        await AssertNothingSentOrRecordedAsync(inc);
    }

    [Fact]
    public async Task A_send_with_broken_channels_names_them_all_and_sends_to_none_not_even_those_that_resolve()
    {
        var inc = await _s.CreateIncidentAsync("P0");
        var r = _fx.Run(Send(""));
        Assert.Empty(r.Output);
        AssertOneErrorPerBrokenChannel(r);
        await AssertNothingSentOrRecordedAsync(inc);
    }

    [Fact]
    public async Task ErrorAction_Stop_stops_at_the_first_error_which_still_names_every_broken_channel()
    {
        var inc = await _s.CreateIncidentAsync("P0");
        var r = _fx.Run(Send("-ErrorAction Stop"));
        var e = Assert.Single(r.Errors);
        Assert.Equal(ErrorId, e.FullyQualifiedErrorId);
        Assert.Contains("3 of 5 selected channels do not resolve (incidents, pager, envhook)", e.ToString());
        await AssertNothingSentOrRecordedAsync(inc);
    }

    [Fact]
    public async Task Once_every_channel_resolves_the_update_goes_to_all_of_them()
    {
        var inc = await _s.CreateIncidentAsync("P0");
        File.WriteAllText(Path.Combine(_s.Dir, "slack.url"), $"{_s.Slack.BaseUrl}/services/T0001/B0001/{NotificationScenario.Canaries[0]}");
        File.WriteAllText(Path.Combine(_s.Dir, "pd.key"), NotificationScenario.Canaries[4]);
        Environment.SetEnvironmentVariable(_variable, $"{_s.Webhook.BaseUrl}/hooks/env");
        var r = _fx.Run(Send("")).AssertNoErrors();
        Assert.All(r.Objects<NotificationResult>(), x => Assert.True(x.Delivered, $"{x.Channel}: {x.Error}"));
        Assert.Equal(["incidents", "teams", "pager", "envhook", "audit"], r.Objects<NotificationResult>().Select(x => x.Channel));
        Assert.Single(_s.Slack.Requests);
        Assert.Single(_s.PagerDuty.Requests);
        Assert.Equal(2, _s.Webhook.Requests.Count);
        Assert.Single(_s.OutboxFiles(inc.Id));
    }

    [Fact]
    public async Task The_engine_refuses_to_send_a_prepared_update_with_a_broken_channel()
    {
        var inc = await _s.CreateIncidentAsync("P0");
        var (engine, _, config) = _s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config,
            new IncidentUpdateRequest { IncidentId = inc.Id, Message = "m", Channels = ["teams", "pager", "audit"] }, CancellationToken.None);
        Assert.Equal(["teams", "pager", "audit"], prepared.Selected);
        Assert.Equal(["teams", "audit"], prepared.Rendered.Select(x => x.Channel));
        Assert.Equal("pager", Assert.Single(prepared.Unresolved).Channel);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() =>
            engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("test", null), CancellationToken.None));
        Assert.Equal("ConfigReferenceUnresolved", ex.ErrorId);
        await AssertNothingSentOrRecordedAsync(inc);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        _s.Dispose();
    }
}
