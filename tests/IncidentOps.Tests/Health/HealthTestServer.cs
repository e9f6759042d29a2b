using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace IncidentOps.Tests.Health;

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1 (plain or TLS over SslStream) with the endpoints health probes need:
/// /ok, /json, /health/services, /503, /slow?ms=N, /redirect/N, /echo, /header, /empty-array.
/// </summary>
public sealed class HealthTestServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _cts = new();
    private readonly SslStreamCertificateContext? _tls;

    public HealthTestServer(X509Certificate2? certificate = null, X509Certificate2Collection? intermediates = null)
    {
        if (certificate is not null) _tls = SslStreamCertificateContext.Create(certificate, intermediates ?? [], offline: true);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoop();
    }

    public int Port { get; }
    public string Scheme => _tls is null ? "http" : "https";
    public string Url(string path) => $"{Scheme}://127.0.0.1:{Port}{path}";
    public int Requests => _requests;
    private int _requests;
    private int _flaky;
    private int _slowInFlight, _slowMaxInFlight;
    /// <summary>Most /slow requests that were in flight at once (proves a throttle).</summary>
    public int SlowMaxInFlight => Volatile.Read(ref _slowMaxInFlight);

    private async Task AcceptLoop()
    {
        while (!_cts.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_cts.Token); }
            catch (Exception) when (_cts.IsCancellationRequested) { return; }
            catch (SocketException) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        try
        {
            Stream stream = client.GetStream();
            if (_tls is not null)
            {
                var ssl = new SslStream(stream, false);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = _tls }, _cts.Token);
                stream = ssl;
            }
            await using (stream)
            {
                var (method, target, headers, body) = await ReadRequest(stream);
                Interlocked.Increment(ref _requests);
                await Respond(stream, method, target, headers, body);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
        {
            // The client went away (timeouts, TLS failures under test): nothing to answer.
        }
    }

    private static async Task<(string, string, Dictionary<string, string>, string)> ReadRequest(Stream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0) throw new IOException("closed");
            buffer.Add(one[0]);
            // A TLS ClientHello on a plain port: answer 400 and hang up, as nginx does.
            if (buffer.Count == 1 && one[0] == 0x16)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"));
                throw new IOException("TLS on a plain port");
            }
            var n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n') break;
        }
        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var first = lines[0].Split(' ');
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = "";
        if (headers.TryGetValue("Content-Length", out var len) && int.Parse(len) > 0)
        {
            var data = new byte[int.Parse(len)];
            var read = 0;
            while (read < data.Length) read += await stream.ReadAsync(data.AsMemory(read));
            body = Encoding.UTF8.GetString(data);
        }
        return (first[0], first[1], headers, body);
    }

    /// <summary>
    /// Waits at least <paramref name="span"/> as the Stopwatch (the probe's clock) counts it. Task.Delay alone can end a few
    /// milliseconds early on that clock (its timer runs on the coarse tick count: Delay(150) measured 148.3 ms here), and a
    /// test that proves a lower bound on a measured time needs the server to have really waited.
    /// </summary>
    private async Task HoldAtLeast(TimeSpan span)
    {
        var held = System.Diagnostics.Stopwatch.StartNew();
        while (held.Elapsed < span)
            await Task.Delay(span - held.Elapsed + TimeSpan.FromMilliseconds(1), _cts.Token);
    }

    private async Task Respond(Stream stream, string method, string target, Dictionary<string, string> headers, string body)
    {
        var path = target.Split('?')[0];
        var query = target.Contains('?') ? target[(target.IndexOf('?') + 1)..] : "";
        int status = 200;
        string contentType = "text/plain";
        string text = "ok";
        var extra = new List<string>();
        switch (path)
        {
            case "/ok": break;
            case "/json":
                contentType = "application/json";
                text = """{"status":"ok","version":"1.2.3","uptime":12.5,"checks":[{"name":"db","status":"up"}]}""";
                break;
            case "/health/services":
                contentType = "application/json";
                text = """{"status":"degraded","services":{"database":{"status":"up","latencyMs":3},"redis":{"status":"down","error":"timeout"},"queue":"ok"}}""";
                break;
            case "/503": status = 503; text = "maintenance"; break;
            case "/flaky":
                // The first N requests fail, then the service "recovers".
                if (Interlocked.Increment(ref _flaky) <= int.Parse(query.Split('=')[1])) { status = 503; text = "starting"; }
                break;
            case "/slow":
                var ms = int.Parse(query.Split('=')[1]);
                var inFlight = Interlocked.Increment(ref _slowInFlight);
                int seen;
                while (inFlight > (seen = Volatile.Read(ref _slowMaxInFlight)) && Interlocked.CompareExchange(ref _slowMaxInFlight, inFlight, seen) != seen) { }
                try { await HoldAtLeast(TimeSpan.FromMilliseconds(ms)); }
                finally { Interlocked.Decrement(ref _slowInFlight); }
                break;
            case "/echo":
                text = $"{method} {(headers.TryGetValue("X-Test", out var x) ? x : "-")} {body}";
                break;
            case "/header": extra.Add("X-Version: 42"); break;
            default:
                if (path.StartsWith("/hop/"))
                {
                    // A redirect chain whose every hop answers after ?ms=N: proves timings are summed over hops.
                    var left = int.Parse(path["/hop/".Length..]);
                    await HoldAtLeast(TimeSpan.FromMilliseconds(int.Parse(query.Split('=')[1])));
                    status = 302;
                    extra.Add("Location: " + (left <= 1 ? "/json" : $"/hop/{left - 1}?{query}"));
                    text = "";
                }
                else if (path.StartsWith("/redirect/"))
                {
                    var left = int.Parse(path["/redirect/".Length..]);
                    status = 302;
                    extra.Add("Location: " + (left <= 1 ? "/json" : $"/redirect/{left - 1}"));
                    text = "";
                }
                else { status = 404; text = "not found"; }
                break;
        }
        var payload = Encoding.UTF8.GetBytes(method == "HEAD" ? "" : text);
        var head = new StringBuilder()
            .Append($"HTTP/1.1 {status} {(status switch { 200 => "OK", 302 => "Found", 503 => "Service Unavailable", _ => "Not Found" })}\r\n")
            .Append($"Content-Type: {contentType}\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n");
        foreach (var e in extra) head.Append(e).Append("\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(payload);
        await stream.FlushAsync();
    }

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
        _cts.Dispose();
    }
}

/// <summary>A port that accepts connections and never answers (proves -TimeoutSec holds).</summary>
public sealed class SilentServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _held = [];
    private readonly CancellationTokenSource _cts = new();

    public SilentServer()
    {
        _listener.Start(64);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (!_cts.IsCancellationRequested)
            {
                try { var c = await _listener.AcceptTcpClientAsync(_cts.Token); lock (_held) _held.Add(c); Interlocked.Increment(ref _connections); }
                catch (Exception) when (_cts.IsCancellationRequested) { return; }
                catch (SocketException) { return; }
            }
        });
    }

    public int Port { get; }

    private int _connections;

    /// <summary>How many connections it has accepted so far (probes that are waiting on it).</summary>
    public int Connections => Volatile.Read(ref _connections);

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
        lock (_held) foreach (var c in _held) c.Dispose();
        _cts.Dispose();
    }
}

/// <summary>Self-signed certificates made in the test: a leaf expiring in 3 days, and a chain whose intermediate expires before its leaf.</summary>
public static class TestCertificates
{
    public static X509Certificate2 ShortLivedLeaf(int days = 3)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=short.test", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(San("short.test"));
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(days));
        return Reload(cert);
    }

    /// <summary>(leaf valid 60 days, intermediate valid 2 days, root valid 10 years); the leaf names localhost and 127.0.0.1.</summary>
    public static (X509Certificate2 Leaf, X509Certificate2 Intermediate, X509Certificate2 Root) ChainWithEarlyIntermediate()
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootReq = new CertificateRequest("CN=IncidentOps Test Root", rootKey, HashAlgorithmName.SHA256);
        rootReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var root = rootReq.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));

        using var interKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var interReq = new CertificateRequest("CN=IncidentOps Test Intermediate", interKey, HashAlgorithmName.SHA256);
        interReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        interReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var inter = interReq.Create(root, now.AddDays(-1), now.AddDays(2), [1, 2, 3, 4]);

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafReq = new CertificateRequest("CN=localhost", leafKey, HashAlgorithmName.SHA256);
        leafReq.CertificateExtensions.Add(San("localhost"));
        // The signature generator path skips .NET's "notAfter within the issuer's validity" check: real CAs have shipped exactly this.
        using var leafPublic = leafReq.Create(inter.SubjectName, X509SignatureGenerator.CreateForECDsa(interKey), now.AddDays(-1), now.AddDays(60), [5, 6, 7, 8]);
        using var leaf = leafPublic.CopyWithPrivateKey(leafKey);
        return (Reload(leaf), X509CertificateLoader.LoadCertificate(inter.RawData), X509CertificateLoader.LoadCertificate(root.RawData));
    }

    private static X509Extension San(string dns)
    {
        var b = new SubjectAlternativeNameBuilder();
        b.AddDnsName(dns);
        b.AddIpAddress(IPAddress.Loopback);
        return b.Build();
    }

    private static X509Certificate2 Reload(X509Certificate2 cert) => X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
}
