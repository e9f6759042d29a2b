namespace IncidentOps.Config;

/// <summary>The platform a service runs on.</summary>
public enum PlatformKind { None, Fly, DigitalOcean, Kubernetes, Systemd, Aws }

/// <summary>The effective configuration (Get-IncidentOpsConfig). Secrets show as references or masked.</summary>
public sealed class IncidentOpsConfig
{
    public string? Path { get; init; }
    public int Version { get; init; } = 1;
    public IReadOnlyList<SeverityLevel> Severities { get; init; } = [];
    public IReadOnlyList<EnvironmentConfig> Environments { get; init; } = [];
    public IReadOnlyList<ChannelConfig> Channels { get; init; } = [];
    public IReadOnlyDictionary<string, string[]> Routing { get; init; } = new Dictionary<string, string[]>();
    public StoreConfig Store { get; init; } = new();
    public ToolPaths Tools { get; init; } = new();
    /// <summary>The alerting rules (Invoke-ServiceAlert); empty: the built-in defaults.</summary>
    public AlertingConfig Alerting { get; init; } = new();

    /// <summary>Every service of every environment.</summary>
    public IEnumerable<ServiceTarget> Services => Environments.SelectMany(e => e.Services);

    public override string ToString() => $"{Path ?? "(defaults)"}: {Environments.Count} environment(s), {Services.Count()} service(s), {Channels.Count} channel(s)";
}

public sealed class EnvironmentConfig
{
    public required string Name { get; init; }
    public IReadOnlyList<ServiceTarget> Services { get; init; } = [];
    public override string ToString() => Name;
}

/// <summary>
/// A service from the configuration. Its properties bind by name into the cmdlets that act on services
/// (Service, Environment, Platform, App, AppId, Deployment, Namespace, Context, Unit, ComputerName).
/// </summary>
public sealed class ServiceTarget
{
    private readonly Dictionary<string, object> _options = new(StringComparer.Ordinal);

    public required string Environment { get; init; }
    public required string Service { get; init; }
    public PlatformKind Platform { get; init; }

    /// <summary>
    /// The platform-specific settings of the service by configuration key (app, appId, deployment, unit ...), as its
    /// platform's provider declared and read them. The named properties below are views of the same entries, kept so
    /// that a service binds by property name into the App cmdlets.
    /// </summary>
    public IReadOnlyDictionary<string, object> Options
    {
        get => _options;
        init { foreach (var (k, v) in value) _options[k] = v; }
    }

    private T? Get<T>(string key) where T : class => _options.TryGetValue(key, out var v) ? v as T : null;

    private void Set(string key, object? value)
    {
        if (value is null) _options.Remove(key);
        else _options[key] = value;
    }

    public string? App { get => Get<string>("app"); init => Set("app", value); }
    public ConfigValue? AppId { get => Get<ConfigValue>("appId"); init => Set("appId", value); }
    public string[] Components { get => Get<string[]>("components") ?? []; init => Set("components", value); }
    public string? Context { get => Get<string>("context"); init => Set("context", value); }
    /// <summary>kubeconfig file kubectl reads for this service (passed as --kubeconfig); default: $KUBECONFIG or ~/.kube/config.</summary>
    public string? Kubeconfig { get => Get<string>("kubeconfig"); init => Set("kubeconfig", value); }
    public string? Namespace { get => Get<string>("namespace"); init => Set("namespace", value); }
    public string? Deployment { get => Get<string>("deployment"); init => Set("deployment", value); }
    /// <summary>The configuration's statefulSet: key (a Kubernetes StatefulSet instead of a Deployment).</summary>
    public string? StatefulSet { get => Get<string>("statefulSet"); init => Set("statefulSet", value); }
    /// <summary>The configuration's daemonSet: key (a Kubernetes DaemonSet instead of a Deployment).</summary>
    public string? DaemonSet { get => Get<string>("daemonSet"); init => Set("daemonSet", value); }
    public string? Unit { get => Get<string>("unit"); init => Set("unit", value); }
    /// <summary>The configuration's host: key (ssh target of a systemd service).</summary>
    public string? ComputerName { get => Get<string>("host"); init => Set("host", value); }
    /// <summary>The configuration's releases: key (systemd releases root).</summary>
    public string? ReleasesPath { get => Get<string>("releases"); init => Set("releases", value); }
    public IReadOnlyList<HealthEndpoint> Health { get; init; } = [];
    public PostgresTarget? Postgres { get; init; }
    public ConfigValue? Redis { get; init; }
    /// <summary>redis.tunnel: how to reach the Redis (kubectl port-forward, flyctl proxy, ssh -L); null: directly.</summary>
    public TunnelConfig? RedisTunnel { get; init; }
    /// <summary>redis.caCertificate: the CA (a PEM file's path, relative to the configuration file, or PEM text through env:/file:/secret:) that signed a TLS Redis's certificate; null: the system's trusted roots.</summary>
    public ConfigValue? RedisCaCertificate { get; init; }
    /// <summary>Base URL of the service's own API (baseUrl): where relative http action paths go.</summary>
    public string? BaseUrl { get; init; }
    /// <summary>Runbook actions declared for the service (actions), run with Invoke-ServiceAction.</summary>
    public IReadOnlyList<IncidentOps.Actions.ServiceAction> Actions { get; init; } = [];
    public ConfigLocation? Location { get; init; }

    /// <summary>environment/service, the address used everywhere.</summary>
    public string FullName => $"{Environment}/{Service}";

    public override string ToString() => FullName;
}

/// <summary>One configured health endpoint.</summary>
public sealed class HealthEndpoint
{
    public required string Url { get; init; }
    public int[]? ExpectStatus { get; init; }
    public string? Method { get; init; }
    public string[] Conditions { get; init; } = [];
    public TimeSpan? Timeout { get; init; }
    /// <summary>caCertificate: the CA (a PEM file's path, relative to the configuration file, or PEM text through env:/file:/secret:) that signed the endpoint's certificate; null: the system's trusted roots.</summary>
    public ConfigValue? CaCertificate { get; init; }
    public override string ToString() => Url;
}

/// <summary>A service's PostgreSQL: a connection string (or postgres:// URL) and, for Fly Postgres, its app.</summary>
public sealed class PostgresTarget
{
    public ConfigValue? ConnectionString { get; init; }
    /// <summary>The managed database platform keys (fly, digitalOcean, rds ...) by key: each names the database on that platform; its provider reads it.</summary>
    public IReadOnlyDictionary<string, ConfigValue> Managed { get; init; } = new Dictionary<string, ConfigValue>(StringComparer.OrdinalIgnoreCase);
    /// <summary>postgres.tunnel: how to reach the database (kubectl port-forward, flyctl proxy, ssh -L); null: directly.</summary>
    public TunnelConfig? Tunnel { get; init; }
    /// <summary>postgres.caCertificate: the CA (a PEM file's path, relative to the configuration file, or PEM text through env:/file:/secret:) that signed the server's certificate; the connection is then verified (sslmode verify-full unless it says verify-ca).</summary>
    public ConfigValue? CaCertificate { get; init; }
    /// <summary>postgres.fly: the Fly Postgres app (the same entry as Managed["fly"]).</summary>
    public string? FlyApp => Managed.TryGetValue("fly", out var v) ? v.ToString() : null;
    /// <summary>postgres.digitalOcean: the DigitalOcean cluster id or a reference to it (the same entry as Managed["digitalOcean"]).</summary>
    public ConfigValue? DigitalOceanCluster => Managed.TryGetValue("digitalOcean", out var v) ? v : null;
    public override string ToString() => ConnectionString?.ToString() ?? Managed.Values.FirstOrDefault()?.ToString() ?? string.Empty;
}

/// <summary>A severity level of the incident policy.</summary>
public sealed class SeverityLevel
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? Definition { get; init; }
    public TimeSpan ResponseTarget { get; init; }
    public TimeSpan? UpdateEvery { get; init; }
    public string[] Escalation { get; init; } = [];
    public string? PagerDutySeverity { get; init; }
    public string? StatuspageImpact { get; init; }
    /// <summary>0 is the most severe.</summary>
    public int Rank { get; init; }
    public override string ToString() => $"{Id} ({Name})";
}

public enum ChannelType { Slack, Teams, Discord, PagerDuty, Statuspage, Webhook, Opsgenie }

/// <summary>
/// A notification channel: its type and the options its provider accepts, keyed as in incidentops.yml.
/// Secret-bearing values print as references or masked.
/// </summary>
public sealed class ChannelConfig
{
    private static readonly IReadOnlyDictionary<string, ConfigValue> NoValues = new Dictionary<string, ConfigValue>();

    public required string Name { get; init; }
    public ChannelType Type { get; init; }
    /// <summary>The provider's scalar options (url, routingKey, apiKey, ...), keyed as in incidentops.yml (case-insensitive).</summary>
    public IReadOnlyDictionary<string, ConfigValue> Options { get; init; } = new Dictionary<string, ConfigValue>(StringComparer.OrdinalIgnoreCase);
    /// <summary>The provider's map options (Statuspage components: service name to component id).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, ConfigValue>> Maps { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, ConfigValue>>(StringComparer.OrdinalIgnoreCase);
    /// <summary>What the channel sends to, as the channel table shows it (secrets masked).</summary>
    public string Endpoint { get; init; } = "";
    /// <summary>Template overrides by kind (initial, update, resolved): a file path or inline text.</summary>
    public IReadOnlyDictionary<string, string> Templates { get; init; } = new Dictionary<string, string>();
    public ConfigLocation? Location { get; init; }

    public ConfigValue? Option(string key) => Options.TryGetValue(key, out var v) ? v : null;
    public IReadOnlyDictionary<string, ConfigValue> Map(string key) => Maps.TryGetValue(key, out var m) ? m : NoValues;

    // The properties scripts read before options were per provider ((Get-IncidentOpsConfig).Channels.RoutingKey).
    public ConfigValue? Url => Option("url");
    public ConfigValue? RoutingKey => Option("routingKey");
    public ConfigValue? PageId => Option("pageId");
    public ConfigValue? ApiKey => Option("apiKey");
    public IReadOnlyDictionary<string, ConfigValue> Components => Map("components");

    public override string ToString() => $"{Name} ({Type})";
}

public enum StoreKind { File, Postgres }

public sealed class StoreConfig
{
    public StoreKind Kind { get; init; } = StoreKind.File;
    /// <summary>Folder of the file store; null means the user's data directory.</summary>
    public string? Path { get; init; }
    public ConfigValue? ConnectionString { get; init; }
    /// <summary>PostgreSQL schema of the team store (default incidentops).</summary>
    public string? Schema { get; init; }
    public override string ToString() => Kind == StoreKind.File ? $"file {Path ?? "(default)"}" : $"postgres {ConnectionString}{(Schema is null ? "" : $" schema {Schema}")}";
}

/// <summary>
/// Paths of the platform CLIs when they are not on PATH: the configuration's `tools` key, and the explicit
/// -FlyctlPath-style parameters (which win over it). Keyed by the CLI's name; the named properties are the same
/// entries, kept for the configuration's public shape.
/// </summary>
public sealed class ToolPaths
{
    private readonly Dictionary<string, string> _paths = new(StringComparer.OrdinalIgnoreCase);

    public ToolPaths() { }

    public ToolPaths(IEnumerable<KeyValuePair<string, string?>> paths)
    {
        foreach (var (tool, path) in paths) Set(tool, path);
    }

    public string? Flyctl { get => Get("flyctl"); init => Set("flyctl", value); }
    public string? Doctl { get => Get("doctl"); init => Set("doctl", value); }
    public string? Kubectl { get => Get("kubectl"); init => Set("kubectl", value); }
    public string? Systemctl { get => Get("systemctl"); init => Set("systemctl", value); }
    public string? Journalctl { get => Get("journalctl"); init => Set("journalctl", value); }
    public string? Ssh { get => Get("ssh"); init => Set("ssh", value); }
    public string? Aws { get => Get("aws"); init => Set("aws", value); }

    /// <summary>The path given for a CLI, or null.</summary>
    public string? Get(string tool) => _paths.TryGetValue(tool, out var p) ? p : null;

    private void Set(string tool, string? path)
    {
        if (string.IsNullOrEmpty(path)) _paths.Remove(tool);
        else _paths[tool] = path;
    }

    /// <summary>"kubectl=/opt/bin/kubectl, ssh=/usr/bin/ssh"; "PATH" when the configuration names none (each CLI is looked up on PATH).</summary>
    public override string ToString() =>
        _paths.Count == 0 ? "PATH" : string.Join(", ", _paths.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
}

public enum FindingSeverity { Error, Warning }

/// <summary>One problem found in a configuration file (Test-IncidentOpsConfig).</summary>
public sealed class ConfigFinding
{
    public FindingSeverity Severity { get; init; }
    public required string Code { get; init; }
    public required string Message { get; init; }
    public string? File { get; init; }
    public int Line { get; init; }
    public int Column { get; init; }
    public string Location => File is null ? "" : $"{File}:{Line}:{Column}";
    public override string ToString() => $"{Location}: {Severity.ToString().ToLowerInvariant()} {Code}: {Message}";
}
