namespace RaftKv.Storage.Tables;

/// <summary>LRU cache of verified, decoded data blocks keyed by (table id, offset), bounded in bytes.</summary>
/// <remarks><c>_lock</c> guards the map and the LRU list; counters are updated with Interlocked.</remarks>
public sealed class BlockCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(long Table, long Offset), LinkedListNode<Item>> _map = [];
    private readonly LinkedList<Item> _lru = new();
    private readonly long _capacity;
    private long _bytes;
    private long _hits;
    private long _misses;

    public BlockCache(long capacityBytes) => _capacity = capacityBytes;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

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

    public DataBlock? TryGet(long table, long offset)
    {
        lock (_lock)
        {
            if (_map.TryGetValue((table, offset), out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                Interlocked.Increment(ref _hits);
                return node.Value.Block;
            }
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

            var node = _lru.AddFirst(new Item(table, offset, block));
            _map[(table, offset)] = node;
            _bytes += block.SizeInBytes;
            while (_bytes > _capacity && _lru.Last is { } last)
            {
                _lru.RemoveLast();
                _map.Remove((last.Value.Table, last.Value.Offset));
                _bytes -= last.Value.Block.SizeInBytes;
            }
        }
    }

    /// <summary>Drops every block of a table (after it is deleted).</summary>
    public void Evict(long table)
    {
        lock (_lock)
        {
            for (var node = _lru.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Table == table)
                {
                    _lru.Remove(node);
                    _map.Remove((table, node.Value.Offset));
                    _bytes -= node.Value.Block.SizeInBytes;
                }

                node = next;
            }
        }
    }

    private sealed record Item(long Table, long Offset, DataBlock Block);
}
