namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    // Completed (and replaced) at every change of the live tables: see WhenTablesChange.
    private TaskCompletionSource _tablesChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Local bytes: tables (data files, or tails and keys files of archived ones) and value files.</summary>
    public long LocalDiskBytes => _tables.All.Sum(t => t.LocalBytes) + _blobs.Totals.Bytes;

    /// <summary>Completes at the next change of the live tables or of their local bytes (flush, compaction,
    /// trivial move, archive, ingest). Take it <i>before</i> reading the state it guards (then no change
    /// can be missed); continuations run asynchronously, never under the store's locks.</summary>
    public Task WhenTablesChange => Volatile.Read(ref _tablesChanged).Task;

    /// <summary>Completes the current <see cref="WhenTablesChange"/> task and arms the next one. Cheap and
    /// non-blocking: may be called under <c>_lock</c>.</summary>
    private void SignalTablesChanged()
        => Interlocked.Exchange(ref _tablesChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>The live tables, from the published set: never waits for a flush, compaction or archive
    /// holding the manifest lock (a table being archived reads as local until it serves from its object).</summary>
    public IReadOnlyList<TableInfo> ListTables()
    {
        var set = _tables;
        var result = new List<TableInfo>();
        for (var level = 0; level < set.Levels.Length; level++)
        {
            foreach (var t in set.Levels[level])
            {
                result.Add(new TableInfo(t.Id, level, t.Size, t.Meta.EntryCount, t.Meta.MinIndex, t.Meta.MaxIndex, t.Meta.CreatedUnixMs, t.ObjectName)
                {
                    ValueFileBytes = t.IsRemote ? 0 : t.Meta.BlobRefs.Sum(r => r.Bytes),
                });
            }
        }

        return result;
    }

    public StoreStats GetStats()
    {
        var set = _tables;
        Memtables.Memtable mem;
        List<Memtables.Memtable> imms;
        lock (_lock)
        {
            mem = _mem;
            imms = _immutables;
        }

        var local = set.All.Where(t => !t.IsRemote).ToList();
        var blobs = _blobs.Totals;
        var remote = set.All.Where(t => t.IsRemote).ToList();
        return new StoreStats
        {
            MemtableEntries = mem.Count + imms.Sum(m => m.Count),
            MemtableBytes = mem.ApproximateBytes + imms.Sum(m => m.ApproximateBytes),
            ImmutableMemtables = imms.Count,
            DiskEntries = local.Sum(t => t.Meta.EntryCount),
            DiskBytes = local.Sum(t => t.Size) + blobs.Bytes,
            BlobFiles = blobs.Files,
            BlobBytes = blobs.Bytes,
            BlobLiveBytes = blobs.LiveBytes,
            RemoteEntries = remote.Sum(t => t.Meta.EntryCount),
            RemoteBytes = remote.Sum(t => t.Size),
            ArchivedMetadataBytes = remote.Sum(t => t.LocalBytes),
            TablesPerLevel = set.Levels.Select(l => l.Count).ToList(),
            BytesPerLevel = set.Levels.Select(l => l.Sum(t => t.Size)).ToList(),
            CacheHits = _cache.Hits,
            CacheMisses = _cache.Misses,
            CacheEvictions = _cache.Evictions,
            CacheBytes = _cache.Bytes,
            CacheCapacityBytes = _cache.CapacityBytes,
            CacheBlocks = _cache.Count,
            CachePromotions = _cache.Promotions,
            ObjectReadRequests = _remoteReads?.Reads ?? 0,
            ObjectReadBytes = _remoteReads?.Bytes ?? 0,
            ObjectGets = Interlocked.Read(ref _counters.ObjectReads),
            MemtableHits = Interlocked.Read(ref _counters.MemtableHits),
            Gets = Interlocked.Read(ref _counters.Gets),
            Flushes = Interlocked.Read(ref _counters.Flushes),
            Compactions = Interlocked.Read(ref _counters.Compactions),
            TrivialMoves = Interlocked.Read(ref _counters.TrivialMoves),
            FlushBytesWritten = Interlocked.Read(ref _counters.FlushBytesWritten),
            CompactionBytesRead = Interlocked.Read(ref _counters.CompactionBytesRead),
            CompactionBytesWritten = Interlocked.Read(ref _counters.CompactionBytesWritten),
            RemoteTablesCompacted = Interlocked.Read(ref _counters.RemoteTablesCompacted),
            RemoteBytesCompacted = Interlocked.Read(ref _counters.RemoteBytesCompacted),
            DurableIndex = DurableIndex,
            AppliedIndex = AppliedIndex,
            CompactionPending = imms.Count > 0 || Pick(set, force: false) is not null,
        };
    }
}
