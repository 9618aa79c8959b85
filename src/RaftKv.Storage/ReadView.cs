using RaftKv.Storage.Memtables;

namespace RaftKv.Storage;

/// <summary>A consistent point-in-time view: a pinned <see cref="StoreState"/> and the snapshot
/// index. Keeps every table of the state alive until disposed. Owned by one reader.</summary>
internal sealed class ReadView : IDisposable
{
    private readonly StoreState _state;
    private int _disposed;

    public ReadView(StoreState state, long snapshotIndex)
    {
        _state = state;
        SnapshotIndex = snapshotIndex;
    }

    /// <summary>The mutable memtable first, then the frozen ones newest first.</summary>
    public IReadOnlyList<Memtable> Memtables => _state.Memtables;

    public TableSet Tables => _state.Tables;

    public long SnapshotIndex { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _state.Unref();
        }
    }
}
