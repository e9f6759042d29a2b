using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IncidentOps.Config;
using IncidentOps.Engine.Config;

namespace IncidentOps.Engine;

/// <summary>
/// What a TLS connection trusts beyond the system's roots: the CA of a self-signed or private certificate
/// (-CaCertificate, or a configured caCertificate: redis.caCertificate, postgres.caCertificate, a health endpoint's
/// caCertificate), or nothing at all (-SkipCertificateCheck). Every client (Redis, PostgreSQL, HTTP health probes) and
/// every plain-words diagnosis use this one check, so "not trusted" means the same thing everywhere. The CA is trusted
/// for the one connection it was given for (a custom trust store, X509ChainTrustMode.CustomRootTrust), never added to the
/// machine's store; the host name is checked as before.
/// </summary>
public sealed class TlsTrust
{
    private TlsTrust(X509Certificate2Collection? roots, bool skip, string source)
    {
        Roots = roots;
        Skip = skip;
        Source = source;
    }

    /// <summary>The extra trusted roots; null with -SkipCertificateCheck.</summary>
    internal X509Certificate2Collection? Roots { get; }

    /// <summary>Accept any certificate.</summary>
    public bool Skip { get; }

    /// <summary>Where the trust came from, for messages ("-CaCertificate /etc/ca.pem", "redis.caCertificate of production/cache").</summary>
    public string Source { get; }

    /// <summary>Any certificate is accepted (-SkipCertificateCheck).</summary>
    public static TlsTrust SkipCheck() => new(null, true, "-SkipCertificateCheck");

    /// <summary>
    /// Reads the CA certificate(s) from PEM text (a value from env:/file:/secret:) or from a PEM or DER file. A file that
    /// cannot be read or holds no certificate is an error (<paramref name="errorId"/>, the area's *CaCertificateInvalid)
    /// that names it and says what to pass; <paramref name="signed"/> names what the CA signed ("the Redis server's
    /// certificate (for a managed Redis, the provider's 'CA certificate' download)").
    /// </summary>
    public static TlsTrust FromCa(string pemOrPath, string source, string errorId, string signed)
    {
        var roots = new X509Certificate2Collection();
        var text = pemOrPath.Trim();
        try
        {
            if (text.StartsWith("-----BEGIN", StringComparison.Ordinal)) roots.ImportFromPem(text);
            else
            {
                if (!File.Exists(text)) throw Invalid(source, $"the file '{text}' does not exist", errorId, signed);
                var bytes = File.ReadAllBytes(text);
                var pem = System.Text.Encoding.ASCII.GetString(bytes);
                if (pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)) roots.ImportFromPem(pem);
                else
#if NET9_0_OR_GREATER
                    roots.Add(X509CertificateLoader.LoadCertificate(bytes));
#else
                    roots.Add(new X509Certificate2(bytes));
#endif
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw Invalid(source, $"it holds no certificate that can be read ({ex.Message.TrimEnd('.')})", errorId, signed);
        }
        if (roots.Count == 0) throw Invalid(source, "it holds no certificate (no -----BEGIN CERTIFICATE----- block)", errorId, signed);
        return new TlsTrust(roots, false, source);
    }

    /// <summary>
    /// A configured caCertificate (<paramref name="key"/>, e.g. "redis.caCertificate of production/cache"): resolves
    /// env:/file:/secret: references; a value that is not PEM text is a path, relative to the configuration file like
    /// every other path in it (~/ is the home folder).
    /// </summary>
    public static async Task<TlsTrust> FromConfigAsync(ReferenceResolver references, ConfigValue ca, string? configFile, string key, string errorId, string signed,
        CancellationToken cancellationToken)
    {
        var value = await references.ResolveAsync(ca, cancellationToken).ConfigureAwait(false);
        var source = key;
        if (!value.TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            if (value.StartsWith("~/", StringComparison.Ordinal)) value = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), value[2..]);
            if (!Path.IsPathRooted(value)) value = Path.GetFullPath(value, Path.GetDirectoryName(ca.Location?.File ?? configFile) ?? ".");
            source += $" ({value})";
        }
        return FromCa(value, source, errorId, signed);
    }

    /// <summary>
    /// The file a configured caCertificate is read from: its path (relative to the configuration file, ~/ the home folder) or a
    /// file: reference. Null for PEM text, env: and secret:, which change only with the configuration.
    /// </summary>
    public static string? FileOf(ConfigValue ca, string? configFile)
    {
        string path;
        if (ca.Kind == ConfigValueKind.File) path = ca.Reference!;
        else if (ca.Kind == ConfigValueKind.Literal && !ca.GetRawUnsafe().TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal)) path = ca.GetRawUnsafe().Trim();
        else return null;
        if (path.StartsWith("~/", StringComparison.Ordinal)) path = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), path[2..]);
        return Path.IsPathRooted(path) ? path : Path.GetFullPath(path, Path.GetDirectoryName(ca.Location?.File ?? configFile) ?? ".");
    }

    /// <summary>A file's last-write time and length: when either differs, the CA read from it is read again (a renewed CA).</summary>
    public sealed record FileStamp(DateTime LastWriteUtc, long Length)
    {
        /// <summary>The stamp of <paramref name="path"/> (a missing file has one too: its appearance is a change); null for no file.</summary>
        public static FileStamp? Of(string? path)
        {
            if (path is null) return null;
            try
            {
                var info = new FileInfo(path);
                return info.Exists ? new FileStamp(info.LastWriteTimeUtc, info.Length) : new FileStamp(default, -1);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                return new FileStamp(default, -1);
            }
        }
    }

    private static IncidentOpsException Invalid(string source, string why, string errorId, string signed) =>
        new(errorId, IncidentOpsErrorCategory.InvalidArgument,
            $"The CA certificate of {source} cannot be used: {why}. Give the PEM file of the CA that signed {signed}.");

    /// <summary>Whether the server's certificate is accepted; <paramref name="why"/> says what is wrong with it otherwise.</summary>
    public bool Accepts(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, out string? why)
    {
        why = null;
        if (Skip || errors == SslPolicyErrors.None) return true;
        if (Roots is null || certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            why = Describe(chain, errors);
            return false;
        }
        // Only the chain was refused, against the system's roots: build it again with the given CA as the trust anchor.
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.CustomTrustStore.AddRange(Roots);
        if (chain is not null)
            foreach (var element in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        try { if (custom.Build(leaf)) return true; }
        finally { if (!ReferenceEquals(leaf, certificate)) leaf.Dispose(); }
        why = Describe(custom, SslPolicyErrors.RemoteCertificateChainErrors) + $", not signed by the CA of {Source}";
        return false;
    }

    /// <summary>The same check with the system's roots only (no -CaCertificate given).</summary>
    public static bool AcceptsDefault(X509Chain? chain, SslPolicyErrors errors, out string? why)
    {
        why = errors == SslPolicyErrors.None ? null : Describe(chain, errors);
        return why is null;
    }

    /// <summary>The check of <paramref name="trust"/>, or of the system's roots when it is null.</summary>
    public static bool Check(TlsTrust? trust, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, out string? why) =>
        trust is null ? AcceptsDefault(chain, errors, out why) : trust.Accepts(certificate, chain, errors, out why);

    internal static string Describe(X509Chain? chain, SslPolicyErrors errors)
    {
        var status = chain?.ChainStatus.Select(c => c.StatusInformation.Trim()).Where(t => t.Length > 0).Distinct().ToArray() ?? [];
        var parts = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) parts.Add("it does not name this host");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) parts.Add("the server sent no certificate");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors)) parts.AddRange(status.Length > 0 ? status : ["its chain is not trusted"]);
        return parts.Count > 0 ? string.Join("; ", parts) : errors.ToString();
    }
}
