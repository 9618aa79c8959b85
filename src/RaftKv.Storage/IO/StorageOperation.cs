namespace RaftKv.Storage.IO;

/// <summary>The file operation that failed fatally (see <see cref="FailStopFileSystem"/> for the rule).</summary>
public enum StorageOperation
{
    /// <summary>Writing data to a file (any error but ENOSPC, e.g. EIO).</summary>
    Write,

    /// <summary>fsync of a file (<see cref="IWritableFile.Sync"/>), with any error, ENOSPC included.</summary>
    Fsync,

    /// <summary>fsync of a directory (<see cref="IFileSystem.SyncDirectory"/>), with any error.</summary>
    DirectoryFsync,
}
