using System.Collections.Concurrent;

namespace RaftKv.Storage.Tables;

/// <summary>
/// Cache of verified, decoded data blocks keyed by (table id, offset), bounded in bytes, evicting by
/// CLOCK (second chance, an LRU approximation as in many buffer pools): a hit only sets the block's
/// referenced bit, so lookups take no lock; eviction sweeps the ring in insertion order, clearing
/// referenced bits and dropping the first block that was not used since the last sweep.
/// </summary>
/// <remarks>
/// Lookups (<see cref="TryGet"/>) run concurrently with everything (the map is concurrent; the
/// referenced bit is a benign race). <c>_lock</c> guards the ring, the hand and <c>_bytes</c>, and is
/// taken by <see cref="Add"/> and <see cref="Evict"/> only, so the map is only ever changed under it.
/// Counters are updated with Interlocked.
/// </remarks>
public sealed class BlockCache
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<(long Table, long Offset), Slot> _map = new();
    private readonly LinkedList<Slot> _ring = new();
    private readonly long _capacity;
    private LinkedListNode<Slot>? _hand;
    private long _bytes;
    private long _hits;
    private long _misses;

    public BlockCache(long capacityBytes) => _capacity = capacityBytes;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public long Bytes => Interlocked.Read(ref _bytes);

    public DataBlock? TryGet(long table, long offset)
    {
        if (_map.TryGetValue((table, offset), out var slot))
        {
            slot.Referenced = true;
            Interlocked.Increment(ref _hits);
            return slot.Block;
        }

        Interlocked.Increment(ref _misses);
        return null;
    }

    public void Add(long table, long offset, DataBlock block)
    {
        if (_capacity <= 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_map.ContainsKey((table, offset)))
            {
                return;
            }

            var slot = new Slot(table, offset, block);
            if (_hand is null)
            {
                _ring.AddLast(slot);
            }
            else
            {
                _ring.AddBefore(_hand, slot); // newest just behind the hand: swept last
            }

            _map[(table, offset)] = slot;
            Interlocked.Add(ref _bytes, block.SizeInBytes);
            while (_bytes > _capacity && _ring.Count > 0)
            {
                EvictOne();
            }
        }
    }

    /// <summary>Drops every block of a table (after it is deleted).</summary>
    public void Evict(long table)
    {
        lock (_lock)
        {
            for (var node = _ring.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Table == table)
                {
                    Remove(node);
                }

                node = next;
            }
        }
    }

    /// <summary>CLOCK sweep: give referenced blocks a second chance, drop the first unreferenced one. Caller holds <c>_lock</c>.</summary>
    private void EvictOne()
    {
        while (true)
        {
            var node = _hand ?? _ring.First!;
            if (node.Value.Referenced)
            {
                node.Value.Referenced = false;
                _hand = node.Next ?? _ring.First;
                continue;
            }

            Remove(node);
            return;
        }
    }

    private void Remove(LinkedListNode<Slot> node)
    {
        if (_hand == node)
        {
            _hand = node.Next ?? (_ring.First == node ? node.Next : _ring.First);
        }

        _ring.Remove(node);
        if (_ring.Count == 0)
        {
            _hand = null;
        }

        _map.TryRemove((node.Value.Table, node.Value.Offset), out _);
        Interlocked.Add(ref _bytes, -node.Value.Block.SizeInBytes);
    }

    private sealed class Slot(long table, long offset, DataBlock block)
    {
        public long Table { get; } = table;

        public long Offset { get; } = offset;

        public DataBlock Block { get; } = block;

        /// <summary>Set on every hit, cleared by the sweep (a benign race between them).</summary>
        public volatile bool Referenced;
    }
}
