namespace RaftKv.Storage.Memtables;

/// <summary>
/// The in-memory sorted buffer of recent writes. One writer (the apply loop) and any number of
/// readers. Each key keeps a newest-first chain of versions so a reader that captured
/// <c>snapshotIndex</c> sees exactly the state at that index (consistent point-in-time reads).
/// </summary>
/// <remarks><c>_lock</c> (reader/writer) guards <c>_nodes</c> and every node's chain. Once
/// <see cref="Freeze"/> is called the memtable is immutable and awaits flush.</remarks>
public sealed class Memtable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly SortedSet<Node> _nodes = new(NodeComparer.Instance);
    private long _bytes;
    private long _entries;
    private volatile bool _frozen;

    public Memtable(long id) => Id = id;

    /// <summary>Monotonic id; newer memtables have larger ids.</summary>
    public long Id { get; }

    public long ApproximateBytes => Interlocked.Read(ref _bytes);

    /// <summary>Distinct keys.</summary>
    public long Count => Interlocked.Read(ref _entries);

    /// <summary>Highest index applied into this memtable (writes or advances).</summary>
    public long MaxIndex { get; private set; }

    /// <summary>Smallest index written into this memtable (0 if none).</summary>
    public long MinIndex { get; private set; }

    public bool IsFrozen => _frozen;

    public void Add(InternalEntry entry)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("memtable is frozen");
        }

        _lock.EnterWriteLock();
        try
        {
            var probe = new Node(entry.Key);
            if (_nodes.TryGetValue(probe, out var node))
            {
                node.Head = new Version(entry, node.Head);
            }
            else
            {
                probe.Head = new Version(entry, null);
                _nodes.Add(probe);
                _entries++;
            }

            _bytes += entry.ApproximateSize + 48;
            if (MinIndex == 0)
            {
                MinIndex = entry.Version;
            }

            MaxIndex = Math.Max(MaxIndex, entry.Version);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Records that <paramref name="index"/> was applied (even if it wrote nothing here).</summary>
    public void Advance(long index) => MaxIndex = Math.Max(MaxIndex, index);

    public void Freeze() => _frozen = true;

    /// <summary>The newest version of <paramref name="key"/> with index ≤ <paramref name="snapshotIndex"/> (tombstones included).</summary>
    public InternalEntry? Get(byte[] key, long snapshotIndex)
    {
        _lock.EnterReadLock();
        try
        {
            return _nodes.TryGetValue(new Node(key), out var node) ? Visible(node, snapshotIndex) : null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Up to <paramref name="max"/> visible entries with key ≥ start 
    /// and &lt; end (empty = unbounded), tombstones included, in key order. Returned as a list so no lock is held by callers.</summary>
    public List<InternalEntry> Range(byte[] start, byte[] end, long snapshotIndex, int max)
    {
        var result = new List<InternalEntry>(Math.Min(max, 256));
        _lock.EnterReadLock();
        try
        {
            if (_nodes.Count == 0)
            {
                return result;
            }

            var lo = new Node(start);
            var hi = end.Length == 0 ? Node.PositiveInfinity : new Node(end);
            if (NodeComparer.Instance.Compare(lo, hi) >= 0)
            {
                return result;
            }

            foreach (var node in _nodes.GetViewBetween(lo, hi))
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
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Newest version of every key, in key order (for flush; the memtable must be frozen).</summary>
    public IEnumerable<InternalEntry> Newest()
    {
        foreach (var node in _nodes)
        {
            yield return node.Head!.Entry;
        }
    }

    private static InternalEntry? Visible(Node node, long snapshotIndex)
    {
        for (var v = node.Head; v is not null; v = v.Next)
        {
            if (v.Entry.Version <= snapshotIndex)
            {
                return v.Entry;
            }
        }

        return null;
    }

    private sealed class Version(InternalEntry entry, Version? next)
    {
        public InternalEntry Entry { get; } = entry;

        public Version? Next { get; } = next;
    }

    private sealed class Node(byte[] key)
    {
        public static readonly Node PositiveInfinity = new([]) { IsInfinity = true };

        public byte[] Key { get; } = key;

        public bool IsInfinity { get; private init; }

        public Version? Head { get; set; }
    }

    private sealed class NodeComparer : IComparer<Node>
    {
        public static readonly NodeComparer Instance = new();

        public int Compare(Node? x, Node? y)
        {
            if (x!.IsInfinity || y!.IsInfinity)
            {
                return x.IsInfinity.CompareTo(y!.IsInfinity);
            }

            return KeyComparer.Compare(x.Key, y.Key);
        }
    }
}
