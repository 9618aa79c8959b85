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

    /// <summary>
    /// Start each segment in a file of <see cref="SegmentBytes"/> zeros written and synced ahead in the
    /// background, so a flush's sync writes data only (see <c>RaftLogStore.Preallocation.cs</c>). Off by
    /// default for the store; <see cref="RaftLog"/> turns it on for a node's log on a real disk.
    /// </summary>
    public bool PreallocateSegments { get; init; }

    /// <summary>Prepare the preallocated file on the flusher right after a segment starts instead of in the
    /// background: deterministic file operations, for crash tests.</summary>
    public bool PrepareSpareInline { get; init; }

    /// <summary>Free bytes of the log's file system (null: unknown); no file is preallocated with less than
    /// four segments free.</summary>
    public Func<long?>? AvailableBytes { get; init; }
}
