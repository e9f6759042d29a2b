using System.Buffers;
using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using IncidentOps.Health;

namespace IncidentOps.Engine.Health;

/// <summary>One target to probe, with its request and checks.</summary>
public sealed class ProbeRequest
{
    public required Uri Uri { get; init; }
    public string? Service { get; init; }
    public string Method { get; init; } = "GET";
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    public string? Body { get; init; }
    /// <summary>Acceptable status codes; null means any 2xx.</summary>
    public int[]? ExpectStatus { get; init; }
    public IReadOnlyList<HealthCondition> Conditions { get; init; } = [];
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    public bool SkipCertificateCheck { get; init; }
    /// <summary>The CA to trust beyond the system's roots (-CaCertificate), already read; wins over <see cref="CaCertificate"/>.</summary>
    public TlsTrust? Trust { get; init; }
    /// <summary>The endpoint's configured caCertificate, read when the probe runs (unless <see cref="Trust"/> or -SkipCertificateCheck is given).</summary>
    public IncidentOps.Config.ConfigValue? CaCertificate { get; init; }
    public bool FollowRedirects { get; init; } = true;
    public int MaxRedirects { get; init; } = 10;
    /// <summary>Probes of this target in a row (the seeds' availability loop).</summary>
    public int Count { get; init; } = 1;
    public TimeSpan Interval { get; init; } = TimeSpan.Zero;
}

/// <summary>
/// HTTP health probes with per-phase timings. Every probe uses its own SocketsHttpHandler so it measures a
/// fresh connection the way curl does; the connect callback times DNS and TCP separately and the
/// certificate callback marks the end of the TLS handshake and captures the chain.
/// </summary>
public sealed class HealthService(IOperationSink sink, Config.ReferenceResolver? references = null)
{
    // Configured CAs already read, by their config value: a watch loop or -Count reads a secret: or a file once, and again only
    // when the file (a path or a file: reference) changed since, so a renewed CA is picked up without reloading the configuration.
    private readonly ConcurrentDictionary<IncidentOps.Config.ConfigValue, (TlsTrust Trust, TlsTrust.FileStamp? Stamp)> _configuredTrust = new(ReferenceEqualityComparer.Instance);

    private const int MaxBodyBytes = 1024 * 1024;
    private const int MaxBodyText = 64 * 1024;
    /// <summary>Upper bound of one shared host-name lookup; each probe still waits no longer than its own -TimeoutSec.</summary>
    private static readonly TimeSpan LookupLimit = TimeSpan.FromSeconds(60);

    // Lookups in flight, by host name. .NET serializes concurrent lookups of the same name on Unix, so 200
    // probes of one host would each wait for the 199 lookups before theirs; probes that start while a lookup
    // of their host is running share it instead. Finished lookups are not kept: every new probe resolves afresh,
    // as curl does, so DnsMs stays a real measurement.
    private readonly ConcurrentDictionary<string, Task<IPAddress[]>> _lookups = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The resolver (tests replace it to count and slow down lookups).</summary>
    internal Func<string, CancellationToken, Task<IPAddress[]>> Resolver { get; set; } = Dns.GetHostAddressesAsync;

    /// <summary>Host-name lookups started (shared ones count once).</summary>
    internal int LookupsStarted => Volatile.Read(ref _lookupsStarted);
    private int _lookupsStarted;

    /// <summary>Parses Gatus-style conditions; a bad one is HealthConditionInvalid.</summary>
    public static IReadOnlyList<HealthCondition> ParseConditions(IEnumerable<string>? conditions) =>
        conditions?.Where(c => !string.IsNullOrWhiteSpace(c)).Select(HealthCondition.Parse).ToList() ?? [];

    /// <summary>Validates a user-supplied URI: absolute http(s) only.</summary>
    public static Uri ParseUri(string value)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && !string.IsNullOrEmpty(uri.Host))
            return uri;
        throw new IncidentOpsException(HealthErrorIds.HealthUriInvalid, IncidentOpsErrorCategory.InvalidArgument,
            $"'{value}' is not an absolute http:// or https:// URI. Pass a full URI such as https://api.example.com/health.") { TargetObject = value };
    }

    /// <summary>
    /// Probes every target, at most <paramref name="throttleLimit"/> at once, and hands each result to
    /// <paramref name="onResult"/> as soon as it completes. Cancelling the token stops them all.
    /// </summary>
    public async Task ProbeManyAsync(IReadOnlyList<ProbeRequest> requests, int throttleLimit, Action<HealthResult> onResult, CancellationToken cancellationToken)
    {
        if (requests.Count == 0) return;
        if (requests.Count == 1)
        {
            onResult(await ProbeAsync(requests[0], cancellationToken).ConfigureAwait(false));
            return;
        }
        var limit = Math.Clamp(throttleLimit, 1, requests.Count);
        var progress = new FanOutProgress(sink, requests.Count);
        // A fixed set of workers pulling the next target: no waiter queue on a semaphore, no task per waiting
        // target, and each worker's next probe starts the moment its previous one completes.
        var next = -1;
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests.Count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = await ProbeAsync(requests[i], cancellationToken).ConfigureAwait(false);
                onResult(result);
                progress.Done(result);
            }
        }
        var workers = new Task[limit];
        for (var w = 0; w < limit; w++) workers[w] = Worker();
        try { await Task.WhenAll(workers).ConfigureAwait(false); }
        finally { progress.Complete(); }
    }

    /// <summary>
    /// Progress of a fan-out, reported at most every 200 ms (and at the end): with hundreds of targets
    /// completing at once, a progress record per result would cost the pipeline thread more than the probes.
    /// </summary>
    private sealed class FanOutProgress(IOperationSink sink, int total)
    {
        private static readonly long Every = Stopwatch.Frequency / 5;
        private int _done;
        private long _lastReport = Stopwatch.GetTimestamp();

        public void Done(HealthResult result)
        {
            var n = Interlocked.Increment(ref _done);
            var now = Stopwatch.GetTimestamp();
            var last = Volatile.Read(ref _lastReport);
            if (n < total && now - last < Every) return;
            if (Interlocked.CompareExchange(ref _lastReport, now, last) != last) return;
            sink.Progress(new OperationProgress(3001, "Probing health endpoints",
                $"{n} of {total} done (last: {result.Uri} {(result.Healthy ? "healthy" : "unhealthy")})", n * 100 / total));
        }

        public void Complete() => sink.Progress(new OperationProgress(3001, "Probing health endpoints", "done", 100, Completed: true));
    }

    /// <summary>
    /// Probes every target each interval (the seeds' `watch -n 5 curl` and "monitor for 30 minutes"), handing
    /// each result over as it arrives, until the duration ends or the Until state holds for Consecutive rounds.
    /// </summary>
    public async Task<HealthWatchSummary> WatchAsync(IReadOnlyList<ProbeRequest> requests, WatchOptions options, Action<HealthResult> onResult, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        int rounds = 0, samples = 0, failures = 0, streak = 0;
        DateTimeOffset? firstFailure = null, lastFailure = null, outageStart = null;
        var longest = TimeSpan.Zero;
        var lastHealthy = false;
        string stop = "Duration";
        var consecutive = Math.Max(1, options.Consecutive);
        while (true)
        {
            var roundStart = clock.Elapsed;
            var roundAt = DateTimeOffset.UtcNow;
            var roundHealthy = true;
            await ProbeManyAsync(requests, options.ThrottleLimit, r =>
            {
                lock (requests)
                {
                    samples++;
                    if (!r.Healthy)
                    {
                        failures++;
                        roundHealthy = false;
                        firstFailure ??= r.Timestamp;
                        if (lastFailure is null || r.Timestamp > lastFailure) lastFailure = r.Timestamp;
                    }
                }
                onResult(r);
            }, cancellationToken).ConfigureAwait(false);
            rounds++;
            lastHealthy = roundHealthy;
            if (!roundHealthy) outageStart ??= roundAt;
            else if (outageStart is { } began)
            {
                longest = Max(longest, roundAt - began);
                outageStart = null;
            }
            var wanted = options.Until == WatchUntil.Healthy ? roundHealthy : !roundHealthy;
            streak = options.Until != WatchUntil.None && wanted ? streak + 1 : 0;

            var elapsed = clock.Elapsed;
            var remaining = options.Duration > TimeSpan.Zero ? options.Duration - elapsed : (TimeSpan?)null;
            sink.Progress(new OperationProgress(3002, "Watching service health",
                $"round {rounds}, {Clock(elapsed)} elapsed{(remaining is { } left && left > TimeSpan.Zero ? $", {Clock(left)} left" : "")}, last: {(roundHealthy ? "healthy" : "UNHEALTHY")}, {failures}/{samples} failed" +
                (options.Until != WatchUntil.None ? $", {streak}/{consecutive} {(options.Until == WatchUntil.Healthy ? "healthy" : "unhealthy")} in a row" : ""),
                options.Duration > TimeSpan.Zero ? (int)Math.Clamp(elapsed / options.Duration * 100, 0, 100) : -1,
                remaining is { } r2 ? (int)Math.Max(0, r2.TotalSeconds) : -1));

            if (options.Until != WatchUntil.None && streak >= consecutive) { stop = options.Until == WatchUntil.Healthy ? "UntilHealthy" : "UntilUnhealthy"; break; }
            var next = roundStart + options.Interval;
            if (options.Duration > TimeSpan.Zero && next >= options.Duration) { stop = "Duration"; break; }
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
        if (outageStart is { } open) longest = Max(longest, DateTimeOffset.UtcNow - open);
        sink.Progress(new OperationProgress(3002, "Watching service health", "done", 100, Completed: true));
        return new HealthWatchSummary
        {
            Uri = requests.Select(r => SecretRedactor.Redact(r.Uri.ToString())).Distinct().ToArray(), Rounds = rounds, Samples = samples, Failures = failures,
            FirstFailure = firstFailure, LastFailure = lastFailure, LongestOutage = longest, Healthy = lastHealthy, StopReason = stop,
            Started = started, Elapsed = clock.Elapsed,
        };
    }

    private static string Clock(TimeSpan t) => $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}";

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Probes one target (Count times when asked) and aggregates. Never throws for an unhealthy target.</summary>
    public async Task<HealthResult> ProbeAsync(ProbeRequest request, CancellationToken cancellationToken)
    {
        var count = Math.Max(1, request.Count);
        var attempts = new List<HealthResult>(count);
        for (var i = 0; i < count; i++)
        {
            if (i > 0 && request.Interval > TimeSpan.Zero) await Task.Delay(request.Interval, cancellationToken).ConfigureAwait(false);
            attempts.Add(await ProbeOnceAsync(request, cancellationToken).ConfigureAwait(false));
        }
        if (count == 1) return attempts[0];
        var last = attempts[^1];
        var totals = attempts.Select(a => a.TotalMs).Order().ToArray();
        var successes = attempts.Count(a => a.Healthy);
        var failures = attempts.Select((a, i) => (a, i)).Where(x => !x.a.Healthy).Select(x => $"#{x.i + 1} {x.a.Timestamp:HH:mm:ss.fff}: {x.a.Reason}").ToArray();
        return Clone(last, healthy: successes == count, reason: successes == count ? null : $"{count - successes} of {count} probes failed; last failure: {attempts.Last(a => !a.Healthy).Reason}",
            kind: successes == count ? HealthFailureKind.None : attempts.Last(a => !a.Healthy).FailureKind,
            samples: count, successes: successes, min: totals[0], p50: Percentile(totals, 0.50), p95: Percentile(totals, 0.95), max: totals[^1], failures: failures);
    }

    internal static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0) return 0;
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    private static HealthResult Clone(HealthResult r, bool healthy, string? reason, HealthFailureKind kind, int samples, int successes, double min, double p50, double p95, double max, string[] failures) => new()
    {
        Uri = r.Uri, Service = r.Service, Healthy = healthy, StatusCode = r.StatusCode, Reason = reason, FailureKind = kind, Method = r.Method,
        DnsMs = r.DnsMs, ConnectMs = r.ConnectMs, TlsMs = r.TlsMs, TimeToFirstByteMs = r.TimeToFirstByteMs, TotalMs = r.TotalMs,
        RedirectCount = r.RedirectCount, FinalUri = r.FinalUri, RemoteAddress = r.RemoteAddress, HttpVersion = r.HttpVersion, ContentType = r.ContentType,
        Headers = r.Headers, Body = r.Body, BodyText = r.BodyText, Components = r.Components, Certificate = r.Certificate, Conditions = r.Conditions,
        Samples = samples, Successes = successes, MinMs = min, P50Ms = p50, P95Ms = p95, MaxMs = max, Failures = failures, Timestamp = r.Timestamp, Error = r.Error,
    };

    // ---------------------------------------------------------------- one probe

    /// <summary>
    /// The trust of an endpoint's configured caCertificate (<paramref name="service"/>'s health entry for <paramref name="url"/>):
    /// a PEM file relative to the configuration file, or PEM text through env:/file:/secret:. HealthCaCertificateInvalid when
    /// it holds no certificate.
    /// </summary>
    public async Task<TlsTrust> TrustForAsync(IncidentOps.Config.ConfigValue ca, string? service, string url, CancellationToken cancellationToken)
    {
        // Stamped before the read: a file replaced while it is read is read again by the next probe, never kept stale.
        var stamp = TlsTrust.FileStamp.Of(TlsTrust.FileOf(ca, null));
        if (_configuredTrust.TryGetValue(ca, out var known) && known.Stamp == stamp) return known.Trust;
        if (references is null) throw new InvalidOperationException("This HealthService was built without a reference resolver; pass the trust in ProbeRequest.Trust.");
        var trust = await TlsTrust.FromConfigAsync(references, ca, null, $"the caCertificate of {service ?? "the"} health endpoint {SecretRedactor.Redact(url)}",
            HealthErrorIds.HealthCaCertificateInvalid, CaSigned, cancellationToken).ConfigureAwait(false);
        if (known.Trust is not null) sink.Verbose($"Read the caCertificate of {service ?? "the"} health endpoint {SecretRedactor.Redact(url)} again: its file changed since it was read.");
        _configuredTrust[ca] = (trust, stamp);
        return trust;
    }

    /// <summary>What the CA of a health endpoint signed, for HealthCaCertificateInvalid.</summary>
    public const string CaSigned = "the endpoint's certificate (your private CA's certificate, e.g. the ca.crt your internal PKI or cert-manager issuer hands out)";

    /// <summary>-CaCertificate: the CA file given on the command line, read once for every probe of the command.</summary>
    public static TlsTrust TrustFromFile(string path) =>
        TlsTrust.FromCa(path, $"-CaCertificate {path}", HealthErrorIds.HealthCaCertificateInvalid, CaSigned);

    private sealed class ProbeState
    {
        public TlsTrust? Trust;
        public double DnsMs, ConnectMs, TlsMs;
        public long ReadyAt;
        public string Phase = "connect";
        public string? RemoteAddress;
        public CertificateFacts? Certificate;
        public bool Connected;
        public string? TrustWhy;
    }

    private sealed class ProbePhaseException(HealthFailureKind kind, string message, Exception? inner) : Exception(message, inner)
    {
        public HealthFailureKind Kind { get; } = kind;
    }

    private static double Ms(long from, long to) => Math.Round((to - from) * 1000.0 / Stopwatch.Frequency, 3);

    private async Task<HealthResult> ProbeOnceAsync(ProbeRequest request, CancellationToken cancellationToken)
    {
        var result = await ProbeOnceCoreAsync(request, cancellationToken).ConfigureAwait(false);
        // The Reason is short and plain; the exception's own text is for -Verbose (and HealthResult.Error).
        if (!result.Healthy && result.Error is { Length: > 0 } error)
            sink.Verbose($"{result.Uri}: {result.Reason}; {SecretRedactor.Redact(error)}");
        return result;
    }

    private async Task<HealthResult> ProbeOnceCoreAsync(ProbeRequest request, CancellationToken cancellationToken)
    {
        var timestamp = DateTimeOffset.UtcNow;
        var state = new ProbeState();
        var start = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Timeout);
        var ct = timeout.Token;
        state.Trust = request.SkipCertificateCheck ? TlsTrust.SkipCheck() : request.Trust;
        if (state.Trust is null && request.CaCertificate is { } ca && request.Uri.Scheme == Uri.UriSchemeHttps)
        {
            // A CA that cannot be read is this endpoint's finding (the other endpoints of a fan-out or a watch still run).
            try { state.Trust = await TrustForAsync(ca, request.Service, request.Uri.ToString(), ct).ConfigureAwait(false); }
            catch (IncidentOpsException ex) when (ex.ErrorId == HealthErrorIds.HealthCaCertificateInvalid)
            {
                return Failed(request, timestamp, state, start, 0, 0, request.Uri, HealthFailureKind.TlsFailure, ex.Message, null, null);
            }
        }

        using var handler = CreateHandler(request, state);
        using var client = new HttpClient(handler, disposeHandler: false) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

        var uri = request.Uri;
        var method = new HttpMethod(request.Method.ToUpperInvariant());
        var redirects = 0;
        double ttfb = 0;
        HttpResponseMessage? response = null;
        try
        {
            while (true)
            {
                using var message = BuildRequest(request, method, uri);
                state.ReadyAt = Stopwatch.GetTimestamp();
                state.Phase = "connect";
                response?.Dispose();
                response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                ttfb += Ms(state.ReadyAt, Stopwatch.GetTimestamp());
                var code = (int)response.StatusCode;
                if (request.FollowRedirects && code is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (redirects >= request.MaxRedirects)
                        return Failed(request, timestamp, state, start, ttfb, redirects, uri, HealthFailureKind.ProtocolError,
                            $"More than {request.MaxRedirects} redirects (last to {location}).", null, code);
                    // Drain so the connection can be reused by the next hop, as a browser would.
                    state.Phase = "body";
                    await ReadBodyAsync(response, ct).ConfigureAwait(false);
                    uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    if (code is 301 or 302 or 303 && method != HttpMethod.Head) method = HttpMethod.Get;
                    redirects++;
                    continue;
                }
                break;
            }

            state.Phase = "body";
            var bytes = await ReadBodyAsync(response, ct).ConfigureAwait(false);
            var total = Ms(start, Stopwatch.GetTimestamp());
            return Complete(request, timestamp, state, total, ttfb, redirects, uri, response, bytes);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var where = state.Phase switch
            {
                "dns" => "resolving the host name",
                "connect" => state.Connected ? "waiting for the response headers" : "connecting",
                "tls" => "during the TLS handshake",
                "body" => "reading the response body",
                _ => "waiting for the response headers",
            };
            return Failed(request, timestamp, state, start, ttfb, redirects, uri, HealthFailureKind.Timeout,
                $"Timed out after {request.Timeout.TotalSeconds:0.###}s {where}.", null, (int?)response?.StatusCode);
        }
        catch (HttpRequestException ex)
        {
            var (kind, reason) = Classify(ex, state, uri);
            return Failed(request, timestamp, state, start, ttfb, redirects, uri, kind, reason, ex, null);
        }
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or InvalidOperationException)
        {
            var (kind, reason) = Classify(ex, state, uri);
            return Failed(request, timestamp, state, start, ttfb, redirects, uri, kind, reason, ex, (int?)response?.StatusCode);
        }
        finally
        {
            response?.Dispose();
        }
    }

    /// <summary>
    /// The failure kind and a short reason in plain words. The Target column already names host:port, so the reason does
    /// not; the exception's own text stays in HealthResult.Error (and -Verbose).
    /// </summary>
    private static (HealthFailureKind, string) Classify(Exception ex, ProbeState state, Uri uri)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is ProbePhaseException p) return (p.Kind, p.Message);
            if (e is AuthenticationException)
                return (HealthFailureKind.TlsFailure, TlsReason(state));
        }
        if (state.Phase == "tls") return (HealthFailureKind.TlsFailure, TlsReason(state));
        var error = Find<HttpRequestException>(ex)?.HttpRequestError;
        var reset = Find<SocketException>(ex) is { SocketErrorCode: SocketError.ConnectionReset } || Find<IOException>(ex)?.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset };
        var plain = uri.Scheme == Uri.UriSchemeHttp;
        // Short enough for the Reason column at 80 columns (28 characters). A plain-HTTP request to a TLS port is reset
        // or closed without a reply, as is one to a server of another protocol: "(TLS?)" names the likelier fix.
        if (reset) return (HealthFailureKind.ProtocolError, plain ? "no HTTP reply: reset (TLS?)" : "no HTTP reply: reset");
        return error switch
        {
            HttpRequestError.ResponseEnded => (HealthFailureKind.ProtocolError, plain ? "no HTTP reply: closed (TLS?)" : "no HTTP reply: closed"),
            HttpRequestError.InvalidResponse => (HealthFailureKind.ProtocolError, "not an HTTP server"),
            _ => (HealthFailureKind.ProtocolError, $"request failed after connecting: {Innermost(ex).Message}"),
        };
    }

    /// <summary>Why a TLS handshake failed, in words: no TLS at all (no certificate came back), or the certificate's faults.</summary>
    private static string TlsReason(ProbeState state) => state.Certificate switch
    {
        null => "no TLS (try http://)",
        // A CA was given and did not sign it (or the name is wrong): the CA check's own words name the CA.
        _ when state.Trust is { Skip: false } && state.TrustWhy is { } why => $"certificate rejected: {why}",
        { ValidationErrors.Length: > 0 } c => $"certificate rejected: {string.Join("; ", c.ValidationErrors.Select(PlainCertificateError))}. " +
            (c.ValidationErrors.Any(e => e.StartsWith("RemoteCertificateChainErrors", StringComparison.Ordinal)) ? UntrustedHint : "-SkipCertificateCheck probes anyway"),
        _ => "TLS handshake failed",
    };

    /// <summary>How to trust a private CA, at the end of an untrusted certificate's reason.</summary>
    internal const string UntrustedHint = "Pass its CA with -CaCertificate ca.pem (or caCertificate: in the health entry); -SkipCertificateCheck probes anyway";

    /// <summary>
    /// One validation error without the policy flag names: "RemoteCertificateChainErrors (UntrustedRoot: self-signed
    /// certificate)" reads "self-signed certificate", "RemoteCertificateNameMismatch: the certificate does not name 'x'"
    /// reads "the certificate does not name 'x'". Certificate.ValidationErrors keeps the full text.
    /// </summary>
    private static string PlainCertificateError(string error)
    {
        var chain = System.Text.RegularExpressions.Regex.Match(error, @"^RemoteCertificateChainErrors \((.+)\)$");
        if (chain.Success)
            return string.Join("; ", chain.Groups[1].Value.Split("; ").Select(x => System.Text.RegularExpressions.Regex.Replace(x, @"^[A-Za-z]+: ", "")));
        return System.Text.RegularExpressions.Regex.Replace(error, @"^RemoteCertificate[A-Za-z]+: ", "");
    }

    private static T? Find<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException) if (ex is T t) return t;
        return null;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex;
    }

    private SocketsHttpHandler CreateHandler(ProbeRequest request, ProbeState state)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        };
        handler.ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var port = context.DnsEndPoint.Port;
            IPAddress[] addresses;
            var t0 = Stopwatch.GetTimestamp();
            var literalHost = IPAddress.TryParse(host.Trim('[', ']'), out var literal);
            if (literalHost) addresses = [literal!];
            else
            {
                state.Phase = "dns";
                try { addresses = await LookupAsync(host, ct).ConfigureAwait(false); }
                catch (SocketException ex)
                {
                    throw new ProbePhaseException(HealthFailureKind.DnsFailure, ex.SocketErrorCode == SocketError.HostNotFound ? "DNS: host not found" : $"DNS lookup failed ({ex.SocketErrorCode})", ex);
                }
                if (addresses.Length == 0)
                    throw new ProbePhaseException(HealthFailureKind.DnsFailure, "DNS lookup returned no addresses", null);
            }
            var t1 = Stopwatch.GetTimestamp();
            if (!literalHost) state.DnsMs += Ms(t0, t1);
            state.Phase = "connect";
            // A socket of the target's family (a dual-mode one, which costs a setsockopt more, only for a mixed list).
            var socket = addresses.All(a => a.AddressFamily == addresses[0].AddressFamily)
                ? new Socket(addresses[0].AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
                : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, port, ct).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                var kind = ex.SocketErrorCode == SocketError.ConnectionRefused ? HealthFailureKind.ConnectionRefused : HealthFailureKind.ConnectionFailed;
                // "Connection refused" after "refused the connection" said it twice; a refusal means nothing listens there.
                // The Target column names host:port already; the reason says only what happened.
                var what = kind == HealthFailureKind.ConnectionRefused ? "connection refused" : $"could not connect ({ex.SocketErrorCode})";
                throw new ProbePhaseException(kind, what, ex);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            var t2 = Stopwatch.GetTimestamp();
            state.ConnectMs += Ms(t1, t2);
            state.ReadyAt = t2;
            state.Connected = true;
            state.RemoteAddress ??= FormatEndPoint(socket.RemoteEndPoint);
            if (context.InitialRequestMessage.RequestUri?.Scheme == Uri.UriSchemeHttps) state.Phase = "tls";
            else state.Phase = "request";
            return new NetworkStream(socket, ownsSocket: true);
        };
        handler.SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
            {
                var now = Stopwatch.GetTimestamp();
                state.TlsMs += Ms(state.ReadyAt, now);
                state.ReadyAt = now;
                state.Phase = "request";
                var host = (sender as SslStream)?.TargetHostName;
                // With a CA given, the chain is built again with that CA as its only anchor (TlsTrust); the host name is still checked.
                var accepted = TlsTrust.Check(state.Trust, certificate, chain, errors, out var why);
                state.TrustWhy = why;
                // Trusted through the given CA: the system's "untrusted root" is no validation error of this endpoint.
                var reported = accepted && state.Trust is { Skip: false } ? SslPolicyErrors.None : errors;
                if (certificate is not null)
                    state.Certificate ??= CertificateInspector.Describe(new X509Certificate2(certificate), chain, reported, host ?? "", null);
                return accepted;
            },
        };
        return handler;
    }

    /// <summary>Resolves a host name, joining a lookup of the same name already in flight.</summary>
    private Task<IPAddress[]> LookupAsync(string host, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_lookups.TryGetValue(host, out var pending)) return pending.WaitAsync(cancellationToken);
            var shared = new TaskCompletionSource<IPAddress[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_lookups.TryAdd(host, shared.Task)) continue;
            Interlocked.Increment(ref _lookupsStarted);
            _ = RunLookupAsync(host, shared);
            return shared.Task.WaitAsync(cancellationToken);
        }
    }

    private async Task RunLookupAsync(string host, TaskCompletionSource<IPAddress[]> shared)
    {
        IPAddress[]? addresses = null;
        Exception? error = null;
        using var limit = new CancellationTokenSource(LookupLimit);
        try { addresses = await Resolver(host, limit.Token).ConfigureAwait(false); }
        catch (Exception ex) { error = ex; }
        // Out of the table before anyone resumes, so a probe that starts after this one resolves afresh.
        _lookups.TryRemove(new KeyValuePair<string, Task<IPAddress[]>>(host, shared.Task));
        if (error is null) shared.SetResult(addresses!);
        else if (error is OperationCanceledException) shared.SetException(new SocketException((int)SocketError.TimedOut));
        else shared.SetException(error);
    }

    private static string? FormatEndPoint(EndPoint? ep) => ep switch
    {
        IPEndPoint ip when ip.Address.IsIPv4MappedToIPv6 => new IPEndPoint(ip.Address.MapToIPv4(), ip.Port).ToString(),
        null => null,
        _ => ep.ToString(),
    };

    private static HttpRequestMessage BuildRequest(ProbeRequest request, HttpMethod method, Uri uri)
    {
        var message = new HttpRequestMessage(method, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        string? contentType = null;
        foreach (var (name, value) in request.Headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) { contentType = value; continue; }
            message.Headers.TryAddWithoutValidation(name, value);
        }
        if (!message.Headers.Contains("User-Agent")) message.Headers.TryAddWithoutValidation("User-Agent", "IncidentOps/Test-ServiceHealth");
        if (request.Body is not null && method != HttpMethod.Get && method != HttpMethod.Head)
        {
            var content = new StringContent(request.Body, Encoding.UTF8);
            var trimmed = request.Body.TrimStart();
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? (trimmed.StartsWith('{') || trimmed.StartsWith('[') ? "application/json" : "text/plain; charset=utf-8"));
            message.Content = content;
        }
        return message;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                // Health bodies are small; beyond the cap we stop reading rather than buffer a download.
                var room = MaxBodyBytes - (int)buffer.Length;
                buffer.Write(chunk, 0, Math.Min(read, room));
                if (buffer.Length >= MaxBodyBytes) break;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(chunk); }
        return buffer.ToArray();
    }

    private static HealthResult Failed(ProbeRequest request, DateTimeOffset timestamp, ProbeState state, long start, double ttfb, int redirects, Uri uri,
        HealthFailureKind kind, string reason, Exception? ex, int? status) => new()
    {
        Uri = SecretRedactor.Redact(request.Uri.ToString()), Service = request.Service, Healthy = false, StatusCode = status, Reason = reason, FailureKind = kind,
        Method = request.Method.ToUpperInvariant(), DnsMs = state.DnsMs, ConnectMs = state.ConnectMs, TlsMs = state.TlsMs, TimeToFirstByteMs = ttfb,
        TotalMs = Ms(start, Stopwatch.GetTimestamp()), RedirectCount = redirects, FinalUri = SecretRedactor.Redact(uri.ToString()), RemoteAddress = state.RemoteAddress,
        Certificate = state.Certificate, Timestamp = timestamp, Error = ex is null ? null : Innermost(ex).Message,
        Successes = 0, MinMs = 0, Failures = [reason],
    };

    private static HealthResult Complete(ProbeRequest request, DateTimeOffset timestamp, ProbeState state, double total, double ttfb, int redirects, Uri uri,
        HttpResponseMessage response, byte[] bytes)
    {
        var code = (int)response.StatusCode;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in response.Headers) headers[h.Key] = string.Join(", ", h.Value);
        foreach (var h in response.Content.Headers) headers[h.Key] = string.Join(", ", h.Value);
        var contentType = response.Content.Headers.ContentType?.MediaType;
        var text = Encoding.UTF8.GetString(bytes);
        JsonElement? json = TryParseJson(text, contentType);
        var body = json is { } j ? JsonToObject(j) : null;
        var components = json is { } root ? HealthComponents.Extract(root) : [];

        var context = new ConditionContext(code, total, text, json, headers, state.Certificate, true);
        var conditions = request.Conditions.Select(c => c.Evaluate(context)).ToList();

        HealthFailureKind kind = HealthFailureKind.None;
        string? reason = null;
        var statusOk = request.ExpectStatus is { Length: > 0 } expected ? expected.Contains(code) : code is >= 200 and < 300;
        if (!statusOk)
        {
            kind = HealthFailureKind.UnexpectedStatus;
            var want = request.ExpectStatus is { Length: > 0 } e ? string.Join(" or ", e) : "2xx";
            reason = $"Status {code} {response.ReasonPhrase}, expected {want}.";
        }
        else if (conditions.FirstOrDefault(c => !c.Success) is { } failed)
        {
            kind = HealthFailureKind.ConditionFailed;
            var all = conditions.Where(c => !c.Success).Select(c => $"{c.Condition} (actual: {c.Actual ?? "null"})");
            reason = $"Condition failed: {string.Join("; ", all)}.";
        }

        return new HealthResult
        {
            Uri = SecretRedactor.Redact(request.Uri.ToString()), Service = request.Service, Healthy = kind == HealthFailureKind.None, StatusCode = code, Reason = reason, FailureKind = kind,
            Method = request.Method.ToUpperInvariant(), DnsMs = state.DnsMs, ConnectMs = state.ConnectMs, TlsMs = state.TlsMs, TimeToFirstByteMs = ttfb, TotalMs = total,
            RedirectCount = redirects, FinalUri = SecretRedactor.Redact(uri.ToString()), RemoteAddress = state.RemoteAddress, HttpVersion = response.Version.ToString(),
            ContentType = contentType, Headers = headers, Body = body, BodyText = text.Length > MaxBodyText ? text[..MaxBodyText] : text,
            Components = components, Certificate = state.Certificate, Conditions = conditions, Timestamp = timestamp,
            Successes = kind == HealthFailureKind.None ? 1 : 0, MinMs = total, P50Ms = total, P95Ms = total, MaxMs = total,
            Failures = reason is null ? [] : [reason],
        };
    }

    private static JsonElement? TryParseJson(string text, string? contentType)
    {
        var t = text.AsSpan().TrimStart();
        var looksJson = contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true || (t.Length > 0 && (t[0] == '{' || t[0] == '['));
        if (!looksJson) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException) { return null; }
    }

    /// <summary>JSON as hashtables (case-insensitive, like PowerShell's ConvertFrom-Json -AsHashtable) and arrays.</summary>
    internal static object? JsonToObject(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => ToTable(e),
        JsonValueKind.Array => e.EnumerateArray().Select(JsonToObject).ToArray(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static Hashtable ToTable(JsonElement e)
    {
        var table = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var p in e.EnumerateObject()) table[p.Name] = JsonToObject(p.Value);
        return table;
    }
}
