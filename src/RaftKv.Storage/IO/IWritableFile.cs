namespace RaftKv.Storage.IO;

/// <summary>A file being written front to back (<see cref="IFileSystem.Create"/>: appended;
/// <see cref="IFileSystem.OpenForOverwrite"/>: overwritten in place from its start). Not thread-safe: one writer.</summary>
public interface IWritableFile : IDisposable
{
    /// <summary>Bytes written through this handle so far (the offset of the next <see cref="Append"/>).</summary>
    long Length { get; }

    void Append(ReadOnlySpan<byte> data);

    /// <summary>Flushes buffers and makes the contents durable (on Linux <c>fdatasync</c>: the data and
    /// the metadata needed to read it back, such as the file's size; not its timestamps). After it returns
    /// the data survives a crash (the directory entry needs <see cref="IFileSystem.SyncDirectory"/>).</summary>
    void Sync();
}
