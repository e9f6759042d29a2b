using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Incidents;
using IncidentOps.Engine.Notifications;
using IncidentOps.Incidents;
using IncidentOps.Notifications;

namespace IncidentOps.Tests.Notifications;

/// <summary>
/// A temp store and an incidentops.yml whose six channels point at provider stubs on 127.0.0.1. Every
/// secret (webhook path tokens, the routing key, the API key) is a canary read through a file: reference.
/// </summary>
public sealed class NotificationScenario : IDisposable
{
    public const string SlackCanary = "CANARYslackT0k3nQ81";
    public const string TeamsCanary = "CANARYteamsS1gZ92";
    public const string DiscordCanary = "CANARYdiscordW3bh00k";
    public const string WebhookCanary = "CANARYhookT0k3nX5";
    public const string RoutingKeyCanary = "CANARYr0ut1ngK3y0pd77";
    public const string ApiKeyCanary = "CANARYstatuspageAp1K3y";
    public static readonly string[] Canaries = [SlackCanary, TeamsCanary, DiscordCanary, WebhookCanary, RoutingKeyCanary, ApiKeyCanary];

    // Each stub answers as its fixture (Fixtures/<type>.json) records the provider's documented answer.
    public ProviderStub Slack { get; } = ChannelFixtures.Stub("slack");
    public ProviderStub Teams { get; } = ChannelFixtures.Stub("teams");
    public ProviderStub Discord { get; } = ChannelFixtures.Stub("discord");
    public ProviderStub PagerDuty { get; } = ChannelFixtures.Stub("pagerduty");
    public ProviderStub Statuspage { get; } = ChannelFixtures.Stub("statuspage");
    /// <summary>The Statuspage API behind <see cref="Statuspage"/> (what the public page would show).</summary>
    public StatuspageFake StatuspageApi { get; } = new();
    public ProviderStub Webhook { get; } = ChannelFixtures.Stub("webhook");

    public string Dir { get; } = Paths.TempDir("io-notify");
    public string StorePath => Path.Combine(Dir, "store");
    public string ConfigPath => Path.Combine(Dir, "incidentops.yml");
    public FileIncidentStore Store { get; }

    /// <summary>The store the configuration names: <see cref="Store"/>, or the team store of <see cref="OnTeamStore"/>.</summary>
    public IIncidentStore Incidents { get; }

    /// <summary>The team store's schema when the scenario runs on PostgreSQL (<see cref="OnTeamStore"/>), else null.</summary>
    public string? TeamSchema { get; }
    private readonly string? _teamServer;

    /// <summary>
    /// The same scenario over the PostgreSQL team store: a fresh schema (initialised, dropped on dispose) on the test
    /// PostgreSQL, reached through an env: reference.
    /// </summary>
    public static NotificationScenario OnTeamStore(string extraChannelYaml = "") => new(extraChannelYaml, "api: cmpapi111, web: cmpweb222", TestServers.PostgresConnectionString);

    /// <summary>The scenario over the PostgreSQL team store on a server of the test's own (one it may stop and start).</summary>
    public static NotificationScenario OnTeamServer(string connectionString) => new("", "api: cmpapi111, web: cmpweb222", connectionString);

    /// <summary>A scenario on the file store, or (kind "team") on the PostgreSQL team store.</summary>
    public static NotificationScenario On(string kind, string extraChannelYaml = "") => kind == "team" ? OnTeamStore(extraChannelYaml) : new NotificationScenario(extraChannelYaml);

    public NotificationScenario(string extraChannelYaml = "", string statuspageComponents = "api: cmpapi111, web: cmpweb222")
        : this(extraChannelYaml, statuspageComponents, null) { }

    private NotificationScenario(string extraChannelYaml, string statuspageComponents, string? teamServer)
    {
        var store = $"store: {{ path: '{StorePath}' }}";
        if (teamServer is not null)
        {
            _teamServer = teamServer;
            TeamSchema = $"notify_{Guid.NewGuid():N}"[..15];
            var variable = "IO_NOTIFY_STORE_" + Guid.NewGuid().ToString("N")[..8];
            Environment.SetEnvironmentVariable(variable, teamServer);
            store = $"store: {{ kind: postgres, connectionString: 'env:{variable}', schema: {TeamSchema}, path: '{StorePath}' }}";
        }
        File.WriteAllText(Path.Combine(Dir, "slack.url"), $"{Slack.BaseUrl}/services/T0001/B0001/{SlackCanary}");
        File.WriteAllText(Path.Combine(Dir, "teams.url"), $"{Teams.BaseUrl}/workflows/abc/triggers/manual/paths/invoke?sig={TeamsCanary}");
        File.WriteAllText(Path.Combine(Dir, "discord.url"), $"{Discord.BaseUrl}/api/webhooks/1234/{DiscordCanary}");
        File.WriteAllText(Path.Combine(Dir, "hook.url"), $"{Webhook.BaseUrl}/hooks/{WebhookCanary}");
        File.WriteAllText(Path.Combine(Dir, "pd.key"), RoutingKeyCanary);
        File.WriteAllText(Path.Combine(Dir, "sp.key"), ApiKeyCanary);
        Statuspage.Handler = StatuspageApi.Handle;
        File.WriteAllText(ConfigPath, $"""
            {store}
            environments:
              production:
                services:
                  api: {"{"} platform: fly, app: api-app {"}"}
                  web: {"{"} platform: fly, app: web-app {"}"}
            channels:
              incidents: {"{"} type: slack, url: file:slack.url {"}"}
              teams: {"{"} type: teams, url: file:teams.url {"}"}
              ops: {"{"} type: discord, url: file:discord.url {"}"}
              pager: {"{"} type: pagerduty, routingKey: file:pd.key, url: '{PagerDuty.BaseUrl}' {"}"}
              status:
                type: statuspage
                pageId: pg7x9q2kzz
                apiKey: file:sp.key
                url: '{Statuspage.BaseUrl}'
                components: {"{"} {statuspageComponents} {"}"}
              audit: {"{"} type: webhook, url: file:hook.url {"}"}
            {extraChannelYaml}
            routing:
              P0: [incidents, teams, ops, pager, status, audit]
              P1: [incidents, pager]
              P2: [ops]
              P3: [audit]
            """);
        Store = new FileIncidentStore(StorePath);
        if (teamServer is null) Incidents = Store;
        else
        {
            var team = new PostgresIncidentStore(teamServer, TeamSchema!, StorePath);
            team.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
            Incidents = team;
        }
    }

    public async Task<Incident> CreateIncidentAsync(string severity = "P1", bool active = true, string title = "Checkout returns 502", string[]? services = null,
        string impact = "All checkouts fail")
    {
        var incident = await Incidents.CreateAsync(id => new Incident
        {
            Id = id, Title = title, Severity = severity, Services = services ?? ["api"], Impact = impact,
            StartedAt = DateTimeOffset.UtcNow.AddMinutes(-12),
        }, CancellationToken.None);
        if (active) await Incidents.SetActiveIdAsync(incident.Id, CancellationToken.None);
        return incident;
    }

    public (IncidentOpsEngine Engine, CollectingSink Sink, IncidentOpsConfig Config) NewEngine(bool loadConfig = true)
    {
        var sink = new CollectingSink();
        var engine = new IncidentOpsEngine(sink, NoSecretProvider.Instance);
        engine.Notifications.Options = new NotificationOptions { BackoffBase = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(10) };
        return (engine, sink, loadConfig ? engine.Config.LoadOrThrow(ConfigPath, Dir) : null!);
    }

    /// <summary>
    /// A sender of its own (a process of its own: engine, sink) whose store is <paramref name="wrap"/> of the scenario's store (a
    /// held, gated or failing store), for the tests that run two senders of one update at once.
    /// </summary>
    public (NotificationService Service, CollectingSink Sink, IncidentOpsConfig Config, TWrap Control) NewSender<TWrap>(
        Func<IIncidentStore, (IIncidentStore Store, TWrap Control)> wrap, NotificationOptions options)
    {
        var (engine, sink, config) = NewEngine();
        var (store, control) = wrap(engine.OpenStore(config));
        var service = new NotificationService(_ => store, sink, engine.References, engine.Timeline, NotificationSender.SharedClient,
            new Lazy<IncidentOps.Engine.Notifications.Slack.SlackIncidentChannel>(() => engine.IncidentChannels)) { Options = options };
        return (service, sink, config, control);
    }

    /// <summary>A provider request held at the stand-in: <see cref="Held.Reached"/> when it arrives, answered once <see cref="Held.Release"/> is called.</summary>
    public sealed class Held
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task Released => _release.Task;
        public void Release() => _release.TrySetResult();
    }

    public async Task<IReadOnlyList<NotificationResult>> SendAsync(IncidentUpdateRequest request)
    {
        var (engine, _, config) = NewEngine();
        var prepared = await engine.Notifications.PrepareAsync(config, request, CancellationToken.None);
        return await engine.Notifications.SendAsync(prepared, null, new IncidentOps.Engine.Incidents.ChangeContext("Send-IncidentUpdate"), CancellationToken.None);
    }

    /// <summary>Every file of the store (incident.json, timeline.jsonl, outbox entries), concatenated.</summary>
    public string StoreText() => string.Join("\n", Directory.GetFiles(StorePath, "*", SearchOption.AllDirectories)
        .Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).Select(File.ReadAllText));

    public string[] OutboxFiles(string incidentId)
    {
        var dir = Path.Combine(Store.GetIncidentDirectory(incidentId), "outbox");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "UPD-*.json") : [];
    }

    public void Dispose()
    {
        Slack.Dispose(); Teams.Dispose(); Discord.Dispose(); PagerDuty.Dispose(); Statuspage.Dispose(); Webhook.Dispose();
        if (TeamSchema is not null)
        {
            try
            {
                using var c = new Npgsql.NpgsqlConnection(_teamServer);
                c.Open();
                using var cmd = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{TeamSchema}\" CASCADE", c);
                cmd.ExecuteNonQuery();
            }
            catch (Npgsql.NpgsqlException) { /* a server already gone takes the schema with it */ }
        }
    }
}
