using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using IncidentOps.Health;

namespace IncidentOps.Engine.Health;

/// <summary>DNS lookups (the seeds' dig/nslookup) through DnsClient, against the system resolver or a named server.</summary>
public sealed class DnsService(IOperationSink sink)
{
    /// <summary>Parses -Server "host", "host:port", "[v6]:port" into an endpoint (a host name is resolved first, IPv4 preferred).</summary>
    /// <summary>
    /// The host names of a configured service that Resolve-ServiceDns looks up: the hosts of its health endpoints and of its
    /// baseUrl, each once, in configuration order. IP addresses are left out (there is nothing to resolve), and so is the
    /// service's platform identity (app, unit or ssh host). Empty when the service names no URL.
    /// </summary>
    public static IReadOnlyList<string> ServiceHosts(IncidentOps.Config.ServiceTarget service)
    {
        var hosts = new List<string>();
        foreach (var url in service.Health.Select(h => h.Url).Append(service.BaseUrl))
        {
            if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host)) continue;
            if (uri.HostNameType is not (UriHostNameType.Dns or UriHostNameType.Basic)) continue;
            var host = uri.IdnHost.TrimEnd('.');
            if (!hosts.Contains(host, StringComparer.OrdinalIgnoreCase)) hosts.Add(host);
        }
        return hosts;
    }

    public static async Task<IPEndPoint> ParseServerAsync(string server, CancellationToken cancellationToken)
    {
        var host = server.Trim();
        var port = 53;
        if (host.StartsWith('[') && host.IndexOf(']') is var close and > 0)
        {
            if (close + 1 < host.Length && host[close + 1] == ':' && !int.TryParse(host[(close + 2)..], out port)) throw BadServer(server);
            host = host[1..close];
        }
        else if (host.Count(c => c == ':') == 1)
        {
            var parts = host.Split(':');
            if (!int.TryParse(parts[1], out port) || port is < 1 or > 65535) throw BadServer(server);
            host = parts[0];
        }
        if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, port);
        string reason;
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            // IPv4 first: a name such as localhost often resolves to ::1 too while the server listens on 127.0.0.1 only.
            if (addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault() is { } address) return new IPEndPoint(address, port);
            reason = "no addresses";
        }
        catch (SocketException ex) { reason = ex.SocketErrorCode.ToString(); }
        throw new IncidentOpsException(HealthErrorIds.DnsServerNotFound, IncidentOpsErrorCategory.ObjectNotFound,
            $"The DNS server '{server}' could not be resolved to an address ({reason}). Pass an IP address, e.g. -Server 1.1.1.1 or -Server 127.0.0.1:5353.") { TargetObject = server };
    }

    private static IncidentOpsException BadServer(string server) =>
        new(HealthErrorIds.DnsServerInvalid, IncidentOpsErrorCategory.InvalidArgument, $"'{server}' is not host, host:port or [ipv6]:port. Example: -Server 127.0.0.1:5353.") { TargetObject = server };

    /// <summary>Looks up one name for one type. NXDOMAIN and empty answers are results; an unreachable server is DnsQueryFailed.</summary>
    public async Task<DnsLookupResult> LookupAsync(string name, DnsRecordType type, IPEndPoint? server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var options = server is null ? new LookupClientOptions() : new LookupClientOptions(new NameServer(server));
        // A lookup that gets no answer is DnsQueryFailed, reported just before the command's deadline.
        var asked = timeout;
        timeout = OperationDeadline.Cap(timeout, OperationDeadline.Margin);
        if (timeout < TimeSpan.FromMilliseconds(50)) timeout = TimeSpan.FromMilliseconds(50);
        options.Timeout = timeout;
        options.Retries = 0;
        options.UseCache = false;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        options.ContinueOnEmptyResponse = false;
        var client = new LookupClient(options);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(OperationDeadline.Remaining is null ? timeout + TimeSpan.FromSeconds(1) : timeout + TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();
        IDnsQueryResponse response;
        try
        {
            sink.Verbose($"DNS {type} {name} via {(server?.ToString() ?? "the system resolver")}");
            response = await client.QueryAsync(name, ToQueryType(type), QueryClass.IN, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed(name, type, server, $"no answer within {asked.TotalSeconds:0.###}s");
        }
        catch (DnsResponseException ex)
        {
            // DnsClient's own text ("Query 35483 => svc.test IN A on 127.0.0.1:53 timed out or is a transient error.")
            // names its query id and ends in a period of its own; what the reader needs is that nothing answered.
            throw Failed(name, type, server, ex.Code == DnsResponseCode.ConnectionTimeout
                ? "no answer (nothing answers DNS at that address and port, or the answer was lost)"
                : ex.Message.TrimEnd('.'));
        }
        clock.Stop();
        return new DnsLookupResult
        {
            Name = name,
            Type = type,
            Status = StatusName((int)response.Header.ResponseCode),
            Answers = response.Answers.Select(ToAnswer).Where(a => a is not null).Select(a => a!).ToList(),
            Server = response.NameServer?.ToString(),
            ElapsedMs = Math.Round(clock.Elapsed.TotalMilliseconds, 3),
        };
    }

    private static IncidentOpsException Failed(string name, DnsRecordType type, IPEndPoint? server, string why) =>
        new(HealthErrorIds.DnsQueryFailed, IncidentOpsErrorCategory.ConnectionError,
            $"The {type} lookup of '{name}' via {(server?.ToString() ?? "the system resolver")} failed: {why}. Check that the server is reachable, or raise -TimeoutSec.") { TargetObject = name };

    /// <summary>The response code as dig names it (NXDomain, ServFail...), which is what the seeds and runbooks quote.</summary>
    internal static string StatusName(int code) => code switch
    {
        0 => "NoError",
        1 => "FormErr",
        2 => "ServFail",
        3 => "NXDomain",
        4 => "NotImp",
        5 => "Refused",
        6 => "YXDomain",
        7 => "YXRRSet",
        8 => "NXRRSet",
        9 => "NotAuth",
        10 => "NotZone",
        _ => $"RCode{code}",
    };

    private static QueryType ToQueryType(DnsRecordType type) => type switch
    {
        DnsRecordType.A => QueryType.A,
        DnsRecordType.AAAA => QueryType.AAAA,
        DnsRecordType.CNAME => QueryType.CNAME,
        DnsRecordType.NS => QueryType.NS,
        DnsRecordType.MX => QueryType.MX,
        _ => QueryType.TXT,
    };

    private static DnsAnswer? ToAnswer(DnsResourceRecord record)
    {
        var name = record.DomainName.Value.TrimEnd('.');
        return record switch
        {
            ARecord a => new DnsAnswer { Name = name, Type = "A", Ttl = a.TimeToLive, Value = a.Address.ToString() },
            AaaaRecord a => new DnsAnswer { Name = name, Type = "AAAA", Ttl = a.TimeToLive, Value = a.Address.ToString() },
            CNameRecord c => new DnsAnswer { Name = name, Type = "CNAME", Ttl = c.TimeToLive, Value = c.CanonicalName.Value.TrimEnd('.') },
            NsRecord n => new DnsAnswer { Name = name, Type = "NS", Ttl = n.TimeToLive, Value = n.NSDName.Value.TrimEnd('.') },
            MxRecord m => new DnsAnswer { Name = name, Type = "MX", Ttl = m.TimeToLive, Value = m.Exchange.Value.TrimEnd('.'), Preference = m.Preference },
            TxtRecord t => new DnsAnswer { Name = name, Type = "TXT", Ttl = t.TimeToLive, Value = string.Concat(t.Text) },
            _ => null,
        };
    }
}
