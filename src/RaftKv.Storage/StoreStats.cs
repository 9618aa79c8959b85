namespace RaftKv.Storage;

/// <summary>Engine statistics for /stats and /metrics.</summary>
public sealed record StoreStats
{
    public long MemtableEntries { get; init; }
    public long MemtableBytes { get; init; }
    public int ImmutableMemtables { get; init; }
    public long DiskEntries { get; init; }
    /// <summary>Local bytes of the store's data: local tables and value files (<see cref="BlobBytes"/>).</summary>
    public long DiskBytes { get; init; }

    /// <summary>Value files (key-value separation, <see cref="LsmOptions.BlobMinBytes"/>): how many, their bytes (part of
    /// <see cref="DiskBytes"/>), and the bytes of values live tables still point at (the rest is garbage, reclaimed
    /// as compactions relocate the live values of mostly-dead files).</summary>
    public int BlobFiles { get; init; }

    public long BlobBytes { get; init; }

    public long BlobLiveBytes { get; init; }
    public long RemoteEntries { get; init; }
    public long RemoteBytes { get; init; }

    /// <summary>Local bytes kept for archived tables (each one's tail and keys file): with
    /// <see cref="DiskBytes"/>, the store's local disk use.</summary>
    public long ArchivedMetadataBytes { get; init; }
    public IReadOnlyList<int> TablesPerLevel { get; init; } = [];
    public IReadOnlyList<long> BytesPerLevel { get; init; } = [];
    /// <summary>Block cache (the read cache of hot data): lookups answered, lookups missed, blocks
    /// evicted for space, bytes held (decoded blocks), capacity, blocks held, and blocks promoted
    /// from object storage (read by a get or scan and added). Counters are since the store opened.</summary>
    public long CacheHits { get; init; }
    public long CacheMisses { get; init; }
    public long CacheEvictions { get; init; }
    public long CacheBytes { get; init; }
    public long CacheCapacityBytes { get; init; }
    public long CacheBlocks { get; init; }
    public long CachePromotions { get; init; }

    /// <summary>Ranged reads (object-store GETs) the engine issued, and their bytes, since it opened.</summary>
    public long ObjectReadRequests { get; init; }
    public long ObjectReadBytes { get; init; }

    /// <summary>Gets answered by an archived table (from a cached or freshly read block).</summary>
    public long ObjectGets { get; init; }
    public long MemtableHits { get; init; }
    public long Gets { get; init; }
    public long Flushes { get; init; }
    public long Compactions { get; init; }

    /// <summary>Bytes flushes wrote (tables and value files), compactions read (their input tables, wherever they
    /// are) and compactions wrote (output tables and relocated values): with the bytes applied, the engine's write
    /// amplification.</summary>
    public long FlushBytesWritten { get; init; }
    public long CompactionBytesRead { get; init; }
    public long CompactionBytesWritten { get; init; }

    /// <summary>Tables moved to the next level by a manifest edit alone (they overlapped nothing there):
    /// no bytes rewritten, and an archived table stays in the object store.</summary>
    public long TrivialMoves { get; init; }

    /// <summary>Archived tables whose blocks compactions read back (each one's output is local again).</summary>
    public long RemoteTablesCompacted { get; init; }

    /// <summary>Bytes of the archived tables of <see cref="RemoteTablesCompacted"/>.</summary>
    public long RemoteBytesCompacted { get; init; }
    public long DurableIndex { get; init; }
    public long AppliedIndex { get; init; }

    /// <summary>True while a frozen memtable awaits flush or a level needs compaction (work the
    /// background task has queued or is running; with background work disabled, work that an
    /// explicit flush or compaction would do). False means the tree is settled.</summary>
    public bool CompactionPending { get; init; }
}
