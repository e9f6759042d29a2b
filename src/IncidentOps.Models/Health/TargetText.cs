namespace IncidentOps.Health;

/// <summary>
/// The Target column of Test-ServiceHealth's default view: the service, host[:port] and path, shortened in the middle
/// (an ellipsis) so that a long URL never wraps mid-path and always shows the two parts that tell endpoints apart: the
/// host and the last path segment. The object keeps the full Uri.
/// </summary>
public static class TargetText
{
    /// <summary>The column's width in the default view.</summary>
    public const int ColumnWidth = 26;

    private const string Ellipsis = "…";

    /// <summary>
    /// One line when "[service ]host/path" fits <paramref name="width"/>; otherwise lines the table shows one under the
    /// other: the service, then host/path, host/…/tail or, for a long host, the host and the path each on a line of its
    /// own. A path keeps as many of its last segments as fit; a host longer than the column keeps its start and its end.
    /// </summary>
    public static string Format(string? service, string? uri, int width = ColumnWidth)
    {
        width = Math.Max(width, 8);
        var text = uri ?? "";
        string host, path;
        if (Uri.TryCreate(text, UriKind.Absolute, out var u) && !string.IsNullOrEmpty(u.Host)) { host = u.Authority; path = u.PathAndQuery; }
        else { host = text; path = ""; }
        if (path == "/") path = "";
        var whole = (string.IsNullOrEmpty(service) ? "" : service + " ") + host + path;
        if (whole.Length <= width) return whole;
        var lines = new List<string>();
        if (!string.IsNullOrEmpty(service)) lines.Add(service);
        if (host.Length + path.Length <= width) lines.Add(host + path);
        else if (path.Length > 0 && width - host.Length >= 6) lines.Add(host + Tail(path, width - host.Length));
        else
        {
            lines.Add(host.Length <= width ? host : ShortHost(host, width));
            if (path.Length > 0) lines.Add(Tail(path, width));
        }
        return string.Join("\n", lines);
    }

    /// <summary>A host longer than the column: its start, an ellipsis, and its last labels (domain and port) that fit two thirds of it.</summary>
    private static string ShortHost(string host, int width)
    {
        var end = "";
        for (var i = host.Length - 1; i > 0; i--)
            if (host[i] == '.' && host.Length - i - 1 <= width * 2 / 3) end = host[(i + 1)..];
        if (end.Length == 0) end = host[^(width - width / 2)..];
        return host[..(width - 1 - end.Length)] + Ellipsis + end;
    }

    /// <summary>The path in at most <paramref name="room"/> characters: whole, or /…/ and its last segments that fit, or /… and the end of the last.</summary>
    private static string Tail(string path, int room)
    {
        if (path.Length <= room) return path;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var tail = "";
        for (var i = segments.Length - 1; i >= 0; i--)
        {
            var next = "/" + segments[i] + tail;
            if (next.Length + 2 > room) break;
            tail = next;
        }
        if (tail.Length > 0) return "/" + Ellipsis + tail;
        var last = segments.Length > 0 ? segments[^1] : path;
        return "/" + Ellipsis + last[^Math.Max(1, room - 2)..];
    }
}
