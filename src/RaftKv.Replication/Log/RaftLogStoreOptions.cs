using RaftKv.Storage.IO;

namespace RaftKv.Replication.Log;

/// <summary>Settings of <see cref="RaftLogStore"/>.</summary>
internal sealed class RaftLogStoreOptions
{
    public required string Directory { get; init; }

    public IFileSystem FileSystem { get; init; } = PhysicalFileSystem.Instance;

    /// <summary>A segment is closed once it holds this many bytes; the next flush starts a new one.</summary>
    public long SegmentBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Payload bytes kept in memory for entries above the snapshot. Beyond it the oldest durable
    /// payloads are dropped and read back from their segment when a lagging follower needs them.
    /// </summary>
    public long PayloadCacheBytes { get; init; } = 64L << 20;
}
