using System.Buffers.Binary;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <summary>
/// Removes obsolete MVCC history lazily, node-locally, during LSM compactions (<see cref="LsmOptions.CompactionFilterFactory"/>):
/// per user key it keeps every history record above <c>compactRevision</c> and the newest one at or below it,
/// and drops the older ones it sees in the same run. Never changes a read at a revision ≥ the compact
/// revision: the kept record shadows the dropped ones, and history keys are written once, so no older copy
/// exists elsewhere to resurface. A run sees only its input tables, so older records in other tables stay
/// until a later run sees them next to a newer one (lazy). Deletes are kept like puts (dropping one could
/// uncover an older put outside the run). Revision index records (<c>i/</c>, <see cref="MvccLayout"/>) of
/// revisions below <c>compactRevision</c> are dropped outright: each names one change, and no read or
/// watch starts below the compact revision (the changes AT it stay, as etcd keeps them).
/// </summary>
internal sealed class HistoryCompactionFilter(long compactRevision) : ICompactionFilter
{
    private byte[]? _key;
    private bool _keptAtOrBelow;

    /// <summary>History records dropped by this run.</summary>
    public long Dropped { get; private set; }

    public bool Drop(ReadOnlySpan<byte> key, bool tombstone)
    {
        if (MvccLayout.IndexRevision(key) is { } indexed)
        {
            // A revision index record below the compact revision: no read or watch may start there.
            if (indexed < compactRevision)
            {
                Dropped++;
                return true;
            }

            return false;
        }

        if (!key.StartsWith(MvccLayout.HistoryPrefix) || key.Length < MvccLayout.HistoryPrefix.Length + 10)
        {
            return false;
        }

        var keyPart = key[..^8];
        var revision = (long)(ulong.MaxValue - BinaryPrimitives.ReadUInt64BigEndian(key[^8..]));
        if (_key is null || !keyPart.SequenceEqual(_key))
        {
            _key = keyPart.ToArray();
            _keptAtOrBelow = false;
        }

        if (revision > compactRevision)
        {
            return false;
        }

        if (!_keptAtOrBelow)
        {
            _keptAtOrBelow = true;
            return false;
        }

        Dropped++;
        return true;
    }
}
