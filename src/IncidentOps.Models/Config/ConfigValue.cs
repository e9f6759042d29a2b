namespace IncidentOps.Config;

/// <summary>How a configuration value was written.</summary>
public enum ConfigValueKind { Literal, Env, File, Secret }

/// <summary>Where something stands in a configuration file (1-based line and column).</summary>
public sealed record ConfigLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// A configuration value that may be a reference (env:NAME, file:PATH, secret:NAME). It remembers where it
/// was written so that a reference that does not resolve can be reported with file, line and column.
/// ToString() never shows a secret: references print as written, secret literals print masked.
/// </summary>
public sealed class ConfigValue
{
    public ConfigValue(string raw, bool isSecret, ConfigLocation? location, bool isConnection = false)
    {
        Raw = raw;
        IsSecret = isSecret || isConnection;
        IsConnection = isConnection;
        Location = location;
        if (raw.StartsWith("env:", StringComparison.Ordinal)) { Kind = ConfigValueKind.Env; Reference = raw[4..]; }
        else if (raw.StartsWith("file:", StringComparison.Ordinal)) { Kind = ConfigValueKind.File; Reference = raw[5..]; }
        else if (raw.StartsWith("secret:", StringComparison.Ordinal)) { Kind = ConfigValueKind.Secret; Reference = raw[7..]; }
        else { Kind = ConfigValueKind.Literal; Reference = null; }
        if (Kind == ConfigValueKind.Literal && IsConnection) SecretRedactor.RegisterCredentials(raw);
        else if (Kind == ConfigValueKind.Literal && IsSecret) SecretRedactor.Register(raw);
    }

    /// <summary>The text as written in the file (for literals of secret-bearing keys, not exposed: see ToString).</summary>
    internal string Raw { get; }

    public ConfigValueKind Kind { get; }

    /// <summary>The variable, file or secret name for references.</summary>
    public string? Reference { get; }

    /// <summary>True for keys that carry secrets (webhook URLs, routing keys, API keys, connection strings).</summary>
    public bool IsSecret { get; }

    /// <summary>
    /// True for connection strings and URLs (postgres, redis, store): only the credentials they carry are secret,
    /// so their host and port stay visible in messages and ToString() masks just the password.
    /// </summary>
    public bool IsConnection { get; }

    public ConfigLocation? Location { get; }

    public bool IsReference => Kind != ConfigValueKind.Literal;

    /// <summary>For the engine: the raw text (a reference or a literal). Callers must resolve and redact.</summary>
    public string GetRawUnsafe() => Raw;

    public static ConfigValue Literal(string value, bool isSecret = false) => new(value, isSecret, null);

    public override string ToString()
    {
        if (Kind != ConfigValueKind.Literal) return Raw;
        if (IsConnection) return SecretRedactor.Redact(Raw);
        return IsSecret ? SecretRedactor.Redact(SecretRedactor.MaskValue(Raw)) : Raw;
    }
}
