namespace RaftKv.Storage;

/// <summary>A live SSTable as recorded in the manifest.</summary>
/// <param name="Id">File number, unique per store.</param>
/// <param name="Level">LSM level (0 = freshly flushed, overlapping).</param>
/// <param name="SizeBytes">File size.</param>
/// <param name="EntryCount">Entries (including tombstones).</param>
/// <param name="MinIndex">Smallest Raft index of an entry in the table.</param>
/// <param name="MaxIndex">Largest Raft index of an entry in the table.</param>
/// <param name="CreatedUnixMs">When the table file was written (node-local clock via TimeProvider;
/// archiving is a per-node decision so a local clock is fine here).</param>
/// <param name="ObjectName">Null when local; the object name when archived.</param>
public sealed record TableInfo(long Id, int Level, long SizeBytes, long EntryCount, long MinIndex, long MaxIndex, long CreatedUnixMs, string? ObjectName)
{
    public bool IsRemote => ObjectName is not null;

    /// <summary>Bytes of values the table points at in value files (key-value separation; 0 for archived tables and
    /// tables without pointers): local disk that archiving the table frees once no other table points into those
    /// files.</summary>
    public long ValueFileBytes { get; init; }
}
