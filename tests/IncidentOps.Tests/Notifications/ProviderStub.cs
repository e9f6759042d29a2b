using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IncidentOps.Tests.Notifications;

/// <summary>A request the stub received.</summary>
public sealed record CapturedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A provider stand-in on 127.0.0.1: a minimal HTTP/1.1 server over TcpListener (one request per
/// connection), so it can also drop a connection with a real TCP reset. It captures every request and
/// answers from a scripted queue; once the script is used up it answers the default.
/// </summary>
public sealed class ProviderStub : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Func<Socket, CapturedRequest, Task>> _script = [];
    private readonly List<CapturedRequest> _requests = [];
    private readonly CancellationTokenSource _stop = new();

    public ProviderStub(int defaultStatus = 200, string defaultBody = "ok")
    {
        DefaultStatus = defaultStatus;
        DefaultBody = defaultBody;
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _ = Task.Run(LoopAsync);
    }

    public string BaseUrl { get; }
    public int DefaultStatus { get; set; }
    public string DefaultBody { get; set; }

    /// <summary>What the provider was sent, in order (reads answered by <see cref="Lookup"/> are in <see cref="Lookups"/> instead).</summary>
    public IReadOnlyList<CapturedRequest> Requests { get { lock (_requests) return _requests.ToList(); } }

    private readonly List<CapturedRequest> _lookups = [];

    /// <summary>The status reads <see cref="Lookup"/> answered (Opsgenie's Get Request Status after each 202), in order.</summary>
    public IReadOnlyList<CapturedRequest> Lookups { get { lock (_lookups) return _lookups.ToList(); } }

    /// <summary>
    /// Answers read-only status checks before the script (they never consume a scripted step, and are kept apart from
    /// <see cref="Requests"/>); null passes the request on.
    /// </summary>
    public Func<CapturedRequest, (int Status, string Body)?>? Lookup { get; set; }

    /// <summary>Answers every <paramref name="method"/> request whose path starts with <paramref name="pathPrefix"/> as a <see cref="Lookup"/> (callable from PowerShell).</summary>
    public ProviderStub AnswerLookups(string method, string pathPrefix, int status, string body)
    {
        Lookup = r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal) ? (status, body) : null;
        return this;
    }

    /// <summary>Answers requests the script does not (a stateful provider stand-in); null falls back to the default.</summary>
    public Func<CapturedRequest, (int Status, string Body)?>? Handler { get; set; }

    /// <summary>Which requests consume scripted steps (default: all); the others go to the handler or the default.</summary>
    public Func<CapturedRequest, bool> ScriptApplies { get; set; } = _ => true;

    /// <summary>Only requests with this HTTP method consume scripted steps (for scripts written without delegates).</summary>
    public ProviderStub ScriptOnlyFor(string method)
    {
        ScriptApplies = r => r.Method == method;
        return this;
    }

    private void Enqueue(Func<Socket, CapturedRequest, Task> step) { lock (_script) _script.Add(step); }

    /// <summary>One scripted answer; PowerShell cannot bind Then's params array of tuples, so scripts call this.</summary>
    public ProviderStub ThenAnswer(int status, string body) => Then(status, body);

    public ProviderStub Then(int status, string body = "", params (string Name, string Value)[] headers)
    {
        Enqueue((socket, _) => AnswerAsync(socket, status, body, headers));
        return this;
    }

    /// <summary>Lets the handler act on the request (the provider received it), then never answers: a send cut off mid-request.</summary>
    public ProviderStub ThenHandleAndHang()
    {
        Enqueue(async (socket, request) =>
        {
            Handler?.Invoke(request);
            try { await Task.Delay(Timeout.Infinite, _stop.Token); }
            catch (OperationCanceledException) { socket.Close(); }
        });
        return this;
    }

    /// <summary>Lets the handler act on the request (the provider processed it), then answers with an error anyway (a gateway's 502 after the work was done).</summary>
    public ProviderStub ThenHandleAndAnswer(int status, string body = "")
    {
        Enqueue((socket, request) => { Handler?.Invoke(request); return AnswerAsync(socket, status, body, []); });
        return this;
    }

    /// <summary>
    /// Holds the request (the provider has not acted on it yet: a slow provider) and says so through <paramref name="reached"/>;
    /// once <paramref name="release"/> completes, lets the handler act on it and answers with the handler's answer.
    /// </summary>
    public ProviderStub ThenHoldThenHandle(TaskCompletionSource reached, Task release)
    {
        Enqueue(async (socket, request) =>
        {
            reached.TrySetResult();
            try { await release.WaitAsync(_stop.Token); }
            catch (OperationCanceledException) { socket.Close(); return; }
            var answer = Handler?.Invoke(request);
            await AnswerAsync(socket, answer?.Status ?? DefaultStatus, answer?.Body ?? DefaultBody, [("Content-Type", "application/json")]);
        });
        return this;
    }

    /// <summary>
    /// Holds the request (says so through <paramref name="reached"/>) until <paramref name="release"/> completes, then answers
    /// <paramref name="status"/> without letting the handler act on it (a slow provider that then failed).
    /// </summary>
    public ProviderStub ThenHoldThenAnswer(TaskCompletionSource reached, Task release, int status, string body = "")
    {
        Enqueue(async (socket, _) =>
        {
            reached.TrySetResult();
            try { await release.WaitAsync(_stop.Token); }
            catch (OperationCanceledException) { socket.Close(); return; }
            await AnswerAsync(socket, status, body, []);
        });
        return this;
    }

    /// <summary>Runs <paramref name="act"/> when the request arrives (the provider has it), then answers.</summary>
    public ProviderStub ThenActAndAnswer(Action act, int status, string body)
    {
        Enqueue(async (socket, _) => { act(); await AnswerAsync(socket, status, body, []); });
        return this;
    }

    /// <summary>
    /// Takes a store's folder away (moved aside, a file of the same name in its place: no write below it succeeds, even as
    /// root), as when a store's folder is removed or its disk unmounted; <see cref="BringFolderBack"/> undoes it.
    /// </summary>
    public static Action TakeFolderAway(string path) => () =>
    {
        Directory.Move(path, path + ".away");
        File.WriteAllText(path, "taken away by the test");
    };

    public static void BringFolderBack(string path)
    {
        File.Delete(path);
        Directory.Move(path + ".away", path);
    }

    /// <summary>Drops the connection with a TCP reset instead of answering.</summary>
    public ProviderStub ThenReset()
    {
        Enqueue((socket, _) => { socket.LingerState = new LingerOption(true, 0); socket.Close(); return Task.CompletedTask; });
        return this;
    }

    /// <summary>Never answers (until disposed), to test timeouts and Ctrl+C.</summary>
    public ProviderStub ThenHang()
    {
        Enqueue(async (socket, _) =>
        {
            try { await Task.Delay(Timeout.Infinite, _stop.Token); }
            catch (OperationCanceledException) { socket.Close(); }
        });
        return this;
    }

    private async Task AnswerAsync(Socket socket, int status, string body, (string Name, string Value)[] headers)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var sb = new StringBuilder($"HTTP/1.1 {status} {(status == 420 ? "Enhance Your Calm" : ((HttpStatusCode)status).ToString())}\r\n");
        foreach (var (n, v) in headers) sb.Append($"{n}: {v}\r\n");
        if (!headers.Any(h => h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))) sb.Append("Content-Type: text/plain\r\n");
        sb.Append($"Content-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(sb.ToString()).Concat(bytes).ToArray(), SocketFlags.None);
        socket.Shutdown(SocketShutdown.Both);
        socket.Close();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException) { return; }
            _ = Task.Run(() => HandleAsync(socket));
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        try
        {
            var buffer = new List<byte>();
            var chunk = new byte[8192];
            int headerEnd;
            while ((headerEnd = IndexOf(buffer, "\r\n\r\n"u8.ToArray())) < 0)
            {
                var n = await socket.ReceiveAsync(chunk, SocketFlags.None);
                if (n == 0) { socket.Close(); return; }
                buffer.AddRange(chunk.Take(n));
            }
            var head = Encoding.ASCII.GetString(buffer.Take(headerEnd).ToArray()).Split("\r\n");
            var parts = head[0].Split(' ');
            var headers = head.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
                .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.OrdinalIgnoreCase);
            var length = headers.TryGetValue("Content-Length", out var cl) ? int.Parse(cl) : 0;
            while (buffer.Count < headerEnd + 4 + length)
            {
                var n = await socket.ReceiveAsync(chunk, SocketFlags.None);
                if (n == 0) break;
                buffer.AddRange(chunk.Take(n));
            }
            var body = Encoding.UTF8.GetString(buffer.Skip(headerEnd + 4).Take(length).ToArray());
            var target = parts[1];
            var q = target.IndexOf('?');
            var request = new CapturedRequest(parts[0], q < 0 ? target : target[..q], q < 0 ? "" : target[q..], headers, body);
            if (Lookup?.Invoke(request) is { } looked)
            {
                lock (_lookups) _lookups.Add(request);
                await AnswerAsync(socket, looked.Status, looked.Body, [("Content-Type", "application/json")]);
                return;
            }
            lock (_requests) _requests.Add(request);
            Func<Socket, CapturedRequest, Task>? step = null;
            if (ScriptApplies(request))
                lock (_script) if (_script.Count > 0) { step = _script[0]; _script.RemoveAt(0); }
            if (step is not null) await step(socket, request);
            else if (Handler?.Invoke(request) is { } answer) await AnswerAsync(socket, answer.Status, answer.Body, [("Content-Type", "application/json")]);
            else await AnswerAsync(socket, DefaultStatus, DefaultBody, []);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // The client went away (a timeout or Ctrl+C under test): nothing to answer.
            socket.Dispose();
        }
    }

    private static int IndexOf(List<byte> data, byte[] pattern)
    {
        for (var i = 0; i + pattern.Length <= data.Count; i++)
        {
            var match = true;
            for (var j = 0; j < pattern.Length && match; j++) match = data[i + j] == pattern[j];
            if (match) return i;
        }
        return -1;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
