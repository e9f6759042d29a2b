using System.Globalization;
using System.Net;

namespace IncidentOps.Engine.Tunnels;

/// <summary>Who holds the listening socket that a connection to 127.0.0.1:port would reach.</summary>
internal enum ListenerOwner
{
    /// <summary>Nothing listens there yet.</summary>
    None,
    /// <summary>Every socket that would take the connection belongs to the tunnel process or one of its children.</summary>
    Tunnel,
    /// <summary>A socket that would take the connection belongs to another process.</summary>
    Other,
    /// <summary>This system cannot tell (not Linux, /proc not readable, a child whose fds cannot be read).</summary>
    Unknown,
}

/// <summary>
/// Linux: finds the LISTEN sockets for 127.0.0.1:port in /proc/net/tcp and /proc/net/tcp6 (the ones a connection to
/// 127.0.0.1:port reaches: bound to 127.0.0.1 or ::ffff:127.0.0.1, or else to a wildcard address) and checks that each
/// socket's inode is an open fd of the tunnel's process tree (/proc/PID/fd -> socket:[inode]). A port that another
/// process listens on is never taken for the tunnel's, whatever the CLI printed or how it exited.
/// </summary>
internal static class ListenerOwnership
{
    private const string Listen = "0A";

    public static ListenerOwner Check(int port, int rootPid)
    {
        if (!OperatingSystem.IsLinux()) return ListenerOwner.Unknown;
        List<(bool Exact, long Inode)> sockets;
        try
        {
            sockets = Listeners("/proc/net/tcp", port, v6: false).Concat(Listeners("/proc/net/tcp6", port, v6: true)).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return ListenerOwner.Unknown; }
        // The kernel hands a connection to 127.0.0.1:port to a socket bound to that address before a wildcard one.
        var relevant = sockets.Any(s => s.Exact) ? sockets.Where(s => s.Exact).ToList() : sockets;
        if (relevant.Count == 0) return ListenerOwner.None;
        var (owned, complete) = SocketInodes(rootPid);
        if (relevant.All(s => owned.Contains(s.Inode))) return ListenerOwner.Tunnel;
        // A socket not among the fds read: another process's, unless some fds of the tree could not be read.
        return complete ? ListenerOwner.Other : ListenerOwner.Unknown;
    }

    /// <summary>The LISTEN sockets on port whose address covers 127.0.0.1 (Exact: bound to it, not to a wildcard).</summary>
    private static IEnumerable<(bool Exact, long Inode)> Listeners(string table, int port, bool v6)
    {
        if (!File.Exists(table)) yield break;
        foreach (var line in File.ReadLines(table).Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 10 || f[3] != Listen) continue;
            var colon = f[1].IndexOf(':');
            if (colon < 0 || !int.TryParse(f[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var p) || p != port) continue;
            if (!long.TryParse(f[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode) || inode == 0) continue;
            var address = Address(f[1][..colon]);
            if (address is null) continue;
            if (v6 && address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            if (address.Equals(IPAddress.Loopback)) yield return (true, inode);
            else if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) yield return (false, inode);
        }
    }

    /// <summary>The kernel prints each 32-bit word of the address in host byte order, as %08X.</summary>
    private static IPAddress? Address(string hex)
    {
        if (hex.Length is not (8 or 32)) return null;
        var bytes = new byte[hex.Length / 2];
        for (var i = 0; i < hex.Length / 8; i++)
        {
            if (!uint.TryParse(hex.AsSpan(i * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var word)) return null;
            BitConverter.GetBytes(word).CopyTo(bytes, i * 4);
        }
        return new IPAddress(bytes);
    }

    /// <summary>The socket inodes open in the process and its descendants; complete is false when some fds could not be read.</summary>
    private static (HashSet<long> Inodes, bool Complete) SocketInodes(int rootPid)
    {
        var inodes = new HashSet<long>();
        var complete = true;
        foreach (var pid in Tree(rootPid))
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd"))
                {
                    string? target;
                    try { target = new FileInfo(fd).LinkTarget; }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }   // closed meanwhile
                    if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && target.EndsWith(']')
                        && long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
                        inodes.Add(inode);
                }
            }
            catch (DirectoryNotFoundException) { /* exited meanwhile */ }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { complete = false; }
        }
        return (inodes, complete);
    }

    /// <summary>The process and every descendant (by the parent pid in /proc/PID/stat).</summary>
    private static List<int> Tree(int rootPid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }
            // pid (comm) state ppid ...; comm may hold spaces and parentheses, so read after the last ')'.
            var rest = stat.AsSpan(stat.LastIndexOf(')') + 1).Trim();
            var parts = rest.ToString().Split(' ', 3);
            if (parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid))
            {
                if (!children.TryGetValue(ppid, out var list)) children[ppid] = list = [];
                list.Add(pid);
            }
        }
        var tree = new List<int> { rootPid };
        for (var i = 0; i < tree.Count; i++)
            if (children.TryGetValue(tree[i], out var kids))
                foreach (var k in kids)
                    if (!tree.Contains(k)) tree.Add(k);
        return tree;
    }
}
