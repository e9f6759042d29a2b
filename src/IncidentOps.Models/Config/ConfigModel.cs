namespace IncidentOps.Config;

/// <summary>The platform a service runs on.</summary>
public enum PlatformKind { None, Fly, DigitalOcean, Kubernetes, Systemd }

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
    public required string Environment { get; init; }
    public required string Service { get; init; }
    public PlatformKind Platform { get; init; }
    public string? App { get; init; }
    public ConfigValue? AppId { get; init; }
    public string[] Components { get; init; } = [];
    public string? Context { get; init; }
    /// <summary>kubeconfig file kubectl reads for this service (passed as --kubeconfig); default: $KUBECONFIG or ~/.kube/config.</summary>
    public string? Kubeconfig { get; init; }
    public string? Namespace { get; init; }
    public string? Deployment { get; init; }
    public string? Unit { get; init; }
    public string? ComputerName { get; init; }
    public string? ReleasesPath { get; init; }
    public IReadOnlyList<HealthEndpoint> Health { get; init; } = [];
    public PostgresTarget? Postgres { get; init; }
    public ConfigValue? Redis { get; init; }
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
    public override string ToString() => Url;
}

/// <summary>A service's PostgreSQL: a connection string (or postgres:// URL) and, for Fly Postgres, its app.</summary>
public sealed class PostgresTarget
{
    public ConfigValue? ConnectionString { get; init; }
    public string? FlyApp { get; init; }
    public ConfigValue? DigitalOceanCluster { get; init; }
    public override string ToString() => ConnectionString?.ToString() ?? FlyApp ?? string.Empty;
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

public enum ChannelType { Slack, Teams, Discord, PagerDuty, Statuspage, Webhook }

/// <summary>A notification channel. Secret-bearing values print as references or masked.</summary>
public sealed class ChannelConfig
{
    public required string Name { get; init; }
    public ChannelType Type { get; init; }
    public ConfigValue? Url { get; init; }
    public ConfigValue? RoutingKey { get; init; }
    public ConfigValue? PageId { get; init; }
    public ConfigValue? ApiKey { get; init; }
    public IReadOnlyDictionary<string, ConfigValue> Components { get; init; } = new Dictionary<string, ConfigValue>();
    /// <summary>Template overrides by kind (initial, update, resolved): a file path or inline text.</summary>
    public IReadOnlyDictionary<string, string> Templates { get; init; } = new Dictionary<string, string>();
    public ConfigLocation? Location { get; init; }
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

/// <summary>Paths of the platform CLIs when they are not on PATH (config key `tools`).</summary>
public sealed class ToolPaths
{
    public string? Flyctl { get; init; }
    public string? Doctl { get; init; }
    public string? Kubectl { get; init; }
    public string? Systemctl { get; init; }
    public string? Journalctl { get; init; }
    public string? Ssh { get; init; }
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
