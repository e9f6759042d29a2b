using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace IncidentOps;

/// <summary>
/// The one redaction pipeline of the module. Screen output, verbose/warning/debug text, errors, the
/// timeline, evidence and reports all pass through <see cref="Redact"/>, which masks credentials by
/// their context (keys named like secrets, URL user info, SQL PASSWORD literals, bearer tokens, known
/// token and webhook shapes) and, in addition, the exact values registered by the command that used
/// them.
/// </summary>
/// <remarks>
/// A registered value lives only as long as the <see cref="RedactionScope"/> it was registered in (a
/// cmdlet opens one per invocation), so a value typed into one command does not mask every later
/// occurrence of the same text in the session's record. Values too short or too common to be secrets
/// (production, postgres, pure numbers...) are never registered: they would turn ordinary notes into
/// asterisks. Registration outside any scope (engine code run directly, as the tests do) falls back to
/// a process-wide set.
/// </remarks>
public static partial class SecretRedactor
{
    public const string Mask = "********";

    /// <summary>Shorter values are never registered: they match inside ordinary words too often.</summary>
    public const int MinimumRegisteredLength = 6;

    private static readonly AsyncLocal<RedactionScope?> CurrentScope = new();
    private static readonly ConcurrentDictionary<string, byte> Unscoped = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<RedactionScope, byte> OpenScopes = new();
    private static int _version;
    private static volatile Snapshot _snapshot = new(-1, []);

    private sealed record Snapshot(int Version, string[] Values);

    // Words an operator types in notes and that systems use as names or defaults: registering them as
    // secrets would mask the record ("Rolled back ********/api"). A credential this weak is still masked by
    // its context (password=..., user:...@, PASSWORD '...').
    private static readonly HashSet<string> CommonWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "production", "staging", "development", "preview", "testing", "sandbox", "localhost", "local",
        "postgres", "postgresql", "redis", "mysql", "mongodb", "sqlite", "database", "default", "public", "private",
        "admin", "administrator", "root", "password", "secret", "username", "enabled", "disabled", "primary",
        "replica", "standby", "master", "example", "service", "server", "client", "worker", "health", "status",
        "release", "deploy", "deployment", "incidentops", "application", "backend", "frontend", "unknown",
    };

    /// <summary>Key names whose values are credentials, wherever they appear (key=value, key: value, JSON, query strings).</summary>
    private const string SecretWord =
        @"passw(?:or)?d|passphrase|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|signing[-_]?key|routing[-_]?key|" +
        @"integration[-_]?key|credentials?|webhook|authorization|x-auth|auth[-_]?key";

    /// <summary>Short key names that are secrets only as the whole key.</summary>
    private const string SecretExactName = @"pwd|pass|sig|signature|dsn|apikey|auth";

    // Credentials inside URLs: scheme://user:password@host. The password runs to the LAST '@' before the
    // path, so an unencoded '@' inside it does not leave half of it visible.
    [GeneratedRegex(@"(?<scheme>\b[a-z][a-z0-9+.-]*://)(?<user>[^:@/\s?#'""<>]*):(?<pw>[^\s/?#'""<>]+)@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlUserInfo();

    // redis://password@host: the legacy form in which the only user info is the password.
    [GeneratedRegex(@"(?<scheme>\brediss?://)(?<pw>[^:@/\s?#'""<>]+)@", RegexOptions.IgnoreCase)]
    private static partial Regex RedisLegacyPassword();

    // Webhook URLs whose path is the credential.
    [GeneratedRegex(@"(?<keep>\bhttps?://(?:hooks\.slack\.com/(?:services|workflows|triggers)|(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks|[a-z0-9-]+\.webhook\.office\.com/webhookb2)/)(?<secret>[^\s""'<>?#]+)", RegexOptions.IgnoreCase)]
    private static partial Regex WebhookUrl();

    // Token formats that identify themselves: JWTs, Slack, GitHub, Stripe, AWS access key ids, DigitalOcean, PagerDuty-style.
    [GeneratedRegex(@"\b(?:eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}|xox[abposr]-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|AKIA[0-9A-Z]{16}|do[por]_v1_[a-f0-9]{32,}|fo1_[A-Za-z0-9_-]{20,})\b")]
    private static partial Regex KnownToken();

    // SQL: CREATE/ALTER ROLE ... PASSWORD '...', IDENTIFIED BY '...'.
    [GeneratedRegex(@"(?<key>\b(?:PASSWORD|IDENTIFIED\s+BY)\s+)(?<value>[Ee]?'(?:[^']|'')*')", RegexOptions.IgnoreCase)]
    private static partial Regex SqlPassword();

    // A bare bearer token in text ("Bearer eyJ...", "curl -H 'Authorization: Bearer x'").
    [GeneratedRegex(@"(?<key>\bBearer\s+)(?<value>[A-Za-z0-9\-._~+/]{8,}=*)", RegexOptions.IgnoreCase)]
    private static partial Regex BearerToken();

    // key=value, key: value, "key": "value", 'key'='value' for keys named like secrets (connection strings, env
    // lines, query strings, headers, JSON, YAML, log text). The separator does not cross a line, and a colon
    // needs a space after it unless the key is quoted, so references (secret:NAME) stay readable.
    [GeneratedRegex(
        @"(?<![\w-])(?<q>[""']?)(?<name>[A-Za-z0-9_.-]*?(?:" + SecretWord + @")[A-Za-z0-9_.-]*|(?:" + SecretExactName + @"))\k<q>(?<sep>[ \t]*=[ \t]*|[ \t]*:[ \t]+|(?<=[""'])[ \t]*:[ \t]*)" +
        @"(?<value>""(?:[^""\\\r\n]|\\.)*""|'[^'\r\n]*'|(?:Bearer|Basic|Token|OAuth|Digest|Negotiate)[ \t]+[^\s""',;&<>]+|(?![{\[])[^\s;,&""'<>]+)",
        RegexOptions.IgnoreCase)]
    private static partial Regex KeyValueSecret();

    // Short query-string keys that carry credentials only in a URL: ?key=, ?code= (Azure Functions), ?auth=.
    [GeneratedRegex(@"(?<key>[?&](?:key|code|auth|pw)=)(?<value>[^&\s#""'<>]+)", RegexOptions.IgnoreCase)]
    private static partial Regex QuerySecret();

    // Command-line flags with the value in the next argument: --password xyz, --token xyz.
    [GeneratedRegex(@"(?<key>(?<![\w-])--?[A-Za-z0-9-]*(?:password|token|secret|api-key|apikey)[A-Za-z0-9-]*[ \t]+)(?<value>[^\s-][^\s]*)", RegexOptions.IgnoreCase)]
    private static partial Regex FlagSecret();

    [GeneratedRegex(@"^(?:" + SecretWord + @")$|^[A-Za-z0-9_.-]*(?:" + SecretWord + @")[A-Za-z0-9_.-]*$|^(?:" + SecretExactName + @"|cookie|connectionstring|[A-Za-z0-9_.-]*(?:key|dsn))$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretNameRegex();

    // ------------------------------------------------------------------ scopes and registration

    /// <summary>
    /// Opens a scope for one command: values registered while it is current are masked until it is disposed.
    /// The new scope becomes the current one of the calling flow.
    /// </summary>
    public static RedactionScope BeginScope()
    {
        var scope = new RedactionScope();
        OpenScopes[scope] = 0;
        Interlocked.Increment(ref _version);
        CurrentScope.Value = scope;
        return scope;
    }

    /// <summary>Makes <paramref name="scope"/> the current scope of the calling flow (the engine work of a cmdlet).</summary>
    public static void Enter(RedactionScope? scope) => CurrentScope.Value = scope;

    /// <summary>The scope registrations of the calling flow go to; null outside any command.</summary>
    public static RedactionScope? Current => CurrentScope.Value is { IsDisposed: false } s ? s : null;

    internal static void Close(RedactionScope scope)
    {
        OpenScopes.TryRemove(scope, out _);
        if (ReferenceEquals(CurrentScope.Value, scope)) CurrentScope.Value = null;
        Interlocked.Increment(ref _version);
    }

    internal static void Changed() => Interlocked.Increment(ref _version);

    /// <summary>
    /// True when a value can be a secret worth masking wherever it appears: long enough, not a number, not a
    /// common word, not a reference or an already masked value.
    /// </summary>
    public static bool IsRegistrable(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return false;
        var v = value.Trim();
        if (v.Length < MinimumRegisteredLength || v == Mask) return false;
        if (v.All(c => char.IsDigit(c) || c is '.' or '-' or '+' or ':' or ',')) return false; // numbers, versions, times
        if (CommonWords.Contains(v)) return false;
        if (v.StartsWith("env:", StringComparison.Ordinal) || v.StartsWith("secret:", StringComparison.Ordinal) || v.StartsWith("file:", StringComparison.Ordinal)) return false;
        return true;
    }

    /// <summary>Registers a secret value for the current scope (see <see cref="IsRegistrable"/> for what is refused).</summary>
    public static void Register(string? secret)
    {
        var scope = Current;
        if (scope is not null) { scope.Register(secret); return; }
        if (!IsRegistrable(secret)) return;
        var changed = Unscoped.TryAdd(secret!, 0);
        var encoded = Uri.EscapeDataString(secret!);
        if (encoded != secret) changed |= Unscoped.TryAdd(encoded, 0);
        if (changed) Changed();
    }

    /// <summary>
    /// Registers the credentials a connection string or URL carries (the password of its user info, or the user
    /// info of the legacy redis://password@host form, and password=/token= values), not the whole text: the host
    /// and port of a connection are what a responder needs to see, and are not secret.
    /// </summary>
    public static void RegisterCredentials(string? connection)
    {
        if (string.IsNullOrEmpty(connection)) return;
        foreach (var secret in CredentialsIn(connection))
        {
            Register(secret);
            if (secret.Contains('%')) Register(Uri.UnescapeDataString(secret));
        }
    }

    internal static IEnumerable<string> CredentialsIn(string connection)
    {
        foreach (Match m in UrlUserInfo().Matches(connection)) yield return m.Groups["pw"].Value;
        foreach (Match m in RedisLegacyPassword().Matches(connection)) yield return m.Groups["pw"].Value;
        foreach (Match m in KeyValueSecret().Matches(connection)) yield return m.Groups["value"].Value.Trim('"', '\'');
    }

    /// <summary>True when the value is registered in an open scope (or process-wide).</summary>
    public static bool IsRegistered(string value) => Values().Contains(value, StringComparer.Ordinal);

    private static string[] Values()
    {
        var snap = _snapshot;
        var version = Volatile.Read(ref _version);
        if (snap.Version == version) return snap.Values;
        var all = new HashSet<string>(Unscoped.Keys, StringComparer.Ordinal);
        foreach (var scope in OpenScopes.Keys) all.UnionWith(scope.Values);
        var ordered = all.OrderByDescending(s => s.Length).ToArray();
        _snapshot = new Snapshot(version, ordered);
        return ordered;
    }

    // ------------------------------------------------------------------ masking

    /// <summary>
    /// True for a parameter, header, setting or key name that carries a credential (password, token, secret,
    /// api key, routing key, authorization, webhook, connection string...). The one name rule of the module.
    /// A name ending in URL is not enough (HEALTH_URL is not secret); a URL value is judged by its shape.
    /// </summary>
    public static bool IsSecretName(string? name) => !string.IsNullOrEmpty(name) && SecretNameRegex().IsMatch(name.Trim());

    /// <summary>Returns the text with every credential-looking fragment and every registered secret masked.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? string.Empty;
        // Shapes first: a registered value that is only part of a credential (a webhook URL's base, say) would
        // otherwise be masked alone and hide the rest of the credential from its shape ("url=********/s3cr3t").
        var result = RedactShapes(text);
        foreach (var s in Values())
            if (result.Contains(s, StringComparison.Ordinal))
                result = result.Replace(s, Mask, StringComparison.Ordinal);
        return result;
    }

    /// <summary>Masks credentials by context only (no registered values): keys, URL user info, SQL, bearer tokens.</summary>
    public static string RedactShapes(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? string.Empty;
        var result = text;
        if (result.Contains("://", StringComparison.Ordinal))
        {
            result = UrlUserInfo().Replace(result, m => m.Groups["scheme"].Value + m.Groups["user"].Value + ":" + Mask + "@");
            result = RedisLegacyPassword().Replace(result, m => m.Groups["scheme"].Value + Mask + "@");
            result = WebhookUrl().Replace(result, m => m.Groups["keep"].Value + Mask);
        }
        result = KnownToken().Replace(result, Mask);
        result = SqlPassword().Replace(result, m => m.Groups["key"].Value + "'" + Mask + "'");
        result = KeyValueSecret().Replace(result, MaskKeyValue);
        result = BearerToken().Replace(result, m => LooksLikeToken(m.Groups["value"].Value) ? m.Groups["key"].Value + Mask : m.Value);
        result = QuerySecret().Replace(result, m => m.Groups["key"].Value + Mask);
        result = FlagSecret().Replace(result, m => m.Groups["key"].Value + Mask);
        return result;
    }

    private static string MaskKeyValue(Match m)
    {
        var value = m.Groups["value"].Value;
        var prefix = m.Value[..(m.Groups["value"].Index - m.Index)];
        if (value.Length >= 2 && (value[0] is '"' or '\'') && value[^1] == value[0])
        {
            var inner = value[1..^1];
            return IsPlaceholder(inner) ? m.Value : prefix + value[0] + Mask + value[0];
        }
        var space = value.IndexOfAny([' ', '\t']);
        if (space > 0 && value[..space] is var scheme && Regex.IsMatch(scheme, "^(?:Bearer|Basic|Token|OAuth|Digest|Negotiate)$", RegexOptions.IgnoreCase))
            return prefix + scheme + " " + Mask;
        return IsPlaceholder(value) ? m.Value : prefix + Mask;
    }

    // Values that say nothing secret: booleans, numbers, references, masks, SQL placeholders, empty markers.
    private static bool IsPlaceholder(string value)
    {
        var v = value.Trim();
        if (v.Length == 0 || v.Contains(Mask, StringComparison.Ordinal) || v.All(c => c == '*')) return true;
        if (v.All(char.IsDigit)) return true;
        if (v.StartsWith("env:", StringComparison.Ordinal) || v.StartsWith("secret:", StringComparison.Ordinal) || v.StartsWith("file:", StringComparison.Ordinal)) return true;
        if (v.StartsWith('$') && v.Length <= 4 && v[1..].All(char.IsDigit)) return true;
        return v.ToLowerInvariant() is "true" or "false" or "null" or "none" or "yes" or "no" or "?" or "(none)" or "<redacted>" or "[redacted]" or "redacted" or "[filtered]";
    }

    private static bool LooksLikeToken(string value) =>
        value.Any(char.IsDigit) || value.Any(c => c is '-' or '_' or '.' or '~' or '+' or '/' or '=') || (value.Any(char.IsUpper) && value.Any(char.IsLower));

    /// <summary>
    /// Redacts an argument list (a Redis command from SLOWLOG, a command line split into arguments), where the secret
    /// is the argument AFTER its name: AUTH [user] password, CONFIG SET requirepass x, --password x.
    /// </summary>
    public static string[] RedactArguments(IEnumerable<string?> arguments)
    {
        var list = arguments.Select(a => a ?? "").ToArray();
        var result = new string[list.Length];
        var maskRest = false;
        var maskNext = false;
        for (var i = 0; i < list.Length; i++)
        {
            if (maskRest || maskNext) { result[i] = Mask; maskNext = false; continue; }
            result[i] = Redact(list[i]);
            var word = list[i];
            if (word.Equals("AUTH", StringComparison.OrdinalIgnoreCase)) maskRest = true;
            else if (word.Equals("requirepass", StringComparison.OrdinalIgnoreCase) || word.Equals("masterauth", StringComparison.OrdinalIgnoreCase)
                     || (word.StartsWith('-') && !word.Contains('=') && IsSecretName(word.TrimStart('-')))) maskNext = true;
        }
        return result;
    }

    /// <summary>
    /// What a setting shows: a setting named like a secret, or whose value carries a credential
    /// (DATABASE_URL=postgres://app:pw@db), is a secret. Its value is shown with the credential masked when the
    /// rest identifies something (the host), otherwise not at all.
    /// </summary>
    public static (string? Value, bool IsSecret) RedactSetting(string key, string? value, bool isSecret)
    {
        if (value is null) return (null, isSecret || IsSecretName(key));
        var masked = Redact(value);
        if (isSecret || IsSecretName(key))
            return (masked != value && masked.Replace(Mask, "").Any(char.IsLetterOrDigit) ? masked : null, true);
        return masked == value ? (value, false) : (masked, true);
    }

    /// <summary>Masks a whole secret for display, keeping only what identifies it (a URL's host).</summary>
    public static string MaskValue(string? value)
    {
        if (string.IsNullOrEmpty(value)) return string.Empty;
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            return $"{uri.Scheme}://{uri.Host}{(uri.IsDefaultPort ? "" : ":" + uri.Port)}/{Mask}";
        return Mask;
    }
}

/// <summary>
/// The values one command registered as secrets. Open with <see cref="SecretRedactor.BeginScope"/>; disposing it
/// forgets them, so they are masked while the command runs and never turn later, unrelated text into asterisks.
/// </summary>
public sealed class RedactionScope : IDisposable
{
    private readonly ConcurrentDictionary<string, byte> _values = new(StringComparer.Ordinal);

    internal RedactionScope() { }

    internal ICollection<string> Values => _values.Keys;

    public bool IsDisposed { get; private set; }

    /// <summary>Registers a value for this scope (values too short or too common to be secrets are refused).</summary>
    public void Register(string? secret)
    {
        if (IsDisposed || !SecretRedactor.IsRegistrable(secret)) return;
        var changed = _values.TryAdd(secret!, 0);
        var encoded = Uri.EscapeDataString(secret!);
        if (encoded != secret) changed |= _values.TryAdd(encoded, 0);
        if (changed) SecretRedactor.Changed();
    }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        SecretRedactor.Close(this);
    }
}
