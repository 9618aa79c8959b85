using System.Runtime.CompilerServices;
using RaftKv.Storage.Memtables;
using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

public sealed partial class LsmStore
{
    /// <summary>Captures a consistent view; dispose it to release table references.</summary>
    internal ReadView AcquireView()
    {
        while (true)
        {
            Memtable mem;
            List<Memtable> imms;
            TableSet tables;
            long index;
            lock (_lock)
            {
                mem = _mem;
                imms = _immutables;
                tables = _tables;
                index = AppliedIndex;
            }

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

    public async ValueTask<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, long nowUnixMs, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _counters.Gets);
        var k = key.ToArray();

        // Fast path: memtables need no table references.
        Memtable mem0;
        List<Memtable> imms0;
        long index0;
        lock (_lock)
        {
            mem0 = _mem;
            imms0 = _immutables;
            index0 = AppliedIndex;
        }

        if (mem0.Get(k, index0) is { } fast)
        {
            Interlocked.Increment(ref _counters.MemtableHits);
            return Live(fast, nowUnixMs);
        }

        for (var i = imms0.Count - 1; i >= 0; i--)
        {
            if (imms0[i].Get(k, index0) is { } e)
            {
                Interlocked.Increment(ref _counters.MemtableHits);
                return Live(e, nowUnixMs);
            }
        }

        using var view = AcquireView();
        foreach (var mem in view.Memtables)
        {
            if (mem.Get(k, view.SnapshotIndex) is { } e)
            {
                Interlocked.Increment(ref _counters.MemtableHits);
                return Live(e, nowUnixMs);
            }
        }

        var hash = BloomFilter.Hash(k);
        foreach (var level in view.Tables.Levels)
        {
            foreach (var table in level)
            {
                if (!table.MayContain(k, hash))
                {
                    continue;
                }

                var remote = table.IsRemote;
                if (await table.GetAsync(k, cancellationToken).ConfigureAwait(false) is { } e)
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

    private static KvEntry? Live(MemtableNode e, long now)
        => e.IsLiveAt(now) ? new KvEntry(e.Key, e.Value, e.Version, e.ExpiresAtUnixMs, Tier.Memory) : null;

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

    /// <summary>Walks a memtable lock-free at the snapshot (the memtable needs no reference).</summary>
    private static async IAsyncEnumerable<InternalEntry> MemtableCursor(Memtable mem, byte[] start, byte[] end, long snapshotIndex)
    {
        foreach (var node in mem.Range(start, end, snapshotIndex))
        {
            yield return node.ToInternalEntry();
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
