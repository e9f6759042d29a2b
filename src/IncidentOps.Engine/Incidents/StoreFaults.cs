using IncidentOps.Incidents;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Names the file-system faults a store write can meet, so the user is told what is wrong at once:
/// StoreDiskFull (no space or quota) and StoreReadOnly (read-only mount, or a folder this user cannot write).
/// Neither is retried: waiting does not free space or remount a disk.
/// </summary>
public static class StoreFaults
{
    public const string DiskFull = "StoreDiskFull";
    public const string ReadOnly = "StoreReadOnly";

    /// <summary>The store error for <paramref name="ex"/> while writing <paramref name="path"/>, or null when it is not a known fault.</summary>
    public static IncidentOpsException? Translate(Exception ex, string path)
    {
        switch (ex)
        {
            case UnauthorizedAccessException:
                return ReadOnlyError(path, "permission denied", ex);
            case IOException io when IsDiskFull(io):
                return new IncidentOpsException(DiskFull, IncidentOpsErrorCategory.WriteError,
                    $"The incident store is full: writing '{path}' failed (no space left on device). Nothing was recorded by this call and the store " +
                    $"is unchanged. Free space on the file system that holds '{Folder(path)}' (df -h '{Folder(path)}'), or move the store " +
                    "(store.path in incidentops.yml, or $env:INCIDENTOPS_DATA), then run the command again.", ex) { TargetObject = path };
            case IOException io when IsReadOnlyFileSystem(io):
                return ReadOnlyError(path, "read-only file system", ex);
            default:
                return null;
        }
    }

    private static IncidentOpsException ReadOnlyError(string path, string reason, Exception ex) =>
        new(ReadOnly, IncidentOpsErrorCategory.PermissionDenied,
            $"The incident store is read-only: writing '{path}' failed ({reason}). Nothing was recorded by this call. Remount the file system " +
            $"read-write, give this user write access to '{Folder(path)}', or point the store at a writable folder (store.path in incidentops.yml, " +
            "or $env:INCIDENTOPS_DATA).", ex) { TargetObject = path };

    private static string Folder(string path) => Path.GetDirectoryName(path) ?? path;

    // On Unix .NET puts the errno in HResult; on Windows it is 0x8007xxxx with the Win32 error code.
    private static bool IsDiskFull(IOException io)
    {
        if (OperatingSystem.IsWindows()) return (io.HResult & 0xFFFF) is 112 /* ERROR_DISK_FULL */ or 39 /* ERROR_HANDLE_DISK_FULL */;
        var edquot = OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 69 : 122;
        return io.HResult == 28 /* ENOSPC */ || io.HResult == edquot
            || io.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
            || io.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsReadOnlyFileSystem(IOException io)
    {
        if (OperatingSystem.IsWindows()) return (io.HResult & 0xFFFF) is 19 /* ERROR_WRITE_PROTECT */;
        return io.HResult == 30 /* EROFS */ || io.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// This machine's name as it appears in temp file names: its host name (letters, digits, '-' and '.', at most 40
    /// characters: a temp name must stay within the file system's 255) and, on Linux, its pid namespace.
    /// </summary>
    public static string MachineTag { get; } = Tag(HostName(), 40) + PidNamespace();

    /// <summary>
    /// Containers that share a host name (--uts=host) but not their pids are told apart by their pid namespace: a pid is
    /// only checked where it means the same process.
    /// </summary>
    private static string PidNamespace()
    {
        if (!OperatingSystem.IsLinux()) return "";
        try
        {
            var link = new FileInfo("/proc/self/ns/pid").LinkTarget; // pid:[4026531836]
            var digits = string.Concat((link ?? "").Where(char.IsAsciiDigit));
            return digits.Length == 0 ? "" : "-pid" + digits;
        }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    private static string HostName()
    {
        // The full host name (Environment.MachineName may stop at the first dot): web1.a and web1.b are two machines.
        try { return System.Net.Dns.GetHostName(); }
        catch (System.Net.Sockets.SocketException) { return System.Environment.MachineName; }
    }

    internal static string Tag(string host, int max)
    {
        var tag = string.Concat(host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-')).Trim('.');
        if (tag.Length > max) tag = tag[..max].TrimEnd('.');
        return tag.Length == 0 ? "unknown" : tag;
    }

    /// <summary>
    /// A temp file name beside <paramref name="path"/>: name.PID@HOST.GUID.tmp. The host says whose the pid is: a store on a
    /// shared folder (NFS, SMB) is written by several machines, and a pid means nothing on another one.
    /// </summary>
    public static string TempPath(string path) => $"{path}.{System.Environment.ProcessId}@{MachineTag}.{Guid.NewGuid():N}.tmp";

    /// <summary>
    /// Removes temp files that a killed writer left in <paramref name="folder"/>. One of this machine (name.PID@HOST.GUID.tmp)
    /// goes when its process no longer runs; any other (another machine's, whose pid cannot be checked here, or one named
    /// name.PID.GUID.tmp by an earlier version, which does not say whose it is) only once it is older than an hour: it may be
    /// a write in flight on another machine of a shared store. Never fails the write that calls it.
    /// </summary>
    public static void RemoveStaleTempFiles(string folder) => RemoveStaleTempFiles(folder, DateTime.UtcNow.AddHours(-1));

    internal static void RemoveStaleTempFiles(string folder, DateTime olderThan)
    {
        try
        {
            if (!Directory.Exists(folder)) return;
            foreach (var file in Directory.EnumerateFiles(folder, "*.tmp"))
            {
                var name = Path.GetFileName(file);
                var m = System.Text.RegularExpressions.Regex.Match(name, @"\.(\d+)(?:@([A-Za-z0-9.-]+))?\.[0-9a-f]{32}\.tmp$");
                if (!m.Success || !int.TryParse(m.Groups[1].Value, out var pid)) continue;
                var ours = m.Groups[2].Success && string.Equals(m.Groups[2].Value, MachineTag, StringComparison.OrdinalIgnoreCase);
                if (ours && pid == System.Environment.ProcessId) continue; // ours: possibly a write in flight on another thread
                var stale = (ours && !IsRunning(pid)) || File.GetLastWriteTimeUtc(file) < olderThan;
                if (!stale) continue;
                try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static bool IsRunning(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
