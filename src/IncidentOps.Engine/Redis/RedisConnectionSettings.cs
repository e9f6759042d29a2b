using System.Globalization;
using StackExchange.Redis;

namespace IncidentOps.Engine.Redis;

/// <summary>
/// A parsed Redis connection: endpoints, credentials, database and TLS. Built from a redis:// or
/// rediss:// URL (parsed here: StackExchange.Redis does not read URLs) or from a StackExchange.Redis
/// connection string. The password is registered with <see cref="SecretRedactor"/> and never shown.
/// </summary>
public sealed class RedisConnectionSettings
{
    public IReadOnlyList<(string Host, int Port)> Endpoints { get; init; } = [];
    public string? User { get; init; }
    internal string? Password { get; init; }
    public bool HasPassword => !string.IsNullOrEmpty(Password);
    public bool Ssl { get; init; }
    public int? Database { get; init; }
    /// <summary>Options from a StackExchange.Redis string (kept so ssl host, names and the like carry over).</summary>
    internal ConfigurationOptions? Options { get; init; }
    /// <summary>A CA to trust beyond the system's roots, or no check at all; null: the system's roots only.</summary>
    public TlsTrust? Trust { get; init; }

    public const int DefaultPort = 6379;

    public static string FormatEndpoint(string host, int port) =>
        (host.Contains(':') ? $"[{host}]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    public override string ToString() =>
        $"{(Ssl ? "rediss" : "redis")}://{(User is null && !HasPassword ? "" : $"{User}{(HasPassword ? ":" + SecretRedactor.Mask : "")}@")}" +
        string.Join(",", Endpoints.Select(e => FormatEndpoint(e.Host, e.Port))) + (Database is { } d ? "/" + d : "");

    /// <summary>Parses either form. Errors say which part is wrong, never echoing the password.</summary>
    public static RedisConnectionSettings Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw Invalid("the connection string is empty. Pass -ConnectionString host:port or redis://host:port/db.");
        var text = connectionString.Trim();
        return text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)
            ? ParseUrl(text)
            : ParseOptions(text);
    }

    /// <summary>redis[s]://[user[:password]@]host[:port][/db][?query] with percent-encoded user and password.</summary>
    public static RedisConnectionSettings ParseUrl(string url)
    {
        var ssl = url.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);
        var rest = url[(ssl ? 9 : 8)..];
        var (user, password) = TakeUserInfo(ref rest);
        var query = TakeQuery(ref rest);
        var database = TakeDatabasePath(ref rest);
        var (host, port) = ParseHostPort(rest);
        var options = ApplyQuery(query, new UrlOptions(database?.Number, database?.Source, ssl, Scheme: ssl ? "rediss" : "redis"), host, port);
        return new RedisConnectionSettings { Endpoints = [(host, port)], User = user, Password = password, Ssl = options.Ssl, Database = options.Database };
    }

    /// <summary>
    /// Takes "user:password@" off the front of <paramref name="rest"/>. The password may contain '@', '/', '?' or '#' when
    /// not encoded: the user info ends at the last '@' before the host part. The password (raw and decoded) is registered
    /// as a secret before anything can echo it.
    /// </summary>
    private static (string? User, string? Password) TakeUserInfo(ref string rest)
    {
        var at = rest.LastIndexOf('@');
        if (at < 0) return (null, null);
        var userInfo = rest[..at];
        rest = rest[(at + 1)..];
        var colon = userInfo.IndexOf(':');
        var rawUser = colon >= 0 ? userInfo[..colon] : userInfo;
        var rawPassword = colon >= 0 ? userInfo[(colon + 1)..] : null;
        // redis://password@host (no colon) is the legacy form some hosts hand out: treat it as a password.
        if (colon < 0) { rawPassword = rawUser; rawUser = ""; }
        var password = rawPassword is null ? null : Decode(rawPassword, "password");
        SecretRedactor.Register(password);
        if (rawPassword is not null) SecretRedactor.Register(rawPassword);
        var user = rawUser.Length == 0 ? null : Decode(rawUser, "user name");
        return (user, password);
    }

    /// <summary>Takes the "?query" or "#fragment" off the end of <paramref name="rest"/> (empty when there is none).</summary>
    private static string TakeQuery(ref string rest)
    {
        var q = rest.IndexOfAny(['?', '#']);
        if (q < 0) return "";
        var query = rest[q..];
        rest = rest[..q];
        return query;
    }

    /// <summary>Takes "/db" off the end of <paramref name="rest"/>: the database number and how the URL said it (for messages).</summary>
    private static (int Number, string Source)? TakeDatabasePath(ref string rest)
    {
        var slash = rest.IndexOf('/');
        if (slash < 0) return null;
        var db = rest[(slash + 1)..].TrimEnd('/');
        rest = rest[..slash];
        if (db.Length == 0) return null;
        if (!int.TryParse(db, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            throw Invalid($"the database '{db}' in the URL path is not a number. Use redis://host:port/2 for database 2.");
        return (n, $"database {n} in the path (/{db})");
    }

    /// <summary>"host", "host:port", "[v6]" or "[v6]:port": one host and one port (6379 when none is given).</summary>
    private static (string Host, int Port) ParseHostPort(string rest)
    {
        string host;
        var port = DefaultPort;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0) throw Invalid($"the IPv6 host '{rest}' has no closing ']'.");
            host = rest[1..close];
            var after = rest[(close + 1)..];
            if (after.StartsWith(':')) port = ParsePort(after[1..]);
            else if (after.Length > 0) throw Invalid($"unexpected '{after}' after the host.");
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            host = colon >= 0 ? rest[..colon] : rest;
            if (colon >= 0) port = ParsePort(rest[(colon + 1)..]);
            // redis://host:6379:6380 or redis://a:1,b:2 would otherwise become a host named "host:6379" or "a:1,b" and
            // connect somewhere nobody meant: one URL names one host and one port.
            // (An unbracketed IPv6 literal, redis://::1:6379, still reads as before.)
            if (host.Contains(',') || (host.Contains(':') && !System.Net.IPAddress.TryParse(host, out _)))
                throw Invalid($"'{rest}' names more than one port or host (one URL names one host:port). Use redis://host:6379, put an IPv6 address in brackets (redis://[::1]:6379), " +
                    "or list several endpoints in StackExchange.Redis form (host1:6379,host2:6379).");
        }
        if (host.Length == 0) throw Invalid("the URL has no host. Use redis://host:6379.");
        return (host, port);
    }

    /// <summary>The database and TLS setting a URL's path and scheme give, before its query is applied, and where each came from.</summary>
    private readonly record struct UrlOptions(int? Database, string? DatabaseSource, bool Ssl, string Scheme, string? SslSource = null);

    /// <summary>Applies the query options (db=, ssl=/tls=) on top of the path and scheme, refusing any that contradict them.</summary>
    private static UrlOptions ApplyQuery(string query, UrlOptions options, string host, int port)
    {
        foreach (var pair in query.TrimStart('?', '#').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = kv[0].ToLowerInvariant();
            var value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            options = key switch
            {
                "db" => ApplyDatabaseOption(options, kv[0], value, host, port),
                "ssl" or "tls" => ApplySslOption(options, kv[0], value),
                _ => throw Invalid($"the URL option '{kv[0]}' is not supported. Supported: db, ssl. Pass other options in StackExchange.Redis form (host:port,option=value)."),
            };
        }
        return options;
    }

    private static UrlOptions ApplyDatabaseOption(UrlOptions options, string name, string value, string host, int port)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            throw Invalid($"db={value} in the URL query is not a number.");
        // Two database numbers: acting on either one could empty or read the wrong database, so neither is guessed.
        if (options.Database is { } earlier && earlier != n)
            throw Invalid($"it names {options.DatabaseSource} and database {n} in the query (?{name}={value}). Keep one of them, for example redis://{FormatEndpoint(host, port)}/{n}, " +
                "or pass -Database to choose the database explicitly.");
        return options with { Database = n, DatabaseSource = options.DatabaseSource ?? $"database {n} in the query (?{name}={value})" };
    }

    private static UrlOptions ApplySslOption(UrlOptions options, string name, string value)
    {
        var on = value.ToLowerInvariant() switch
        {
            "true" or "1" or "" => true,
            "false" or "0" => false,
            _ => throw Invalid($"{name}={value} in the URL query is not true or false."),
        };
        // rediss:// with ssl=false would send the password in clear text; two different ssl= values are no choice either.
        if (options.SslSource is not null && on != options.Ssl)
            throw Invalid($"it sets TLS twice, with {options.SslSource} and {name}={value}. Keep one: rediss://host:port for TLS, redis://host:port without it.");
        if (options.SslSource is null && options.Scheme == "rediss" && !on)
            throw Invalid($"it asks for TLS with the rediss:// scheme and for no TLS with {name}={value}. Keep one: rediss://host:port for TLS, redis://host:port without it.");
        return options with { Ssl = on, SslSource = options.SslSource ?? $"{name}={value}" };
    }

    private static RedisConnectionSettings ParseOptions(string text)
    {
        RejectConflictingOptions(text);
        ConfigurationOptions options;
        try { options = ConfigurationOptions.Parse(text, ignoreUnknown: false); }
        catch (ArgumentException ex)
        {
            // The text did not parse, so its password was not registered yet: do it before any message can echo it.
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, "password=([^,]*)", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
                SecretRedactor.Register(m.Groups[1].Value);
            throw Invalid($"it is neither a redis:// URL nor a StackExchange.Redis connection string ({ex.Message}). Use host:port[,password=...][,ssl=true] or redis://user:password@host:port/db.");
        }
        SecretRedactor.Register(options.Password);
        var endpoints = new List<(string, int)>();
        foreach (var ep in options.EndPoints)
        {
            switch (ep)
            {
                case System.Net.DnsEndPoint d: endpoints.Add((d.Host, d.Port == 0 ? DefaultPort : d.Port)); break;
                case System.Net.IPEndPoint i: endpoints.Add((i.Address.ToString(), i.Port == 0 ? DefaultPort : i.Port)); break;
                default: throw Invalid($"the endpoint '{ep}' is not a host:port.");
            }
        }
        if (endpoints.Count == 0) throw Invalid("it names no endpoint. Start it with host:port.");
        return new RedisConnectionSettings
        {
            Endpoints = endpoints,
            User = options.User,
            Password = options.Password,
            Ssl = options.Ssl,
            Database = options.DefaultDatabase,
            Options = options,
        };
    }

    /// <summary>
    /// StackExchange.Redis keeps the last of two values of one option (defaultDatabase=2,defaultDatabase=3 uses 3): an
    /// option given twice with different values is refused, naming both values (a password's are never shown).
    /// </summary>
    private static void RejectConflictingOptions(string text)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            var key = part[..eq].Trim();
            var value = part[(eq + 1)..].Trim();
            var name = key.ToLowerInvariant() switch { "defaultdatabase" or "db" => "defaultDatabase", var k => k };
            if (seen.TryGetValue(name, out var earlier) && !string.Equals(earlier, value, StringComparison.OrdinalIgnoreCase))
            {
                var secret = name.Equals("password", StringComparison.OrdinalIgnoreCase);
                if (secret) { SecretRedactor.Register(earlier); SecretRedactor.Register(value); }
                throw Invalid(secret
                    ? "it gives the password twice, with different values. Keep one, or pass the password with -Credential."
                    : $"it gives {name} twice, as {earlier} and {value}. Keep one of them{(name == "defaultDatabase" ? ", or pass -Database to choose the database explicitly" : "")}.");
            }
            seen[name] = value;
        }
    }

    /// <summary>
    /// Returns a copy with a credential (from -Credential) in place of the string's own user and password, entirely: a
    /// user name that is empty, blank or "default" is Redis's default user (never the user the string names), so the server
    /// is not logged in to as a user nobody asked for. The default user authenticates with the password alone (AUTH
    /// password), which is the default user on Redis 6+ and the only form Redis 5 and older know.
    /// </summary>
    public RedisConnectionSettings WithCredential(string? user, string? password)
    {
        SecretRedactor.Register(password);
        return new RedisConnectionSettings
        {
            Endpoints = Endpoints, Ssl = Ssl, Database = Database, Options = Options, Trust = Trust,
            User = IsDefaultUser(user) ? null : user!.Trim(),
            Password = string.IsNullOrEmpty(password) ? null : password,
        };
    }

    /// <summary>Returns a copy that trusts <paramref name="trust"/> for TLS.</summary>
    public RedisConnectionSettings WithTrust(TlsTrust trust) => new()
    {
        Endpoints = Endpoints, User = User, Password = Password, Ssl = Ssl, Database = Database, Options = Options, Trust = trust,
    };

    /// <summary>PSCredential cannot hold an empty user name, so "default" (or a blank one) names Redis's default user.</summary>
    private static bool IsDefaultUser(string? user) =>
        string.IsNullOrWhiteSpace(user) || string.Equals(user.Trim(), "default", StringComparison.Ordinal);

    /// <summary>StackExchange.Redis options for one endpoint, with short timeouts and no background retry storm.</summary>
    internal ConfigurationOptions ToOptions(string host, int port, TimeSpan timeout, bool allowAdmin)
    {
        var o = Options?.Clone() ?? new ConfigurationOptions();
        o.EndPoints.Clear();
        o.EndPoints.Add(host, port);
        o.User = User;
        o.Password = Password;
        o.Ssl = Ssl;
        if (Ssl && string.IsNullOrEmpty(o.SslHost)) o.SslHost = host;
        if (Ssl && Trust is { } trust) o.CertificateValidation += (_, certificate, chain, errors) => trust.Accepts(certificate, chain, errors, out string? _);
        if (Database is { } db) o.DefaultDatabase = db;
        var ms = (int)Math.Clamp(timeout.TotalMilliseconds, 100, int.MaxValue);
        o.ConnectTimeout = ms;
        o.SyncTimeout = ms;
        o.AsyncTimeout = ms;
        o.ConnectRetry = 1;
        o.AbortOnConnectFail = false;
        // Commands must not wait in a backlog for a connection that is not there: fail at once with the reason.
        o.BacklogPolicy = BacklogPolicy.FailFast;
        o.AllowAdmin = allowAdmin;
        o.ClientName ??= "IncidentOps";
        return o;
    }

    /// <summary>The client options that matter for safety, without exposing the client library's types (tests, verbose).</summary>
    internal (bool Ssl, string? SslHost, bool AllowAdmin, bool AbortOnConnectFail, int ConnectTimeoutMs, int SyncTimeoutMs, int? Database) DescribeOptions(string host, int port, TimeSpan timeout, bool allowAdmin)
    {
        var o = ToOptions(host, port, timeout, allowAdmin);
        return (o.Ssl, o.SslHost, o.AllowAdmin, o.AbortOnConnectFail, o.ConnectTimeout, o.SyncTimeout, o.DefaultDatabase);
    }

    private static int ParsePort(string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw Invalid($"the port '{text}' is not a number from 1 to 65535.");
        return port;
    }

    private static string Decode(string text, string what)
    {
        try { return Uri.UnescapeDataString(text); }
        catch (UriFormatException) { throw Invalid($"the {what} in the URL is not valid percent-encoding. Encode special characters (%40 for @, %3A for :)."); }
    }

    private static IncidentOpsException Invalid(string why) =>
        new(RedisErrorIds.RedisConnectionStringInvalid, IncidentOpsErrorCategory.InvalidArgument, $"The Redis connection string is not valid: {why}");
}
