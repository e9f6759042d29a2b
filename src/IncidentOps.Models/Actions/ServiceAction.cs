using IncidentOps.Config;

namespace IncidentOps.Actions;

/// <summary>What a declared runbook action does.</summary>
public enum ServiceActionKind
{
    /// <summary>An HTTP request to the service (or any URL).</summary>
    Http,
    /// <summary>A Kubernetes manifest applied or deleted with kubectl.</summary>
    Manifest,
    /// <summary>A command of the service's platform CLI, as an argument list.</summary>
    Command,
}

/// <summary>How much an action changes; Invoke-ServiceAction confirms it like a cmdlet of that ConfirmImpact.</summary>
public enum ActionImpact { Low, Medium, High }

/// <summary>
/// A runbook action declared for a service in incidentops.yml (Get-ServiceAction). Header values show as their
/// references (secret:NAME) or masked; nothing here resolves a secret.
/// </summary>
public sealed class ServiceAction
{
    /// <summary>environment/service the action belongs to (binds to Invoke-ServiceAction -Service).</summary>
    public required string Service { get; init; }
    public required string Environment { get; init; }
    /// <summary>The action's name (binds to Invoke-ServiceAction -Name).</summary>
    public required string Name { get; init; }
    public ServiceActionKind Kind { get; init; }
    public string? Description { get; init; }
    public ActionImpact ConfirmImpact { get; init; } = ActionImpact.High;
    /// <summary>The action's own deadline; null means Invoke-ServiceAction's default (60 s).</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Names of the values the action takes ({name} placeholders), given with Invoke-ServiceAction -Parameter.</summary>
    public string[] Parameters { get; init; } = [];
    public PlatformKind Platform { get; init; }

    // http
    public string? Method { get; init; }
    /// <summary>The URL as declared: a path relative to the service's base URL, or a full URL.</summary>
    public string? Url { get; init; }
    /// <summary>The absolute URL (before {placeholders} are filled in); null when no base URL is known.</summary>
    public string? ResolvedUrl { get; init; }
    public IReadOnlyDictionary<string, ConfigValue> Headers { get; init; } = new Dictionary<string, ConfigValue>();
    public string? Body { get; init; }

    // manifest
    /// <summary>apply or delete.</summary>
    public string? ManifestOperation { get; init; }
    /// <summary>The manifest file, absolute (declared relative to the configuration file).</summary>
    public string? ManifestPath { get; init; }

    // command
    /// <summary>The CLI and its arguments, as declared (never a shell string).</summary>
    public string[] Command { get; init; } = [];

    public ConfigLocation? Location { get; init; }

    /// <summary>One line saying what the action runs, secrets masked.</summary>
    public string Definition => Kind switch
    {
        ServiceActionKind.Http => $"{Method} {ResolvedUrl ?? Url}",
        ServiceActionKind.Manifest => $"kubectl {ManifestOperation} -f {ManifestPath}",
        _ => SecretRedactor.Redact(string.Join(" ", Command)),
    };

    /// <summary>Headers as "Name: value" with secret values masked (references shown as written).</summary>
    public string[] HeaderText => Headers.Select(h => $"{h.Key}: {h.Value}").ToArray();

    public override string ToString() => $"{Service}:{Name}";
}

/// <summary>What Invoke-ServiceAction did: the request or command, its status or exit code, and how long it took.</summary>
public sealed class ServiceActionResult
{
    public required string Service { get; init; }
    /// <summary>The action's name.</summary>
    public required string Name { get; init; }
    public ServiceActionKind Kind { get; init; }
    /// <summary>The URL called or the command line run (secrets masked).</summary>
    public required string Target { get; init; }
    /// <summary>HTTP status code (http actions).</summary>
    public int? StatusCode { get; init; }
    /// <summary>Exit code of the CLI (manifest and command actions).</summary>
    public int? ExitCode { get; init; }
    public TimeSpan Duration { get; init; }
    public bool Succeeded { get; init; }
    /// <summary>Succeeded, or what failed (HTTP 500 Internal Server Error, exit code 1).</summary>
    public required string Outcome { get; init; }
    /// <summary>The start of the response body or of the CLI's output (secrets masked).</summary>
    public string? Output { get; init; }
    public DateTimeOffset StartedAt { get; init; }

    public override string ToString() => $"{Service}:{Name} {Outcome} in {Duration.TotalSeconds:0.###} s";
}

/// <summary>Error ids of declared runbook actions (configuration findings and Invoke-ServiceAction errors).</summary>
public static class ActionErrorIds
{
    /// <summary>kind is not http, manifest or command.</summary>
    public const string UnknownKind = "ActionUnknownKind";
    /// <summary>The action has none of url, apply/delete or command, so its kind is unknown.</summary>
    public const string KindMissing = "ActionKindMissing";
    /// <summary>A field the action's kind needs is missing.</summary>
    public const string MissingField = "ActionMissingField";
    /// <summary>A key that belongs to another kind of action, or a value of the wrong shape.</summary>
    public const string InvalidField = "ActionInvalidField";
    /// <summary>The manifest file does not exist.</summary>
    public const string ManifestNotFound = "ActionManifestNotFound";
    /// <summary>Manifests apply only to Kubernetes services.</summary>
    public const string ManifestUnsupported = "ActionManifestUnsupported";
    /// <summary>The command's CLI is not the service's platform CLI.</summary>
    public const string CliMismatch = "ActionCliMismatch";
    /// <summary>A relative url, but the service has no baseUrl and no health endpoint to take it from.</summary>
    public const string BaseUrlMissing = "ActionBaseUrlMissing";
    /// <summary>The url is not http(s).</summary>
    public const string InvalidUrl = "ActionInvalidUrl";
    /// <summary>A {placeholder} that parameters does not declare.</summary>
    public const string UndeclaredParameter = "ActionUndeclaredParameter";
    /// <summary>Invoke-ServiceAction: the service has no action of that name.</summary>
    public const string NotFound = "ActionNotFound";
    /// <summary>Invoke-ServiceAction: a declared parameter was not given with -Parameter.</summary>
    public const string ParameterMissing = "ActionParameterMissing";
    /// <summary>Invoke-ServiceAction: -Parameter names a value the action does not declare.</summary>
    public const string ParameterUnknown = "ActionParameterUnknown";
    /// <summary>
    /// Invoke-ServiceAction: a -Parameter value that could change what the action acts on: it would begin a command
    /// argument with '-' (an option such as --context=...), holds a control character (a newline, NUL), or is '.'/'..'
    /// in a URL (a path step).
    /// </summary>
    public const string ParameterInvalid = "ActionParameterInvalid";
    /// <summary>The service answered with a status outside 2xx.</summary>
    public const string HttpFailed = "ActionHttpFailed";
    /// <summary>The request could not be sent or no answer came (DNS, connection refused, reset).</summary>
    public const string HttpUnreachable = "ActionHttpUnreachable";
    /// <summary>The CLI exited with a non-zero code.</summary>
    public const string CommandFailed = "ActionCommandFailed";
}
