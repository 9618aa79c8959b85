using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Memtables;

/// <summary>
/// The in-memory sorted buffer of recent writes: a skiplist of versions ordered by (key ascending,
/// version descending), whose nodes (links, key and value bytes) live in an append-only
/// <see cref="MemtableArena"/>: no object per entry.
/// A new version of a key is a new node in front of the older ones, so a reader that captured
/// <c>snapshotIndex</c> sees exactly the state at that index (consistent point-in-time reads)
/// by taking the first version ≤ its index.
/// </summary>
/// <remarks>
/// <para>Concurrency: exactly one writer thread (the apply loop) calls <c>Add</c>,
/// <see cref="Advance"/> and <see cref="Freeze"/>; the writer-only state (<c>_arena</c>'s
/// allocation, <c>_prev</c>, <c>_rng</c>) is touched by nobody else (readers only resolve node
/// references through the arena). Any number of readers call the read
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

    private readonly MemtableArena _arena = new();
    private readonly long _head;
    private readonly long[] _prev = new long[MaxHeight];
    private uint _rng = 0x9E3779B9;
    private int _height = 1;
    private long _bytes;
    private long _entries;
    private long _versions;
    private long _maxIndex;
    private long _minIndex;
    private volatile bool _frozen;

    public Memtable(long id)
    {
        Id = id;
        _head = MemtableNode.Create(_arena, [], [], [], long.MaxValue, 0, tombstone: false, MaxHeight);
    }

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
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long version, long expiresAtUnixMs, bool tombstone)
        => Add(key, value, [], version, expiresAtUnixMs, tombstone);

    /// <summary><see cref="Add(ReadOnlySpan{byte}, ReadOnlySpan{byte}, long, long, bool)"/> of the value
    /// <paramref name="value"/> followed by <paramref name="valueTail"/> (copied once, into the arena).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ReadOnlySpan<byte> valueTail, long version, long expiresAtUnixMs, bool tombstone)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("memtable is frozen");
        }

        // Find, at every level, the last node ordered before (key, version); equal (key, version)
        // nodes are not "before", so the new node goes in front of them and shadows them.
        var p0 = KeyPrefix.Read(key, 0);
        var p1 = KeyPrefix.Read(key, 8);
        var slot = HintSlot(p0);
        if (!TryHint(slot, key, p0, p1, version))
        {
            var x = _head;
            var xNode = Node(x);
            for (var level = _height - 1; level >= 0; level--)
            {
                while (xNode.Next(level) is var next and not 0 && Compare(Node(next), key, p0, p1, version) < 0)
                {
                    x = next;
                    xNode = Node(next);
                }

                _prev[level] = x;
            }
        }

        var xNode0 = Node(_prev[0]);
        var successor = xNode0.Next(0);
        var newKey = !(successor != 0 && Node(successor).CompareKey(key, p0, p1) == 0)
                     && !(_prev[0] != _head && xNode0.CompareKey(key, p0, p1) == 0);

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

        var reference = MemtableNode.Create(_arena, key, value, valueTail, version, expiresAtUnixMs, tombstone, height);
        var node = Node(reference);

        // Initialize the node's own links first, then publish bottom-up (release writes).
        for (var level = 0; level < height; level++)
        {
            node.SetNext(level, Node(_prev[level]).Next(level));
        }

        for (var level = 0; level < height; level++)
        {
            Node(_prev[level]).SetNext(level, reference);
        }

        RememberHint(slot, reference);

        Volatile.Write(ref _bytes, _bytes + key.Length + value.Length + valueTail.Length + NodeOverheadBytes);
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

    /// <summary>The node at <paramref name="reference"/> (non-zero). Any thread.</summary>
    private MemtableNode Node(long reference) => _arena.Resolve(reference);

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
