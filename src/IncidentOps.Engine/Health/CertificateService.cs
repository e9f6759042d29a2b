using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using IncidentOps.Health;

namespace IncidentOps.Engine.Health;

/// <summary>Fetches the certificate chain a TLS endpoint presents (the seeds' `curl -vI ... | grep certificate`).</summary>
public sealed class CertificateService(IOperationSink sink)
{
    /// <summary>Parses "host", "host:port" or an https:// URI into host and port (443 by default).</summary>
    public static (string Host, int Port) ParseTarget(string target)
    {
        if (Uri.TryCreate(target, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host) && uri.Scheme is "https" or "http")
            return (uri.IdnHost, uri.Scheme == "http" && uri.IsDefaultPort ? 443 : uri.Port);
        var host = target.Trim();
        var port = 443;
        var colon = host.LastIndexOf(':');
        if (colon > 0 && host.IndexOf(':') == colon)
        {
            if (!int.TryParse(host[(colon + 1)..], out port) || port is < 1 or > 65535) throw Bad(target);
            host = host[..colon];
        }
        if (Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown) throw Bad(target);
        return (host.Trim('[', ']'), port);
    }

    /// <summary>
    /// The TLS endpoints of a configured service whose certificates Get-ServiceCertificate reads: each https:// health
    /// endpoint once per host and port, with the caCertificate its health entry names (null: the system's roots). Never the
    /// service's platform identity (app, unit or ssh host), which is no TLS endpoint. Empty when the service has no https://
    /// health endpoint.
    /// </summary>
    public static IReadOnlyList<(string Url, string Host, int Port, IncidentOps.Config.ConfigValue? CaCertificate)> ServiceEndpoints(IncidentOps.Config.ServiceTarget service)
    {
        var seen = new HashSet<(string, int)>();
        var endpoints = new List<(string, string, int, IncidentOps.Config.ConfigValue?)>();
        foreach (var endpoint in service.Health)
        {
            if (!Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || string.IsNullOrEmpty(uri.Host)) continue;
            if (seen.Add((uri.IdnHost.ToLowerInvariant(), uri.Port))) endpoints.Add((endpoint.Url, uri.IdnHost, uri.Port, endpoint.CaCertificate));
        }
        return endpoints;
    }

    private static IncidentOpsException Bad(string target) =>
        new(HealthErrorIds.CertificateTargetInvalid, IncidentOpsErrorCategory.InvalidArgument, $"'{target}' is not host, host:port or an https:// URI. Example: api.example.com:443.") { TargetObject = target };

    /// <summary>Connects, completes a TLS handshake with SNI <paramref name="serverName"/> (default: the host) and describes what was presented; invalid chains are reported, not refused.</summary>
    public async Task<CertificateFacts> GetAsync(string host, int port, string? serverName, TimeSpan timeout, CancellationToken cancellationToken, TlsTrust? trust = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A handshake that does not finish is CertificateFetchFailed, reported just before the command's deadline.
        deadline.CancelAfter(OperationDeadline.Cap(timeout, OperationDeadline.Margin));
        var sni = serverName ?? host;
        CertificateFacts? facts = null;
        try
        {
            using var tcp = new TcpClient(AddressFamily.InterNetworkV6) { Client = { DualMode = true }, NoDelay = true };
            sink.Verbose($"Connecting to {host}:{port} (SNI {sni})");
            await tcp.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
            await using var ssl = new SslStream(tcp.GetStream(), false, (_, certificate, chain, errors) =>
            {
                // With -CaCertificate the chain is judged against that CA (TlsTrust), so ValidationErrors say whether it signed it.
                var accepted = TlsTrust.Check(trust, certificate, chain, errors, out string? _);
                if (certificate is not null) facts = CertificateInspector.Describe(new X509Certificate2(certificate), chain, accepted && trust is not null ? SslPolicyErrors.None : errors, sni, null, port);
                return true; // report, do not refuse: validation errors are part of the answer
            });
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = sni }, deadline.Token).ConfigureAwait(false);
            // SslStream offers no anonymous cipher suites, so a handshake cannot complete without a certificate; kept as
            // a guard with the fetch error's id rather than an id no server can produce.
            if (facts is null)
                throw new IncidentOpsException(HealthErrorIds.CertificateFetchFailed, IncidentOpsErrorCategory.InvalidResult, $"{host}:{port} completed a TLS handshake without presenting a certificate.") { TargetObject = $"{host}:{port}" };
            return new CertificateFacts
            {
                Host = sni, Port = port, Subject = facts.Subject, Issuer = facts.Issuer, SubjectAlternativeNames = facts.SubjectAlternativeNames,
                NotBefore = facts.NotBefore, NotAfter = facts.NotAfter, DaysRemaining = facts.DaysRemaining, Thumbprint = facts.Thumbprint,
                ChainNotAfter = facts.ChainNotAfter, ChainDaysRemaining = facts.ChainDaysRemaining, ChainExpiresFirst = facts.ChainExpiresFirst,
                Chain = facts.Chain, ValidationErrors = facts.ValidationErrors, HostnameMatches = facts.HostnameMatches, Protocol = ssl.SslProtocol.ToString(),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed(host, port, $"no TLS handshake within {timeout.TotalSeconds:0.###}s", "Check the host and port, or raise -TimeoutSec if the endpoint is slow to answer.",
                null, IncidentOpsErrorCategory.OperationTimeout);
        }
        catch (SocketException ex)
        {
            // The fix depends on what failed: more time helps neither a refused port nor a name that does not resolve.
            var (why, fix) = ex.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => ("the connection was refused (nothing listens at that port)", $"Check the port ({port}; 443 unless one is given) and that the service is up."),
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => ($"the host name does not resolve ({ex.Message})", $"Check the host name (Resolve-ServiceDns {host})."),
                _ => (ex.Message, "Check the host and port, and the network path to them."),
            };
            throw Failed(host, port, why, fix, ex, IncidentOpsErrorCategory.ConnectionError);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            throw Failed(host, port, $"the TLS handshake failed ({ex.Message})", "Check that this port speaks TLS (an https:// endpoint's port).", ex, IncidentOpsErrorCategory.ProtocolError);
        }
    }

    private static IncidentOpsException Failed(string host, int port, string why, string fix, Exception? inner, IncidentOpsErrorCategory category) =>
        new(HealthErrorIds.CertificateFetchFailed, category, $"Could not read the certificate of {host}:{port}: {why}. {fix}", inner) { TargetObject = $"{host}:{port}" };
}
