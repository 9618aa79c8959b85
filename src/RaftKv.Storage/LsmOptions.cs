using Microsoft.Extensions.Logging;
using RaftKv.Storage.IO;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <summary>Options of <see cref="LsmStore"/>.</summary>
public sealed record LsmOptions
{
    /// <summary>Directory holding CURRENT, MANIFEST-*, *.sst and *.sstidx files.</summary>
    public required string Directory { get; init; }

    public IFileSystem FileSystem { get; init; } = PhysicalFileSystem.Instance;

    /// <summary>Memtable size that triggers a rotation and flush.</summary>
    public long MemtableMaxBytes { get; init; } = 64L << 20;

    /// <summary>Memtable key count that triggers a rotation and flush.</summary>
    public long MemtableMaxEntries { get; init; } = 1_000_000;

    /// <summary>Writers stall while this many frozen memtables await flush.</summary>
    public int MaxImmutableMemtables { get; init; } = 4;

    /// <summary>Capacity of the block cache: decoded data blocks of local and archived tables
    /// (the hot-data read cache; blocks read from object storage are promoted into it). 0 = no cache.</summary>
    public long BlockCacheBytes { get; init; } = 64L << 20;

    public int BlockSize { get; init; } = 8 << 10;

    /// <summary>Key-value separation: values of at least this many bytes are written by a flush to a value file
    /// (<c>{id}.blob</c>, Tables/FORMAT.md "Value files") and the table keeps a pointer, so compactions move pointers,
    /// not values (docs/architecture.md, "Large values outside the LSM levels"), once the owner sets
    /// <see cref="IKvStore.SeparateValues"/>. 0 = off: every value stays in its table. Stores written with it on open
    /// with it off (pointers are resolved either way).</summary>
    public int BlobMinBytes { get; init; }

    /// <summary>Key spaces separated from a smaller size than <see cref="BlobMinBytes"/> (the first rule whose prefix
    /// matches the key decides; a value of at least <see cref="BlobMinBytes"/> is separated either way). Apply only
    /// while separation is on (<see cref="BlobMinBytes"/> &gt; 0 and <see cref="IKvStore.SeparateValues"/>).</summary>
    public IReadOnlyList<ValueFileRule> ValueFileRules { get; init; } = [];

    /// <summary>Compression of data blocks of tables written locally (flushes, compactions, keys files).</summary>
    public BlockCompression Compression { get; init; }

    /// <summary>Compression of data blocks of archived tables: when it differs from <see cref="Compression"/>,
    /// archiving re-encodes the table with it before the upload (the object and the local tail are the
    /// re-encoded table's). Tables archived earlier keep their encoding.</summary>
    public BlockCompression RemoteCompression { get; init; }

    /// <summary>L0 table count that triggers an L0→L1 compaction.</summary>
    public int L0CompactionTrigger { get; init; } = 4;

    /// <summary>Target size of L1; each deeper level is 10× larger.</summary>
    public long L1TargetBytes { get; init; } = 64L << 20;

    public long TargetFileBytes { get; init; } = 16L << 20;

    public int MaxLevels { get; init; } = 5;

    /// <summary>
    /// Keys no table may straddle (any order; empty = none): flushes and compactions end a table before
    /// crossing one, so the key spaces between boundaries are stored in separate tables. An owner whose
    /// every write touches several key spaces (MVCC: a user key, its metadata and its history record) sets
    /// them so that tables of one space do not overlap tables of another: a table written after a
    /// sequential load then overlaps nothing in the level below and moves down without a rewrite, and
    /// compactions do not pull unrelated (possibly archived) tables back to local disk.
    /// </summary>
    public IReadOnlyList<byte[]> PartitionBoundaries { get; init; } = [];

    /// <summary>Run flushes and compactions on background tasks (tests may disable and drive them explicitly).</summary>
    public bool BackgroundWork { get; init; } = true;

    /// <summary>Optional: makes the <see cref="ICompactionFilter"/> of each compaction run (null = keep everything).</summary>
    public Func<ICompactionFilter?>? CompactionFilterFactory { get; init; }

    /// <summary>Optional object store for archived tables.</summary>
    public IRemoteTableStore? RemoteStore { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public ILogger? Logger { get; init; }
}
