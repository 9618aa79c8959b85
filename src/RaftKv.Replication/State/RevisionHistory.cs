namespace RaftKv.Replication.State;

/// <summary>
/// The (revision, compact revision) after each of the last <see cref="Capacity"/> applied store batches, by
/// Raft index: what a backup checkpoint taken at index N records as its revision (the checkpoint holds every
/// entry ≤ N, and the apply loop may have moved past N while it was taken).
/// </summary>
/// <remarks>One writer (the apply loop, <see cref="Record"/>) and rare readers (<see cref="At"/>), under a lock
/// held for a few stores; the base is the state the store was loaded or installed at.</remarks>
internal sealed class RevisionHistory
{
    public const int Capacity = 1 << 16;

    private readonly Lock _lock = new();
    private readonly long[] _index = new long[Capacity];
    private readonly long[] _revision = new long[Capacity];
    private readonly long[] _compact = new long[Capacity];
    private long _count;
    private (long Index, long Revision, long Compact) _base;

    /// <summary>Forgets every batch: the state at <paramref name="index"/> is (<paramref name="revision"/>, <paramref name="compact"/>).</summary>
    public void Reset(long index, long revision, long compact)
    {
        lock (_lock)
        {
            _count = 0;
            _base = (index, revision, compact);
        }
    }

    public void Record(long index, long revision, long compact)
    {
        lock (_lock)
        {
            var slot = (int)(_count % Capacity);
            _index[slot] = index;
            _revision[slot] = revision;
            _compact[slot] = compact;
            _count++;
        }
    }

    /// <summary>The revisions after every entry ≤ <paramref name="index"/> was applied, or null when that is older than what is kept.</summary>
    public (long Revision, long CompactRevision)? At(long index)
    {
        lock (_lock)
        {
            var oldest = Math.Max(0, _count - Capacity);
            for (var i = _count - 1; i >= oldest; i--)
            {
                var slot = (int)(i % Capacity);
                if (_index[slot] <= index)
                {
                    return (_revision[slot], _compact[slot]);
                }
            }

            return oldest == 0 && _base.Index <= index ? (_base.Revision, _base.Compact) : null;
        }
    }
}
