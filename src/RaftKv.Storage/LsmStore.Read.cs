using System.Runtime.CompilerServices;
using RaftKv.Storage.Memtables;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    /// <summary>The memtables, the table set and the applied index at one point in time (under <c>_lock</c>, which every switch of them takes).</summary>
    private (Memtable Mem, List<Memtable> Immutables, TableSet Tables, long Index) Capture()
    {
        lock (_lock)
        {
            return (_mem, _immutables, _tables, AppliedIndex);
        }
    }

    /// <summary>Captures a consistent view; dispose it to release table references.</summary>
    public ReadView AcquireView()
    {
        while (true)
        {
            var (mem, imms, tables, index) = Capture();
            var taken = new List<TableReader>();
            var ok = true;
            foreach (var t in tables.All)
            {
                if (!t.TryRef())
                {
                    ok = false;
                    break;
                }

                taken.Add(t);
            }

            if (ok)
            {
                var mems = new List<Memtable>(imms.Count + 1) { mem };
                for (var i = imms.Count - 1; i >= 0; i--)
                {
                    mems.Add(imms[i]);
                }

                return new ReadView(mems, tables, index);
            }

            foreach (var t in taken)
            {
                t.Unref(); // raced with a compaction; retry on the new set
            }
        }
    }

    /// <summary>
    /// Point read at the current applied index. Memtables, immutable memtables and the table set are
    /// captured together under <c>_lock</c> (one consistent point in time); then only the table that
    /// is actually read is referenced (no whole-view ref counting). If a compaction retired that
    /// table in between, its data lives in the table set that replaced it: the lookup restarts from a
    /// fresh capture.
    /// </summary>
    public ValueTask<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, long nowUnixMs, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _counters.Gets);
        var k = key.ToArray();
        var hash = BloomFilter.Hash(k);

        // Synchronous until a block has to be read: hot keys complete without an async state machine.
        while (true)
        {
            var (mem, imms, tables, index) = Capture();
            if (FindInMemtables(mem, imms, k, index) is { } inMemory)
            {
                Interlocked.Increment(ref _counters.MemtableHits);
                return new(Live(inMemory, Tier.Memory, nowUnixMs));
            }

            switch (TryGetFromCachedTables(tables, k, hash, nowUnixMs, out var found))
            {
                case CachedLookup.Done:
                    return new(found);
                case CachedLookup.NeedsIo:
                    return GetWithIoAsync(k, hash, nowUnixMs, cancellationToken);
                default:
                    continue; // a table was retired by a compaction after the capture
            }
        }
    }

    private static InternalEntry? FindInMemtables(Memtable mem, List<Memtable> imms, byte[] key, long index)
    {
        if (mem.Get(key, index) is { } e)
        {
            return e;
        }

        for (var i = imms.Count - 1; i >= 0; i--)
        {
            if (imms[i].Get(key, index) is { } older)
            {
                return older;
            }
        }

        return null;
    }

    private enum CachedLookup
    {
        Done,
        NeedsIo,
        Retry,
    }

    private CachedLookup TryGetFromCachedTables(TableSet tables, byte[] key, ulong hash, long nowUnixMs, out KvEntry? found)
    {
        found = null;
        foreach (var level in tables.Levels)
        {
            foreach (var table in level)
            {
                if (!table.MayContain(key, hash))
                {
                    continue;
                }

                if (!table.TryRef())
                {
                    return CachedLookup.Retry;
                }

                try
                {
                    if (!table.TryGetCached(key, out var e))
                    {
                        return CachedLookup.NeedsIo;
                    }

                    if (e is not null)
                    {
                        found = Live(e, table.IsRemote ? Tier.Object : Tier.Disk, nowUnixMs);
                        return CachedLookup.Done;
                    }
                }
                finally
                {
                    table.Unref();
                }
            }
        }

        return CachedLookup.Done;
    }

    /// <summary>
    /// The general path: memtables, immutable memtables and the table set are captured together under
    /// <c>_lock</c> (one consistent point in time); then only the table that is actually read is
    /// referenced (no whole-view ref counting). If a compaction retired that table in between, its
    /// data lives in the table set that replaced it: the lookup restarts from a fresh capture.
    /// </summary>
    private async ValueTask<KvEntry?> GetWithIoAsync(byte[] k, ulong hash, long nowUnixMs, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (mem, imms, tables, index) = Capture();
            if (FindInMemtables(mem, imms, k, index) is { } inMemory)
            {
                Interlocked.Increment(ref _counters.MemtableHits);
                return Live(inMemory, Tier.Memory, nowUnixMs);
            }

            var (found, retry) = await GetFromTablesAsync(tables, k, hash, nowUnixMs, cancellationToken).ConfigureAwait(false);
            if (!retry)
            {
                return found;
            }
        }
    }

    private async ValueTask<(KvEntry? Entry, bool Retry)> GetFromTablesAsync(TableSet tables, byte[] key, ulong hash, long nowUnixMs, CancellationToken cancellationToken)
    {
        foreach (var level in tables.Levels)
        {
            foreach (var table in level)
            {
                if (!table.MayContain(key, hash))
                {
                    continue;
                }

                if (!table.TryRef())
                {
                    return (null, true); // retired by a compaction after the capture
                }

                try
                {
                    var remote = table.IsRemote;
                    if (await table.GetAsync(key, cancellationToken).ConfigureAwait(false) is { } e)
                    {
                        if (remote)
                        {
                            Interlocked.Increment(ref _counters.ObjectReads);
                        }

                        return (Live(e, remote ? Tier.Object : Tier.Disk, nowUnixMs), false);
                    }
                }
                finally
                {
                    table.Unref();
                }
            }
        }

        return (null, false);
    }

    public async IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, int limit, long nowUnixMs, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var s = start.ToArray();
        var e = end.ToArray();
        using var view = AcquireView();
        var sources = new List<IAsyncEnumerable<InternalEntry>>();
        var tiers = new List<Tier>();
        foreach (var mem in view.Memtables)
        {
            sources.Add(MemtableCursor(mem, s, e, view.SnapshotIndex));
            tiers.Add(Tier.Memory);
        }

        foreach (var level in view.Tables.Levels)
        {
            foreach (var table in level)
            {
                if (table.Overlaps(s, e))
                {
                    sources.Add(Bounded(table.ScanAsync(s, cancellationToken), e));
                    tiers.Add(table.IsRemote ? Tier.Object : Tier.Disk);
                }
            }
        }

        var count = 0;
        await foreach (var (entry, source) in MergingIterator.MergeWithSourceAsync(sources, cancellationToken).ConfigureAwait(false))
        {
            if (!entry.IsLiveAt(nowUnixMs))
            {
                continue;
            }

            yield return new KvEntry(entry.Key, entry.Value, entry.Version, entry.ExpiresAtUnixMs, tiers[source]);
            if (limit > 0 && ++count >= limit)
            {
                yield break;
            }
        }
    }

    private static KvEntry? Live(InternalEntry e, Tier tier, long now)
        => e.IsLiveAt(now) ? new KvEntry(e.Key, e.Value, e.Version, e.ExpiresAtUnixMs, tier) : null;

    private static async IAsyncEnumerable<InternalEntry> Bounded(IAsyncEnumerable<InternalEntry> source, byte[] end)
    {
        await foreach (var e in source.ConfigureAwait(false))
        {
            if (end.Length > 0 && KeyComparer.Compare(e.Key, end) >= 0)
            {
                yield break;
            }

            yield return e;
        }
    }

    /// <summary>Pages through a memtable without holding its lock between pages.</summary>
    private static async IAsyncEnumerable<InternalEntry> MemtableCursor(Memtable mem, byte[] start, byte[] end, long snapshotIndex)
    {
        var from = start;
        while (true)
        {
            var page = mem.Range(from, end, snapshotIndex, 256);
            foreach (var e in page)
            {
                yield return e;
            }

            if (page.Count < 256)
            {
                yield break;
            }

            var last = page[^1].Key;
            from = new byte[last.Length + 1]; // the immediate successor of the last key
            last.CopyTo(from, 0);
            await Task.Yield();
        }
    }
}
