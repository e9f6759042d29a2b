using System.Text.Json.Nodes;
using IncidentOps.Config;
using IncidentOps.Engine.Config;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;
using Xunit;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// The Opsgenie channel (Alert API v2) against a loopback stub that records every request and answers as
/// Fixtures/opsgenie.json records Opsgenie's documented 202. The API key is a canary read through file:.
/// </summary>
public sealed class OpsgenieChannelTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    public const string KeyCanary = "CANARYgenieK3y0ps77";

    private sealed class Scenario : IDisposable
    {
        public ProviderStub Opsgenie { get; } = ChannelFixtures.Stub("opsgenie");
        public NotificationScenario S { get; }

        public Scenario(string apiUrl = "")
        {
            S = new NotificationScenario($"  genie: {{ type: opsgenie, apiKey: file:og.key, apiUrl: '{(apiUrl == "" ? Opsgenie.BaseUrl : apiUrl)}' }}");
            File.WriteAllText(Path.Combine(S.Dir, "og.key"), KeyCanary);
        }

        public void Dispose() { Opsgenie.Dispose(); S.Dispose(); }
    }

    private static JsonNode Json(CapturedRequest r) => JsonNode.Parse(r.Body)!;

    /// <summary>The Opsgenie fake (alerts by alias) answering as Fixtures/opsgenie.json records Opsgenie.</summary>
    public static OpsgenieFake NewFake()
    {
        var (status, body) = ChannelFixtures.Answer("opsgenie");
        var (missing, missingBody) = ChannelFixtures.Answer("opsgenie", "alertNotFound");
        return new OpsgenieFake(status, body, missing, missingBody);
    }

    [Fact]
    [ChannelOperation("opsgenie", "create")]
    public async Task A_new_incident_creates_an_alert_aliased_by_the_incident_id_and_its_declaration_time_with_priority_from_the_severity_and_a_GenieKey()
    {
        using var sc = new Scenario();
        var inc = await sc.S.CreateIncidentAsync("P1");
        var r = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout down", Channels = ["genie"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal(ChannelType.Opsgenie, r.ChannelType);
        Assert.Equal(202, r.StatusCode);
        Assert.Equal("43a29c5c-3dbf-4fa4-9c26-f4f71023e120", r.ProviderId);
        var req = Assert.Single(sc.Opsgenie.Requests);
        Assert.Equal(("POST", "/v2/alerts"), (req.Method, req.Path));
        Assert.Equal($"GenieKey {KeyCanary}", req.Headers["Authorization"]);
        var body = Json(req);
        Assert.Equal(ExpectedPagerKey.Opsgenie(inc), body["alias"]!.GetValue<string>());
        Assert.Equal("P2", body["priority"]!.GetValue<string>()); // P1 is the second level of the P0-P3 matrix
        Assert.Equal("[P1] Checkout returns 502", body["message"]!.GetValue<string>());
        Assert.Contains("Checkout down", body["description"]!.GetValue<string>());
        Assert.Equal("api", body["entity"]!.GetValue<string>());
        Assert.Equal(inc.Id, body["details"]!["incident_id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("P0", "P1")]
    [InlineData("P2", "P3")]
    [InlineData("P3", "P4")]
    public async Task Priority_follows_the_severity_rank(string severity, string priority)
    {
        using var sc = new Scenario();
        var inc = await sc.S.CreateIncidentAsync(severity, title: new string('t', 300));
        Assert.True(Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Channels = ["genie"] })).Delivered);
        var body = Json(Assert.Single(sc.Opsgenie.Requests));
        Assert.Equal(priority, body["priority"]!.GetValue<string>());
        Assert.Equal(130, body["message"]!.GetValue<string>().Length);
        Assert.EndsWith(ProviderPayloads.TruncationMark, body["message"]!.GetValue<string>());
    }

    [Fact]
    [ChannelOperation("opsgenie", "acknowledge"), ChannelOperation("opsgenie", "close")]
    public async Task Identified_acknowledges_and_the_resolution_closes_the_same_alert_by_alias()
    {
        using var sc = new Scenario();
        var inc = await sc.S.CreateIncidentAsync("P1");
        await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["genie"] });
        var ack = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "Pool exhausted", Channels = ["genie"] }));
        var close = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "Pool raised", Channels = ["genie"] }));
        Assert.True(ack.Delivered, ack.Error);
        Assert.True(close.Delivered, close.Error);
        var (a, c) = (sc.Opsgenie.Requests[1], sc.Opsgenie.Requests[2]);
        Assert.Equal(("POST", $"/v2/alerts/{ExpectedPagerKey.Opsgenie(inc)}/acknowledge", "?identifierType=alias"), (a.Method, a.Path, a.Query));
        Assert.Equal(("POST", $"/v2/alerts/{ExpectedPagerKey.Opsgenie(inc)}/close", "?identifierType=alias"), (c.Method, c.Path, c.Query));
        Assert.Contains("Pool exhausted", Json(a)["note"]!.GetValue<string>());
        Assert.Contains("Pool raised", Json(c)["note"]!.GetValue<string>());
        Assert.All(sc.Opsgenie.Requests, q => Assert.Equal($"GenieKey {KeyCanary}", q.Headers["Authorization"]));
        // A progress update while still investigating re-creates under the same alias (Opsgenie deduplicates it).
        var inc2 = await sc.S.CreateIncidentAsync("P1", title: "Second");
        await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc2.Id, Channels = ["genie"] });
        await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc2.Id, Kind = NotificationKind.Update, Message = "still looking", Channels = ["genie"] });
        Assert.Equal([ExpectedPagerKey.Opsgenie(inc2), ExpectedPagerKey.Opsgenie(inc2)], sc.Opsgenie.Requests.Skip(3).Select(q => Json(q)["alias"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Monitoring_closes_the_alert_so_an_update_while_investigating_again_creates_a_new_alert_that_notifies()
    {
        using var og = NewFake();
        using var s = new NotificationScenario($"  genie: {{ type: opsgenie, apiKey: file:og.key, apiUrl: '{og.BaseUrl}' }}");
        File.WriteAllText(Path.Combine(s.Dir, "og.key"), KeyCanary);
        var inc = await s.CreateIncidentAsync("P1");
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Looking", Channels = ["genie"] });
        og.Alerts[0].Acknowledged = true;             // the on-call acknowledged it in Opsgenie
        var monitoring = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "Fix deployed", Channels = ["genie"] }));
        Assert.True(monitoring.Delivered, monitoring.Error);
        var close = og.Requests[^1];
        Assert.Equal(("POST", $"/v2/alerts/{ExpectedPagerKey.Opsgenie(inc)}/close", "?identifierType=alias"), (close.Method, close.Path, close.Query));
        Assert.Contains("Fix deployed", Json(close)["note"]!.GetValue<string>());
        Assert.Equal([(ExpectedPagerKey.Opsgenie(inc), "closed")], og.Alerts.Select(a => (a.Alias, a.Status)));

        // It fails again: a create with the alias of a closed alert opens a new alert (count 1, not acknowledged).
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Investigating, Message = "Down again", Channels = ["genie"] });
        Assert.Equal([(ExpectedPagerKey.Opsgenie(inc), "closed", 1, true), (ExpectedPagerKey.Opsgenie(inc), "open", 1, false)], og.Alerts.Select(a => (a.Alias, a.Status, a.Count, a.Acknowledged)));
        await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Resolved, Message = "Fixed", Channels = ["genie"] });
        Assert.All(og.Alerts, a => Assert.Equal("closed", a.Status));
        Assert.Empty(og.Unmatched);
    }

    [Fact]
    public async Task An_undelivered_create_is_not_superseded_by_Monitorings_close_so_the_page_is_not_lost()
    {
        using var sc = new Scenario();
        var inc = await sc.S.CreateIncidentAsync("P1");
        sc.Opsgenie.Then(422, "{\"message\":\"Request body is not processable\"}");
        var create = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "down", Channels = ["genie"] }));
        Assert.False(create.Delivered);
        var close = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Monitoring, Message = "recovered", Channels = ["genie"] }));
        Assert.True(close.Delivered, close.Error);

        var (engine, _, config) = sc.S.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.Equal(create.UpdateId, resent.UpdateId);
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(["/v2/alerts", $"/v2/alerts/{ExpectedPagerKey.Opsgenie(inc)}/close", "/v2/alerts"], sc.Opsgenie.Requests.Select(q => q.Path));
    }

    [Fact]
    public async Task A_5xx_is_retried_under_the_same_alias_and_a_refused_key_fails_without_showing_it()
    {
        using var sc = new Scenario();
        sc.Opsgenie.Then(503, "{\"message\":\"unavailable\"}");
        var inc = await sc.S.CreateIncidentAsync("P1");
        var r = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Channels = ["genie"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal(2, r.Attempts);
        Assert.All(sc.Opsgenie.Requests, q => Assert.Equal(ExpectedPagerKey.Opsgenie(inc), Json(q)["alias"]!.GetValue<string>()));

        var (status, body) = ChannelFixtures.Answer("opsgenie", "unauthorized");
        sc.Opsgenie.Then(status, body);
        var refused = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Channels = ["genie"] }));
        Assert.False(refused.Delivered);
        Assert.Equal(DeliveryState.Failed, refused.State);
        Assert.Contains("401", refused.Error);
        Assert.Contains("Could not authenticate", refused.Error);
        Assert.DoesNotContain(KeyCanary, refused.ToString());
        Assert.DoesNotContain(KeyCanary, sc.S.StoreText());
    }

    [Fact]
    public async Task An_unanswered_create_stays_Unknown_and_Pending_resends_it_without_Force()
    {
        using var sc = new Scenario();
        sc.Opsgenie.ThenHang();
        var inc = await sc.S.CreateIncidentAsync("P1");
        var (engine, _, config) = sc.S.NewEngine();
        // A deadline a loaded machine still reaches the provider within; the provider never answers, so it always runs out.
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(4), BackoffBase = TimeSpan.FromMilliseconds(20) };
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Channels = ["genie"] }, CancellationToken.None);
        var r = Assert.Single(await engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(DeliveryState.Unknown, r.State);
        Assert.Contains("no answer within 4s", r.Error);
        Assert.Single(sc.Opsgenie.Requests);   // the create reached Opsgenie before the deadline
        var resent = Assert.Single(await sc.S.NewEngine().Engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(ExpectedPagerKey.Opsgenie(inc), Json(sc.Opsgenie.Requests.Last())["alias"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null, "https://api.opsgenie.com/v2/alerts")]
    [InlineData("https://api.eu.opsgenie.com", "https://api.eu.opsgenie.com/v2/alerts")]
    public async Task The_endpoint_is_the_US_API_unless_apiUrl_names_the_EU_one(string? apiUrl, string expected)
    {
        using var s = new NotificationScenario($"  genie: {{ type: opsgenie, apiKey: file:og.key{(apiUrl is null ? "" : $", apiUrl: '{apiUrl}'")} }}");
        File.WriteAllText(Path.Combine(s.Dir, "og.key"), KeyCanary);
        var inc = await s.CreateIncidentAsync("P1");
        var (engine, _, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Channels = ["genie"] }, CancellationToken.None);
        var rendered = Assert.Single(prepared.Rendered);
        Assert.Equal(expected, rendered.Url);
        Assert.DoesNotContain(KeyCanary, rendered.ToString() + rendered.Body);
    }

    [Fact]
    public void The_configuration_needs_an_apiKey_and_an_https_apiUrl_and_never_shows_the_key()
    {
        var missing = ConfigParser.Parse("channels:\n  genie: { type: opsgenie }\n", "/cfg/incidentops.yml");
        var e = Assert.Single(missing.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal(("ConfigMissingField", 2), (e.Code, e.Line));
        Assert.Contains("(opsgenie) needs apiKey (for example: apiKey: secret:OpsgenieKey)", e.Message);

        var http = ConfigParser.Parse("channels:\n  genie: { type: opsgenie, apiKey: LiteralG3nieKey, apiUrl: 'http://api.opsgenie.com' }\n", "/cfg/incidentops.yml");
        var u = Assert.Single(http.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal("ConfigInvalidUrl", u.Code);
        Assert.Contains("channels.genie.apiUrl", u.Message);

        var ok = ConfigParser.Parse("channels:\n  genie: { type: opsgenie, apiKey: LiteralG3nieKey }\n", "/cfg/incidentops.yml");
        var channel = Assert.Single(ok.Config!.Channels);
        Assert.Equal(ChannelType.Opsgenie, channel.Type);
        Assert.DoesNotContain("LiteralG3nieKey", channel.Endpoint);
        Assert.DoesNotContain("LiteralG3nieKey", channel.ApiKey!.ToString());
    }

    [Fact]
    public async Task WhatIf_shows_the_Opsgenie_request_and_never_the_key_and_sends_nothing()
    {
        using var sc = new Scenario();
        var inc = await sc.S.CreateIncidentAsync("P1");
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{sc.S.ConfigPath}' -Incident {inc.Id} -Channel genie -Message 'Investigating' -WhatIf").AssertNoErrors();
        Assert.Contains($"genie (Opsgenie) for {inc.Id}", r.HostText);
        Assert.Contains($"POST {sc.Opsgenie.BaseUrl}/v2/alerts", r.HostText);
        Assert.Contains($"\"alias\":\"{ExpectedPagerKey.Opsgenie(inc)}\"", r.HostText);
        Assert.DoesNotContain(KeyCanary, r.AllText());
        Assert.Empty(sc.Opsgenie.Requests);
        Assert.Empty(sc.S.OutboxFiles(inc.Id));

        // Sent for real, the timeline and the report carry the outcome but never the key.
        fx.Run($"Send-IncidentUpdate -ConfigPath '{sc.S.ConfigPath}' -Incident {inc.Id} -Channel genie -Message 'Investigating' -Confirm:$false").AssertNoErrors();
        var report = fx.Run($"Get-IncidentTimeline -ConfigPath '{sc.S.ConfigPath}' -Incident {inc.Id} | ForEach-Object {{ $_.Result }}; (New-IncidentReport -ConfigPath '{sc.S.ConfigPath}' -Incident {inc.Id}).Content").AssertNoErrors();
        Assert.Contains("genie: delivered (202", report.AllText());
        Assert.DoesNotContain(KeyCanary, report.AllText());
        Assert.DoesNotContain(KeyCanary, sc.S.StoreText());
    }

    [Fact]
    public async Task An_undelivered_create_is_not_superseded_by_an_acknowledge_so_the_page_is_not_lost()
    {
        using var sc = new Scenario();
        var inc = await sc.S.CreateIncidentAsync("P1");
        sc.Opsgenie.Then(422, "{\"message\":\"Request body is not processable\"}");
        var create = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "down", Channels = ["genie"] }));
        Assert.False(create.Delivered);
        var ack = Assert.Single(await sc.S.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Status = IncidentStatus.Identified, Message = "found it", Channels = ["genie"] }));
        Assert.True(ack.Delivered, ack.Error);

        var (engine, _, config) = sc.S.NewEngine();
        var resent = Assert.Single(await engine.Notifications.SendPendingAsync(config, inc.Id, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.Equal(create.UpdateId, resent.UpdateId);
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(["/v2/alerts", $"/v2/alerts/{ExpectedPagerKey.Opsgenie(inc)}/acknowledge", "/v2/alerts"], sc.Opsgenie.Requests.Select(q => q.Path));
    }

    [Fact]
    [ChannelOperation("opsgenie", "create")]
    public async Task Pending_looks_an_unanswered_create_up_by_alias_and_does_not_post_it_again_when_Opsgenie_has_the_alert()
    {
        using var og = NewFake();
        using var s = new NotificationScenario($"  genie: {{ type: opsgenie, apiKey: file:og.key, apiUrl: '{og.BaseUrl}' }}");
        File.WriteAllText(Path.Combine(s.Dir, "og.key"), KeyCanary);
        og.Stub.ThenHandleAndHang();                  // Opsgenie makes the alert; its answer is lost
        var inc = await s.CreateIncidentAsync("P1");
        var (engine, _, config) = s.NewEngine();
        // Long enough for the create to reach Opsgenie on a loaded machine (the test is about its answer being lost).
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(4), BackoffBase = TimeSpan.FromMilliseconds(20) };
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Channels = ["genie"] }, CancellationToken.None);
        var context = new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate");
        Assert.Equal(DeliveryState.Unknown, Assert.Single(await engine.Notifications.SendAsync(prepared, null, context, CancellationToken.None)).State);

        var resent = Assert.Single(await s.NewEngine().Engine.Notifications.SendPendingAsync(config, inc.Id, null, context, CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal([("POST", "/v2/alerts", ""), ("GET", $"/v2/alerts/{ExpectedPagerKey.Opsgenie(inc)}", "?identifierType=alias")], og.Requests.Select(r => (r.Method, r.Path, r.Query)));
        Assert.Equal($"GenieKey {KeyCanary}", og.Requests[1].Headers["Authorization"]);
        var alert = Assert.Single(og.Alerts);
        Assert.Equal((ExpectedPagerKey.Opsgenie(inc), 1), (alert.Alias, alert.Count));
        // Nothing is left to re-send, and the store and timeline never hold the key.
        Assert.Empty(await s.NewEngine().Engine.Notifications.GetUpdatesAsync(config, inc.Id, true, CancellationToken.None));
        Assert.DoesNotContain(KeyCanary, s.StoreText());
    }

    // ---- Opsgenie's 202 is "Request will be processed": the outcome comes from Get Request Status (issue item 4).

    private static (OpsgenieFake Og, NotificationScenario S) GenieOnFake()
    {
        var og = NewFake();
        var s = new NotificationScenario($"  genie: {{ type: opsgenie, apiKey: file:og.key, apiUrl: '{og.BaseUrl}' }}");
        File.WriteAllText(Path.Combine(s.Dir, "og.key"), KeyCanary);
        return (og, s);
    }

    [Fact]
    [ChannelOperation("opsgenie", "create")]
    public async Task A_202_counts_as_delivered_only_once_Get_Request_Status_says_it_was_processed()
    {
        var (og, s) = GenieOnFake();
        using var _ = og; using var __ = s;
        var (notProcessed, notProcessedBody) = ChannelFixtures.Answer("opsgenie", "requestNotProcessed");
        var (processed, processedBody) = ChannelFixtures.Answer("opsgenie", "requestStatus");
        og.ThenRequestStatus(notProcessed, notProcessedBody).ThenRequestStatus(processed, processedBody);
        var inc = await s.CreateIncidentAsync("P1");
        var r = Assert.Single(await s.SendAsync(new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout down", Channels = ["genie"] }));
        Assert.True(r.Delivered, r.Error);
        Assert.Equal((DeliveryState.Delivered, 202, "43a29c5c-3dbf-4fa4-9c26-f4f71023e120"), (r.State, r.StatusCode, r.ProviderId));
        Assert.Equal(2, og.StatusChecks.Count);
        Assert.All(og.StatusChecks, c => Assert.Equal(("GET", "/v2/alerts/requests/43a29c5c-3dbf-4fa4-9c26-f4f71023e120"), (c.Method, c.Path)));
        Assert.All(og.StatusChecks, c => Assert.Equal($"GenieKey {KeyCanary}", c.Headers["Authorization"]));
        Assert.Single(og.Creates);
    }

    [Fact]
    [ChannelOperation("opsgenie", "create")]
    public async Task A_request_Opsgenie_accepted_and_then_failed_is_Failed_with_its_status_text_not_delivered()
    {
        // Before: reported delivered on the 202; the bad responder made it a silent miss.
        var (og, s) = GenieOnFake();
        using var _ = og; using var __ = s;
        var (status, body) = ChannelFixtures.Answer("opsgenie", "requestFailed");
        og.ThenRequestStatus(status, body);
        var inc = await s.CreateIncidentAsync("P1");
        var (engine, sink, config) = s.NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout down", Channels = ["genie"] }, CancellationToken.None);
        var r = Assert.Single(await engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None));
        Assert.False(r.Delivered);
        Assert.Equal(DeliveryState.Failed, r.State);
        Assert.Contains("Responder [team: payments-oncall] does not exist", r.Error);
        Assert.Contains("43a29c5c-3dbf-4fa4-9c26-f4f71023e120", r.Error);
        Assert.Contains("Send-IncidentUpdate -Pending", r.Error);
        var timeline = await s.Incidents.ReadTimelineAsync(inc.Id, CancellationToken.None);
        Assert.Contains(timeline, e => e.Kind == "update" && e.Outcome == TimelineOutcome.Failed && e.Result!.Contains("does not exist"));
        Assert.DoesNotContain(KeyCanary, s.StoreText());
        Assert.DoesNotContain(KeyCanary, string.Join("\n", sink.VerboseMessages.Concat(sink.Warnings)));
    }

    [Fact]
    [ChannelOperation("opsgenie", "create")]
    public async Task A_request_still_unprocessed_at_the_deadline_is_Unknown_and_Pending_checks_it_instead_of_posting_again()
    {
        var (og, s) = GenieOnFake();
        using var _ = og; using var __ = s;
        og.HoldRequests = true;
        var inc = await s.CreateIncidentAsync("P1");
        var (engine, _, config) = s.NewEngine();
        engine.Notifications.Options = new NotificationOptions { RequestTimeout = TimeSpan.FromSeconds(4), BackoffBase = TimeSpan.FromMilliseconds(20) };
        var context = new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate");
        var prepared = await engine.Notifications.PrepareAsync(config, new IncidentUpdateRequest { IncidentId = inc.Id, Message = "Checkout down", Channels = ["genie"] }, CancellationToken.None);
        var r = Assert.Single(await engine.Notifications.SendAsync(prepared, null, context, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.False(r.Delivered);
        Assert.Equal(DeliveryState.Unknown, r.State);
        // The wait ended at what was left of the 4 s deadline, not at the 10 s status-wait cap (the time itself is not asserted).
        Assert.Matches(@"had not processed it within [0-4](\.\d)? s", r.Error);
        Assert.Equal("43a29c5c-3dbf-4fa4-9c26-f4f71023e120", r.ProviderId);
        Assert.Contains("not processed", r.Error);
        Assert.True(og.StatusChecks.Count >= 1);

        // Opsgenie has processed it by now: -Pending asks about that request and does not post the create again.
        og.HoldRequests = false;
        var resent = Assert.Single(await s.NewEngine().Engine.Notifications.SendPendingAsync(config, inc.Id, null, context, CancellationToken.None));
        Assert.True(resent.Delivered, resent.Error);
        Assert.Equal(DeliveryState.Delivered, resent.State);
        Assert.Single(og.Creates);
        Assert.Equal(1, Assert.Single(og.Alerts).Count);
        Assert.Empty(await s.NewEngine().Engine.Notifications.GetUpdatesAsync(config, inc.Id, true, CancellationToken.None));
        Assert.DoesNotContain(KeyCanary, s.StoreText());
    }

    [Fact]
    [ChannelOperation("opsgenie", "acknowledge")]
    public void Send_IncidentUpdate_shows_a_request_Opsgenie_failed_as_not_delivered_with_its_reason_and_never_the_key()
    {
        var (og, s) = GenieOnFake();
        using var _ = og; using var __ = s;
        var inc = s.CreateIncidentAsync("P1").GetAwaiter().GetResult();
        fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Channel genie -Message 'Looking' -Confirm:$false").AssertNoErrors();
        og.ThenRequestStatus(200, "{\"data\":{\"success\":false,\"action\":\"Acknowledge\",\"isSuccess\":false,\"status\":\"Alert does not exist\"},\"took\":0.01,\"requestId\":\"x\"}");
        var r = fx.Run($"Send-IncidentUpdate -ConfigPath '{s.ConfigPath}' -Incident {inc.Id} -Channel genie -Status Identified -Message 'Pool exhausted' -Confirm:$false -WarningVariable w");
        var result = r.Single<NotificationResult>();
        Assert.False(result.Delivered);
        Assert.Equal(DeliveryState.Failed, result.State);
        Assert.Contains("Alert does not exist", result.Error);
        Assert.Contains("Alert does not exist", r.AllText());
        Assert.DoesNotContain(KeyCanary, r.AllText());
    }
}
