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
    /// Removes temp files (name.PID.GUID.tmp) that a killed writer left in <paramref name="folder"/>: those of processes
    /// that no longer run, and any older than an hour (a pid can be reused). Never fails the write that calls it.
    /// </summary>
    public static void RemoveStaleTempFiles(string folder)
    {
        try
        {
            if (!Directory.Exists(folder)) return;
            foreach (var file in Directory.EnumerateFiles(folder, "*.tmp"))
            {
                var name = Path.GetFileName(file);
                var m = System.Text.RegularExpressions.Regex.Match(name, @"\.(\d+)\.[0-9a-f]{32}\.tmp$");
                if (!m.Success || !int.TryParse(m.Groups[1].Value, out var pid)) continue;
                if (pid == System.Environment.ProcessId) continue; // ours: possibly a write in flight on another thread
                var stale = !IsRunning(pid) || File.GetLastWriteTimeUtc(file) < DateTime.UtcNow.AddHours(-1);
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
