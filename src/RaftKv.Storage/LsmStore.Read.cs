using System.Runtime.CompilerServices;
using RaftKv.Storage.Iteration;
using RaftKv.Storage.Memtables;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    /// <summary>Captures a consistent view; dispose it to release its tables.</summary>
    internal ReadView AcquireView() => new(AcquireState(out var index), index);

    /// <summary>Pins the current state and reads the applied index consistently with it, without a
    /// lock: the state is read again after the index and the pair is retried if it changed, so
    /// every write with version ≤ index is in the returned state's memtables or tables (a write
    /// lands in the memtable current when it is applied, and a rotation publishes a new state).
    /// The caller must <see cref="StoreState.Unref"/> the result.</summary>
    private StoreState AcquireState(out long index)
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (!state.TryRef())
            {
                continue; // replaced and released meanwhile; the next read sees its successor
            }

            index = AppliedIndex;
            if (ReferenceEquals(Volatile.Read(ref _state), state))
            {
                return state;
            }

            state.Unref();
        }
    }

    /// <summary>Point lookup. Lock-free and allocation-free when the key is in a memtable or a
    /// cached/local block: the result's value is memory owned by the engine (arena or cached block,
    /// immutable) and, for table hits, its key is the caller's <paramref name="key"/> memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    public ValueTask<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, long nowUnixMs, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _counters.Gets);
        var state = AcquireState(out var index);
        var handedOff = false;
        try
        {
            var k = key.Span;
            var memtables = state.Memtables;
            for (var i = 0; i < memtables.Length; i++)
            {
                if (memtables[i].Get(k, index) is { } node)
                {
                    Interlocked.Increment(ref _counters.MemtableHits);
                    return new(Live(node, nowUnixMs));
                }
            }

            var hash = BloomFilter.Hash(k);
            var levels = state.Tables.LevelArrays;
            for (var level = 0; level < levels.Length; level++)
            {
                var tables = levels[level];
                for (var t = 0; t < tables.Length; t++)
                {
                    var table = tables[t];
                    if (!table.MayContain(k, hash))
                    {
                        continue;
                    }

                    switch (table.TryGet(k, out var hit))
                    {
                        case BlockLookup.Found:
                            var tier = Tier.Disk;
                            if (table.IsRemote)
                            {
                                tier = Tier.Object; // a cached block of an archived table
                                Interlocked.Increment(ref _counters.ObjectReads);
                            }

                            return new(hit.IsLiveAt(nowUnixMs) ? new KvEntry(key, hit.Value, hit.Version, hit.ExpiresAtUnixMs, tier) : null);
                        case BlockLookup.NeedsIo:
                            switch (table.ProbeArchived(k))
                            {
                                case ArchivedProbe.Absent:
                                    continue; // bloom false positive, settled locally: no request
                                case ArchivedProbe.Deleted:
                                    return new((KvEntry?)null);
                            }

                            handedOff = true; // the slow path releases the state
                            return GetFromTablesAsync(state, key.ToArray(), hash, level, t, nowUnixMs, cancellationToken);
                        default:
                            continue;
                    }
                }
            }

            return new((KvEntry?)null);
        }
        finally
        {
            if (!handedOff)
            {
                state.Unref();
            }
        }
    }

    /// <summary>The lookup from table (<paramref name="level"/>, <paramref name="first"/>) on, with
    /// asynchronous block reads (object tier). Releases <paramref name="state"/>.</summary>
    private async ValueTask<KvEntry?> GetFromTablesAsync(StoreState state, byte[] key, ulong hash, int level, int first, long nowUnixMs, CancellationToken cancellationToken)
    {
        try
        {
            var levels = state.Tables.Levels;
            var probed = true; // the caller probed table (level, first)
            for (; level < levels.Length; level++, first = 0)
            {
                var tables = levels[level];
                for (var t = first; t < tables.Count; t++)
                {
                    var table = tables[t];
                    if (!table.MayContain(key, hash))
                    {
                        continue;
                    }

                    var remote = table.IsRemote;
                    if (remote && !probed)
                    {
                        // The keys file settles absent keys and tombstones: only a table that holds
                        // the key's value costs a ranged read (at most one per get).
                        switch (table.ProbeArchived(key))
                        {
                            case ArchivedProbe.Absent:
                                continue;
                            case ArchivedProbe.Deleted:
                                return null;
                        }
                    }

                    probed = false;
                    if (await table.GetAsync(key, cancellationToken).ConfigureAwait(false) is { } e)
                    {
                        if (remote)
                        {
                            Interlocked.Increment(ref _counters.ObjectReads);
                        }

                        return Live(e, remote ? Tier.Object : Tier.Disk, nowUnixMs);
                    }
                }
            }

            return null;
        }
        finally
        {
            state.Unref();
        }
    }

    /// <summary>Live entries in [start, end) at the snapshot taken when enumeration starts (see
    /// <see cref="ScanEnumerator"/>: synchronous per entry unless a block comes from object storage).</summary>
    public IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, long nowUnixMs, CancellationToken cancellationToken = default)
        => new ScanResults(this, start.ToArray(), end.ToArray(), limit, nowUnixMs, cancellationToken);

    /// <summary>The merge of every memtable and every table overlapping [<paramref name="start"/>,
    /// <paramref name="end"/>) in <paramref name="view"/>, newest first, positioned before the first key ≥ start.</summary>
    internal static MergingCursor OpenScan(ReadView view, byte[] start, byte[] end)
    {
        var sources = new List<EntryCursor>();
        foreach (var mem in view.Memtables)
        {
            sources.Add(new MemtableCursor(mem, start, end, view.SnapshotIndex));
        }

        var levels = view.Tables.Levels;
        for (var level = 0; level < levels.Length; level++)
        {
            var overlapping = levels[level].Where(t => t.Overlaps(start, end)).ToList();
            if (level == 0)
            {
                sources.AddRange(overlapping.Select(t => new TableCursor([t], start))); // L0 tables overlap: newest first
            }
            else if (overlapping.Count > 0)
            {
                sources.Add(new TableCursor(overlapping, start)); // disjoint and sorted: one cursor per level
            }
        }

        return new MergingCursor(sources);
    }

    /// <summary>Moves <paramref name="merged"/> synchronously to the next live entry before
    /// <paramref name="end"/>: true when it is there, false at the end of the range, null when a
    /// move needs awaited I/O (nothing skipped past; call <see cref="EntryCursor.MoveNextAsync"/>).
    /// Keeps the per-entry work of scans synchronous.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    internal static bool? NextLive(MergingCursor merged, byte[] end, long nowUnixMs)
    {
        while (merged.TryMoveNext(out var moved))
        {
            if (!moved || IsPastEnd(merged, end))
            {
                return false;
            }

            if (!IsDeadAt(merged, nowUnixMs))
            {
                return true;
            }
        }

        return null;
    }

    internal static bool IsPastEnd(MergingCursor merged, byte[] end) => end.Length > 0 && KeyComparer.Compare(merged.Key, end) >= 0;

    internal static bool IsDeadAt(MergingCursor merged, long nowUnixMs)
        => merged.Tombstone || (merged.ExpiresAtUnixMs != 0 && merged.ExpiresAtUnixMs <= nowUnixMs);

    private static KvEntry? Live(InternalEntry e, Tier tier, long now)
        => e.IsLiveAt(now) ? new KvEntry(e.Key, e.Value, e.Version, e.ExpiresAtUnixMs, tier) : null;

    private static KvEntry? Live(MemtableNode e, long now)
        => e.IsLiveAt(now) ? new KvEntry(e.Key, e.Value, e.Version, e.ExpiresAtUnixMs, Tier.Memory) : null;
}
