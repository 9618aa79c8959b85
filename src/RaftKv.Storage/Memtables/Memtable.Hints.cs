namespace RaftKv.Storage.Memtables;

/// <summary>
/// Insertion hints (RocksDB's memtable insert hint, pebble's splice): a write usually lands next to the previous write
/// with the same 4-byte key prefix — the MVCC revision index appends at the end of its range, the store-wide revision
/// record gets a new version in front of its last one — so <c>Add</c> first tries the last insert of the key's hint slot
/// and that insert's predecessors, and searches from the head only when they do not bracket the new entry.
/// </summary>
/// <remarks>
/// A hint is only a guess: <see cref="TryHint"/> accepts it after checking, at every level, that the candidate is ordered
/// before the new entry and its successor is not — exactly the node a search would stop at — so the skiplist is the same
/// with or without hints. The checks touch the nodes the previous insert of the slot touched, which are usually in cache,
/// instead of a search's path of cold nodes. Writer thread only (like <c>_prev</c>).
/// </remarks>
internal sealed partial class Memtable
{
    private const int HintSlots = 8;

    private readonly long[] _hintNode = new long[HintSlots]; // the slot's last inserted node (0 = none)
    private readonly long[] _hintPrev = new long[HintSlots * MaxHeight]; // its predecessors per level (0 = the head)

    /// <summary>Tests: false makes every <c>Add</c> search from the head (the skiplist must come out the same).</summary>
    internal bool UseHints { get; init; } = true;

    /// <summary>Tests: the key, version and value of every node linked at <paramref name="level"/>, in link order.</summary>
    internal IEnumerable<(byte[] Key, long Version, byte[] Value)> LevelForTests(int level)
    {
        for (var x = Node(_head).Next(level); x != 0; x = Node(x).Next(level))
        {
            yield return (Node(x).KeySpan.ToArray(), Node(x).Version, Node(x).ValueSpan.ToArray());
        }
    }

    /// <summary>The hint slot of a key: a hash of its first 4 bytes.</summary>
    private static int HintSlot(ulong prefix0) => (int)(((uint)(prefix0 >> 32) * 0x9E3779B1u) >> 29);

    /// <summary>Fills <c>_prev</c> from the slot's hint when it brackets (key, version) at every level; false (with
    /// <c>_prev</c> partly written, which a search then overwrites) otherwise.</summary>
    private bool TryHint(int slot, ReadOnlySpan<byte> key, ulong p0, ulong p1, long version)
    {
        var last = _hintNode[slot];
        if (last == 0 || !UseHints)
        {
            return false;
        }

        var lastNode = Node(last);

        // After the last node (it is ordered before the new entry): it is the predecessor at its own levels.
        var lastLevels = Compare(lastNode, key, p0, p1, version) < 0 ? lastNode.Height : 0;
        var prev = slot * MaxHeight;
        for (var level = _height - 1; level >= 0; level--)
        {
            var candidate = level < lastLevels ? last : _hintPrev[prev + level];
            if (candidate == 0)
            {
                candidate = _head;
            }

            var node = Node(candidate);
            if (candidate != _head && candidate != last && Compare(node, key, p0, p1, version) >= 0)
            {
                return false; // not ordered before the new entry
            }

            if (node.Next(level) is var next and not 0 && Compare(Node(next), key, p0, p1, version) < 0)
            {
                return false; // a node between: not the predecessor
            }

            _prev[level] = candidate;
        }

        return true;
    }

    /// <summary>Records <paramref name="node"/>, just linked, and its predecessors (<c>_prev</c>) as the slot's hint.</summary>
    private void RememberHint(int slot, long node)
    {
        _hintNode[slot] = node;
        var prev = slot * MaxHeight;
        var height = _height;
        for (var level = 0; level < MaxHeight; level++)
        {
            _hintPrev[prev + level] = level < height ? _prev[level] : 0;
        }
    }
}
