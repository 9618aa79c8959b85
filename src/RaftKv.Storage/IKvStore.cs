namespace RaftKv.Storage;

/// <summary>
/// The storage engine contract that the replicated state machine (KvState) relies on.
/// Implemented by the LSM engine (<c>LsmStore</c>).
/// </summary>
/// <remarks>
/// <para>Concurrency: exactly one writer (the Raft apply loop) calls <see cref="Apply"/>,
/// <see cref="IngestAsync"/>; any number of readers may call the read methods concurrently with
/// it and with background flush/compaction. Every read observes a consistent point in time
/// (a snapshot of the memtables and table set taken when the read starts).</para>
/// <para>Durability: <see cref="Apply"/> only updates memory; the Raft log is the write-ahead
/// log. After a crash the store reopens at <see cref="DurableIndex"/> and the caller replays
/// the log from <c>DurableIndex + 1</c>. Nothing is deleted until what supersedes it is
/// durable.</para>
/// <para>Time: expiry is judged only against the <c>now</c> the caller passes (the replicated
/// logical clock), never the local clock.</para>
/// </remarks>
public interface IKvStore : IAsyncDisposable
{
    /// <summary>The highest Raft index whose effects are in SSTables that are durable on disk
    /// (fsynced files, durable manifest). Monotonic. 0 for an empty store.</summary>
    long DurableIndex { get; }

    /// <summary>True while the store's last background flush or compaction failed with ENOSPC (its memtables
    /// are kept and it retries); false again after a background round succeeds.</summary>
    bool OutOfSpace { get; }

    /// <summary>Whether flushes write values of at least <see cref="LsmOptions.BlobMinBytes"/> to value files (table format
    /// version 3, which releases before key-value separation cannot read). Off until the owner turns it on (a replicated
    /// owner: once every replica that may receive this store's checkpoints reads format 3); turning it off again only
    /// stops new separation (existing pointers stay readable). Thread-safe; takes effect at the next flush.</summary>
    bool SeparateValues { get; set; }

    /// <summary>The highest Raft index passed to <see cref="Apply"/> (or ingested).</summary>
    long AppliedIndex { get; }

    /// <summary>The replicated logical clock (unix ms) that background compactions judge expiry by.
    /// The owner (KvState) keeps it current as it applies entries; never the local clock.</summary>
    long LogicalClockUnixMs { get; set; }

    /// <summary>Applies <paramref name="ops"/> atomically at Raft index <paramref name="index"/>.
    /// Indexes MUST be strictly increasing; an index ≤ <see cref="AppliedIndex"/> is ignored
    /// (replay after recovery is idempotent). Each written entry's version is <paramref name="index"/>.
    /// May block briefly when too many immutable memtables await flush (write stall).</summary>
    void Apply(long index, IReadOnlyList<WriteOp> ops);

    /// <summary>Marks <paramref name="index"/> as applied without writing anything (no-op or
    /// membership entries), so <see cref="AppliedIndex"/> and later <see cref="DurableIndex"/>
    /// advance.</summary>
    void Advance(long index);

    /// <summary>Point lookup. Returns null when the key is absent, deleted or expired at
    /// <paramref name="nowUnixMs"/>. May read archived tables (object tier) and so may wait on the
    /// object store and throw <see cref="RemoteTierUnavailableException"/> when it is unreachable:
    /// the state machine's apply path uses <see cref="GetMetadata"/> instead.</summary>
    ValueTask<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, long nowUnixMs, CancellationToken cancellationToken = default);

    /// <summary>Metadata point lookup that NEVER touches the object store (no network I/O, no
    /// awaiting: memtables, local tables and cached blocks, and the local keys file of each archived
    /// table). Returns null when the key is absent, deleted or expired at <paramref name="nowUnixMs"/>;
    /// otherwise its version, expiry, value length and, when this node has it,
    /// <see cref="KeyMetadata.LocalValue"/> (always for values of at most
    /// <see cref="Tables.KeysFile.InlineValueMaxBytes"/> bytes). Same point-in-time rules as
    /// <see cref="GetAsync"/>; the answer equals what <see cref="GetAsync"/> would say about
    /// existence, version and expiry. Throws only for local failures (I/O errors, corruption).</summary>
    KeyMetadata? GetMetadata(ReadOnlyMemory<byte> key, long nowUnixMs);

    /// <summary>Keys-only scan that NEVER touches the object store: the live keys in
    /// [<paramref name="start"/>, <paramref name="end"/>) (empty end = unbounded) in key order, at
    /// most <paramref name="limit"/> (0 = unlimited), with version and expiry (and no values:
    /// <see cref="KeyMetadata.LocalValue"/> is null), from one point-in-time view. The same keys as
    /// <see cref="ScanAsync"/> would return. Synchronous; throws only for local failures.</summary>
    IEnumerable<KeyMetadata> ScanMetadata(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, long nowUnixMs);

    /// <summary>Live entries with <paramref name="start"/> ≤ key &lt; <paramref name="end"/>
    /// (empty end = unbounded) in key order, at most <paramref name="limit"/> (0 = unlimited),
    /// skipping tombstones and entries expired at <paramref name="nowUnixMs"/>. Reads values, so it
    /// may wait on the object store (see <see cref="ScanMetadata"/> for keys only).</summary>
    IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, long nowUnixMs, CancellationToken cancellationToken = default);

    /// <summary>Freezes the memtable and writes it (and any immutable memtables) as SSTables;
    /// when it returns, <see cref="DurableIndex"/> ≥ the <see cref="AppliedIndex"/> seen at the
    /// call. MUST leave files and manifest fsynced before returning.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Runs compaction until no level needs it (drops shadowed versions, bottom-level
    /// tombstones, entries expired at <paramref name="nowUnixMs"/>).</summary>
    Task CompactAsync(long nowUnixMs, CancellationToken cancellationToken = default);

    /// <summary>The progress of the running <see cref="CompactAsync"/>, or of the last one (null before any).</summary>
    CompactionProgress? ManualCompaction { get; }

    /// <summary>Flushes, then writes a checkpoint of the durable state into the empty or
    /// non-existent <paramref name="directory"/> (hard links of live local tables + a manifest;
    /// remote tables are referenced, not copied). Returns the checkpoint's index.</summary>
    Task<long> CheckpointAsync(string directory, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="CheckpointAsync(string, CancellationToken)"/>, and also returns a pin on the
    /// tables the checkpoint holds, taken under the same lock as the checkpoint: until it is disposed no
    /// compaction that consumes one of them deletes its files or, for an archived table, its object, so a
    /// reader streaming the checkpoint (a backup snapshot, a backup copying objects) never finds an object
    /// gone. Dispose it when the checkpoint has been read.</summary>
    Task<(long Index, IDisposable Pin)> CheckpointPinnedAsync(string directory, CancellationToken cancellationToken = default);

    /// <summary>Replaces the whole state with the checkpoint in <paramref name="directory"/>
    /// (made by <see cref="CheckpointAsync"/>, possibly on another node). Durable when it
    /// returns; afterwards <see cref="AppliedIndex"/> = <see cref="DurableIndex"/> = the
    /// checkpoint's index.</summary>
    Task IngestAsync(string directory, CancellationToken cancellationToken = default);

    /// <summary>A snapshot of engine statistics (cheap; safe to call often).</summary>
    StoreStats GetStats();
}
