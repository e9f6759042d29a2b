using System.Text.Json.Nodes;
using IncidentOps.Engine;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Engine.Notifications.Slack;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using IncidentOps.Config;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A Slack channel with a bot token (the Web API) and an incidentChannel pattern: seed 002 "Create Incident Channel
/// #incident-YYYY-MM-DD-NNN", seed 003 "Invite: on-call, leads; Pin incident template; Archive incident Slack channel".
/// The Web API is a loopback stand-in (<see cref="SlackWebApiFake"/>) that checks the bearer token and answers in
/// Slack's documented shapes; each test asserts the exact requests it received.
/// </summary>
public sealed class SlackIncidentChannelScenario : IDisposable
{
    public const string TokenCanary = "xoxb-CANARY-sl4ckB0tT0k3n";
    public ProviderStub Slack { get; } = new(404, "{}");
    public ProviderStub Audit { get; } = new(200, "ok");
    public SlackWebApiFake Api { get; } = new(TokenCanary);
    /// <summary>A second Slack bot channel ("bridge", its own workspace stand-in), configured only when asked for.</summary>
    public ProviderStub Slack2 { get; } = new(404, "{}");
    public SlackWebApiFake Api2 { get; } = new(TokenCanary);
    public string Dir { get; } = Paths.TempDir("io-slackchan");
    public string StorePath => Path.Combine(Dir, "store");
    public string ConfigPath => Path.Combine(Dir, "incidentops.yml");
    public FileIncidentStore Store { get; }

    public SlackIncidentChannelScenario(string pattern = "'#incident-{yyyy}-{MM}-{dd}-{NNN}'", bool twoBots = false)
    {
        Api.Attach(Slack);
        Api2.Attach(Slack2);
        var bridge = twoBots ? $"""

              bridge:
                type: slack
                token: file:slack.token
                url: '{Slack2.BaseUrl}/api'
                channel: C0BRIDGE01
                incidentChannel: 'bridge-{"{"}id{"}"}'
                invite: [U0ONCALL01]
            """ : "";
        File.WriteAllText(Path.Combine(Dir, "slack.token"), TokenCanary);
        File.WriteAllText(ConfigPath, $"""
            store: {"{"} path: '{StorePath}' {"}"}
            channels:
              warroom:
                type: slack
                token: file:slack.token
                url: '{Slack.BaseUrl}/api'
                channel: C0INCIDENTS
                incidentChannel: {pattern}
                invite: [U0ONCALL01, U0LEAD0002]{bridge}
              audit: {"{"} type: webhook, url: '{Audit.BaseUrl}/hooks/audit' {"}"}
            routing:
              P1: [audit, warroom]
              P2: [audit]
            """);
        Store = new FileIncidentStore(StorePath);
    }

    public (IncidentOpsEngine Engine, CollectingSink Sink, IncidentOps.Config.IncidentOpsConfig Config) NewEngine(TimeSpan? timeout = null)
    {
        var sink = new CollectingSink();
        var engine = new IncidentOpsEngine(sink, NoSecretProvider.Instance);
        engine.Notifications.Options = new NotificationOptions { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = timeout ?? TimeSpan.FromSeconds(10) };
        return (engine, sink, engine.Config.LoadOrThrow(ConfigPath, Dir));
    }

    public async Task<(Incident Incident, IReadOnlyList<SlackChannelStep> Steps, CollectingSink Sink)> DeclareAsync(TimeSpan? timeout = null)
    {
        var (engine, sink, config) = NewEngine(timeout);
        var incident = await engine.Incidents.CreateAsync(config, new NewIncidentRequest { Title = "Image optimizer down", Severity = "P1", Services = ["production/portfolio"] },
            new ChangeContext("New-Incident"), CancellationToken.None);
        var steps = await engine.IncidentChannels.OpenAsync(config, incident.Id, new ChangeContext("New-Incident"), force: false, CancellationToken.None);
        return ((await Store.GetAsync(incident.Id, CancellationToken.None))!, steps, sink);
    }

    public IReadOnlyList<CapturedRequest> Calls(string method) => Slack.Requests.Where(r => r.Path == "/api/" + method).ToList();

    public string StoreText() => string.Join("\n", Directory.GetFiles(StorePath, "*", SearchOption.AllDirectories)
        .Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).Select(File.ReadAllText));

    public void Dispose() { Slack.Dispose(); Slack2.Dispose(); Audit.Dispose(); }
}

public class SlackIncidentChannelTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private static string ExpectedName(Incident i) => $"incident-{i.DeclaredAt.UtcDateTime:yyyy-MM-dd}-{i.Id[^3..]}";

    private static void AssertNoToken(string text) => Assert.DoesNotContain("sl4ckB0tT0k3n", text);

    [Fact]
    [ChannelOperation("slack", "channel-create")]
    [ChannelOperation("slack", "channel-invite")]
    [ChannelOperation("slack", "channel-post")]
    [ChannelOperation("slack", "channel-pin")]
    public void NewIncident_creates_the_incident_channel_invites_the_responders_posts_and_pins_the_summary()
    {
        using var s = new SlackIncidentChannelScenario();
        var r = fx.Run($"New-Incident -Title 'Image optimizer down' -Severity P1 -Service production/portfolio -Commander alice -ConfigPath '{s.ConfigPath}' -Verbose").AssertNoErrors();
        var incident = r.Single<Incident>();
        Assert.Empty(r.Warnings);
        var name = ExpectedName(incident);
        var channel = Assert.Single(s.Api.Channels);
        Assert.Equal(name, channel.Name);

        // Exactly the documented requests, in order, each with the bot token as a bearer token.
        Assert.Equal(["/api/conversations.create", "/api/conversations.setTopic", "/api/conversations.invite", "/api/chat.postMessage", "/api/pins.add"],
            s.Slack.Requests.Select(q => q.Path));
        Assert.All(s.Slack.Requests, q => Assert.Equal($"Bearer {SlackIncidentChannelScenario.TokenCanary}", q.Headers["Authorization"]));
        Assert.All(s.Slack.Requests, q => Assert.Equal("POST", q.Method));
        Assert.Equal($$"""{"name":"{{name}}","is_private":false}""", s.Calls("conversations.create")[0].Body);
        Assert.StartsWith("application/json", s.Calls("conversations.create")[0].Headers["Content-Type"]);
        Assert.Equal($$"""{"channel":"{{channel.Id}}","topic":"[P1] Image optimizer down · {{incident.Id}}"}""", s.Calls("conversations.setTopic")[0].Body);
        Assert.Equal($$"""{"channel":"{{channel.Id}}","users":"U0ONCALL01,U0LEAD0002"}""", s.Calls("conversations.invite")[0].Body);
        var post = JsonNode.Parse(s.Calls("chat.postMessage")[0].Body)!;
        Assert.Equal(channel.Id, post["channel"]!.GetValue<string>());
        Assert.StartsWith("[P1] Image optimizer down: P1 (High) incident declared: Image optimizer down", post["text"]!.GetValue<string>());
        Assert.Contains("Incident commander: alice", post["text"]!.GetValue<string>());
        Assert.Equal("header", post["blocks"]![0]!["type"]!.GetValue<string>());
        Assert.Equal($"channel={channel.Id}&timestamp=1764500000.000100", s.Calls("pins.add")[0].Body);
        Assert.StartsWith("application/x-www-form-urlencoded", s.Calls("pins.add")[0].Headers["Content-Type"]);
        Assert.Equal(["U0ONCALL01", "U0LEAD0002"], channel.Members);
        Assert.Equal(["1764500000.000100"], channel.Pins);

        // The channel id is an external id of the incident, and every step is on the timeline.
        Assert.Equal(channel.Id, incident.ExternalIds["slack:warroom"]);
        var timeline = s.Store.ReadTimelineAsync(incident.Id, CancellationToken.None).GetAwaiter().GetResult();
        var slack = timeline.Where(e => e.Action?.StartsWith("Slack ", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(["Slack conversations.create", "Slack conversations.setTopic", "Slack conversations.invite", "Slack chat.postMessage", "Slack pins.add"], slack.Select(e => e.Action));
        Assert.All(slack, e => { Assert.Equal(TimelineOutcome.Succeeded, e.Outcome); Assert.Equal("New-Incident", e.Cmdlet); Assert.Contains($"#{name}", e.Target); });
        Assert.Contains(r.Verbose, v => v.Contains($"created #{name}", StringComparison.Ordinal));
        AssertNoToken(r.AllText());
        AssertNoToken(s.StoreText());
    }

    [Fact]
    [ChannelOperation("slack", "channel-archive")]
    public void CloseIncident_archives_the_incident_channel_once_and_records_it()
    {
        using var s = new SlackIncidentChannelScenario();
        var r = fx.Run($$"""
            $i = New-Incident -Title 'Image optimizer down' -Severity P1 -ConfigPath '{{s.ConfigPath}}'
            $i | Close-Incident -Resolution 'Restarted the worker' -ConfigPath '{{s.ConfigPath}}'
            """).AssertNoErrors();
        var closed = r.Objects<Incident>().Last();
        Assert.Equal(IncidentStatus.Resolved, closed.Status);
        var channel = Assert.Single(s.Api.Channels);
        Assert.True(channel.Archived);
        var archive = Assert.Single(s.Calls("conversations.archive"));
        Assert.Equal($$"""{"channel":"{{channel.Id}}"}""", archive.Body);
        Assert.Equal($"Bearer {SlackIncidentChannelScenario.TokenCanary}", archive.Headers["Authorization"]);
        Assert.True(closed.ExternalIds.ContainsKey("slack:warroom:archived"));
        var entry = Assert.Single(s.Store.ReadTimelineAsync(closed.Id, CancellationToken.None).GetAwaiter().GetResult(), e => e.Action == "Slack conversations.archive");
        Assert.Equal(TimelineOutcome.Succeeded, entry.Outcome);
        Assert.Equal("Close-Incident", entry.Cmdlet);

        // Nothing left to do: -Pending makes no Slack call.
        var before = s.Slack.Requests.Count;
        fx.Run($"Send-IncidentUpdate -Pending -ConfigPath '{s.ConfigPath}'").AssertNoErrors();
        Assert.Equal(before, s.Slack.Requests.Count);
        AssertNoToken(r.AllText());
    }

    [Fact]
    public void WhatIf_on_New_Incident_and_Close_Incident_shows_the_Web_API_calls_and_makes_none()
    {
        using var s = new SlackIncidentChannelScenario();
        var r = fx.Run($"New-Incident -Title 'Image optimizer down' -Severity P1 -ConfigPath '{s.ConfigPath}' -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Empty(s.Slack.Requests);
        Assert.Empty(s.Store.ListAsync(CancellationToken.None).GetAwaiter().GetResult());
        var today = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd");
        Assert.Contains($"/conversations.create (as the bot) {{\"name\":\"incident-{today}-001\",\"is_private\":false}}", r.HostText);
        foreach (var method in new[] { "conversations.setTopic", "conversations.invite", "chat.postMessage", "pins.add" })
            Assert.Contains($"POST ********/{method} (as the bot) ", r.HostText);
        Assert.Contains("\"users\":\"U0ONCALL01,U0LEAD0002\"", r.HostText);
        Assert.Contains("/pins.add (as the bot) channel=NEW_CHANNEL_ID&timestamp=SUMMARY_TS", r.HostText);
        AssertNoToken(r.AllText());

        var declared = fx.Run($"New-Incident -Title 'Image optimizer down' -Severity P1 -ConfigPath '{s.ConfigPath}'").AssertNoErrors().Single<Incident>();
        var count = s.Slack.Requests.Count;
        var close = fx.Run($"Close-Incident -Incident {declared.Id} -Resolution 'Restarted' -ConfigPath '{s.ConfigPath}' -WhatIf").AssertNoErrors();
        Assert.Contains($"/conversations.archive (as the bot) {{\"channel\":\"{declared.ExternalIds["slack:warroom"]}\"}}", close.HostText);
        Assert.Equal(count, s.Slack.Requests.Count);
        Assert.False(s.Api.Channels.Single().Archived);
        Assert.Equal(IncidentStatus.Investigating, s.Store.GetAsync(declared.Id, CancellationToken.None).GetAwaiter().GetResult()!.Status);
        AssertNoToken(close.AllText());
    }

    [Fact]
    public void Pending_with_Channel_retries_and_archives_only_the_named_bot_channel_and_WhatIf_shows_only_its_calls()
    {
        // Two Slack bot channels; both fail to open (a missing scope), so both have a step left to retry.
        using var s = new SlackIncidentChannelScenario(twoBots: true);
        s.Api.MissingScope["conversations.create"] = "channels:manage";
        s.Api2.MissingScope["conversations.create"] = "channels:manage";
        var incident = fx.Run($"New-Incident -Title 'Image optimizer down' -Severity P1 -ConfigPath '{s.ConfigPath}'").Single<Incident>();
        Assert.Single(s.Calls("conversations.create"));
        Assert.Single(s.Slack2.Requests, q => q.Path == "/api/conversations.create");
        s.Api.MissingScope.Clear();
        s.Api2.MissingScope.Clear();
        var (warroom, bridge) = (s.Slack.Requests.Count, s.Slack2.Requests.Count);

        // -WhatIf names the named channel's Web API calls only, and makes none.
        var whatIf = fx.Run($"Send-IncidentUpdate -Pending -Incident {incident.Id} -Channel bridge -ConfigPath '{s.ConfigPath}' -WhatIf").AssertNoErrors();
        Assert.Contains($"/conversations.create (as the bot) {{\"name\":\"bridge-{incident.Id.ToLowerInvariant()}\",\"is_private\":false}}", whatIf.HostText);
        Assert.DoesNotContain("incident-", whatIf.HostText);
        Assert.DoesNotContain("warroom", whatIf.HostText);
        foreach (var method in new[] { "conversations.setTopic", "conversations.invite", "chat.postMessage", "pins.add" })
            Assert.Single(whatIf.HostText.Split($"/{method} (as the bot) ")[1..]);
        Assert.Equal((warroom, bridge), (s.Slack.Requests.Count, s.Slack2.Requests.Count));
        AssertNoToken(whatIf.AllText());

        // The retry opens the bridge channel; the warroom workspace hears nothing.
        var resent = fx.Run($"Send-IncidentUpdate -Pending -Incident {incident.Id} -Channel bridge -ConfigPath '{s.ConfigPath}'").AssertNoErrors();
        Assert.All(resent.Objects<NotificationResult>(), x => Assert.Equal("bridge", x.Channel));
        Assert.Contains(resent.Objects<NotificationResult>(), x => x.UpdateId == "slack-channel-create" && x.Delivered);
        Assert.Single(s.Api2.Channels);
        Assert.Empty(s.Api.Channels);
        Assert.Equal(warroom, s.Slack.Requests.Count);

        // Now both are open (warroom through its own retry); the archives fail on both, and the retry of one archives only that one.
        fx.Run($"Send-IncidentUpdate -Pending -Incident {incident.Id} -Channel warroom -ConfigPath '{s.ConfigPath}'").AssertNoErrors();
        Assert.Single(s.Api.Channels);
        s.Api.MissingScope["conversations.archive"] = "channels:manage";
        s.Api2.MissingScope["conversations.archive"] = "channels:manage";
        fx.Run($"Close-Incident -Incident {incident.Id} -Resolution 'Restarted' -Force -ConfigPath '{s.ConfigPath}'");
        s.Api.MissingScope.Clear();
        s.Api2.MissingScope.Clear();
        var archiveWhatIf = fx.Run($"Send-IncidentUpdate -Pending -Incident {incident.Id} -Channel bridge -ConfigPath '{s.ConfigPath}' -WhatIf").AssertNoErrors();
        Assert.Contains($"/conversations.archive (as the bot) {{\"channel\":\"{s.Api2.Channels.Single().Id}\"}}", archiveWhatIf.HostText);
        Assert.Contains($"bridge: {incident.Id}: archive #bridge-", archiveWhatIf.HostText);
        Assert.Single(archiveWhatIf.HostText.Split("conversations.archive")[1..]);
        Assert.DoesNotContain("warroom", archiveWhatIf.HostText);
        (warroom, bridge) = (s.Slack.Requests.Count, s.Slack2.Requests.Count);
        var archived = fx.Run($"Send-IncidentUpdate -Pending -Incident {incident.Id} -Channel bridge -ConfigPath '{s.ConfigPath}'").AssertNoErrors();
        Assert.Contains(archived.Objects<NotificationResult>(), x => x.UpdateId == "slack-channel-archive" && x.Channel == "bridge" && x.Delivered);
        Assert.True(s.Api2.Channels.Single().Archived);
        Assert.False(s.Api.Channels.Single().Archived);
        Assert.Equal(warroom, s.Slack.Requests.Count);
        Assert.Equal(bridge + 1, s.Slack2.Requests.Count);
    }

    [Fact]
    public async Task A_429_on_create_waits_for_Retry_After_and_creates_one_channel()
    {
        using var s = new SlackIncidentChannelScenario();
        s.Slack.ScriptApplies = q => q.Path == "/api/conversations.create";
        s.Slack.Then(429, """{"ok":false,"error":"ratelimited"}""", ("Retry-After", "1"));
        var (incident, steps, sink) = await s.DeclareAsync();
        Assert.Equal(2, s.Calls("conversations.create").Count);
        Assert.Single(s.Api.Channels);
        Assert.All(steps, x => Assert.True(x.Succeeded, x.ToString()));
        Assert.Contains(sink.VerboseMessages, v => v.Contains("rate limited (429), Retry-After 1s", StringComparison.Ordinal));
        Assert.Equal(s.Api.Channels[0].Id, incident.ExternalIds["slack:warroom"]);
    }

    [Fact]
    public async Task name_taken_by_someone_elses_channel_fails_clearly_creates_nothing_and_keeps_the_incident_and_its_other_notifications()
    {
        using var s = new SlackIncidentChannelScenario();
        var today = DateTimeOffset.UtcNow;
        var other = s.Api.Add($"incident-{today:yyyy-MM-dd}-001", today.AddDays(-200), topic: "an old drill");
        var (incident, steps, sink) = await s.DeclareAsync();
        var step = Assert.Single(steps);
        Assert.False(step.Succeeded);
        Assert.Equal(SlackErrorIds.SlackChannelNameTaken, step.ErrorId);
        Assert.Contains($"#incident-{today:yyyy-MM-dd}-001 ({other.Id}) already exists and is not {incident.Id}'s", step.Detail);
        Assert.Contains(sink.Warnings, w => w.Contains("SlackChannelNameTaken", StringComparison.Ordinal) && w.Contains("-Pending", StringComparison.Ordinal));
        Assert.Single(s.Api.Channels);
        Assert.Empty(s.Calls("chat.postMessage"));
        Assert.False(incident.ExternalIds.ContainsKey("slack:warroom"));
        Assert.Single(s.Calls("conversations.list"));
        Assert.Contains(await s.Store.ReadTimelineAsync(incident.Id, CancellationToken.None),
            e => e.Action == "Slack conversations.create" && e.Outcome == TimelineOutcome.Failed && e.Result!.StartsWith("SlackChannelNameTaken", StringComparison.Ordinal));

        // The routed update still goes out (to the webhook and to the bot's routed channel).
        var (engine, _, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = incident.Id, Message = "Investigating" }, CancellationToken.None);
        var results = await engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
        Assert.All(results, x => Assert.True(x.Delivered, $"{x.Channel}: {x.Error}"));
        Assert.Single(s.Audit.Requests);
        Assert.Equal("C0INCIDENTS", JsonNode.Parse(s.Calls("chat.postMessage").Single().Body)!["channel"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_is_found_by_name_on_retry_and_not_created_twice()
    {
        using var s = new SlackIncidentChannelScenario();
        s.Slack.ScriptApplies = q => q.Path == "/api/conversations.create";
        s.Slack.ThenHandleAndHang();
        var (incident, steps, _) = await s.DeclareAsync(timeout: TimeSpan.FromSeconds(1.5));
        Assert.Equal(SlackErrorIds.SlackApiError, Assert.Single(steps).ErrorId);
        Assert.Single(s.Api.Channels); // Slack made it; the answer never came.
        Assert.True(incident.ExternalIds.ContainsKey("slack:warroom:creating"));

        var (engine, _, config) = s.NewEngine();
        var results = await engine.Notifications.SendPendingAsync(config, incident.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
        Assert.All(results, x => Assert.True(x.Delivered, $"{x.UpdateId}: {x.Error}"));
        Assert.Equal(["slack-channel-create", "slack-channel-topic", "slack-channel-invite", "slack-channel-post", "slack-channel-pin"], results.Select(x => x.UpdateId));
        Assert.Equal(2, s.Calls("conversations.create").Count);
        var channel = Assert.Single(s.Api.Channels);
        var after = (await s.Store.GetAsync(incident.Id, CancellationToken.None))!;
        Assert.Equal(channel.Id, after.ExternalIds["slack:warroom"]);
        Assert.Single(channel.Messages);
    }

    [Fact]
    public async Task missing_scope_names_the_scope_and_Pending_completes_only_the_missing_step()
    {
        using var s = new SlackIncidentChannelScenario();
        s.Api.MissingScope["pins.add"] = "pins:write";
        var (incident, steps, sink) = await s.DeclareAsync();
        var pin = steps.Single(x => x.Step == "pin");
        Assert.False(pin.Succeeded);
        Assert.Equal(SlackErrorIds.SlackMissingScope, pin.ErrorId);
        Assert.Contains("lacks the scope pins:write that pins.add needs", pin.Detail);
        Assert.Contains(sink.Warnings, w => w.Contains("pins:write", StringComparison.Ordinal));
        Assert.Contains(await s.Store.ReadTimelineAsync(incident.Id, CancellationToken.None), e => e.Action == "Slack pins.add" && e.Outcome == TimelineOutcome.Failed);

        s.Api.MissingScope.Clear();
        var (engine, _, config) = s.NewEngine();
        var results = await engine.Notifications.SendPendingAsync(config, null, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
        var retried = Assert.Single(results);
        Assert.Equal("slack-channel-pin", retried.UpdateId);
        Assert.True(retried.Delivered);
        Assert.Single(s.Calls("chat.postMessage"));
        Assert.Single(s.Calls("conversations.create"));
        Assert.Single(s.Api.Channels.Single().Pins);
        Assert.Empty(await engine.Notifications.SendPendingAsync(config, null, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
    }

    [Fact]
    public async Task A_summary_post_without_an_answer_is_not_posted_again_without_Force()
    {
        using var s = new SlackIncidentChannelScenario();
        s.Slack.ScriptApplies = q => q.Path == "/api/chat.postMessage";
        s.Slack.ThenHandleAndHang();
        var (incident, steps, _) = await s.DeclareAsync(timeout: TimeSpan.FromSeconds(1.5));
        Assert.False(steps.Single(x => x.Step == "post").Succeeded);
        Assert.Single(s.Api.Channels.Single().Messages);

        var (engine, _, config) = s.NewEngine();
        var again = Assert.Single(await engine.Notifications.SendPendingAsync(config, incident.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.Equal(DeliveryState.Unknown, again.State);
        Assert.StartsWith(SlackErrorIds.SlackPostUnknown, again.Error);
        Assert.Single(s.Calls("chat.postMessage"));

        var forced = await engine.Notifications.SendPendingAsync(config, incident.Id, null, force: true, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
        Assert.All(forced, x => Assert.True(x.Delivered, x.Error));
        Assert.Equal(2, s.Calls("chat.postMessage").Count);
        Assert.Single(s.Api.Channels.Single().Pins);
    }

    [Fact]
    public async Task A_wrong_token_is_SlackAuthFailed_and_the_token_appears_nowhere()
    {
        using var s = new SlackIncidentChannelScenario();
        File.WriteAllText(Path.Combine(s.Dir, "slack.token"), "xoxb-wrong-sl4ckB0tT0k3n-revoked");
        var (incident, steps, sink) = await s.DeclareAsync();
        var step = Assert.Single(steps);
        Assert.Equal(SlackErrorIds.SlackAuthFailed, step.ErrorId);
        Assert.Contains("invalid_auth", step.Detail);
        Assert.Empty(s.Api.Channels);
        Assert.NotNull(await s.Store.GetAsync(incident.Id, CancellationToken.None));
        AssertNoToken(string.Join("\n", sink.Warnings.Concat(sink.VerboseMessages)));
        AssertNoToken(s.StoreText());
    }

    [Fact]
    public void A_failed_channel_step_is_a_warning_and_New_Incident_still_declares_the_incident()
    {
        using var s = new SlackIncidentChannelScenario();
        s.Api.MissingScope["conversations.create"] = "channels:manage";
        var r = fx.Run($"New-Incident -Title 'Image optimizer down' -Severity P1 -ConfigPath '{s.ConfigPath}'");
        Assert.Empty(r.Errors);
        var incident = r.Single<Incident>();
        Assert.Contains(r.Warnings, w => w.Contains("SlackMissingScope", StringComparison.Ordinal) && w.Contains("channels:manage", StringComparison.Ordinal));
        Assert.NotNull(s.Store.GetAsync(incident.Id, CancellationToken.None).GetAwaiter().GetResult());

        s.Api.MissingScope.Clear();
        var resent = fx.Run($"Send-IncidentUpdate -Pending -Incident {incident.Id} -ConfigPath '{s.ConfigPath}'").AssertNoErrors();
        Assert.Contains(resent.Objects<NotificationResult>(), x => x.UpdateId == "slack-channel-create" && x.Delivered);
        Assert.Single(s.Api.Channels);
        AssertNoToken(r.AllText() + resent.AllText());
    }

    [Fact]
    public async Task A_token_that_does_not_resolve_is_a_failed_step_on_the_timeline_and_Pending_still_sends_the_other_updates()
    {
        using var s = new SlackIncidentChannelScenario();
        File.WriteAllText(s.ConfigPath, File.ReadAllText(s.ConfigPath).Replace("file:slack.token", "env:IO_TEST_SLACK_TOKEN_NOT_SET"));
        var (incident, steps, sink) = await s.DeclareAsync();
        var step = Assert.Single(steps);
        Assert.Equal(ConfigErrorIds.ConfigReferenceUnresolved, step.ErrorId);
        Assert.Contains(sink.Warnings, w => w.Contains("ConfigReferenceUnresolved", StringComparison.Ordinal));
        Assert.Contains(await s.Store.ReadTimelineAsync(incident.Id, CancellationToken.None),
            e => e.Action == "Slack incident channel" && e.Outcome == TimelineOutcome.Failed && e.Result!.StartsWith("ConfigReferenceUnresolved", StringComparison.Ordinal));
        Assert.Empty(s.Slack.Requests);

        // -Pending reports the channel step again, and still re-sends a pending update to the webhook.
        s.Audit.Then(503, "down");
        var (engine, _, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = incident.Id, Message = "Investigating", Channels = ["audit"] }, CancellationToken.None);
        Assert.False(Assert.Single(await engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None)).Delivered);
        var results = await engine.Notifications.SendPendingAsync(config, incident.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
        Assert.Contains(results, r => r.Channel == "warroom" && r.UpdateId == "slack-channel-open" && !r.Delivered);
        Assert.Contains(results, r => r.Channel == "audit" && r.Delivered);
    }

    [Fact]
    public void Routed_updates_post_with_chat_postMessage_and_an_ok_false_answer_is_not_delivered()
    {
        var channel = new ResolvedChannel
        {
            Config = new IncidentOps.Config.ChannelConfig { Name = "warroom", Type = ChannelType.Slack },
            Values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["token"] = "xoxb-1", ["channel"] = "C0INCIDENTS", ["url"] = "http://127.0.0.1:1/api" },
        };
        var incident = new Incident { Id = "INC-20261130-001", Title = "x", Severity = "P1" };
        var update = new IncidentUpdate { UpdateId = "UPD-1", IncidentId = incident.Id };
        var request = new SlackChannel().Build(channel, incident, update, null, "Investigating");
        Assert.Equal("http://127.0.0.1:1/api/chat.postMessage", request.Url);
        Assert.Equal("Bearer xoxb-1", request.Headers["Authorization"]);
        Assert.Equal("C0INCIDENTS", JsonNode.Parse(request.Body)!["channel"]!.GetValue<string>());
        Assert.True(new SlackChannel().IsSuccess(200, """{"ok":true,"ts":"1.2"}"""));
        Assert.False(new SlackChannel().IsSuccess(200, """{"ok":false,"error":"channel_not_found"}"""));
        Assert.True(new SlackChannel().IsSuccess(200, "ok")); // the webhook's answer

        // A bot channel without `channel` posts only in the incident's own channel; routing it is a clear error.
        var noTarget = new ResolvedChannel
        {
            Config = channel.Config,
            Values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["token"] = "xoxb-1", ["incidentChannel"] = "incident-{NNN}" },
        };
        var ex = Assert.Throws<IncidentOpsException>(() => new SlackChannel().Build(noTarget, incident, update, null, "Investigating"));
        Assert.Equal(SlackErrorIds.SlackChannelMissing, ex.ErrorId);
        Assert.Contains("channels.warroom.channel: C0123456789", ex.Message);
    }

    [Theory]
    [InlineData("'#incident-{yyyy}-{MM}-{dd}-{NNN}'", "incident-2026-11-30-007")]
    [InlineData("incident-{yyyy}{MM}{dd}-{HH}{mm}", "incident-20261130-0942")]
    [InlineData("inc_{id}", "inc_inc-20261130-007")]
    [InlineData("{severity}-incident-{NNN}", "p1-incident-007")]
    public void The_channel_name_follows_the_pattern_in_lower_case(string pattern, string expected)
    {
        var incident = new Incident { Id = "INC-20261130-007", Title = "x", Severity = "P1", DeclaredAt = new DateTimeOffset(2026, 11, 30, 9, 42, 0, TimeSpan.Zero) };
        Assert.Null(SlackChannelName.Problem(pattern.Trim('\'')));
        Assert.Equal(expected, SlackChannelName.For(pattern.Trim('\''), incident));
    }

    [Theory]
    [InlineData("Incident-{NNN}", "upper-case letters")]
    [InlineData("'incident {NNN}'", "has a space")]
    [InlineData("incident.{NNN}", "has a period")]
    [InlineData("incident-{date}-{NNN}", "unknown placeholder {date}")]
    [InlineData("incident-{yyyy}-{MM}-{dd}", "the same channel name")]
    [InlineData("a-very-long-prefix-for-the-incident-channels-of-the-platform-team-{yyyy}{MM}{dd}-{HH}{mm}-{NNN}", "Slack allows 80")]
    public void A_bad_incidentChannel_pattern_is_ConfigInvalidName_at_its_line(string pattern, string says)
    {
        using var s = new SlackIncidentChannelScenario(pattern);
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        var finding = Assert.Single(engine.Config.Load(s.ConfigPath).Findings, f => f.Severity == IncidentOps.Config.FindingSeverity.Error);
        Assert.Equal(ConfigErrorIds.ConfigInvalidName, finding.Code);
        Assert.Equal(8, finding.Line);
        Assert.StartsWith("channels.warroom.incidentChannel: ", finding.Message);
        Assert.Contains(says, finding.Message);
    }
}

public class SlackChannelConfigTests
{
    private static IReadOnlyList<IncidentOps.Config.ConfigFinding> Errors(string channelYaml)
    {
        var dir = Paths.TempDir("io-slackcfg");
        var path = Path.Combine(dir, "incidentops.yml");
        File.WriteAllText(path, "channels:\n" + channelYaml + "\n");
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        return engine.Config.Load(path).Findings.Where(f => f.Severity == IncidentOps.Config.FindingSeverity.Error).ToList();
    }

    [Fact]
    public void A_slack_channel_needs_a_webhook_url_or_a_bot_token()
    {
        var f = Assert.Single(Errors("  warroom: { type: slack }"));
        Assert.Equal(ConfigErrorIds.ConfigMissingField, f.Code);
        Assert.Contains("needs a url (an incoming webhook", f.Message);
        Assert.Contains("or a token", f.Message);
    }

    [Fact]
    public void Web_API_keys_without_a_token_are_errors_at_their_line()
    {
        var f = Assert.Single(Errors("  warroom:\n    type: slack\n    url: https://hooks.slack.com/services/T/B/X\n    incidentChannel: incident-{NNN}"));
        Assert.Equal(ConfigErrorIds.ConfigMissingField, f.Code);
        Assert.Equal(5, f.Line);
        Assert.Contains("'incidentChannel' needs the Web API", f.Message);
    }

    [Fact]
    public void A_bot_channel_with_invite_list_and_pattern_loads()
    {
        Assert.Empty(Errors("  warroom:\n    type: slack\n    token: env:SLACK_BOT_TOKEN\n    incidentChannel: incident-{yyyy}-{MM}-{dd}-{NNN}\n    invite: [U0ONCALL01, env:SLACK_LEAD]"));
        var f = Assert.Single(Errors("  warroom:\n    type: slack\n    token: env:SLACK_BOT_TOKEN\n    channel: C0INCIDENTS\n    invite: U0ONCALL01"));
        Assert.Equal(ConfigErrorIds.ConfigInvalidShape, f.Code);
        Assert.Contains("channels.warroom.invite must be a list", f.Message);
    }
}
