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
        // The password may contain '@', '/', '?' or '#' when not encoded: the user info ends at the last '@'
        // before the host part, so split on the last '@'.
        string? user = null, password = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            var rawUser = colon >= 0 ? userInfo[..colon] : userInfo;
            var rawPassword = colon >= 0 ? userInfo[(colon + 1)..] : null;
            // redis://password@host (no colon) is the legacy form some hosts hand out: treat it as a password.
            if (colon < 0) { rawPassword = rawUser; rawUser = ""; }
            password = rawPassword is null ? null : Decode(rawPassword, "password");
            SecretRedactor.Register(password);
            if (rawPassword is not null) SecretRedactor.Register(rawPassword);
            user = rawUser.Length == 0 ? null : Decode(rawUser, "user name");
        }
        var query = "";
        var q = rest.IndexOfAny(['?', '#']);
        if (q >= 0) { query = rest[q..]; rest = rest[..q]; }
        int? database = null;
        var slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            var db = rest[(slash + 1)..].TrimEnd('/');
            rest = rest[..slash];
            if (db.Length > 0)
            {
                if (!int.TryParse(db, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                    throw Invalid($"the database '{db}' in the URL path is not a number. Use redis://host:port/2 for database 2.");
                database = n;
            }
        }
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
        }
        if (host.Length == 0) throw Invalid("the URL has no host. Use redis://host:6379.");
        foreach (var pair in query.TrimStart('?', '#').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = kv[0].ToLowerInvariant();
            var value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (key)
            {
                case "db":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                        throw Invalid($"db={value} in the URL query is not a number.");
                    database = n;
                    break;
                case "ssl" or "tls":
                    ssl = value is "true" or "1" or "";
                    break;
                default:
                    throw Invalid($"the URL option '{kv[0]}' is not supported. Supported: db, ssl. Pass other options in StackExchange.Redis form (host:port,option=value).");
            }
        }
        return new RedisConnectionSettings { Endpoints = [(host, port)], User = user, Password = password, Ssl = ssl, Database = database };
    }

    private static RedisConnectionSettings ParseOptions(string text)
    {
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

    /// <summary>Returns a copy with a credential (from -Credential) in place of the string's own.</summary>
    public RedisConnectionSettings WithCredential(string? user, string? password)
    {
        SecretRedactor.Register(password);
        return new RedisConnectionSettings
        {
            Endpoints = Endpoints, Ssl = Ssl, Database = Database, Options = Options,
            User = string.IsNullOrEmpty(user) ? User : user,
            Password = string.IsNullOrEmpty(password) ? Password : password,
        };
    }

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
