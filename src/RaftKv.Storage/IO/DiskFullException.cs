namespace RaftKv.Storage.IO;

/// <summary>
/// A write failed because the file system is out of space (ENOSPC, or ERROR_DISK_FULL on Windows):
/// creating a file, appending, or writing buffered data before an fsync. Unlike other I/O errors it is
/// recoverable: the data being written was not made durable, nothing before it was lost, and the same
/// write may succeed once space is freed. Raised by <see cref="PhysicalFileSystem"/> (and by test file
/// systems); callers decide whether to retry. ENOSPC from fsync <i>itself</i> is not this: it is a
/// <see cref="FsyncFailedException"/>, fatal (<see cref="FailStopFileSystem"/>).
/// </summary>
public sealed class DiskFullException : IOException
{
    private const int Enospc = 28;               // Linux errno
    private const int WinDiskFull = 0x70;        // ERROR_DISK_FULL
    private const int WinHandleDiskFull = 0x27;  // ERROR_HANDLE_DISK_FULL

    public DiskFullException(string message, Exception? inner = null)
        : base(message, inner)
    {
        HResult = Enospc;
    }

    /// <summary>True when <paramref name="e"/> reports ENOSPC (by its error code, never its message).</summary>
    public static bool IsDiskFull(IOException e)
    {
        if (e is DiskFullException)
        {
            return true;
        }

        var code = e.HResult;
        return code == Enospc || code == unchecked((int)0x80070000) + WinDiskFull || code == unchecked((int)0x80070000) + WinHandleDiskFull;
    }

    /// <summary>Rethrows ENOSPC from <paramref name="e"/> as a <see cref="DiskFullException"/> naming <paramref name="path"/>.</summary>
    public static Exception Translate(IOException e, string path)
        => e is not DiskFullException && IsDiskFull(e)
            ? new DiskFullException($"no space left on device writing '{path}'", e)
            : e;
}
