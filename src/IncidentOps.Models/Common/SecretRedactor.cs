using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace IncidentOps;

/// <summary>
/// Process-wide set of secret values that must never be shown. Every value the engine resolves from a
/// secret-bearing reference (passwords, tokens, webhook URLs, routing keys) is registered here, and every
/// text that leaves the module (verbose, warnings, errors, timeline, reports) passes through <see cref="Redact"/>.
/// </summary>
public static partial class SecretRedactor
{
    public const string Mask = "********";
    private static readonly ConcurrentDictionary<string, byte> Secrets = new(StringComparer.Ordinal);
    private static volatile string[] _ordered = [];

    // Credentials embedded in URLs or connection strings are masked even when never registered. Source-generated
    // rather than RegexOptions.Compiled, which costs a session tens of ms of Reflection.Emit and JIT on first use.
    [GeneratedRegex(@"(?<scheme>[a-z][a-z0-9+.-]*://)(?<user>[^:@/\s]*):(?<pw>[^@/\s]+)@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlUserInfo();
    [GeneratedRegex(@"(?<key>\b(?:password|pwd|pass|token|apikey|api_key|secret|routing_key|routingKey)\s*[=:]\s*)(?<value>""[^""]*""|'[^']*'|[^;,\s&""']+)", RegexOptions.IgnoreCase)]
    private static partial Regex KeyValueSecret();
    [GeneratedRegex(@"[a-z][a-z0-9+.-]*://(?<info>[^@/\s]+)@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlAnyUserInfo();
    [GeneratedRegex(@"(?<key>\b(?:Authorization:\s*(?:Bearer|OAuth|Basic|Token)\s+))(?<value>\S+)", RegexOptions.IgnoreCase)]
    private static partial Regex BearerHeader();

    /// <summary>Registers a secret value; values shorter than 4 characters are not registered (too many false hits).</summary>
    public static void Register(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < 4) return;
        if (Secrets.TryAdd(secret, 0))
            _ordered = Secrets.Keys.OrderByDescending(s => s.Length).ToArray();
        // A URL-encoded form can leak through query strings and connection URLs.
        var encoded = Uri.EscapeDataString(secret);
        if (encoded != secret && Secrets.TryAdd(encoded, 0))
            _ordered = Secrets.Keys.OrderByDescending(s => s.Length).ToArray();
    }

    /// <summary>
    /// Registers the credentials a connection string or URL carries (the password of its user info, or the user
    /// info of the legacy redis://password@host form, and password=/token= values), not the whole text: the host
    /// and port of a connection are what a responder needs to see, and are not secret.
    /// </summary>
    public static void RegisterCredentials(string? connection)
    {
        if (string.IsNullOrEmpty(connection)) return;
        foreach (Match m in UrlAnyUserInfo().Matches(connection))
        {
            var info = m.Groups["info"].Value;
            var colon = info.IndexOf(':');
            var secret = colon >= 0 ? info[(colon + 1)..] : info;
            Register(secret);
            if (secret.Contains('%')) Register(Uri.UnescapeDataString(secret));
        }
        foreach (Match m in KeyValueSecret().Matches(connection))
            Register(m.Groups["value"].Value.Trim('"', '\''));
    }

    public static bool IsRegistered(string value) => Secrets.ContainsKey(value);

    /// <summary>Returns the text with every registered secret and every credential-looking fragment masked.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? string.Empty;
        var result = text;
        foreach (var s in _ordered)
            if (result.Contains(s, StringComparison.Ordinal))
                result = result.Replace(s, Mask, StringComparison.Ordinal);
        result = UrlUserInfo().Replace(result, m => m.Groups["scheme"].Value + m.Groups["user"].Value + ":" + Mask + "@");
        result = KeyValueSecret().Replace(result, m => m.Groups["key"].Value + Mask);
        result = BearerHeader().Replace(result, m => m.Groups["key"].Value + Mask);
        return result;
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
