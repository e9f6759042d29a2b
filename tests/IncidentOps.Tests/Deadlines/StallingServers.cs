using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IncidentOps.Tests.Deadlines;

/// <summary>
/// A TCP proxy on loopback in front of a real server (PostgreSQL, Redis). It forwards both ways until the
/// server's reply contains <c>stallOn</c>; from then on it forwards only the first half of that chunk and
/// nothing more on that connection, keeping both sockets open: a server (or a network path) that stops
/// answering in the middle of a reply. Other connections (a cancel request) are forwarded normally.
/// </summary>
public sealed class StallingProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly List<IDisposable> _open = [];
    private readonly byte[] _stallOn;
    private int _stalls;

    public StallingProxy(string targetHost, int targetPort, string stallOn)
    {
        _stallOn = Encoding.UTF8.GetBytes(stallOn);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            try
            {
                while (!_cts.IsCancellationRequested)
                {
                    var client = await _listener.AcceptTcpClientAsync(_cts.Token);
                    var server = new TcpClient();
                    await server.ConnectAsync(targetHost, targetPort, _cts.Token);
                    lock (_open) { _open.Add(client); _open.Add(server); }
                    _ = Pipe(client.GetStream(), server.GetStream(), watch: false);
                    _ = Pipe(server.GetStream(), client.GetStream(), watch: true);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { /* shutting down */ }
        });
    }

    public int Port { get; }

    /// <summary>How many replies were stalled so far.</summary>
    public int Stalls => Volatile.Read(ref _stalls);

    private async Task Pipe(NetworkStream from, NetworkStream to, bool watch)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer, _cts.Token);
                if (n == 0) { to.Socket.Shutdown(SocketShutdown.Send); return; }
                if (watch && buffer.AsSpan(0, n).IndexOf(_stallOn) >= 0)
                {
                    await to.WriteAsync(buffer.AsMemory(0, Math.Max(1, n / 2)), _cts.Token);
                    Interlocked.Increment(ref _stalls);
                    // Stop forwarding, but keep reading so the server is never blocked and nothing is closed.
                    while (await from.ReadAsync(buffer, _cts.Token) > 0) { }
                    await Task.Delay(Timeout.Infinite, _cts.Token);
                    return;
                }
                await to.WriteAsync(buffer.AsMemory(0, n), _cts.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException) { /* closed */ }
    }

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
        lock (_open) foreach (var c in _open) c.Dispose();
        _cts.Dispose();
    }
}

/// <summary>A UDP socket on loopback that receives DNS queries and never answers.</summary>
public sealed class SilentUdpServer : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _cts = new();
    private readonly List<int> _types = [];

    public SilentUdpServer()
    {
        Port = ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var datagram = await _udp.ReceiveAsync(_cts.Token);
                    var type = QueryType(datagram.Buffer);
                    lock (_types) _types.Add(type);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { /* shutting down */ }
        });
    }

    public int Port { get; }
    public int Queries { get { lock (_types) return _types.Count; } }

    /// <summary>The QTYPE of each query received, in order (1 = A, 28 = AAAA; -1 for a packet that is not a query).</summary>
    public IReadOnlyList<int> QueryTypes { get { lock (_types) return [.. _types]; } }

    /// <summary>The QTYPE of a DNS query: after the 12-byte header, the question's name (labels up to a zero byte).</summary>
    internal static int QueryType(byte[] packet)
    {
        var i = 12;
        while (i < packet.Length && packet[i] != 0) i += packet[i] + 1;
        return i + 2 < packet.Length ? (packet[i + 1] << 8) | packet[i + 2] : -1;
    }

    public void Dispose()
    {
        _cts.Cancel();
        _udp.Dispose();
        _cts.Dispose();
    }
}
