using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IncidentOps.Tests.Actions;

/// <summary>A request the stub received, as the service would see it.</summary>
public sealed record ReceivedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener) standing in for a team's own API: it records every request exactly
/// and answers with the status and body a test sets, or never answers (Hang) to exercise deadlines and Ctrl+C.
/// </summary>
public sealed class ActionHttpStub : IDisposable
{
    private readonly HttpListener _listener;
    private readonly List<ReceivedRequest> _requests = [];
    private readonly CancellationTokenSource _stop = new();

    public ActionHttpStub(int status = 200, string body = "{\"stopped\":true}")
    {
        Status = status;
        Body = body;
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            // A listener whose Start failed (the port was taken between the probe and the start) is disposed by it: each
            // attempt needs a listener of its own (reusing it threw ObjectDisposedException at Prefixes).
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try { listener.Start(); _listener = listener; break; }
            catch (HttpListenerException) when (attempt < 5) { listener.Close(); }
        }
        _ = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public int Status { get; set; }
    public string Body { get; set; }
    /// <summary>Accept requests but never answer them.</summary>
    public bool Hang { get; set; }

    public IReadOnlyList<ReceivedRequest> Requests { get { lock (_requests) return _requests.ToList(); } }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        string body;
        using (var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8)) body = await reader.ReadToEndAsync();
        var headers = ctx.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => ctx.Request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
        lock (_requests) _requests.Add(new ReceivedRequest(ctx.Request.HttpMethod, ctx.Request.RawUrl ?? "", headers, body));
        if (Hang)
        {
            try { await Task.Delay(Timeout.Infinite, _stop.Token); } catch (OperationCanceledException) { }
            try { ctx.Response.Abort(); } catch (Exception) { }
            return;
        }
        try
        {
            ctx.Response.StatusCode = Status;
            var bytes = Encoding.UTF8.GetBytes(Body);
            ctx.Response.ContentType = "application/json";
            await ctx.Response.OutputStream.WriteAsync(bytes);
            ctx.Response.Close();
        }
        catch (Exception) { /* the client went away */ }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try { _listener.Stop(); _listener.Close(); } catch (Exception) { }
    }
}
