using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Tables;

/// <summary>Cache of verified, decoded data blocks keyed by (table id, offset), bounded in bytes,
/// with CLOCK (second-chance) eviction: the store's read cache of hot data (docs/architecture.md,
/// "Memory budget"). Blocks of local tables and blocks read from object storage alike are added on
/// a point read or a scan (a block read from the object store is "promoted": later gets of its keys
/// cost no request); one-pass readers (compaction, keys-file builds) only peek.</summary>
/// <remarks>
/// <para>Concurrency: <see cref="TryGet"/> takes no lock: a <see cref="ConcurrentDictionary{TKey, TValue}"/>
/// lookup plus setting the entry's reference bit (a plain int written only when it is clear, so hot
/// blocks do not bounce a cache line between cores). <c>_lock</c> guards <c>_clock</c> (the eviction
/// queue) and <c>_bytes</c>; <see cref="Add"/> and <see cref="Evict"/> take it. Counters use
/// Interlocked. Cached blocks are immutable, so a block evicted while a reader uses it stays valid
/// for that reader (it is garbage collected later).</para>
/// </remarks>
public sealed class BlockCache
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<(long Table, long Offset), Item> _map = new();
    private readonly Queue<Item> _clock = new();
    private readonly long _capacity;
    private long _bytes;
    private long _hits;
    private long _misses;
    private long _evictions;
    private long _inserts;
    private long _promotions;

    public BlockCache(long capacityBytes) => _capacity = capacityBytes;

    /// <summary>Bound on <see cref="Bytes"/> (decoded block sizes); 0 = caching off.</summary>
    public long CapacityBytes => _capacity;

    /// <summary>Lookups answered from the cache (<see cref="TryGet"/>; <see cref="TryPeek"/> is not counted).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups the cache could not answer.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Blocks dropped to honour the capacity (not counting blocks of deleted tables).</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Blocks added.</summary>
    public long Inserts => Interlocked.Read(ref _inserts);

    /// <summary>Blocks added that were read from object storage (<c>Add(..., fromObjectStore: true)</c>).</summary>
    public long Promotions => Interlocked.Read(ref _promotions);

    /// <summary>Blocks cached now.</summary>
    public int Count => _map.Count;

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot path: skip tier-0 code
    public DataBlock? TryGet(long table, long offset)
    {
        if (_map.TryGetValue((table, offset), out var item))
        {
            if (Volatile.Read(ref item.Referenced) == 0)
            {
                Volatile.Write(ref item.Referenced, 1);
            }

            Interlocked.Increment(ref _hits);
            return item.Block;
        }

        Interlocked.Increment(ref _misses);
        return null;
    }

    /// <summary>The cached block, if any, without counting a hit or miss or marking it used (for
    /// one-pass readers, so compaction neither skews the hit rate nor keeps blocks hot).</summary>
    public DataBlock? TryPeek(long table, long offset) => _map.TryGetValue((table, offset), out var item) ? item.Block : null;

    /// <summary>Adds a verified block; <paramref name="fromObjectStore"/> counts it as promoted from
    /// the object tier. Blocks larger than the whole capacity are not cached.</summary>
    public void Add(long table, long offset, DataBlock block, bool fromObjectStore = false)
    {
        if (_capacity <= 0 || block.SizeInBytes > _capacity)
        {
            return;
        }

        lock (_lock)
        {
            var item = new Item(table, offset, block);
            if (!_map.TryAdd((table, offset), item))
            {
                return;
            }

            _clock.Enqueue(item);
            _bytes += block.SizeInBytes;
            Interlocked.Increment(ref _inserts);
            if (fromObjectStore)
            {
                Interlocked.Increment(ref _promotions);
            }

            while (_bytes > _capacity && _clock.TryDequeue(out var victim))
            {
                if (!_map.TryGetValue((victim.Table, victim.Offset), out var current) || current != victim)
                {
                    continue; // already evicted with its table
                }

                if (Volatile.Read(ref victim.Referenced) != 0 && victim != item)
                {
                    Volatile.Write(ref victim.Referenced, 0); // second chance
                    _clock.Enqueue(victim);
                    continue;
                }

                _map.TryRemove(new KeyValuePair<(long, long), Item>((victim.Table, victim.Offset), victim));
                _bytes -= victim.Block.SizeInBytes;
                Interlocked.Increment(ref _evictions);
            }
        }
    }

    /// <summary>Drops every block of a table (after it is deleted).</summary>
    public void Evict(long table)
    {
        lock (_lock)
        {
            foreach (var (key, item) in _map)
            {
                if (key.Table == table && _map.TryRemove(new KeyValuePair<(long, long), Item>(key, item)))
                {
                    _bytes -= item.Block.SizeInBytes;
                }
            }

            // Queue entries of evicted items are skipped when the clock reaches them; rebuild the
            // queue when it is mostly stale so it cannot grow without bound.
            if (_clock.Count > 2 * (_map.Count + 16))
            {
                var live = _clock.Where(i => _map.TryGetValue((i.Table, i.Offset), out var c) && c == i).ToList();
                _clock.Clear();
                live.ForEach(_clock.Enqueue);
            }
        }
    }

    /// <summary>A cached block and its CLOCK reference bit.</summary>
    private sealed class Item(long table, long offset, DataBlock block)
    {
        /// <summary>1 when used since the clock hand last passed (written without a lock; races only cost accuracy).</summary>
        public int Referenced;

        public long Table { get; } = table;

        public long Offset { get; } = offset;

        public DataBlock Block { get; } = block;
    }
}
