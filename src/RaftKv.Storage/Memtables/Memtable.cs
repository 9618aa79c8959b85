namespace RaftKv.Storage.Memtables;

/// <summary>
/// The in-memory sorted buffer of recent writes: a skiplist with one writer (the apply loop) and
/// any number of lock-free readers. Each key keeps a newest-first chain of versions so a reader that
/// captured <c>snapshotIndex</c> sees exactly the state at that index (consistent point-in-time reads).
/// </summary>
/// <remarks>
/// <para>
/// Concurrency contract: <see cref="Add"/> and <see cref="Advance"/> MUST be called by one thread at a
/// time (the apply loop; a second concurrent writer is detected and refused). Readers never lock:
/// a node is fully built (key, version chain, forward pointers) before a <see cref="Volatile"/> write
/// links it in, bottom level first, so a reader either sees it completely or not at all; a new
/// version is published by a volatile write of the node's chain head, and chains are immutable
/// behind the head. Once <see cref="Freeze"/> is called the memtable is immutable and awaits flush.
/// </para>
/// <para>Like RocksDB's and LevelDB's memtables, the level of a new node is random with p = 1/4
/// (12 levels: ~16 M keys before the top level saturates), drawn from a fixed-seed generator so
/// runs are reproducible.</para>
/// </remarks>
public sealed class Memtable
{
    private const int MaxHeight = 12;

    private readonly Node _head = new([], null, MaxHeight);
    private readonly Node?[] _splice = new Node?[MaxHeight]; // writer-only scratch
    private int _height = 1; // volatile: readers start their descent here
    private uint _rng = 0x9E3779B9; // writer-only
    private int _writer; // 1 while a writer is inside Add (misuse guard)
    private long _bytes;
    private long _entries;
    private long _maxIndex;
    private long _minIndex;
    private volatile bool _frozen;

    public Memtable(long id) => Id = id;

    /// <summary>Monotonic id; newer memtables have larger ids.</summary>
    public long Id { get; }

    public long ApproximateBytes => Interlocked.Read(ref _bytes);

    /// <summary>Distinct keys.</summary>
    public long Count => Interlocked.Read(ref _entries);

    /// <summary>Highest index applied into this memtable (writes or advances).</summary>
    public long MaxIndex => Volatile.Read(ref _maxIndex);

    /// <summary>Smallest index written into this memtable (0 if none).</summary>
    public long MinIndex => Volatile.Read(ref _minIndex);

    public bool IsFrozen => _frozen;

    /// <summary>Adds a version of <c>entry.Key</c>. Single writer only (see the type remarks).</summary>
    public void Add(InternalEntry entry)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("memtable is frozen");
        }

        if (Interlocked.Exchange(ref _writer, 1) != 0)
        {
            throw new InvalidOperationException("concurrent writers on one memtable");
        }

        try
        {
            var found = FindGreaterOrEqual(entry.Key, _splice);
            if (found is not null && KeyComparer.Compare(found.Key, entry.Key) == 0)
            {
                Volatile.Write(ref found.Head, new Version(entry, found.Head));
            }
            else
            {
                Insert(entry);
            }

            Interlocked.Add(ref _bytes, entry.ApproximateSize + 48);
            if (_minIndex == 0)
            {
                Volatile.Write(ref _minIndex, entry.Version);
            }

            if (entry.Version > _maxIndex)
            {
                Volatile.Write(ref _maxIndex, entry.Version);
            }
        }
        finally
        {
            Volatile.Write(ref _writer, 0);
        }
    }

    /// <summary>Records that <paramref name="index"/> was applied (even if it wrote nothing here). Writer only.</summary>
    public void Advance(long index)
    {
        if (index > _maxIndex)
        {
            Volatile.Write(ref _maxIndex, index);
        }
    }

    public void Freeze() => _frozen = true;

    /// <summary>The newest version of <paramref name="key"/> with index ≤ <paramref name="snapshotIndex"/> (tombstones included).</summary>
    public InternalEntry? Get(byte[] key, long snapshotIndex)
    {
        var node = FindGreaterOrEqual(key, null);
        return node is not null && KeyComparer.Compare(node.Key, key) == 0 ? Visible(node, snapshotIndex) : null;
    }

    /// <summary>Up to <paramref name="max"/> visible entries with key ≥ start
    /// and &lt; end (empty = unbounded), tombstones included, in key order.</summary>
    public List<InternalEntry> Range(byte[] start, byte[] end, long snapshotIndex, int max)
    {
        var result = new List<InternalEntry>(Math.Min(max, 256));
        if (end.Length != 0 && KeyComparer.Compare(start, end) >= 0)
        {
            return result;
        }

        for (var node = FindGreaterOrEqual(start, null); node is not null; node = Volatile.Read(ref node.Next[0]))
        {
            if (end.Length != 0 && KeyComparer.Compare(node.Key, end) >= 0)
            {
                break;
            }

            if (Visible(node, snapshotIndex) is { } e)
            {
                result.Add(e);
                if (result.Count >= max)
                {
                    break;
                }
            }
        }

        return result;
    }

    /// <summary>Newest version of every key, in key order (for flush; the memtable must be frozen).</summary>
    public IEnumerable<InternalEntry> Newest()
    {
        for (var node = Volatile.Read(ref _head.Next[0]); node is not null; node = Volatile.Read(ref node.Next[0]))
        {
            yield return Volatile.Read(ref node.Head)!.Entry;
        }
    }

    private static InternalEntry? Visible(Node node, long snapshotIndex)
    {
        for (var v = Volatile.Read(ref node.Head); v is not null; v = v.Next)
        {
            if (v.Entry.Version <= snapshotIndex)
            {
                return v.Entry;
            }
        }

        return null;
    }

    /// <summary>First node with key ≥ <paramref name="key"/>; fills <paramref name="splice"/> (writer) with each level's predecessor.</summary>
    private Node? FindGreaterOrEqual(byte[] key, Node?[]? splice)
    {
        var x = _head;
        var level = Volatile.Read(ref _height) - 1;
        while (true)
        {
            var next = Volatile.Read(ref x.Next[level]);
            if (next is not null && KeyComparer.Compare(next.Key, key) < 0)
            {
                x = next;
                continue;
            }

            if (splice is not null)
            {
                splice[level] = x;
            }

            if (level == 0)
            {
                return next;
            }

            level--;
        }
    }

    private void Insert(InternalEntry entry)
    {
        var height = RandomHeight();
        var current = _height;
        for (var i = current; i < height; i++)
        {
            _splice[i] = _head;
        }

        var node = new Node(entry.Key, new Version(entry, null), height);
        for (var i = 0; i < height; i++)
        {
            node.Next[i] = _splice[i]!.Next[i]; // not yet visible: plain writes
        }

        for (var i = 0; i < height; i++)
        {
            Volatile.Write(ref _splice[i]!.Next[i], node); // publish bottom-up
        }

        if (height > current)
        {
            Volatile.Write(ref _height, height);
        }

        Interlocked.Increment(ref _entries);
    }

    private int RandomHeight()
    {
        var height = 1;
        while (height < MaxHeight)
        {
            _rng ^= _rng << 13;
            _rng ^= _rng >> 17;
            _rng ^= _rng << 5;
            if ((_rng & 3) != 0)
            {
                break;
            }

            height++;
        }

        return height;
    }

    private sealed class Version(InternalEntry entry, Version? next)
    {
        public InternalEntry Entry { get; } = entry;

        public Version? Next { get; } = next;
    }

    private sealed class Node(byte[] key, Version? head, int height)
    {
        public readonly byte[] Key = key;

        public readonly Node?[] Next = new Node?[height];

        public Version? Head = head;
    }
}
