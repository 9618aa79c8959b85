namespace RaftKv.Storage.IO;

/// <summary>
/// fsync itself failed (any errno, ENOSPC and EIO included) — raised by <see cref="PhysicalFileSystem"/>
/// for files and directories. Never recoverable: after a failed fsync the kernel may have marked the
/// dirty pages clean or dropped them, so a retried fsync can succeed although the data never reached
/// the disk (PostgreSQL's "fsyncgate"). <see cref="FailStopFileSystem"/> turns it into a fail-stop.
/// </summary>
public sealed class FsyncFailedException : IOException
{
    public FsyncFailedException(string path, int errno, Exception? inner = null)
        : base($"fsync of '{path}' failed (errno {errno})", inner)
    {
        Path = path;
        Errno = errno;
        HResult = errno is 28 or 0 ? 5 : errno; // never reported as ENOSPC: DiskFullException.IsDiskFull must not match
    }

    public string Path { get; }

    /// <summary>The errno fsync returned (0 when unknown).</summary>
    public int Errno { get; }
}
