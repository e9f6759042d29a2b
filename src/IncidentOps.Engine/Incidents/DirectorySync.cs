using System.Runtime.InteropServices;

namespace IncidentOps.Engine.Incidents;

/// <summary>
/// Makes a file's name durable, not only its bytes: on Linux (and other Unix systems) a file that was just created or
/// renamed is found after a crash only once its directory's entry is on disk, which flushing the file does not do
/// (ext4 without data=ordered, XFS, btrfs). Windows (NTFS journals the entry) has no directory handle to flush: a no-op.
/// </summary>
internal static class DirectorySync
{
    /// <summary>fsyncs <paramref name="directory"/>; a failure is ignored (a file system that cannot sync a directory, a folder gone).</summary>
    public static void Sync(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try { _ = fsync(fd); }
        finally { _ = close(fd); }
    }

    /// <summary>fsyncs the folder of <paramref name="file"/>.</summary>
    public static void SyncParentOf(string file) => Sync(Path.GetDirectoryName(Path.GetFullPath(file))!);

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code enabled in this assembly; three calls do not justify that.
    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
#pragma warning restore SYSLIB1054
}
