using IncidentOps.Alerting;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Alerting;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Tests.Notifications;

namespace IncidentOps.Tests.Alerting;

/// <summary>A clock the test moves by hand (runs "every 10 s" without sleeping).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;
    public DateTimeOffset Now => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => Now;
    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>
/// A loopback health endpoint whose answer the test scripts (Healthy), a webhook, a PagerDuty stand-in and an Opsgenie
/// fake (alerts by alias) on loopback, and an incidentops.yml with alerting rules over a real file store. P1 routes to
/// hook and pager (PagerDuty) unless the scenario names other channels (genie is the Opsgenie channel).
/// </summary>
public sealed class AlertingScenario : IDisposable
{
    public ProviderStub Health { get; } = new(200, "ok");
    public ProviderStub Hook { get; } = new(200, "");
    public ProviderStub PagerDuty { get; } = new(202, "{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"from-pd\"}");
    /// <summary>PagerDuty's incidents behind <see cref="PagerDuty"/> (one open incident per dedup_key, notifications counted).</summary>
    public PagerDutyFake PagerDutyIncidents { get; }
    public OpsgenieFake Opsgenie { get; } = OpsgenieChannelTests.NewFake();
    public const string OpsgenieKeyCanary = "CANARYalertG3nieK3y";
    private volatile bool _healthy = true;
    public bool Healthy { get => _healthy; set => _healthy = value; }

    public string Dir { get; }
    public string StorePath { get; }
    public string ConfigPath => Path.Combine(Dir, "incidentops.yml");

    /// <summary>The simulated clock starts two hours back, so every simulated time is in the real past.</summary>
    public ManualClock Clock { get; } = new(DateTimeOffset.UtcNow.AddHours(-2));

    /// <summary>The team store's schema when the scenario runs on PostgreSQL (<see cref="OnTeamStore"/>), else null.</summary>
    public string? TeamSchema { get; }
    private readonly string? _teamServer;

    /// <summary>
    /// The same scenario over the team store: a fresh schema (initialised, dropped on dispose) on
    /// <paramref name="connectionString"/> (default: the test PostgreSQL), reached through an env: reference.
    /// </summary>
    public static AlertingScenario OnTeamStore(string? connectionString = null, string alerting = "failureThreshold: 3\n  successThreshold: 2\n  severity: P1",
        string p1 = "hook, pager") =>
        new(alerting, null, teamServer: connectionString ?? TestServers.PostgresConnectionString, p1);

    /// <param name="p1">The channels routing.P1 names (hook, pager, genie).</param>
    public AlertingScenario(string alerting = "failureThreshold: 3\n  successThreshold: 2\n  severity: P1", string? storePath = null, string p1 = "hook, pager")
        : this(alerting, storePath, null, p1) { }

    private AlertingScenario(string alerting, string? storePath, string? teamServer, string p1 = "hook, pager")
    {
        PagerDutyIncidents = new PagerDutyFake(PagerDuty);
        Dir = Paths.TempDir("io-alert");
        StorePath = storePath ?? Path.Combine(Dir, "store");
        Health.Handler = _ => Healthy ? (200, "{\"status\":\"ok\"}") : (503, "{\"status\":\"down\"}");
        var store = $"store: {{ path: '{StorePath}' }}";
        if (teamServer is not null)
        {
            _teamServer = teamServer;
            TeamSchema = $"alert_{Guid.NewGuid():N}"[..14];
            var variable = "IO_ALERT_STORE_" + Guid.NewGuid().ToString("N")[..8];
            Environment.SetEnvironmentVariable(variable, teamServer);
            store = $"store: {{ kind: postgres, connectionString: 'env:{variable}', schema: {TeamSchema}, path: '{StorePath}' }}";
            new PostgresIncidentStore(teamServer, TeamSchema, StorePath).InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        File.WriteAllText(ConfigPath, $"""
            {store}
            severities:
              P1: {"{"} name: High, responseTarget: 15m, updateEvery: 1m, pagerDutySeverity: error {"}"}
              P2: {"{"} name: Medium, responseTarget: 1h {"}"}
            environments:
              production:
                services:
                  api: {"{"} health: ['{Health.BaseUrl}/health'] {"}"}
            channels:
              hook: {"{"} type: webhook, url: '{Hook.BaseUrl}/hooks/CANARYalertHook' {"}"}
              pager: {"{"} type: pagerduty, routingKey: CANARYalertR0ut1ng, url: '{PagerDuty.BaseUrl}' {"}"}
              genie: {"{"} type: opsgenie, apiKey: {OpsgenieKeyCanary}, apiUrl: '{Opsgenie.BaseUrl}' {"}"}
            routing:
              P1: [{p1}]
              P2: [hook]
            alerting:
              {alerting}
            """);
    }

    public (IncidentOpsEngine Engine, IncidentOpsConfig Config) NewEngine()
    {
        var engine = new IncidentOpsEngine(new CollectingSink(), NoSecretProvider.Instance);
        engine.Notifications.Options = new NotificationOptions { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(10) };
        engine.Alerting.Clock = Clock;
        return (engine, engine.Config.LoadOrThrow(ConfigPath, Dir));
    }

    /// <summary>The pager keys a new incident of this scenario's store gets (PagerDuty's dedup_key, Opsgenie's alias).</summary>
    public async Task<(string DedupKey, string Alias)> KeysAsync(string incidentId)
    {
        var (engine, config) = NewEngine();
        var incident = await engine.Incidents.GetAsync(config, incidentId, CancellationToken.None);
        return (ExpectedPagerKey.PagerDuty(incident), ExpectedPagerKey.Opsgenie(incident));
    }

    /// <summary>One round for production/api, as Invoke-ServiceAlert runs it.</summary>
    public static async Task<AlertDecision> RoundAsync(IncidentOpsEngine engine, IncidentOpsConfig config)
    {
        var target = config.Services.Single();
        var observation = (await engine.Alerting.ProbeAsync([target], TimeSpan.FromSeconds(5), CancellationToken.None)).Single();
        return await engine.Alerting.ApplyAsync(config, observation, new ChangeContext("Invoke-ServiceAlert"), CancellationToken.None);
    }

    public IEnumerable<CapturedRequest> HookPosts => Hook.Requests.Where(r => r.Method == "POST");
    public IEnumerable<CapturedRequest> Pages(string action) => PagerDuty.Requests.Where(r => r.Body.Contains($"\"event_action\":\"{action}\"", StringComparison.Ordinal));

    public void Dispose()
    {
        Health.Dispose();
        Hook.Dispose();
        PagerDuty.Dispose();
        Opsgenie.Dispose();
        if (TeamSchema is not null)
        {
            try
            {
                using var c = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(_teamServer) { Pooling = false, Timeout = 3 }.ConnectionString);
                c.Open();
                using var cmd = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{TeamSchema}\" CASCADE", c);
                cmd.ExecuteNonQuery();
            }
            catch (Npgsql.NpgsqlException) { /* a private server already gone takes the schema with it */ }
        }
        try { Directory.Delete(Dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
