using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IncidentOps.Engine.Redis;

/// <summary>
/// What a TLS connection to Redis trusts beyond the system's roots: the CA of a self-signed or private certificate
/// (-CaCertificate, or the service's redis.caCertificate), or nothing at all (-SkipCertificateCheck). The client and the
/// plain-words diagnosis use the same check, so "not trusted" means the same thing in both.
/// </summary>
public sealed class RedisTlsTrust
{
    private RedisTlsTrust(X509Certificate2Collection? roots, bool skip, string source)
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
    public static RedisTlsTrust SkipCheck() => new(null, true, "-SkipCertificateCheck");

    /// <summary>
    /// Reads the CA certificate(s) from PEM text (a value from env:/file:/secret:) or from a PEM or DER file. A file that
    /// cannot be read or holds no certificate is an error that names it and says what to pass.
    /// </summary>
    public static RedisTlsTrust FromCa(string pemOrPath, string source)
    {
        var roots = new X509Certificate2Collection();
        var text = pemOrPath.Trim();
        try
        {
            if (text.StartsWith("-----BEGIN", StringComparison.Ordinal)) roots.ImportFromPem(text);
            else
            {
                if (!File.Exists(text)) throw Invalid(source, $"the file '{text}' does not exist");
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
            throw Invalid(source, $"it holds no certificate that can be read ({ex.Message.TrimEnd('.')})");
        }
        if (roots.Count == 0) throw Invalid(source, "it holds no certificate (no -----BEGIN CERTIFICATE----- block)");
        return new RedisTlsTrust(roots, false, source);
    }

    private static IncidentOpsException Invalid(string source, string why) =>
        new(RedisErrorIds.RedisCaCertificateInvalid, IncidentOpsErrorCategory.InvalidArgument,
            $"The CA certificate of {source} cannot be used: {why}. Give the PEM file of the CA that signed the Redis server's certificate (for a managed Redis, the provider's 'CA certificate' download).");

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
