using System.Runtime.CompilerServices;

namespace RaftKv.Storage.Memtables;

internal sealed partial class Memtable
{
    /// <summary>The newest version of <paramref name="key"/> with index ≤ <paramref name="snapshotIndex"/>
    /// (tombstones included), or null. Lock-free; safe concurrently with the writer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code
    public MemtableNode? Get(ReadOnlySpan<byte> key, long snapshotIndex)
    {
        var p0 = KeyPrefix.Read(key, 0);
        var p1 = KeyPrefix.Read(key, 8);
        var x = Node(_head);
        long candidate = 0;
        for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
        {
            while (true)
            {
                var next = x.Next(level);
                if (next != 0 && Compare(Node(next), key, p0, p1, snapshotIndex) < 0)
                {
                    x = Node(next);
                    continue;
                }

                // The first node at or after (key, snapshotIndex) as this search saw it. It must not be
                // read again from x: the writer may meanwhile have linked a newer version of the key
                // (one above the snapshot) right after x.
                candidate = next;
                break;
            }
        }

        // If the candidate has the key, it is the newest version ≤ snapshotIndex.
        if (candidate == 0)
        {
            return null;
        }

        var node = Node(candidate);
        return node.CompareKey(key, p0, p1) == 0 ? node : null;
    }

    /// <summary>The visible version (index ≤ <paramref name="snapshotIndex"/>, tombstones included)
    /// of every key with <paramref name="start"/> ≤ key &lt; <paramref name="end"/> (empty end =
    /// unbounded), in key order. Lazy and lock-free: safe to enumerate while the writer adds (newer
    /// versions are invisible at the snapshot).</summary>
    public IEnumerable<MemtableNode> Range(ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, long snapshotIndex)
    {
        var x = SeekFirst(start.Span);
        while (x != 0)
        {
            var node = Node(x);
            if (!end.IsEmpty && node.KeySpan.SequenceCompareTo(end.Span) >= 0)
            {
                yield break;
            }

            // Walk this key's versions (newest first) and pick the first one visible at the snapshot.
            var runStart = node;
            MemtableNode? visible = null;
            while (x != 0)
            {
                node = Node(x);
                if (!node.SameKey(runStart))
                {
                    break;
                }

                if (visible is null && node.Version <= snapshotIndex)
                {
                    visible = node;
                }

                x = node.Next(0);
            }

            if (visible is { } found)
            {
                yield return found;
            }
        }
    }

    /// <summary>Newest version of every key, in key order (for flush; the memtable must be frozen).</summary>
    public IEnumerable<MemtableNode> Newest() => Range(ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, long.MaxValue);

    /// <summary>The first node whose key is ≥ <paramref name="key"/> (its newest version), or 0.</summary>
    private long SeekFirst(ReadOnlySpan<byte> key)
    {
        var p0 = KeyPrefix.Read(key, 0);
        var p1 = KeyPrefix.Read(key, 8);
        var x = Node(_head);
        for (var level = Volatile.Read(ref _height) - 1; level >= 0; level--)
        {
            while (x.Next(level) is var next and not 0 && Node(next).CompareKey(key, p0, p1) < 0)
            {
                x = Node(next);
            }
        }

        // Unlike Get, reading the link again is safe here: whatever the writer linked after x meanwhile
        // is a key ≥ start, and Range picks each key's version by the snapshot itself.
        return x.Next(0);
    }
}
