using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using IncidentOps.Health;

namespace IncidentOps.Engine.Health;

/// <summary>Turns a presented certificate and chain into plain facts (copied: the chain is disposed after the callback).</summary>
internal static class CertificateInspector
{
    public static CertificateFacts Describe(X509Certificate2 leaf, X509Chain? chain, SslPolicyErrors errors, string host, string? protocol, int? port = null)
    {
        var now = DateTimeOffset.UtcNow;
        var chainCerts = new List<X509Certificate2>();
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements) chainCerts.Add(element.Certificate);
            // Intermediates the server sent but the chain could not place still expire; count them too.
            foreach (var extra in chain.ChainPolicy.ExtraStore)
                if (!chainCerts.Any(c => c.Thumbprint == extra.Thumbprint)) chainCerts.Add(extra);
        }
        if (!chainCerts.Any(c => c.Thumbprint == leaf.Thumbprint)) chainCerts.Insert(0, leaf);
        var earliest = chainCerts.MinBy(c => c.NotAfter)!;
        var validation = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) validation.Add("RemoteCertificateNotAvailable: the server sent no certificate");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) validation.Add($"RemoteCertificateNameMismatch: the certificate does not name '{host}'");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var statuses = chain?.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}").Distinct().ToList() ?? [];
            validation.Add("RemoteCertificateChainErrors" + (statuses.Count > 0 ? " (" + string.Join("; ", statuses) + ")" : ""));
        }
        var sans = SubjectAlternativeNames(leaf);
        return new CertificateFacts
        {
            Host = port is null ? null : host,
            Port = port,
            Subject = leaf.Subject,
            Issuer = leaf.Issuer,
            SubjectAlternativeNames = sans,
            NotBefore = new DateTimeOffset(leaf.NotBefore.ToUniversalTime(), TimeSpan.Zero),
            NotAfter = new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            DaysRemaining = Math.Round((leaf.NotAfter.ToUniversalTime() - now.UtcDateTime).TotalDays, 2),
            Thumbprint = leaf.Thumbprint,
            ChainNotAfter = new DateTimeOffset(earliest.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            ChainDaysRemaining = Math.Round((earliest.NotAfter.ToUniversalTime() - now.UtcDateTime).TotalDays, 2),
            ChainExpiresFirst = earliest.Subject,
            Chain = chainCerts.Select(c => new ChainCertificate
            {
                Subject = c.Subject, Issuer = c.Issuer, Thumbprint = c.Thumbprint,
                NotAfter = new DateTimeOffset(c.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            }).ToList(),
            ValidationErrors = validation.ToArray(),
            HostnameMatches = !string.IsNullOrEmpty(host) && leaf.MatchesHostname(host, allowWildcards: true, allowCommonName: sans.Length == 0),
            Protocol = protocol,
        };
    }

    private static string[] SubjectAlternativeNames(X509Certificate2 cert)
    {
        var names = new List<string>();
        foreach (var ext in cert.Extensions)
        {
            if (ext is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames().Select(n => "DNS:" + n));
                names.AddRange(san.EnumerateIPAddresses().Select(ip => "IP:" + ip));
            }
        }
        return names.ToArray();
    }
}
