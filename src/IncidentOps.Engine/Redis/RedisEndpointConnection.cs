using System.Diagnostics;
using StackExchange.Redis;

namespace IncidentOps.Engine.Redis;

/// <summary>
/// The adapter: one StackExchange.Redis connection to one endpoint. Every call is bounded by the
/// timeout and the caller's token; a Redis that is down or refusing fails fast with a clear reason.
/// </summary>
internal sealed class RedisEndpointConnection : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _mux;
    private readonly TimeSpan _timeout;

    private RedisEndpointConnection(ConnectionMultiplexer mux, string endpoint, TimeSpan timeout, IServer server)
    {
        _mux = mux;
        Endpoint = endpoint;
        _timeout = timeout;
        Server = server;
    }

    public string Endpoint { get; }
    public IServer Server { get; }

    /// <summary>
    /// The server's answer to the password given, when it refused it although the connection works (it needs none, so
    /// the session runs as the default user); null when the password was accepted or none was given.
    /// </summary>
    public string? PasswordRefused { get; private set; }

    /// <summary>What the connection's owner says about <see cref="PasswordRefused"/>: short enough for Test-RedisConnection's Reason column.</summary>
    public const string PasswordNotNeeded = "password refused: none needed";

    private async Task<string?> RefusedPasswordAsync(string? user, string password, CancellationToken cancellationToken)
    {
        try
        {
            object[] args = string.IsNullOrEmpty(user) ? [password] : [user, password];
            await Server.ExecuteAsync("AUTH", args).WaitAsync(OperationDeadline.Cap(_timeout, OperationDeadline.Margin), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (RedisServerException ex) { return SecretRedactor.Redact(ex.Message); }
        catch (Exception ex) when (ex is RedisException or TimeoutException) { return null; }
    }

    /// <summary>
    /// Connects with AbortOnConnectFail=false (so one bad attempt does not throw away the reason) and
    /// then checks the connection, so a refused port, a timeout or a wrong password each come back as
    /// <see cref="RedisUnavailableException"/> with the reason, within the timeout.
    /// </summary>
    public static async Task<RedisEndpointConnection> OpenAsync(RedisConnectionSettings settings, string host, int port, TimeSpan timeout,
        bool allowAdmin, CancellationToken cancellationToken, string? display = null)
    {
        // Through a tunnel, host:port is the loopback end; results and messages name the configured endpoint.
        var endpoint = display ?? RedisConnectionSettings.FormatEndpoint(host, port);
        var options = settings.ToOptions(host, port, timeout, allowAdmin);
        var log = new StringWriter();
        string? failure = null;
        ConnectionFailureType failureType = ConnectionFailureType.None;
        Task<ConnectionMultiplexer> connect;
        try { connect = ConnectionMultiplexer.ConnectAsync(options, log); }
        catch (RedisConnectionException ex) { throw Unavailable(endpoint, ex.FailureType, ex.Message, ex); }
        // StackExchange.Redis retries a refused port until its connect timeout, so a Redis that is down could cost the
        // whole -TimeoutSec (5 s by default) and then read "no answer". A plain TCP connect beside it answers "refused"
        // at once (redis-cli's answer); when the port is open it costs nothing.
        using var probeStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var refused = RefusedAsync(host, port, probeStop.Token);
        // With TLS, a plain Redis on the port never answers the handshake, and the connect would wait out the whole
        // timeout as "no answer". When the client's TLS connect has not finished within half a second (so a healthy TLS
        // server never sees more), a TLS hello of our own asks the port: a TLS server answers it in TLS, and a plain Redis
        // answers it in RESP, because that hello carries a line end (LineEndClientHello). Nothing but TLS is ever sent to a
        // rediss:// port: a port that accepted TCP and says nothing (a blocked or very slow TLS server) gets no plain text.
        var early = EarlyFindingAsync(refused, settings.Ssl ? PlainRedisLaterAsync(options.SslHost ?? host, host, port, TimeSpan.FromMilliseconds(500), probeStop.Token) : null);
        try
        {
            ConnectionMultiplexer mux;
            try
            {
                // ConnectAsync takes no token: bound it ourselves, and dispose a late multiplexer when it arrives.
                // Within the command's deadline, leaving a moment to report "cannot connect" (Test-RedisConnection's answer).
                var wait = connect.WaitAsync(OperationDeadline.Cap(timeout + TimeSpan.FromMilliseconds(500), OperationDeadline.Margin), cancellationToken);
                if (await FirstFindingAsync(wait, early).ConfigureAwait(false) is { } foundwait)
                {
                    DisposeWhenDone(connect);
                    throw foundwait == RefusedReason ? Refused(endpoint) : Unavailable(endpoint, ConnectionFailureType.UnableToConnect, foundwait, null);
                }
                mux = await wait.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                DisposeWhenDone(connect);
                cancellationToken.ThrowIfCancellationRequested();
                throw Unavailable(endpoint, ConnectionFailureType.UnableToConnect, $"no answer within {timeout.TotalSeconds:0.#} s", ex);
            }
            catch (RedisConnectionException ex)
            {
                var diagnosed = await DiagnoseAsync(settings.Ssl, options.SslHost ?? host, host, port, timeout, cancellationToken, settings.Trust).ConfigureAwait(false);
                throw diagnosed is null ? Unavailable(endpoint, ex.FailureType, ex.Message, ex) : Unavailable(endpoint, ConnectionFailureType.UnableToConnect, diagnosed, ex, ex.Message);
            }

            var server = mux.GetServer(host, port);
            if (mux.IsConnected && server.IsConnected)
            {
                var connected = new RedisEndpointConnection(mux, endpoint, timeout, server);
                // The client goes on when its AUTH is refused by a server that needs no password (redis-cli warns "AUTH
                // failed"): ask once more, so a wrong or needless password is said rather than read as "reachable".
                if (!string.IsNullOrEmpty(options.Password))
                    connected.PasswordRefused = await connected.RefusedPasswordAsync(options.User, options.Password, cancellationToken).ConfigureAwait(false);
                return connected;
            }
            try
            {
                // Ask once so the multiplexer tells us why (it throws with the failure type of the last attempt),
                // unless the probe has the answer first.
                var ping = mux.GetDatabase().PingAsync().WaitAsync(OperationDeadline.Cap(timeout, OperationDeadline.Margin), cancellationToken);
                if (await FirstFindingAsync(ping, early).ConfigureAwait(false) is { } foundping)
                {
                    _ = ping.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                    throw foundping == RefusedReason ? Refused(endpoint) : Unavailable(endpoint, ConnectionFailureType.UnableToConnect, foundping, null);
                }
                await ping.ConfigureAwait(false);
            }
            catch (RedisConnectionException ex) { failureType = ex.FailureType; failure = Describe(ex); }
            catch (Exception ex) when (ex is TimeoutException or RedisTimeoutException) { failureType = ConnectionFailureType.UnableToConnect; failure = $"no answer within {timeout.TotalSeconds:0.#} s"; }
            catch (RedisServerException ex)
            {
                failure = ex.Message;
                if (ex.Message.Contains("NOAUTH", StringComparison.Ordinal) || ex.Message.Contains("WRONGPASS", StringComparison.Ordinal))
                    failureType = ConnectionFailureType.AuthenticationFailure;
            }
            finally
            {
                // Disposing a multiplexer that never connected can block; it must not hold the answer past the deadline.
                _ = Task.Run(mux.Dispose, CancellationToken.None);
            }
            var logText = log.ToString();
            if (logText.Contains("WRONGPASS", StringComparison.Ordinal) || logText.Contains("NOAUTH", StringComparison.Ordinal) || logText.Contains("AuthenticationFailure", StringComparison.Ordinal))
                failureType = ConnectionFailureType.AuthenticationFailure;
            cancellationToken.ThrowIfCancellationRequested();
            if (failureType == ConnectionFailureType.AuthenticationFailure)
                failure = AuthenticationDetail(failure, logText, !string.IsNullOrEmpty(options.Password));
            // The client library's text for a TLS or protocol mismatch is its own state dump ("UnableToResolvePhysicalConnection:
            // Connection reset by peer", "No connection is active/available ... IOCP: ..."), and differs from one attempt to the
            // next; an untrusted certificate even reads as an authentication failure. A short look at the port itself says
            // which it is in plain words; the library's text stays in Detail and -Verbose.
            // A plain Redis spoken to in TLS says nothing at all (it waits for the end of a command line), so with TLS a
            // silence is looked at too; without TLS a silent port stays "no answer".
            if (failure is not (WrongPassword or PasswordMissing) && (settings.Ssl || !(failure?.StartsWith("no answer", StringComparison.Ordinal) ?? false))
                && await DiagnoseAsync(settings.Ssl, options.SslHost ?? host, host, port, timeout, cancellationToken, settings.Trust).ConfigureAwait(false) is { } plain)
                throw Unavailable(endpoint, ConnectionFailureType.UnableToConnect, plain, null, failure);
            throw Unavailable(endpoint, failureType, failure ?? "the connection could not be established", null);
        }
        finally { probeStop.Cancel(); }
    }

    /// <summary>The early probes' finding (connection refused, or a plain Redis behind a TLS URL) when it comes before <paramref name="call"/> ends; otherwise null and the caller awaits the call.</summary>
    private static async Task<string?> FirstFindingAsync(Task call, Task<string?> early) =>
        await Task.WhenAny(call, early).ConfigureAwait(false) == early ? await early.ConfigureAwait(false) : null;

    private static async Task<string?> EarlyFindingAsync(Task<bool> refused, Task<bool?>? plainRedis)
    {
        if (await refused.ConfigureAwait(false)) return RefusedReason;
        return plainRedis is not null && await plainRedis.ConfigureAwait(false) is true ? NoTls : null;
    }

    /// <summary>The probe after <paramref name="after"/> (see OpenAsync): true when a plain Redis answers; null when cancelled, TLS or unknown.</summary>
    private static async Task<bool?> PlainRedisLaterAsync(string sslHost, string host, int port, TimeSpan after, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(after, cancellationToken).ConfigureAwait(false);
            return await PlainRespUnlessTlsAsync(sslHost, host, port, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException or IOException) { return null; }
    }

    /// <summary>
    /// The line-end TLS hello (<see cref="LineEndHelloAsync"/>): true when a plain Redis answers it in RESP, null when the
    /// port answers in TLS, says nothing for <paramref name="silence"/> (or ten TCP round trips, whichever is longer), or
    /// anything else. Sends nothing but a TLS record.
    /// </summary>
    private static async Task<bool?> PlainRespUnlessTlsAsync(string sslHost, string host, int port, TimeSpan silence, CancellationToken cancellationToken) =>
        await LineEndHelloAsync(sslHost, host, port, silence, cancellationToken).ConfigureAwait(false) == TlsAnswer.Resp ? true : null;

    /// <summary>
    /// A TCP connection of a probe's own, and a token that ends when nothing came back within <paramref name="silence"/> or ten
    /// times the connect's round trip, whichever is longer (never with an infinite silence), or on <paramref name="cancellationToken"/>.
    /// </summary>
    private static async Task<(System.Net.Sockets.TcpClient Client, CancellationTokenSource Quiet)> ConnectQuietAsync(string host, int port, TimeSpan silence, CancellationToken cancellationToken)
    {
        var client = new System.Net.Sockets.TcpClient();
        try
        {
            var connectStart = Stopwatch.GetTimestamp();
            await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (silence != Timeout.InfiniteTimeSpan)
            {
                var roundTrips = Stopwatch.GetElapsedTime(connectStart) * 10;
                quiet.CancelAfter(roundTrips > silence ? roundTrips : silence);
            }
            return (client, quiet);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a TLS ClientHello of its own whose record header holds a line end and says what came back. A TLS server
    /// answers it with a handshake record or an alert, like any hello. A plain Redis reads the bytes up to the line end as
    /// an inline command and answers with a RESP error, so it is told apart from a TLS server that is slow or blocked
    /// without a byte of plain text to a port the user said speaks TLS.
    /// </summary>
    private static async Task<TlsAnswer> LineEndHelloAsync(string sslHost, string host, int port, TimeSpan silence, CancellationToken cancellationToken)
    {
        var (client, quiet) = await ConnectQuietAsync(host, port, silence, cancellationToken).ConfigureAwait(false);
        using var connection = client;
        using var silenceLimit = quiet;
        var stream = client.GetStream();
        var buffer = new byte[1];
        try
        {
            await stream.WriteAsync(LineEndClientHello(sslHost), quiet.Token).ConfigureAwait(false);
            var read = await stream.ReadAsync(buffer, quiet.Token).ConfigureAwait(false);
            return read == 0 ? TlsAnswer.Closed : buffer[0] switch
            {
                0x16 => TlsAnswer.Handshake,
                0x15 => TlsAnswer.Alert,
                (byte)'+' or (byte)'-' or (byte)'$' or (byte)'*' or (byte)':' or (byte)'%' or (byte)'>' or (byte)'_' => TlsAnswer.Resp,
                _ => TlsAnswer.Other,
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return TlsAnswer.Silent; }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException) { return TlsAnswer.Closed; }
    }

    /// <summary>
    /// A TLS 1.2 ClientHello record (TLS 1.2 and 1.3 servers answer it: ServerHello, HelloRetryRequest or an alert) padded
    /// (RFC 7685) to a record length of 0x0A20 bytes, so its fourth byte is a line feed ('\n') with no NUL before it: Redis
    /// looks for the end of an inline command with strchr, which a NUL would stop. SNI is sent for a host name, as SslStream does.
    /// </summary>
    internal static byte[] LineEndClientHello(string sni)
    {
        static void U16(List<byte> b, int v) { b.Add((byte)(v >> 8)); b.Add((byte)v); }
        var extensions = new List<byte>();
        if (Uri.CheckHostName(sni) == UriHostNameType.Dns)
        {
            var name = System.Text.Encoding.ASCII.GetBytes(sni);
            U16(extensions, 0x0000); U16(extensions, name.Length + 5); U16(extensions, name.Length + 3); extensions.Add(0); U16(extensions, name.Length); extensions.AddRange(name);
        }
        int[] groups = [0x001d, 0x0017, 0x0018];
        U16(extensions, 0x000a); U16(extensions, groups.Length * 2 + 2); U16(extensions, groups.Length * 2); foreach (var g in groups) U16(extensions, g);
        U16(extensions, 0x000b); U16(extensions, 2); extensions.Add(1); extensions.Add(0);
        int[] signatures = [0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601];
        U16(extensions, 0x000d); U16(extensions, signatures.Length * 2 + 2); U16(extensions, signatures.Length * 2); foreach (var s in signatures) U16(extensions, s);
        var hello = new List<byte> { 0x03, 0x03 };
        var random = new byte[32];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        hello.AddRange(random);
        hello.Add(0); // no session id
        int[] suites = [0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x009d, 0x002f, 0x0035];
        U16(hello, suites.Length * 2); foreach (var c in suites) U16(hello, c);
        hello.Add(1); hello.Add(0); // null compression only
        const int RecordLength = 0x0A20;
        // What the hello holds so far, its extension list's length, the padding extension's header, the handshake header.
        var padding = RecordLength - (hello.Count + 2 + extensions.Count + 4 + 4);
        U16(extensions, 0x0015); U16(extensions, padding); extensions.AddRange(new byte[padding]);
        U16(hello, extensions.Count); hello.AddRange(extensions);
        var record = new List<byte> { 0x16, 0x03, 0x01 };
        U16(record, hello.Count + 4);
        record.Add(0x01); // ClientHello
        record.Add((byte)(hello.Count >> 16)); U16(record, hello.Count & 0xffff);
        record.AddRange(hello);
        return [.. record];
    }

    private static RedisUnavailableException Refused(string endpoint) =>
        Unavailable(endpoint, ConnectionFailureType.UnableToConnect, RefusedReason, null);

    private const string RefusedReason = "connection refused: nothing listens on that port";

    private static void DisposeWhenDone(Task<ConnectionMultiplexer> connect) =>
        _ = connect.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, TaskScheduler.Default);

    /// <summary>True when every address of host:port refuses a TCP connection; false when one accepts or the answer is anything else.</summary>
    private static async Task<bool> RefusedAsync(string host, int port, CancellationToken cancellationToken)
    {
        try
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            return false;
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused) { return true; }
        catch (Exception) { return false; }
    }

    private static string Describe(RedisConnectionException ex)
    {
        var inner = ex.InnerException;
        while (inner?.InnerException is not null) inner = inner.InnerException;
        if (inner is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused }) return RefusedReason;
        return inner is null ? ex.Message : $"{ex.FailureType}: {inner.Message}";
    }

    /// <summary>
    /// What a refused login means, in the user's terms: the client library's text ("UnableToResolvePhysicalConnection:
    /// SimpleError: NOAUTH Authentication required. Verify if the Redis password provided is correct. Attempted
    /// command: ECHO") reads the same for a missing and a wrong password. With a password given, NOAUTH follows a
    /// refused AUTH, so both mean the password (or user) is wrong.
    /// </summary>
    internal static string? AuthenticationDetail(string? detail, string log, bool passwordGiven)
    {
        bool Says(string code) => (detail?.Contains(code, StringComparison.Ordinal) ?? false) || log.Contains(code, StringComparison.Ordinal);
        if (Says("WRONGPASS") || (passwordGiven && Says("NOAUTH"))) return WrongPassword;
        if (Says("NOAUTH")) return PasswordMissing;
        return detail;
    }

    internal const string WrongPassword = "wrong user name or password";
    internal const string PasswordMissing = "the server requires a password and none was given (NOAUTH)";

    internal const string TlsExpected = "TLS expected by server (use rediss://)";
    internal const string NoTls = "server does not speak TLS (use redis://)";
    internal const string NotRedis = "not a Redis server";

    /// <summary>
    /// Why a port that accepted the TCP connection is no Redis this client can talk to, in plain words, or null when it
    /// cannot tell (it answers RESP, or says nothing within the limit): a TLS server spoken to in plain text, a plain
    /// server spoken to in TLS, a certificate the client does not trust, or another kind of server altogether.
    /// </summary>
    internal static async Task<string?> DiagnoseAsync(bool ssl, string sslHost, string host, int port, TimeSpan timeout, CancellationToken cancellationToken, TlsTrust? trust = null)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var limitSpan = OperationDeadline.Cap(TimeSpan.FromMilliseconds(Math.Min(1500, Math.Max(300, timeout.TotalMilliseconds / 2))), OperationDeadline.Margin);
        limit.CancelAfter(limitSpan);
        try
        {
            if (ssl)
            {
                // TLS first: a port the URL says speaks TLS gets plain text only when it did not answer TLS.
                var tls = await TlsProbeAsync(sslHost, host, port, trust, pingOverTls: true, limitSpan / 2, limit.Token).ConfigureAwait(false);
                switch (tls.Answer)
                {
                    case TlsAnswer.Handshake:
                        if (tls.CertificateErrors is { } errors) return $"{CertificateNotTrusted} ({errors}){(trust is null ? CertificateHint : "")}";
                        return tls.Resp ? null : NotRedis + " (TLS works, but no Redis reply)";
                    case TlsAnswer.Alert: return null;
                    case TlsAnswer.Resp: return NoTls;
                    case TlsAnswer.Other or TlsAnswer.Closed: return NotRedis + " (and no TLS)";
                }
                // Silent: a plain Redis waits for a line end that SslStream's hello may not hold; the line-end hello has one.
                // No plain text: a TLS server that is merely slow or blocked must not get a PING in clear.
                return await LineEndHelloAsync(sslHost, host, port, limitSpan / 2, limit.Token).ConfigureAwait(false) switch
                {
                    TlsAnswer.Resp => NoTls,
                    TlsAnswer.Other => NotRedis + " (and no TLS)",
                    _ => null,
                };
            }
            // A plain PING first: a TLS server never answers it in RESP, and a plain Redis answers at once.
            var plain = await PlainRespAsync(host, port, limit.Token).ConfigureAwait(false);
            if (plain is true) return null;
            if ((await TlsProbeAsync(sslHost, host, port, null, pingOverTls: false, Timeout.InfiniteTimeSpan, limit.Token).ConfigureAwait(false)).Answer == TlsAnswer.Handshake) return TlsExpected;
            return plain is false ? NotRedis : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return null; }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused) { return RefusedReason; }
    }

    internal const string CertificateNotTrusted = "TLS certificate not trusted";
    /// <summary>Appended to the reason when no CA was given: the one thing to do about it.</summary>
    internal const string CertificateHint = "; pass its CA with -CaCertificate";

    /// <summary>True when the port answers PING in RESP, false when it answers something else or closes, null when it says nothing in time.</summary>
    private static async Task<bool?> PlainRespAsync(string host, int port, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            // A refused port goes up to DiagnoseAsync ("connection refused"), not taken for "not a Redis server".
            await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            return await ReadsRespAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException { SocketErrorCode: not System.Net.Sockets.SocketError.ConnectionRefused } or IOException) { return false; }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return null; }
    }

    private static async Task<bool?> ReadsRespAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[1];
        try
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            // RESP replies start with a type byte: +PONG, -NOAUTH ..., and RESP3's others.
            return read == 1 && buffer[0] is (byte)'+' or (byte)'-' or (byte)'$' or (byte)'*' or (byte)':' or (byte)'%' or (byte)'>' or (byte)'_';
        }
        catch (OperationCanceledException) { return null; }
    }

    /// <summary>What a port said to a TLS client hello: completed the handshake, refused it with a TLS alert, answered in RESP (a plain Redis), answered something else, closed, or (timed out) said nothing.</summary>
    private enum TlsAnswer { Silent, Handshake, Alert, Resp, Other, Closed }

    /// <summary>
    /// Starts a TLS handshake on a connection of its own and says what came back; with a completed handshake, the
    /// certificate's errors under <paramref name="trust"/> (null when accepted) and, with <paramref name="pingOverTls"/>,
    /// whether PING over it gets a RESP reply. Sends nothing but TLS. Silent: nothing came back within
    /// <paramref name="silence"/> or ten times the TCP connect's round trip, whichever is longer.
    /// </summary>
    private static async Task<(TlsAnswer Answer, string? CertificateErrors, bool Resp)> TlsProbeAsync(string sslHost, string host, int port, TlsTrust? trust,
        bool pingOverTls, TimeSpan silence, CancellationToken cancellationToken)
    {
        var (client, quiet) = await ConnectQuietAsync(host, port, silence, cancellationToken).ConfigureAwait(false);
        using var connection = client;
        using var silenceLimit = quiet;
        var recorder = new FirstByteStream(client.GetStream());
        string? errors = null;
        await using var ssl = new System.Net.Security.SslStream(recorder, false, (_, certificate, chain, policy) =>
        {
            var accepted = TlsTrust.Check(trust, certificate, chain, policy, out var why);
            if (!accepted) errors = why;
            return true;   // only looking: whether the port speaks TLS at all, and what the client would object to
        });
        var options = new System.Net.Security.SslClientAuthenticationOptions { TargetHost = sslHost };
        try { await ssl.AuthenticateAsClientAsync(options, quiet.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return (TlsAnswer.Silent, null, false); }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException or System.Net.Sockets.SocketException)
        {
            return (recorder.First switch
            {
                < 0 => TlsAnswer.Closed,
                0x15 or 0x16 => TlsAnswer.Alert,
                (byte)'+' or (byte)'-' or (byte)'$' or (byte)'*' or (byte)':' or (byte)'%' or (byte)'>' or (byte)'_' => TlsAnswer.Resp,
                _ => TlsAnswer.Other,
            }, null, false);
        }
        if (!pingOverTls) return (TlsAnswer.Handshake, errors, false);
        try
        {
            await ssl.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            return (TlsAnswer.Handshake, errors, await ReadsRespAsync(ssl, cancellationToken).ConfigureAwait(false) is true);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException) { return (TlsAnswer.Handshake, errors, false); }
    }

    /// <summary>Passes a connection's bytes through, keeping the first byte the server sent (what a failed handshake got back).</summary>
    private sealed class FirstByteStream(Stream inner) : Stream
    {
        public int First { get; private set; } = -1;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => Note(buffer.AsMemory(offset), inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Note(buffer, await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

        private int Note(Memory<byte> buffer, int read)
        {
            if (First < 0 && read > 0) First = buffer.Span[0];
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }

    private static RedisUnavailableException Unavailable(string endpoint, ConnectionFailureType type, string detail, Exception? inner, string? libraryText = null)
    {
        var reason = type switch
        {
            ConnectionFailureType.AuthenticationFailure when detail is WrongPassword or PasswordMissing => $"authentication failed: {detail}",
            ConnectionFailureType.AuthenticationFailure => $"authentication failed ({detail})",
            // "connection refused" says it cannot connect; the short form keeps Test-RedisConnection's Reason to a line or two.
            _ when detail == RefusedReason => RefusedReason,
            _ when detail is TlsExpected or NoTls || detail.StartsWith(NotRedis, StringComparison.Ordinal) || detail.StartsWith(CertificateNotTrusted, StringComparison.Ordinal) => detail,
            ConnectionFailureType.UnableToResolvePhysicalConnection or ConnectionFailureType.UnableToConnect or ConnectionFailureType.SocketFailure
                => $"cannot connect ({detail})",
            _ => detail,
        };
        return new RedisUnavailableException(endpoint, type == ConnectionFailureType.AuthenticationFailure, SecretRedactor.Redact(reason), inner)
        {
            Detail = libraryText is null ? (reason.Contains(detail, StringComparison.Ordinal) ? null : SecretRedactor.Redact(detail)) : SecretRedactor.Redact(libraryText),
        };
    }

    /// <summary>Runs one command, bounded by the timeout and the token, mapping client exceptions to engine errors.</summary>
    public async Task<T> RunAsync<T>(string what, Func<IServer, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            // When the command's deadline comes first, its token ends the wait (OperationTimeout); otherwise this
            // command's own limit does (RedisTimeout: one call timed out).
            var limit = _timeout + TimeSpan.FromMilliseconds(250);
            return await call(Server).WaitAsync(OperationDeadline.Bounds(limit) ? Timeout.InfiniteTimeSpan : limit, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or RedisTimeoutException)
        {
            throw new IncidentOpsException(RedisErrorIds.RedisTimeout, IncidentOpsErrorCategory.OperationTimeout,
                $"{what} on {Endpoint} did not answer within {_timeout.TotalSeconds:0.#} s. Raise -TimeoutSec if the server is known to be busy.", ex);
        }
        catch (RedisConnectionException ex)
        {
            throw new IncidentOpsException(RedisErrorIds.RedisConnectionFailed, IncidentOpsErrorCategory.ConnectionError,
                $"{what} on {Endpoint} failed: the connection was lost ({SecretRedactor.Redact(ex.Message)}).", ex);
        }
        catch (RedisServerException ex)
        {
            throw new IncidentOpsException(RedisErrorIds.RedisCommandFailed, IncidentOpsErrorCategory.InvalidOperation,
                $"{what} on {Endpoint} was refused by the server: {SecretRedactor.Redact(ex.Message)}", ex);
        }
        catch (RedisCommandException ex)
        {
            throw new IncidentOpsException(RedisErrorIds.RedisCommandFailed, IncidentOpsErrorCategory.InvalidOperation,
                $"{what} on {Endpoint} could not be sent: {SecretRedactor.Redact(ex.Message)}", ex);
        }
    }

    /// <summary>One PING round trip, measured on a monotonic clock.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await RunAsync("PING", s => s.PingAsync(), cancellationToken).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>Any command by name (its reply as text), bounded like every other.</summary>
    public Task<string> ExecuteAsync(string command, object[] args, CancellationToken cancellationToken) =>
        RunAsync(command, async s => (await s.ExecuteAsync(command, args).ConfigureAwait(false)).ToString() ?? "", cancellationToken);

    public Task<string> InfoRawAsync(string section, CancellationToken cancellationToken) =>
        RunAsync($"INFO {section}", async s => await s.InfoRawAsync(section).ConfigureAwait(false) ?? "", cancellationToken);

    /// <summary>
    /// Closes the connection without waiting on a server that stopped answering: disposing a multiplexer with a
    /// stalled reply can block, and that must not hold the command past its deadline or Ctrl+C.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var dispose = Task.Run(() => _mux.Dispose());
        await Task.WhenAny(dispose, Task.Delay(TimeSpan.FromMilliseconds(200))).ConfigureAwait(false);
    }
}

/// <summary>The endpoint could not be reached (refused, timed out, TLS or authentication failure).</summary>
public sealed class RedisUnavailableException(string endpoint, bool authentication, string reason, Exception? inner)
    : IncidentOpsException(authentication ? RedisErrorIds.RedisAuthenticationFailed : RedisErrorIds.RedisConnectionFailed,
        authentication ? IncidentOpsErrorCategory.AuthenticationError : IncidentOpsErrorCategory.ConnectionError,
        $"Redis at {endpoint} is unreachable: {reason}. " + (authentication
            ? "Check the password (-Credential, or the user:password part of the URL)."
            : reason.StartsWith(RedisEndpointConnection.CertificateNotTrusted, StringComparison.Ordinal)
                ? "Trust the CA that signed it: pass -CaCertificate <ca.pem>, or set caCertificate: (a PEM file, or env:/file:/secret:) beside url: under the service's redis: in incidentops.yml; -SkipCertificateCheck connects without checking the certificate."
                : "Check that the server runs and the host, port and TLS setting (rediss://) are right; raise -TimeoutSec for a slow link."), inner)
{
    public string Endpoint { get; } = endpoint;
    public string Reason { get; } = reason;
    /// <summary>The client library's own text for the failure, when Reason puts it in other words.</summary>
    public string? Detail { get; init; }
}
