namespace IncidentOps.Commands;

/// <summary>Short results for the "read" timeline entries of -Record ("12 backends (3 active, 9 idle)").</summary>
internal static class ReadSummary
{
    public static string Count(int n, string noun, string? plural = null) => $"{n} {(n == 1 ? noun : plural ?? noun + "s")}";

    /// <summary>" (3 active, 9 idle)": counts per value, largest first; empty for no values.</summary>
    public static string Groups(IEnumerable<string> values)
    {
        var groups = values.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}").ToList();
        return groups.Count == 0 ? "" : $" ({string.Join(", ", groups)})";
    }
}
