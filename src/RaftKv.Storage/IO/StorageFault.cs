namespace RaftKv.Storage.IO;

/// <summary>A fatal storage error: which operation failed on which file, and the error it raised.</summary>
/// <param name="Path">The file (or, for <see cref="StorageOperation.DirectoryFsync"/>, the directory).</param>
/// <param name="Operation">What failed.</param>
/// <param name="Cause">The error the file system raised.</param>
public sealed record StorageFault(string Path, StorageOperation Operation, Exception Cause)
{
    /// <summary>One line for logs: <c>fsync of '/data/log/000001.seg' failed: &lt;error&gt;</c>.</summary>
    public string Describe() => Cause is FsyncFailedException f
        ? $"{Name(Operation)} of '{Path}' failed: errno {f.Errno}{ErrnoName(f.Errno)}"
        : $"{Name(Operation)} of '{Path}' failed: {Cause.Message}";

    private static string ErrnoName(int errno) => errno switch
    {
        5 => " (EIO)",
        28 => " (ENOSPC)",
        30 => " (EROFS)",
        122 => " (EDQUOT)",
        _ => string.Empty,
    };

    private static string Name(StorageOperation operation) => operation switch
    {
        StorageOperation.Write => "write",
        StorageOperation.Fsync => "fsync",
        StorageOperation.DirectoryFsync => "directory fsync",
        _ => operation.ToString(),
    };
}
