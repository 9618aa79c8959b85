using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Memtables;

/// <summary>
/// The in-memory sorted buffer of recent writes: a skiplist of versions ordered by (key ascending,
/// version descending), with key and value bytes in an append-only <see cref="MemtableArena"/>.
/// A new version of a key is a new node in front of the older ones, so a reader that captured
/// <c>snapshotIndex</c> sees exactly the state at that index (consistent point-in-time reads)
/// by taking the first version ≤ its index.
/// </summary>
/// <remarks>
/// <para>Concurrency: exactly one writer thread (the apply loop) calls <see cref="Add"/>,
/// <see cref="Advance"/> and <see cref="Freeze"/>; the writer-only fields (<c>_arena</c>,
/// <c>_prev</c>, <c>_rng</c>) are touched by nobody else. Any number of readers call the read
/// methods concurrently with it, without locks: nodes are published through volatile links (see
/// <see cref="MemtableNode"/>), <c>_height</c> is read with <see cref="Volatile"/> and the counters
/// are written by the writer with <see cref="Volatile.Write(ref long, long)"/> and read with
/// <see cref="Volatile.Read(ref readonly long)"/>. Nothing is ever unlinked or modified in place,
/// so readers never observe a torn state. Once <see cref="Freeze"/> is called the memtable is
/// immutable and awaits flush.</para>
/// <para>Read results are <see cref="MemtableNode"/>s whose key/value memory points into the arena;
/// they stay valid after the memtable is dropped (see <see cref="MemtableArena"/>).</para>
/// </remarks>
internal sealed partial class Memtable
{
    /// <summary>Per-node overhead charged to <see cref="ApproximateBytes"/> (besides key and value bytes).</summary>
    public const int NodeOverheadBytes = 72;

    private const int MaxHeight = 12;

    private readonly MemtableNode _head = new([], 0, 0, 0, long.MaxValue, 0, false, MaxHeight);
    private readonly MemtableArena _arena = new();
    private readonly MemtableNode[] _prev = new MemtableNode[MaxHeight];
    private uint _rng = 0x9E3779B9;
    private int _height = 1;
    private long _bytes;
    private long _entries;
    private long _versions;
    private long _maxIndex;
    private long _minIndex;
    private volatile bool _frozen;

    public Memtable(long id) => Id = id;

    /// <summary>Monotonic id; newer memtables have larger ids.</summary>
    public long Id { get; }

    /// <summary>Key and value bytes plus <see cref="NodeOverheadBytes"/> per version (drives the flush threshold).</summary>
    public long ApproximateBytes => Volatile.Read(ref _bytes);

    /// <summary>Distinct keys.</summary>
    public long Count => Volatile.Read(ref _entries);

    /// <summary>Versions (nodes), tombstones included.</summary>
    public long VersionCount => Volatile.Read(ref _versions);

    /// <summary>Bytes the arena actually allocated.</summary>
    public long ArenaBytes => _arena.AllocatedBytes;

    /// <summary>Highest index applied into this memtable (writes or advances).</summary>
    public long MaxIndex => Volatile.Read(ref _maxIndex);

    /// <summary>Smallest index written into this memtable (0 if none).</summary>
    public long MinIndex => Volatile.Read(ref _minIndex);

    public bool IsFrozen => _frozen;

    /// <summary>Adds a version of <paramref name="key"/> written at <paramref name="version"/>. Writer
    /// thread only. Within one version, a later add of the same key shadows the earlier one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long version, long expiresAtUnixMs, bool tombstone)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("memtable is frozen");
        }

        // Find, at every level, the last node ordered before (key, version); equal (key, version)
        // nodes are not "before", so the new node goes in front of them and shadows them.
        var p0 = KeyPrefix.Read(key, 0);
        var p1 = KeyPrefix.Read(key, 8);
        var x = _head;
        for (var level = _height - 1; level >= 0; level--)
        {
            while (x.Next(level) is { } next && Compare(next, key, p0, p1, version) < 0)
            {
                x = next;
            }

            _prev[level] = x;
        }

        var successor = _prev[0].Next(0);
        var newKey = !(successor is not null && successor.CompareKey(key, p0, p1) == 0)
                     && !(_prev[0] != _head && _prev[0].CompareKey(key, p0, p1) == 0);

        var height = RandomHeight();
        if (height > _height)
        {
            for (var level = _height; level < height; level++)
            {
                _prev[level] = _head;
            }

            // Readers that see the new height before the node only find null links up there.
            Volatile.Write(ref _height, height);
        }

        var data = _arena.Allocate(key.Length + value.Length, out var offset);
        key.CopyTo(data.AsSpan(offset));
        value.CopyTo(data.AsSpan(offset + key.Length));
        var node = new MemtableNode(data, offset, key.Length, value.Length, version, expiresAtUnixMs, tombstone, height);

        // Initialize the node's own links first, then publish bottom-up (release writes).
        for (var level = 0; level < height; level++)
        {
            node.SetNext(level, _prev[level].Next(level));
        }

        for (var level = 0; level < height; level++)
        {
            _prev[level].SetNext(level, node);
        }

        Volatile.Write(ref _bytes, _bytes + key.Length + value.Length + NodeOverheadBytes);
        Volatile.Write(ref _versions, _versions + 1);
        if (newKey)
        {
            Volatile.Write(ref _entries, _entries + 1);
        }

        if (_minIndex == 0)
        {
            Volatile.Write(ref _minIndex, version);
        }

        Advance(version);
    }

    /// <summary>Records that <paramref name="index"/> was applied (even if it wrote nothing here). Writer thread only.</summary>
    public void Advance(long index)
    {
        if (index > _maxIndex)
        {
            Volatile.Write(ref _maxIndex, index);
        }
    }

    public void Freeze() => _frozen = true;

    /// <summary>Order of <paramref name="node"/> relative to (<paramref name="key"/>, <paramref name="version"/>):
    /// key ascending, then version descending.</summary>
    private static int Compare(MemtableNode node, ReadOnlySpan<byte> key, ulong prefix0, ulong prefix1, long version)
    {
        var c = node.CompareKey(key, prefix0, prefix1);
        return c != 0 ? c : version.CompareTo(node.Version);
    }

    /// <summary>Geometric height with branching factor 4 (xorshift; writer thread only).</summary>
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
}
