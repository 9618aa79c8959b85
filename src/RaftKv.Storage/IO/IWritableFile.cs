namespace RaftKv.Storage.IO;

/// <summary>An append-only file being written. Not thread-safe: one writer.</summary>
public interface IWritableFile : IDisposable
{
    /// <summary>Bytes appended so far.</summary>
    long Length { get; }

    void Append(ReadOnlySpan<byte> data);

    /// <summary>Flushes buffers and fsyncs the contents. After it returns the data survives a crash
    /// (the directory entry needs <see cref="IFileSystem.SyncDirectory"/>).</summary>
    void Sync();
}
