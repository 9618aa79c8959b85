using RaftKv.Storage.Memtables;

namespace RaftKv.Storage.Iteration;

/// <summary>The visible versions of a memtable's keys in [start, end) at a snapshot index
/// (lock-free; see <see cref="Memtable.Range"/>). Keys and values point into the arena.</summary>
internal sealed class MemtableCursor(Memtable memtable, ReadOnlyMemory<byte> start, ReadOnlyMemory<byte> end, long snapshotIndex) : EntryCursor
{
    private readonly IEnumerator<MemtableNode> _nodes = memtable.Range(start, end, snapshotIndex).GetEnumerator();

    public override ReadOnlySpan<byte> Key => _nodes.Current.KeySpan;

    public override ReadOnlyMemory<byte> Value => _nodes.Current.Value;

    public override long Version => _nodes.Current.Version;

    public override long ExpiresAtUnixMs => _nodes.Current.ExpiresAtUnixMs;

    public override bool Tombstone => _nodes.Current.Tombstone;

    public override Tier Tier => Tier.Memory;

    public override ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken) => new(_nodes.MoveNext());

    public override bool TryMoveNext(out bool moved)
    {
        moved = _nodes.MoveNext();
        return true;
    }
}
